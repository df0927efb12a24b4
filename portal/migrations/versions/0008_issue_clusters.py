"""Portal lists and map clusters from maintained rows: issue_portals carries what public lists
filter and sort on, and issue_cells counts each portal's visible issues per grid cell, band and
status. Database triggers keep both, in the writing transaction, whatever wrote the issue (the
ORM, a bulk statement, the importer, a migration).

Revision ID: 0008_issue_clusters
Revises: 0007_vote_network

The bands are those of `portal.core.grid.BANDS` at the time of writing, copied here because a
migration must not change when the code does; tests/test_issue_cells.py checks they agree.
"""
import sqlalchemy as sa
from alembic import op

revision = "0008_issue_clusters"
down_revision = "0007_vote_network"
branch_labels = None
depends_on = None

BANDS = (0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20)
COPIED = ("lat", "lon", "status", "hidden", "created_at")
PLACE = ("lat", "lon", "status", "hidden")


def _scale(band: int) -> str:
    return repr(2.0**band / 360.0)


def upgrade() -> None:
    for name, type_ in (("lat", sa.Float()), ("lon", sa.Float()), ("status", sa.String(16)),
                        ("hidden", sa.Boolean()), ("created_at", sa.DateTime(timezone=True))):
        op.add_column("issue_portals", sa.Column(name, type_, nullable=True))
    op.create_index("ix_issue_portals_newest", "issue_portals",
                    ["tenant_id", "hidden", "created_at", "issue_id", "status"])
    op.create_index("ix_issue_portals_place", "issue_portals",
                    ["tenant_id", "hidden", "lat", "lon", "status"])
    op.create_table(
        "issue_cells",
        sa.Column("tenant_id", sa.Integer(), sa.ForeignKey("tenants.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("band", sa.Integer(), nullable=False),
        sa.Column("cx", sa.Integer(), nullable=False),
        sa.Column("cy", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("sum_lat", sa.Float(), nullable=False),
        sa.Column("sum_lon", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "band", "cx", "cy", "status"),
    )
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_triggers()
    else:
        _postgresql_triggers()
    # Existing rows: filling the copies fires the cell trigger, which counts them.
    op.execute("UPDATE issue_portals SET (lat, lon, status, hidden, created_at) = "
               "(SELECT lat, lon, status, hidden, created_at FROM issues "
               "WHERE issues.id = issue_portals.issue_id)")


# SQLite -------------------------------------------------------------------------------------
# Trigger bodies cannot use a WITH clause or a VALUES list of bands, so each band gets its own
# statement, generated here.

def _sqlite_add(row: str) -> str:
    return "\n".join(
        f"INSERT INTO issue_cells (tenant_id, band, cx, cy, status, n, sum_lat, sum_lon) "
        f"SELECT {row}.tenant_id, {band}, CAST(({row}.lon + 180.0) * {_scale(band)} AS INTEGER), "
        f"CAST(({row}.lat + 90.0) * {_scale(band)} AS INTEGER), {row}.status, 1, {row}.lat, "
        f"{row}.lon WHERE {row}.hidden = 0 "
        f"ON CONFLICT (tenant_id, band, cx, cy, status) DO UPDATE SET n = n + 1, "
        f"sum_lat = sum_lat + excluded.sum_lat, sum_lon = sum_lon + excluded.sum_lon;"
        for band in BANDS)


def _sqlite_remove(row: str) -> str:
    statements = []
    for band in BANDS:
        key = (f"tenant_id = {row}.tenant_id AND band = {band} AND status = {row}.status "
               f"AND cx = CAST(({row}.lon + 180.0) * {_scale(band)} AS INTEGER) "
               f"AND cy = CAST(({row}.lat + 90.0) * {_scale(band)} AS INTEGER)")
        statements.append(
            f"UPDATE issue_cells SET n = n - 1, sum_lat = sum_lat - {row}.lat, "
            f"sum_lon = sum_lon - {row}.lon WHERE {row}.hidden = 0 AND {key};")
        statements.append(f"DELETE FROM issue_cells WHERE {row}.hidden = 0 AND {key} AND n <= 0;")
    return "\n".join(statements)


def _sqlite_triggers() -> None:
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in COPIED)
    op.execute(f"""
        CREATE TRIGGER issues_copy_to_portals AFTER UPDATE OF {", ".join(COPIED)} ON issues
        WHEN {changed}
        BEGIN
          UPDATE issue_portals SET lat = NEW.lat, lon = NEW.lon, status = NEW.status,
            hidden = NEW.hidden, created_at = NEW.created_at WHERE issue_id = NEW.id;
        END""")
    # A new membership row is written with its two keys only: copy the columns in.
    op.execute("""
        CREATE TRIGGER issue_portals_fill AFTER INSERT ON issue_portals
        BEGIN
          UPDATE issue_portals SET (lat, lon, status, hidden, created_at) =
            (SELECT lat, lon, status, hidden, created_at FROM issues WHERE id = NEW.issue_id)
          WHERE issue_id = NEW.issue_id AND tenant_id = NEW.tenant_id;
        END""")
    # Counting happens on UPDATE (the fill above is one) and DELETE. A row is counted while
    # its `hidden` is 0; a row just inserted has NULL there, so it is counted once, when filled.
    moved = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in PLACE)
    op.execute(f"""
        CREATE TRIGGER issue_portals_cells_update AFTER UPDATE OF {", ".join(PLACE)}
        ON issue_portals WHEN {moved}
        BEGIN
          {_sqlite_remove("OLD")}
          {_sqlite_add("NEW")}
        END""")
    op.execute(f"""
        CREATE TRIGGER issue_portals_cells_delete AFTER DELETE ON issue_portals
        BEGIN
          {_sqlite_remove("OLD")}
        END""")


# PostgreSQL ---------------------------------------------------------------------------------

def _pg_bands() -> str:
    return ", ".join(f"({band}, {_scale(band)}::float8)" for band in BANDS)


def _postgresql_triggers() -> None:
    changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in COPIED)
    moved = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in PLACE)
    op.execute("""
        CREATE FUNCTION issues_copy_to_portals() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          UPDATE issue_portals SET lat = NEW.lat, lon = NEW.lon, status = NEW.status,
            hidden = NEW.hidden, created_at = NEW.created_at WHERE issue_id = NEW.id;
          RETURN NULL;
        END $$""")
    op.execute(f"""
        CREATE TRIGGER issues_copy_to_portals AFTER UPDATE OF {", ".join(COPIED)} ON issues
        FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION issues_copy_to_portals()""")
    op.execute("""
        CREATE FUNCTION issue_portals_fill() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          SELECT i.lat, i.lon, i.status, i.hidden, i.created_at
            INTO NEW.lat, NEW.lon, NEW.status, NEW.hidden, NEW.created_at
            FROM issues i WHERE i.id = NEW.issue_id;
          RETURN NEW;
        END $$""")
    op.execute("""
        CREATE TRIGGER issue_portals_fill BEFORE INSERT ON issue_portals
        FOR EACH ROW EXECUTE FUNCTION issue_portals_fill()""")
    # floor(), not a cast: PostgreSQL rounds a float cast to integer, SQLite truncates.
    op.execute(f"""
        CREATE FUNCTION issue_portals_cells() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.hidden IS FALSE THEN
            UPDATE issue_cells c SET n = c.n - 1, sum_lat = c.sum_lat - OLD.lat,
              sum_lon = c.sum_lon - OLD.lon
            FROM (VALUES {_pg_bands()}) AS b(band, scale)
            WHERE c.tenant_id = OLD.tenant_id AND c.band = b.band AND c.status = OLD.status
              AND c.cx = floor((OLD.lon + 180.0) * b.scale)::integer
              AND c.cy = floor((OLD.lat + 90.0) * b.scale)::integer;
            DELETE FROM issue_cells c USING (VALUES {_pg_bands()}) AS b(band, scale)
            WHERE c.tenant_id = OLD.tenant_id AND c.band = b.band AND c.status = OLD.status
              AND c.cx = floor((OLD.lon + 180.0) * b.scale)::integer
              AND c.cy = floor((OLD.lat + 90.0) * b.scale)::integer AND c.n <= 0;
          END IF;
          IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.hidden IS FALSE THEN
            INSERT INTO issue_cells AS c (tenant_id, band, cx, cy, status, n, sum_lat, sum_lon)
            SELECT NEW.tenant_id, b.band, floor((NEW.lon + 180.0) * b.scale)::integer,
                   floor((NEW.lat + 90.0) * b.scale)::integer, NEW.status, 1, NEW.lat, NEW.lon
            FROM (VALUES {_pg_bands()}) AS b(band, scale)
            ON CONFLICT (tenant_id, band, cx, cy, status) DO UPDATE SET n = c.n + 1,
              sum_lat = c.sum_lat + EXCLUDED.sum_lat, sum_lon = c.sum_lon + EXCLUDED.sum_lon;
          END IF;
          RETURN NULL;
        END $$""")
    op.execute("""
        CREATE TRIGGER issue_portals_cells_insert AFTER INSERT ON issue_portals
        FOR EACH ROW EXECUTE FUNCTION issue_portals_cells()""")
    op.execute("""
        CREATE TRIGGER issue_portals_cells_delete AFTER DELETE ON issue_portals
        FOR EACH ROW EXECUTE FUNCTION issue_portals_cells()""")
    op.execute(f"""
        CREATE TRIGGER issue_portals_cells_update AFTER UPDATE OF {", ".join(PLACE)}
        ON issue_portals FOR EACH ROW WHEN ({moved}) EXECUTE FUNCTION issue_portals_cells()""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("issues_copy_to_portals", "issue_portals_fill",
                     "issue_portals_cells_update", "issue_portals_cells_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        op.execute("DROP TRIGGER IF EXISTS issues_copy_to_portals ON issues")
        for name in ("issue_portals_fill", "issue_portals_cells_insert",
                     "issue_portals_cells_delete", "issue_portals_cells_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON issue_portals")
        for name in ("issues_copy_to_portals", "issue_portals_fill", "issue_portals_cells"):
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.drop_table("issue_cells")
    op.drop_index("ix_issue_portals_place", table_name="issue_portals")
    op.drop_index("ix_issue_portals_newest", table_name="issue_portals")
    with op.batch_alter_table("issue_portals") as batch_op:
        for name in ("created_at", "hidden", "status", "lon", "lat"):
            batch_op.drop_column(name)
