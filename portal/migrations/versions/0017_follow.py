"""How near an existing report of the same type must be for the report form to ask "Is it one
of these?": a distance per request type, in metres (empty: the default, 50 m).

Revision ID: 0017_follow
Revises: 0015_open311_bodies
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_follow"
down_revision = "0020_sms"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("request_types") as batch:
        batch.add_column(sa.Column("nearby_m", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("request_types") as batch:
        batch.drop_column("nearby_m")
