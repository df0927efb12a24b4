"""A named area's population, from the tenant's places.geojson: reports per 1,000 residents.

Revision ID: 0021_news
Revises: 0020_content
"""

import sqlalchemy as sa
from alembic import op

revision = "0021_news"
down_revision = "0020_content"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("places", sa.Column("population", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE places DROP COLUMN population")
