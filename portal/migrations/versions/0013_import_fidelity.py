"""Imported issues keep their link in the system they came from, and how far they were moved.

`external_url` is the record's page in the source system (SeeClickFix `html_url`, a 311
case link); `moved_m` is set when `portal import-issues --tolerance` moved a point from just
outside the portal's area to just inside it, so such issues stay flagged.

Revision ID: 0013_import_fidelity
Revises: 0012_open311_keys
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_import_fidelity"
down_revision = "0012_open311_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE on both databases: a batch (copy-and-move) on SQLite would drop the
    # issues table's triggers.
    op.add_column("issues", sa.Column("external_url", sa.String(500), nullable=False,
                                      server_default=""))
    op.add_column("issues", sa.Column("moved_m", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("issues", "moved_m")
    op.drop_column("issues", "external_url")
