"""A spatial index for map boxes: PostGIS GiST on PostgreSQL when it can, an R*Tree on SQLite.

A btree on (lat, lon) ranges over latitude only: a box reads the whole strip of its height
across the portal. With PostGIS, issue_portals gets a `geom` point the database computes
from its lat/lon copies (a generated column: whatever keeps those keeps it) and a GiST index
over the visible rows (on the portal and the point, with btree_gist). SQLite gets
`issue_spots`, an R*Tree with one box per issue, kept by triggers on `issues`. Plain
PostgreSQL keeps the btree; `portal.core.spatial_index` reads which of these the schema has,
and every path returns the same rows.

PostGIS is used when the extension is installed in the database, or available on the server
and this role may create it. `REPORTAL_POSTGIS=off` in the environment of the migration skips
it (a plain-PostgreSQL layout on a server that has PostGIS). The choice is made when this
migration runs: to change it, downgrade to 0009_dashboard_counts and upgrade again.

Revision ID: 0010_spatial_index
Revises: 0009_dashboard_counts
"""
import logging
import os

from alembic import op
from sqlalchemy import exc

revision = "0010_spatial_index"
down_revision = "0009_dashboard_counts"
branch_labels = None
depends_on = None

log = logging.getLogger(__name__)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_rtree()
    elif _postgis():
        _postgis_index()


# SQLite -------------------------------------------------------------------------------------
# One entry per issue, keyed by its id (issue_portals has no INTEGER PRIMARY KEY, and VACUUM
# may renumber the rowids of such a table). The R*Tree keeps 32-bit floats rounded outwards,
# so it finds a superset of a box; the exact test on issue_portals.lat/lon stays.

def _sqlite_rtree() -> None:
    if not op.get_bind().exec_driver_sql(
            "SELECT sqlite_compileoption_used('ENABLE_RTREE')").scalar():
        log.warning("this SQLite has no R*Tree module: boxes use the lat/lon btree")
        return
    op.execute("CREATE VIRTUAL TABLE issue_spots USING rtree(id, min_lon, max_lon, min_lat, "
               "max_lat)")
    op.execute("""
        CREATE TRIGGER issue_spots_insert AFTER INSERT ON issues
        BEGIN
          INSERT INTO issue_spots VALUES (NEW.id, NEW.lon, NEW.lon, NEW.lat, NEW.lat);
        END""")
    op.execute("""
        CREATE TRIGGER issue_spots_move AFTER UPDATE OF lat, lon ON issues
        WHEN OLD.lat IS NOT NEW.lat OR OLD.lon IS NOT NEW.lon
        BEGIN
          UPDATE issue_spots SET min_lon = NEW.lon, max_lon = NEW.lon, min_lat = NEW.lat,
            max_lat = NEW.lat WHERE id = NEW.id;
        END""")
    op.execute("""
        CREATE TRIGGER issue_spots_delete AFTER DELETE ON issues
        BEGIN
          DELETE FROM issue_spots WHERE id = OLD.id;
        END""")
    op.execute("INSERT INTO issue_spots SELECT id, lon, lon, lat, lat FROM issues")


# PostgreSQL ---------------------------------------------------------------------------------

def _postgis() -> bool:
    """Whether PostGIS is (now) installed in this database, creating it if we may."""
    if os.environ.get("REPORTAL_POSTGIS", "").strip().lower() in ("off", "0", "no", "false"):
        log.info("REPORTAL_POSTGIS=off: boxes use the lat/lon btree")
        return False
    return _extension("postgis")


def _extension(name: str) -> bool:
    """Whether extension `name` is installed, creating it if the server has it and we may."""
    bind = op.get_bind()
    if bind.exec_driver_sql(f"SELECT 1 FROM pg_extension WHERE extname = '{name}'").first():
        return True
    if not bind.exec_driver_sql(
            f"SELECT 1 FROM pg_available_extensions WHERE name = '{name}'").first():
        log.info("extension %s is not installed on this server", name)
        return False
    try:
        with bind.begin_nested():
            bind.exec_driver_sql(f"CREATE EXTENSION {name}")
    except exc.DBAPIError as error:  # a role without CREATE on the database, say
        log.warning("could not create extension %s (%s); a superuser can, and then migrate "
                    "again from 0009_dashboard_counts", name, error.orig)
        return False
    return True


def _postgis_index() -> None:
    # Computed from the copies the 0008 triggers keep (after BEFORE triggers, so the fill of a
    # new row counts), never written by anyone.
    op.execute("ALTER TABLE issue_portals ADD COLUMN geom geometry(Point, 4326) "
               "GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(lon, lat), 4326)) STORED")
    # Visible rows only (every public box asks for those), and the portal first where
    # btree_gist lets a GiST index hold it: an issue belongs to every portal around it, and
    # a box should read only its own portal's rows.
    columns = "tenant_id, geom" if _extension("btree_gist") else "geom"
    op.execute(f"CREATE INDEX ix_issue_portals_geom ON issue_portals USING gist ({columns}) "
               "WHERE hidden IS FALSE")
    op.execute("ANALYZE issue_portals")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("issue_spots_insert", "issue_spots_move", "issue_spots_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS issue_spots")
    else:
        # The extension stays: other schemas may use it, and dropping it needs a superuser.
        op.execute("DROP INDEX IF EXISTS ix_issue_portals_geom")
        op.execute("ALTER TABLE issue_portals DROP COLUMN IF EXISTS geom")
