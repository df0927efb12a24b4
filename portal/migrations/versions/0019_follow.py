"""How near an existing report of the same type must be for the report form to ask "Is it one
of these?": a distance per request type, in metres (empty: the default, 50 m).

Revision ID: 0019_follow
Revises: 0018_sms
"""

import sqlalchemy as sa
from alembic import op

revision = "0019_follow"
down_revision = "0018_sms"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTERs, never a batch copy of the table: SQLite would refuse to rename it under
    # the triggers that name it (0008, 0009, 0016).
    op.add_column("request_types", sa.Column("nearby_m", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE request_types DROP COLUMN nearby_m")
