"""The audit of what a portal's admins change at /staff/portal, each change undoable.

Revision ID: 0025_portaladmin
Revises: 0024_commute
"""

import sqlalchemy as sa
from alembic import op

revision = "0025_portaladmin"
down_revision = "0024_commute"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "portal_changes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("tenant_id", sa.Integer(),
                  sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL"),
                  nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("what", sa.String(32), nullable=False),
        sa.Column("subject", sa.JSON(), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("undoes_id", sa.Integer(),
                  sa.ForeignKey("portal_changes.id", ondelete="SET NULL"), nullable=True),
    )
    op.create_index("ix_portal_changes_tenant_id", "portal_changes", ["tenant_id"])


def downgrade() -> None:
    op.drop_index("ix_portal_changes_tenant_id", table_name="portal_changes")
    op.drop_table("portal_changes")
