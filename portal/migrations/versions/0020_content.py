"""Each portal's time zone: pages show times in it, forms read typed times in it.

Revision ID: 0020_content
Revises: 0019_follow
"""

import sqlalchemy as sa
from alembic import op

revision = "0020_content"
down_revision = "0019_follow"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTERs, never a batch copy of the table: SQLite would refuse to rename it under
    # the triggers that name it (0008, 0009, 0016).
    op.add_column("tenants", sa.Column("time_zone", sa.String(64), nullable=False,
                                       server_default="UTC"))


def downgrade() -> None:
    op.execute("ALTER TABLE tenants DROP COLUMN time_zone")
