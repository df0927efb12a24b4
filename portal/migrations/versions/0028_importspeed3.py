"""A place's index rows no longer check their portal against `tenants` one by one.

`place_terms.tenant_id` copies the portal of the row's place, and the row goes with its place
(`place_id` cascades), which goes with its portal: the foreign key to `tenants` promised
nothing the one to `places` does not, and cost a look-up and a row lock of the portal for
every word of every place an import adds (two per address, for each portal showing it).

Revision ID: 0028_importspeed3
Revises: 0027_settings_stamp
"""

import sqlalchemy as sa
from alembic import op

revision = "0028_importspeed3"
down_revision = "0027_settings_stamp"
branch_labels = None
depends_on = None

NAME = "place_terms_tenant_id_fkey"  # PostgreSQL's name for it (0014 left it to the database)


def _rebuild_sqlite(tenant_key: bool) -> None:
    """SQLite cannot drop or add a foreign key: the table is made again, rows copied."""
    tenant = [sa.ForeignKey("tenants.id", ondelete="CASCADE")] if tenant_key else []
    op.create_table(
        "place_terms_rebuilt",
        sa.Column("tenant_id", sa.Integer(), *tenant, primary_key=True, autoincrement=False),
        sa.Column("rank", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("term", sa.String(100), primary_key=True),
        sa.Column("place_id", sa.Integer(), sa.ForeignKey("places.id", ondelete="CASCADE"),
                  primary_key=True, autoincrement=False),
    )
    op.execute("INSERT INTO place_terms_rebuilt (tenant_id, rank, term, place_id) "
               "SELECT tenant_id, rank, term, place_id FROM place_terms")
    op.drop_index("ix_place_terms_place_id", "place_terms")
    op.drop_table("place_terms")
    op.rename_table("place_terms_rebuilt", "place_terms")
    op.create_index("ix_place_terms_place_id", "place_terms", ["place_id"])


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite(tenant_key=False)
    else:
        op.drop_constraint(NAME, "place_terms", type_="foreignkey")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite(tenant_key=True)
    else:
        op.create_foreign_key(NAME, "place_terms", "tenants", ["tenant_id"], ["id"],
                              ondelete="CASCADE")
