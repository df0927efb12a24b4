"""Rate-limit hits in the database, shared by every server process (portal/web/ratelimit.py).

Revision ID: 0009_rate_limit_hits
Revises: 0008_issue_clusters
"""
import sqlalchemy as sa
from alembic import op

revision = "0009_rate_limit_hits"
down_revision = "0008_issue_clusters"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_limit_hits",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("bucket", sa.String(32), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_rate_limit_hits_bucket_expires", "rate_limit_hits",
                    ["bucket", "expires_at"])
    op.create_index("ix_rate_limit_hits_expires_at", "rate_limit_hits", ["expires_at"])


def downgrade() -> None:
    op.drop_table("rate_limit_hits")
