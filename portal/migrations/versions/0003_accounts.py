"""Accounts, roles and moderation: users, roles, sign-in links, staff update authors,
duplicates, public flags, the moderation audit trail and hidden photos.

Written by hand. A sibling branch (0004) also starts from 0002; `portal db upgrade` upgrades
to "heads", so both apply in either order.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("email", sa.String(254), nullable=False, unique=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("locale", sa.String(16), nullable=False),
        sa.Column("session_generation", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("last_sign_in_at", TS, nullable=True),
    )
    op.create_table(
        "roles",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("tenant_id", sa.Integer(), sa.ForeignKey("tenants.id", ondelete="CASCADE"),
                  nullable=True),
        sa.Column("body_id", sa.Integer(), sa.ForeignKey("bodies.id", ondelete="CASCADE"),
                  nullable=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("user_id", "tenant_id", "body_id", "role"),
    )
    op.create_index("ix_roles_user_id", "roles", ["user_id"])
    op.create_index("ix_roles_tenant_id", "roles", ["tenant_id"])
    op.create_index("ix_roles_body_id", "roles", ["body_id"])
    op.create_table(
        "login_tokens",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("nonce", sa.String(64), nullable=False, unique=True),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("tenant_id", sa.Integer(), sa.ForeignKey("tenants.id", ondelete="CASCADE"),
                  nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("used_at", TS, nullable=True),
    )
    op.create_index("ix_login_tokens_created_at", "login_tokens", ["created_at"])
    op.create_table(
        "update_authors",
        sa.Column("update_id", sa.Integer(), sa.ForeignKey("updates.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL"),
                  nullable=True),
    )
    op.create_index("ix_update_authors_user_id", "update_authors", ["user_id"])
    op.create_table(
        "issue_duplicates",
        sa.Column("issue_id", sa.Integer(), sa.ForeignKey("issues.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("original_id", sa.Integer(), sa.ForeignKey("issues.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_issue_duplicates_original_id", "issue_duplicates", ["original_id"])
    op.create_table(
        "flags",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("tenant_id", sa.Integer(), sa.ForeignKey("tenants.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("issue_id", sa.Integer(), sa.ForeignKey("issues.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("flagger_key", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("resolved_at", TS, nullable=True),
        sa.Column("resolution", sa.String(16), nullable=False),
        sa.UniqueConstraint("issue_id", "flagger_key"),
    )
    op.create_index("ix_flags_tenant_id", "flags", ["tenant_id"])
    op.create_table(
        "moderation_actions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("tenant_id", sa.Integer(), sa.ForeignKey("tenants.id", ondelete="SET NULL"),
                  nullable=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL"),
                  nullable=True),
        sa.Column("issue_id", sa.Integer(), sa.ForeignKey("issues.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("update_id", sa.Integer(), sa.ForeignKey("updates.id", ondelete="CASCADE"),
                  nullable=True),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("detail", sa.String(200), nullable=False),
        sa.Column("photo", sa.String(64), nullable=True),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_moderation_actions_tenant_id", "moderation_actions", ["tenant_id"])
    op.create_index("ix_moderation_actions_issue_id", "moderation_actions", ["issue_id"])
    op.create_table(
        "hidden_photos",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_issues_photo", "issues", ["photo"])
    op.create_index("ix_updates_photo", "updates", ["photo"])


def downgrade() -> None:
    op.drop_index("ix_updates_photo", table_name="updates")
    op.drop_index("ix_issues_photo", table_name="issues")
    for table in ("hidden_photos", "moderation_actions", "flags", "issue_duplicates",
                  "update_authors", "login_tokens", "roles", "users"):
        op.drop_table(table)
