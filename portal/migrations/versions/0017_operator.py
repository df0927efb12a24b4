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
    # Plain ALTERs, never a batch copy of the table: SQLite would refuse to rename it under
    # the triggers that name it (0008, 0009, 0016).
    op.add_column("tenants", sa.Column("display_area_geojson", sa.Text(), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE tenants DROP COLUMN display_area_geojson")
