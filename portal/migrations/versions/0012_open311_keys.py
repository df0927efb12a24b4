"""Open311 API keys, per portal and client application, kept as hashes.

Revision ID: 0012_open311_keys
Revises: 0011_search_terms
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_open311_keys"
down_revision = "0011_search_terms"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "open311_keys",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("tenant_id", sa.Integer(), sa.ForeignKey("tenants.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("body_id", sa.Integer(), sa.ForeignKey("bodies.id", ondelete="CASCADE"),
                  nullable=True),
        sa.Column("application", sa.String(100), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_open311_keys_tenant_id", "open311_keys", ["tenant_id"])


def downgrade() -> None:
    op.drop_index("ix_open311_keys_tenant_id", table_name="open311_keys")
    op.drop_table("open311_keys")
