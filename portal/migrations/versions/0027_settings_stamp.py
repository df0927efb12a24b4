"""The settings stamp: one number that moves with every change to portals, hosts, bodies and
request types, so every process serves a saved setting from its next request on.

Revision ID: 0027_settings_stamp
Revises: 0026_look2
"""

import sqlalchemy as sa
from alembic import op

revision = "0027_settings_stamp"
down_revision = "0026_look2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    stamps = op.create_table(
        "settings_stamps",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("value", sa.BigInteger, nullable=False),
    )
    op.bulk_insert(stamps, [{"id": 1, "value": 1}])


def downgrade() -> None:
    op.drop_table("settings_stamps")
