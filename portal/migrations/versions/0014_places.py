"""Places: each portal's gazetteer (named areas, address points, past reports' addresses) with
its word and trigram index, the geocoder a portal chose, and the place name every issue keeps.

`issues.place_name` is filled when an issue is written (`portal.places.naming`); issues
written before this revision get theirs from `portal places backfill`, which needs the
gazetteers loaded first (`portal tenants load`, `portal places import`), so it cannot run here.

Revision ID: 0014_places
Revises: 0013_import_fidelity
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_places"
down_revision = "0013_import_fidelity"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Suggestions read words as ranges (`term >= 'chap' AND term < 'chaq'`): on PostgreSQL
    # the words compare byte by byte ("C"), whatever the database's own collation.
    word = (sa.String(100, collation="C") if op.get_bind().dialect.name == "postgresql"
            else sa.String(100))
    op.add_column("issues", sa.Column("place_name", sa.String(300), nullable=False,
                                      server_default=""))
    op.add_column("tenants", sa.Column("geocoder", sa.JSON(), nullable=False,
                                       server_default="{}"))
    op.create_table(
        "places",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("tenant_id", sa.Integer(), sa.ForeignKey("tenants.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("names", sa.JSON(), nullable=False),
        sa.Column("search_key", sa.Text(), nullable=False),
        sa.Column("street_key", sa.String(200), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("area_geojson", sa.Text(), nullable=False),
        sa.Column("min_lon", sa.Float(), nullable=True),
        sa.Column("min_lat", sa.Float(), nullable=True),
        sa.Column("max_lon", sa.Float(), nullable=True),
        sa.Column("max_lat", sa.Float(), nullable=True),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("issue_id", sa.Integer(), sa.ForeignKey("issues.id", ondelete="CASCADE"),
                  nullable=True),
        sa.Column("rank", sa.Integer(), nullable=False),
    )
    op.create_index("ix_places_tenant_kind_lat_lon", "places",
                    ["tenant_id", "kind", "lat", "lon"])
    op.create_index("ix_places_tenant_street", "places", ["tenant_id", "street_key"])
    op.create_index("ix_places_tenant_source", "places", ["tenant_id", "source"])
    op.create_index("ix_places_issue_id", "places", ["issue_id"])
    op.create_table(
        "place_terms",
        sa.Column("tenant_id", sa.Integer(), sa.ForeignKey("tenants.id", ondelete="CASCADE"),
                  primary_key=True, autoincrement=False),
        sa.Column("rank", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("term", word, primary_key=True),
        sa.Column("place_id", sa.Integer(), sa.ForeignKey("places.id", ondelete="CASCADE"),
                  primary_key=True, autoincrement=False),
    )
    op.create_index("ix_place_terms_place_id", "place_terms", ["place_id"])
    op.create_table(
        "place_grams",
        sa.Column("tenant_id", sa.Integer(), sa.ForeignKey("tenants.id", ondelete="CASCADE"),
                  primary_key=True, autoincrement=False),
        sa.Column("gram", sa.String(16), primary_key=True),
        sa.Column("term", word, primary_key=True),
    )


def downgrade() -> None:
    op.drop_table("place_grams")
    op.drop_index("ix_place_terms_place_id", "place_terms")
    op.drop_table("place_terms")
    for name in ("ix_places_issue_id", "ix_places_tenant_source", "ix_places_tenant_street",
                 "ix_places_tenant_kind_lat_lon"):
        op.drop_index(name, "places")
    op.drop_table("places")
    # A plain DROP COLUMN (SQLite 3.35+): a batch copy of issues would trip over the triggers
    # of 0008 and 0009, which name the table.
    op.execute("ALTER TABLE tenants DROP COLUMN geocoder")
    op.execute("ALTER TABLE issues DROP COLUMN place_name")
