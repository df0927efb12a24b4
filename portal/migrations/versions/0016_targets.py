"""Service targets: a body's promises per request type, and each issue's two due times.

Revision ID: 0016_targets
Revises: 0015_open311_bodies

Plain ADD/DROP COLUMN (SQLite 3.35+), not a batch copy: migrations 0008 and 0009 put
triggers on `issues` that name the table, and a copy would trip over them. Existing issues
get their due times when `portal tenants load` next loads bodies that set targets.
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_targets"
down_revision = "0015_open311_bodies"
branch_labels = None
depends_on = None

ISSUE_COLUMNS = ("acknowledge_due_at", "close_due_at")


def upgrade() -> None:
    op.add_column("bodies", sa.Column("service_targets", sa.JSON(), nullable=True))
    for name in ISSUE_COLUMNS:
        op.add_column("issues", sa.Column(name, sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    for name in ISSUE_COLUMNS:
        op.execute(f"ALTER TABLE issues DROP COLUMN {name}")
    op.execute("ALTER TABLE bodies DROP COLUMN service_targets")
