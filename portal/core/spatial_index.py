"""Which index answers "the issues in this box" on this database, found once per engine.

Migration 0010_spatial_index gives each database the best index it can have over the places
of `issue_portals`: on PostgreSQL with PostGIS a GiST index over a `geom` column the database
computes from lat/lon; on SQLite an R*Tree (`issue_spots`, one box per issue); on plain
PostgreSQL the (tenant, hidden, lat, lon) btree of migration 0008 stays the only one. A btree
can range over latitude only and must read the whole strip of the box's height, however
narrow the box; the other two read about what the box holds.

What counts is the schema the migrations built, not the server: PostGIS installed after the
migration ran (or skipped with `REPORTAL_POSTGIS=off`) adds no column, and the btree path
stays right. The answer is looked up on the first box query of an engine and kept; every
path returns the same rows (see `portal.tenancy.scoping.in_bbox`).
"""

from __future__ import annotations

from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine, exc, text
from sqlalchemy.orm import Session

BTREE = "btree"
RTREE = "rtree"
POSTGIS = "postgis"

RTREE_TABLE = "issue_spots"  # SQLite: (id = issues.id, min_lon, max_lon, min_lat, max_lat)
GEOM_COLUMN = "geom"  # PostgreSQL with PostGIS: issue_portals.geom, a Point in EPSG:4326

_found: WeakKeyDictionary[Engine, str] = WeakKeyDictionary()
_preferred: WeakKeyDictionary[Engine, str] = WeakKeyDictionary()


def _engine(bind: Session | Connection | Engine) -> Engine:
    if isinstance(bind, Session):
        bind = bind.get_bind()
    return bind.engine if isinstance(bind, Connection) else bind


def _probe(conn: Connection) -> str:
    if conn.dialect.name == "sqlite":
        try:  # present, and this SQLite has the R*Tree module to read it with
            conn.exec_driver_sql(f"SELECT id FROM {RTREE_TABLE} LIMIT 0")
        except exc.OperationalError:
            return BTREE
        return RTREE
    found = conn.execute(text(
        "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_name = 'issue_portals' AND column_name = :name"), {"name": GEOM_COLUMN})
    return POSTGIS if found.first() else BTREE


def available(bind: Session | Connection | Engine) -> str:
    """The best index this database has for boxes: `BTREE`, `RTREE` or `POSTGIS`."""
    engine = _engine(bind)
    if engine not in _found:
        if isinstance(bind, Session):
            _found[engine] = _probe(bind.connection())
        else:
            with engine.connect() as conn:
                _found[engine] = _probe(conn)
    return _found[engine]


def index_kind(bind: Session | Connection | Engine) -> str:
    """The index box queries use: the best available one, unless `prefer` chose the btree."""
    return _preferred.get(_engine(bind)) or available(bind)


def prefer(engine: Engine, kind: str | None) -> None:
    """Make this engine's box queries use `kind` (`None`: the best again). Only the btree can
    stand in for a spatial index (it is always there); for comparing paths and measuring."""
    if kind not in (None, BTREE, available(engine)):
        raise ValueError(f"this database has no {kind} index")
    if kind is None:
        _preferred.pop(engine, None)
    else:
        _preferred[engine] = kind
