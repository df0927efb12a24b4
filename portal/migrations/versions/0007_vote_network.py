"""Votes: the anonymous voter's network fingerprint (an HMAC, never the address), one per issue.

Revision ID: 0007_vote_network
Revises: 0006_user_sessions
"""
import sqlalchemy as sa
from alembic import op

revision = "0007_vote_network"
down_revision = "0006_user_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("votes", sa.Column("network_key", sa.String(64), nullable=True))
    op.create_index("ix_votes_issue_network", "votes", ["issue_id", "network_key"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_votes_issue_network", table_name="votes")
    with op.batch_alter_table("votes") as batch_op:
        batch_op.drop_column("network_key")
