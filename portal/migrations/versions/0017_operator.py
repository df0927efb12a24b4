"""A portal's area simplified for maps, beside the original that routing keeps.

Revision ID: 0017_operator
Revises: 0016_targets
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_operator"
down_revision = "0016_targets"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tenants") as batch:
        batch.add_column(sa.Column("display_area_geojson", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tenants") as batch:
        batch.drop_column("display_area_geojson")
