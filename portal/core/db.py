"""Engine and session factory: one code path for SQLite and PostgreSQL.

SQLite gets WAL and foreign keys switched on for every connection; `DATABASE_URL` picks the
backend. Domain functions receive a `Session` and never open their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # noqa: ANN001 - DB-API object
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    # No server-side prepared statements: after five executions psycopg's would switch to a
    # generic plan, the one a zoomed-out map gets, for every viewport (seconds per request at a
    # million issues); and PgBouncer in transaction mode cannot keep them anyway.
    return create_engine(url, pool_pre_ping=True, connect_args={"prepare_threshold": None})


def analyze(engine: Engine) -> None:
    """Give the query planner fresh statistics (after a migration or a bulk import).

    SQLite never gathers them by itself, and without them it drives a viewport query from the
    portal's whole membership instead of the lat/lon index. `analysis_limit` keeps this to a
    sample, so it takes well under a second at a million issues. PostgreSQL's autovacuum
    would get there too, but only minutes after a bulk load.
    """
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA analysis_limit=1000")
        conn.exec_driver_sql("ANALYZE")


def is_sqlite(engine_or_session: Engine | Session) -> bool:
    bind = engine_or_session
    if isinstance(bind, Session):
        bind = bind.get_bind()
    return bind.dialect.name == "sqlite"


class PortalSession(Session):
    """The session class of every `Database`: a class of our own, so that listeners on it
    (`portal.tenancy.data_version` keeps each portal's data version) see only our sessions."""


class Database:
    """Holds the engine and hands out sessions that commit or roll back as a unit."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, class_=PortalSession, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        session = self.sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
