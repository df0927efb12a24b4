"""Boxes go through the best spatial index the database has — SQLite's R*Tree, PostGIS's GiST —
and answer exactly what the lat/lon btree answers: the same issues, the same clusters and
counts (on-the-fly clusters in the very cells the maintained ones use); the index follows
every write; and PostgreSQL without PostGIS (told so, or not allowed to create it) is migrated
onto the btree and serves the same maps."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import delete, event, select, text, update
from sqlalchemy.engine import make_url

from portal.app import create_app
from portal.core import grid, migrate, spatial_index
from portal.core.db import Database, make_engine
from portal.core.migrate import upgrade
from portal.models import Issue, Tenant
from portal.reports.status import change_status
from portal.staff.moderation import hide_issue
from portal.tenancy import data_version
from tests.cells_support import many_issues
from tests.conftest import client_for
from tests.factories import tenant
from tests.worlds import build_world

API = "/api/issues.geojson"
EDGE = (0.3, 1.3, 0.7, 1.7)  # a box with issues exactly on its corners
HAIR = 1e-9  # far below what a 32-bit float (the R*Tree's, GiST's boxes) tells apart here

VIEWS = [
    ("0,1,2,3", 8),  # northside whole: from the cells, no box at all
    ("0.01,1.01,1.99,2.99", 8),  # most of it: clusters
    ("0.2,1.2,1.6,2.6", 12),
    ("0.69,1,0.71,3", 10),  # a tall narrow strip: what a btree reads worst
    ("0,1.9,2,2.1", 10),  # a wide flat one
    (",".join(map(str, EDGE)), 16),  # edges through issues
    ("1.89,2.89,1.92,2.92", 14),  # the crowded corner
    ("1.40625,2.8125,1.5,2.9", 16),  # starting on cell boundaries
]
FILTERS = ["", "&status=closed", "&q=issue", "&type=pothole", "&since=2025-01-01",
           "&near=2.0,1.0&radius=3000", "&q=issue&status=open"]


def expected_best(session) -> str:  # noqa: ANN001
    """What migration 0010 should have given this database."""
    if session.get_bind().dialect.name == "sqlite":
        has = session.scalar(text("SELECT sqlite_compileoption_used('ENABLE_RTREE')"))
        return spatial_index.RTREE if has else spatial_index.BTREE
    off = os.environ.get("REPORTAL_POSTGIS", "").lower() in ("off", "0", "no", "false")
    has = session.scalar(text("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'"))
    return spatial_index.POSTGIS if has and not off else spatial_index.BTREE


def fill(db: Database) -> None:
    """440 issues over northside (some in riverside too, some closed, one hidden), 40 packed
    in a corner, and issues placed exactly on box edges, a hair outside them, and on the
    boundaries of grid cells."""
    with db.session() as s:
        issues = many_issues(s, 400, (0.05, 1.05, 1.95, 2.95))
        for issue in issues[:40]:
            change_status(s, issue, "closed", author="Works")
        hide_issue(s, issues[50], tenant(s, "northside"), None, "spam")
        many_issues(s, 40, (1.90, 2.90, 1.91, 2.91), seed=2)
        min_lon, min_lat, max_lon, max_lat = EDGE
        places = [(min_lon, min_lat), (min_lon, max_lat), (max_lon, min_lat), (max_lon, max_lat),
                  (min_lon - HAIR, 1.5), (max_lon + HAIR, 1.5), (0.5, min_lat - HAIR),
                  (0.5, max_lat + HAIR)]
        for band in (8, 12, 14, 16):  # a cell's west and south edges are in the cell
            west, south, _, _ = grid.cell_bounds(band, *grid.cell_of(2.82, 1.41, band))
            places += [(west, south), (west, 2.82), (1.41, south)]
        for n, (lon, lat) in enumerate(places):
            many_issues(s, 1, (lon, lat, lon, lat), seed=10 + n)


@contextmanager
def statements(engine) -> Iterator[list[str]]:  # noqa: ANN001
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:  # noqa: ANN001
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def answers(client, db: Database) -> dict[str, dict]:  # noqa: ANN001
    """Every view under every filter, as a map (zoom) and as the integrators' list, computed
    afresh: the portals' data versions move first, so no cached body can answer."""
    with db.engine.begin() as conn:
        data_version.bump(conn, conn.scalars(select(Tenant.id)))
    found = {}
    for bbox, zoom in VIEWS:
        for extra in FILTERS:
            for path in (f"{API}?bbox={bbox}&zoom={zoom}{extra}",
                         f"{API}?bbox={bbox}&per_page=500{extra}"):
                response = client.get(path + "&lang=en")
                assert response.status_code == 200, path
                found[path] = response.json()
    return found


def spatial_sql(kind: str) -> str:
    return {spatial_index.RTREE: "issue_spots", spatial_index.POSTGIS: "ST_MakeEnvelope"}[kind]


@pytest.fixture
def best(db) -> str:  # noqa: ANN001
    kind = spatial_index.available(db.engine)
    if kind == spatial_index.BTREE:
        pytest.skip("this database has no spatial index to compare with the btree")
    return kind


