"""Corridors: a portal's named corridors, and watches along a route (a commute).

Revision ID: 0024_commute
Revises: 0023_importspeed2
"""

import sqlalchemy as sa
from alembic import op

revision = "0024_commute"
down_revision = "0023_importspeed2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTERs, never a batch copy of the table (the triggers of 0008, 0009 and 0016).
    op.add_column("tenants", sa.Column("corridors", sa.JSON(), nullable=False,
                                       server_default="[]"))
    op.add_column("watches", sa.Column("area_geojson", sa.Text(), nullable=True))
    op.add_column("watches", sa.Column("corridor", sa.String(64), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE watches DROP COLUMN corridor")
    op.execute("ALTER TABLE watches DROP COLUMN area_geojson")
    op.execute("ALTER TABLE tenants DROP COLUMN corridors")
