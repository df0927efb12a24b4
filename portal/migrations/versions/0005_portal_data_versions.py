"""Portal data versions: one counter per portal, bumped with every change its public pages
show, so cached responses are keyed by it (see portal/tenancy/data_version.py).

Also joins the two branches (0003 accounts, 0004 engagement). Existing portals start at 1.

Revision ID: 0005_data_versions
Revises: 0003, 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005_data_versions"
down_revision = ("0003", "0004")
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "portal_data_versions",
        sa.Column("tenant_id", sa.Integer(), sa.ForeignKey("tenants.id", ondelete="CASCADE"),
                  primary_key=True, autoincrement=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
    )
    op.execute("INSERT INTO portal_data_versions (tenant_id, version) SELECT id, 1 FROM tenants")


def downgrade() -> None:
    op.drop_table("portal_data_versions")
