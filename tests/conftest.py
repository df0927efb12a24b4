"""Fixtures: a migrated database (SQLite, or PostgreSQL when TEST_DATABASE_URL is set),
cleaned before every test, and test-only portals and bodies in the FixMyStreet style."""

from __future__ import annotations

import os
import time
import types
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from starlette.testclient import TestClient

from portal import reactions
from portal.app import create_app
from portal.core.db import Database
from portal.core.migrate import upgrade
from portal.core.settings import REPO_ROOT, Settings
from portal.middleware import page_cache
from portal.models import Base
from portal.web import static_build  # noqa: E402
from tests import redis_server
from tests.worlds import World, build_world

reactions.install()  # domain tests file reports without an app


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A Redis server of the run's own (tests/redis_server.py), started on first use."""
    if redis_server.redis_binary() is None:
        pytest.skip("redis-server is not installed (apt-get install -y redis-server)")
    with redis_server.running_redis() as url:
        yield url


@pytest.fixture(scope="session")
def static_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("static") / "build"
    static_build.build(target)
    return target


@pytest.fixture
def settings(database_url: str, static_dir: Path, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key="test-secret-of-at-least-32-random-bytes-0123456789",
        https_only_cookies=False,  # the test clients speak plain http
        base_domain="reportal.test",
        public_url="http://reportal.test",
        media_dir=tmp_path / "media",
        static_build_dir=static_dir,
        tenants_dir=REPO_ROOT / "tenants",
        themes_dir=REPO_ROOT / "themes",
        rate_limits=False,
    )


# Constants the migrations write, not data: the tests keep them.
REFERENCE_TABLES = {"dashboard_duration_buckets"}


def _clean(db: Database) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)
              if t.name not in REFERENCE_TABLES]
    with db.engine.begin() as conn:
        if db.engine.dialect.name == "sqlite":
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))
            conn.execute(text("DELETE FROM issues_fts"))
        else:
            conn.exec_driver_sql(_pg_clean_sql(conn, tables))


_PG_CLEAN: dict[str, str] = {}


def _pg_clean_sql(conn, tables: list[str]) -> str:  # noqa: ANN001
    """One batch that empties every table and restarts every sequence.

    TRUNCATE gives each table new files, about 30 ms for the schema on every test; the
    tests' few rows go far faster with DELETE. As a superuser (the test command's own
    cluster) the batch runs with triggers and foreign-key checks off, so the counting
    triggers do not recount what is being thrown away; otherwise TRUNCATE it is.
    """
    key = str(conn.engine.url)
    if key not in _PG_CLEAN:
        if conn.exec_driver_sql("SELECT current_setting('is_superuser')").scalar() != "on":
            _PG_CLEAN[key] = f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"
        else:
            sequences = conn.exec_driver_sql(
                "SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename) "
                "FROM pg_sequences WHERE schemaname = current_schema()").scalars().all()
            _PG_CLEAN[key] = "".join([
                "SET LOCAL session_replication_role = replica;",
                *(f"DELETE FROM {name};" for name in tables),
                *(f"SELECT setval('{seq}', 1, false);" for seq in sequences)])
    return _PG_CLEAN[key]


@pytest.fixture(autouse=True)
def _steady_page_cache_minute(monkeypatch: pytest.MonkeyPatch) -> None:
    """A kept page's key holds the minute, so a test that warms a page and then expects a hit
    failed whenever the minute turned between its requests: rare for one test, but there are
    some twenty such tests in each suite. The page cache's clock runs on from one second into
    the current minute: a test has 59 s before its minute turns, and one that turns it on
    purpose still can."""
    start = time.time()
    steady = types.SimpleNamespace()
    steady.time = lambda: start - start % 60 + 1 + (time.time() - start)
    monkeypatch.setattr(page_cache, "time", steady)


@pytest.fixture
def db(settings: Settings):
    database = Database(settings.database_url)
    _clean(database)
    yield database
    database.engine.dispose()


@pytest.fixture
def session(db: Database):
    with db.session() as s:
        yield s


@pytest.fixture
def world(db: Database, settings: Settings, tmp_path: Path) -> World:
    """Test-only bodies and portals with overlapping and separate areas (see worlds.py)."""
    with db.session() as s:
        return build_world(s, tmp_path / "tenants", settings.themes_dir)


@pytest.fixture
def app(settings: Settings):
    application = create_app(settings)
    yield application
    application.state.db.engine.dispose()


def client_for(app, host: str) -> TestClient:  # noqa: ANN001
    return TestClient(app, base_url=f"http://{host}", follow_redirects=False)


@pytest.fixture
def client(app, world: World) -> TestClient:  # noqa: ANN001
    """A browser on the `northside` test portal."""
    return client_for(app, "northside.reportal.test")
