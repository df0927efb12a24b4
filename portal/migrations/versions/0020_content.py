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
    with op.batch_alter_table("tenants") as batch:
        batch.add_column(sa.Column("time_zone", sa.String(64), nullable=False,
                                   server_default="UTC"))


def downgrade() -> None:
    with op.batch_alter_table("tenants") as batch:
        batch.drop_column("time_zone")
