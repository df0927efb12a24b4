"""Reporters who let a politician portal's office contact them (per issue and portal).

Revision ID: 0022_office
Revises: 0021_news
"""

import sqlalchemy as sa
from alembic import op

revision = "0022_office"
down_revision = "0021_news"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "office_contacts",
        sa.Column("issue_id", sa.Integer(), sa.ForeignKey("issues.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("tenant_id", sa.Integer(), sa.ForeignKey("tenants.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_office_contacts_tenant_id", "office_contacts", ["tenant_id"])


def downgrade() -> None:
    op.drop_index("ix_office_contacts_tenant_id", table_name="office_contacts")
    op.drop_table("office_contacts")