def test_the_database_has_and_uses_its_best_spatial_index(db, session, client, world):  # noqa: ANN001
    assert spatial_index.available(session) == expected_best(session)
    assert spatial_index.index_kind(client.app.state.db.engine) == expected_best(session)
    if expected_best(session) != spatial_index.BTREE:
        with statements(client.app.state.db.engine) as seen:
            client.get(f"{API}?bbox=0.2,1.2,0.6,1.6&zoom=14")
        assert any(spatial_sql(expected_best(session)) in s for s in seen)


def test_the_spatial_index_and_the_btree_give_the_same_maps_and_lists(db, world, client, best):  # noqa: ANN001
    fill(db)
    engine = client.app.state.db.engine
    with statements(engine) as seen:
        indexed = answers(client, db)
    assert sum(spatial_sql(best) in s for s in seen) > len(VIEWS)
    spatial_index.prefer(engine, spatial_index.BTREE)
    try:
        with statements(engine) as seen:
            plain = answers(client, db)
        assert not any(spatial_sql(best) in s for s in seen)
    finally:
        spatial_index.prefer(engine, None)
    assert indexed == plain
    # Every kind of answer was compared: points, clusters from the cells, clusters on the fly.
    maps = [a for path, a in indexed.items() if "zoom=" in path]
    assert any(not a["clustered"] and a["total"] > 0 for a in maps)
    assert indexed[f"{API}?bbox=0.01,1.01,1.99,2.99&zoom=8"]["clustered"]
    assert indexed[f"{API}?bbox=0.01,1.01,1.99,2.99&zoom=8&q=issue"]["clustered"]


@pytest.mark.parametrize("path", ["best", "btree"])
def test_a_box_holds_what_lies_on_its_edges_and_nothing_a_hair_outside(db, world, client, path):  # noqa: ANN001
    fill(db)
    if path == "btree":
        spatial_index.prefer(client.app.state.db.engine, spatial_index.BTREE)
    try:
        data = client.get(f"{API}?bbox={','.join(map(str, EDGE))}&zoom=16").json()
    finally:
        spatial_index.prefer(client.app.state.db.engine, None)
    places = {tuple(f["geometry"]["coordinates"]) for f in data["features"]}
    min_lon, min_lat, max_lon, max_lat = EDGE
    corners = {(min_lon, min_lat), (min_lon, max_lat), (max_lon, min_lat), (max_lon, max_lat)}
    assert corners <= places
    assert all(min_lon <= lon <= max_lon and min_lat <= lat <= max_lat for lon, lat in places)


def _cells_by_bounds(data: dict) -> dict[tuple, dict]:
    return {tuple(f["properties"]["bounds"]): f["properties"]["counts"]
            for f in data["features"]}


@pytest.mark.parametrize("path", ["best", "btree"])
def test_clusters_grouped_on_the_fly_are_the_maintained_cells(db, world, client, path):  # noqa: ANN001
    fill(db)
    if path == "btree":
        spatial_index.prefer(client.app.state.db.engine, spatial_index.BTREE)
    try:
        for bbox, zoom in [("0.01,1.01,1.99,2.99", 8), ("0.01,1.01,1.99,2.99", 12),
                           ("1.3,2.7,1.6,2.95", 12), ("1.3,2.7,1.6,2.95", 14)]:
            cells = client.get(f"{API}?bbox={bbox}&zoom={zoom}").json()
            grouped = client.get(f"{API}?bbox={bbox}&zoom={zoom}&q=issue").json()
            if not cells["clustered"]:  # as points, it is the boxes above that decide
                continue
            assert grouped["clustered"] and grouped["total"] == cells["total"]
            assert _cells_by_bounds(grouped) == _cells_by_bounds(cells), (bbox, zoom)
    finally:
        spatial_index.prefer(client.app.state.db.engine, None)


def _spatial_entries_match(session, kind: str) -> None:  # noqa: ANN001
    places = dict(((i, (lon, lat)) for i, lat, lon in session.execute(
        select(Issue.id, Issue.lat, Issue.lon))))
    if kind == spatial_index.RTREE:
        spots = {row[0]: row[1:] for row in session.execute(text(
            "SELECT id, min_lon, max_lon, min_lat, max_lat FROM issue_spots"))}
        assert spots.keys() == places.keys()
        for issue_id, (lon, lat) in places.items():
            min_lon, max_lon, min_lat, max_lat = spots[issue_id]
            assert min_lon <= lon <= max_lon and max_lon - min_lon < 1e-5
            assert min_lat <= lat <= max_lat and max_lat - min_lat < 1e-5
    else:
        rows = session.execute(text(
            "SELECT issue_id, ST_X(geom), ST_Y(geom) FROM issue_portals")).all()
        assert rows and all(places[i] == (x, y) for i, x, y in rows)


