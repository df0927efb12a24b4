"""Server-side sign-in sessions: one `user_sessions` row per signed-in browser and portal,
replacing the users' session generation counter (sign-out now deletes the row).

Written by hand. The revision id names the change so that migrations written on sibling
branches at the same time cannot collide with it.

Revision ID: 0006_user_sessions
Revises: 0005_data_versions
"""
import sqlalchemy as sa
from alembic import op

revision = "0006_user_sessions"
down_revision = "0005_data_versions"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("tenant_id", sa.Integer(), sa.ForeignKey("tenants.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("last_seen_at", TS, nullable=False),
    )
    op.create_index("ix_user_sessions_user_id", "user_sessions", ["user_id"])
    op.create_index("ix_user_sessions_last_seen_at", "user_sessions", ["last_seen_at"])
    # Cookies signed before this carried the generation; they now sign nobody in. A plain
    # DROP COLUMN (SQLite 3.35+), not a batch copy: recreating `users` with foreign keys on
    # would cascade-delete every role.
    op.drop_column("users", "session_generation")


def downgrade() -> None:
    op.add_column("users", sa.Column("session_generation", sa.Integer(), nullable=False,
                                     server_default="0"))
    op.drop_index("ix_user_sessions_last_seen_at", table_name="user_sessions")
    op.drop_index("ix_user_sessions_user_id", table_name="user_sessions")
    op.drop_table("user_sessions")