def test_the_index_follows_every_write(db, world, client, best, tmp_path):  # noqa: ANN001
    from portal.data.importer import import_issues

    with db.session() as s:
        many_issues(s, 60, (0.1, 1.1, 1.9, 2.9))
        # Bulk statements no ORM flush sees: a move, a deletion.
        s.execute(update(Issue).where(Issue.lon < 0.5).values(lat=Issue.lat + 0.01,
                                                              lon=Issue.lon + 1.45))
        s.execute(delete(Issue).where(Issue.lat < 1.3))
    with db.session() as s:
        _spatial_entries_match(s, best)
    records = tmp_path / "records.csv"  # and the importer's own write path
    records.write_text("row_id,created_at,summary,description,lat,lng,status\n" + "".join(
        f"R{n},2025-03-0{1 + n % 9}T10:00:00,Pothole,hole {n},{1.2 + n / 100},"
        f"{0.4 + n / 100},open\n" for n in range(30)))
    with db.session() as s:
        assert import_issues(s, records, tenant(s, "northside"), fmt=None).imported == 30
    with db.session() as s:
        _spatial_entries_match(s, best)
        moved = s.scalars(select(Issue).order_by(Issue.id)).first()
        s.execute(update(Issue).where(Issue.id == moved.id).values(lat=2.95, lon=0.02))
    shown = client.get(f"{API}?bbox=0.01,2.94,0.03,2.96&zoom=16").json()
    assert [f["properties"]["id"] for f in shown["features"]] == [moved.id]


# PostgreSQL without PostGIS ----------------------------------------------------------------

on_postgresql = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="a second database in the PostgreSQL test cluster")


@contextmanager
def other_database(database_url: str, name: str, user: str | None = None) -> Iterator[str]:
    """A fresh database in the test cluster (its public schema open to `user`), dropped
    afterwards; yields its URL, as `user` if given."""
    admin = make_engine(database_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    url = make_url(database_url).set(database=name)
    if user:
        inside = make_engine(url.render_as_string(hide_password=False))
        with inside.begin() as conn:
            conn.exec_driver_sql(f"GRANT ALL ON SCHEMA public TO {user}")
        inside.dispose()
        url = url.set(username=user)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()


def _geom_column(url: str) -> bool:
    engine = make_engine(url)
    with engine.connect() as conn:
        found = conn.exec_driver_sql(
            "SELECT 1 FROM information_schema.columns WHERE table_name = 'issue_portals' "
            "AND column_name = 'geom'").first()
        postgis = conn.exec_driver_sql(
            "SELECT 1 FROM pg_extension WHERE extname = 'postgis'").first()
        at = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    engine.dispose()
    # Migrated to the end, nothing skipped but the index.
    assert at == ScriptDirectory.from_config(migrate.config(url)).get_current_head()
    return bool(found or postgis)


@pytest.fixture(scope="module")
def plain_postgresql(database_url: str) -> Iterator[str]:
    """A database in the same cluster, migrated with REPORTAL_POSTGIS=off."""
    with other_database(database_url, "reportal_plain") as url, \
            pytest.MonkeyPatch.context() as patch:
        patch.setenv("REPORTAL_POSTGIS", "off")
        upgrade(url)
        yield url


@on_postgresql
def test_postgresql_told_not_to_use_postgis_keeps_the_btree(plain_postgresql):  # noqa: ANN001
    assert not _geom_column(plain_postgresql)
    engine = make_engine(plain_postgresql)
    assert spatial_index.available(engine) == spatial_index.BTREE
    engine.dispose()


@on_postgresql
def test_a_role_that_may_not_create_postgis_migrates_onto_the_btree(database_url):  # noqa: ANN001
    admin = make_engine(database_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.exec_driver_sql("SELECT 1 FROM pg_roles WHERE rolname = 'reportal_limited'"
                                    ).first():
            conn.exec_driver_sql("CREATE ROLE reportal_limited LOGIN")
    admin.dispose()
    with other_database(database_url, "reportal_limited_db", user="reportal_limited") as url:
        upgrade(url)  # PostGIS is there, but this role may not create extensions here
        assert not _geom_column(url)
        engine = make_engine(url)
        assert spatial_index.available(engine) == spatial_index.BTREE
        engine.dispose()


@on_postgresql
def test_plain_postgresql_draws_the_same_maps_as_postgis(db, world, client, best, settings,  # noqa: ANN001
                                                        plain_postgresql, tmp_path):
    plain_db = Database(plain_postgresql)
    with plain_db.session() as s:
        build_world(s, tmp_path / "plain-tenants", settings.themes_dir)
    fill(db)
    fill(plain_db)
    places = select(Issue.id, Issue.lat, Issue.lon, Issue.status, Issue.hidden).order_by(Issue.id)
    with db.session() as s, plain_db.session() as p:
        assert s.execute(places).all() == p.execute(places).all()  # the same ids, too
    plain_app = create_app(replace(settings, database_url=plain_postgresql))
    try:
        with statements(plain_app.state.db.engine) as seen:
            plain = answers(client_for(plain_app, "northside.reportal.test"), plain_db)
        assert not any(spatial_sql(spatial_index.POSTGIS) in s for s in seen)
        assert answers(client, db) == plain
    finally:
        plain_app.state.db.engine.dispose()
        plain_db.engine.dispose()
