"""Engines and session factory: one code path for SQLite and PostgreSQL.

SQLite gets WAL and foreign keys switched on for every connection; `DATABASE_URL` picks the
backend. Domain functions receive a `Session` and never open their own.

With a read replica (`DATABASE_REPLICA_URL`, a PostgreSQL hot standby) a `Database` has two
engines, and `session()` picks one by the current *read preference* (`Reads`), a context
variable the HTTP layer sets per request (`portal.middleware.read_preference`), so handlers
keep calling `db.session()`. Outside a request (the CLI, the worker, tests) it is `PRIMARY`.
A server that cannot be reached (refused, timed out, gone mid-transaction) raises
`DatabaseUnavailable` instead of a driver error; a preference with a second choice then takes
the other server, and the one that failed is skipped for `DOWN_FOR` seconds, so requests do
not each wait for a connect timeout.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger("reportal.db")

# A server that cannot be reached is given this long before it is tried again; a standby
# stays usable meanwhile. Short, because writes answer 503 for as long.
DOWN_FOR = 5.0
CONNECT_TIMEOUT = 2  # seconds; libpq's smallest useful value


class Reads(Enum):
    """Which server a session reads from when there is a replica."""

    PRIMARY = "primary"  # writes, and reads that must be current: the primary or nothing
    FRESH = "fresh"  # the primary, or the replica while the primary cannot be reached
    REPLICA = "replica"  # public reads: the replica, or the primary while it cannot be reached


_reads: ContextVar[Reads] = ContextVar("reportal_reads", default=Reads.PRIMARY)


@contextmanager
def reading(reads: Reads) -> Iterator[None]:
    """Sessions opened inside (in this context, and threads started from it) prefer `reads`."""
    token = _reads.set(reads)
    try:
        yield
    finally:
        _reads.reset(token)


class DatabaseUnavailable(Exception):
    """The database server a session needs cannot be reached just now."""

    def __init__(self, role: str, detail: str = "") -> None:
        super().__init__(f"the {role} database cannot be reached: {detail}".rstrip(": "))
        self.role = role


# Connections kept open per process: as many as requests a worker's thread pool runs at once
# under load. SQLAlchemy's default of 5 made every sixth concurrent request open (and close)
# a connection of its own, a fifth of the time of a cached page under 16 connections.
POOL_SIZE = 16


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:" and not path.startswith("file:"):
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        in_memory = not path or path == ":memory:" or "mode=memory" in path
        pool = {} if in_memory else {"pool_size": POOL_SIZE, "max_overflow": POOL_SIZE}
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               **pool)

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
    connect_args: dict[str, object] = {"prepare_threshold": None}
    if "connect_timeout" not in make_url(url).query:
        # A server that is down must be found out in seconds, not after TCP's minutes.
        connect_args["connect_timeout"] = CONNECT_TIMEOUT
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args,
                         pool_size=POOL_SIZE, max_overflow=POOL_SIZE)


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


def settle(engine: Engine, tables: tuple[str, ...]) -> None:
    """After a bulk load into `tables`: fresh statistics, and on PostgreSQL a VACUUM too.

    A freshly loaded PostgreSQL table has no visibility map yet, so an index-only scan (the
    place search reads its word index that way) still visits every row's page until
    autovacuum gets there, minutes later. VACUUM cannot run inside a transaction: it runs on
    an autocommit connection.
    """
    if engine.dialect.name != "postgresql":
        analyze(engine)
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for name in tables:
            conn.exec_driver_sql(f'VACUUM (ANALYZE) "{name}"')


def is_sqlite(engine_or_session: Engine | Session) -> bool:
    bind = engine_or_session
    if isinstance(bind, Session):
        bind = bind.get_bind()
    return bind.dialect.name == "sqlite"


class PortalSession(Session):
    """The session class of every `Database`: a class of our own, so that listeners on it
    (`portal.tenancy.data_version` keeps each portal's data version) see only our sessions."""


@dataclass
class _Server:
    """One engine, its sessions, and until when it is taken for unreachable."""

    role: str
    engine: Engine
    sessions: sessionmaker
    down_until: float = 0.0

    def is_down(self) -> bool:
        return time.monotonic() < self.down_until


def _report_unreachable(server: _Server) -> None:
    """Turn the driver's "cannot connect" and "connection lost" into `DatabaseUnavailable`."""
    if server.engine.dialect.name == "sqlite":
        return  # a file: "database is locked" is contention, not an unreachable server

    @event.listens_for(server.engine, "handle_error")
    def _unreachable(context: ExceptionContext) -> None:
        if context.is_pre_ping:
            return  # the pool drops that connection and opens a new one, which may work
        if context.connection is None or context.is_disconnect:
            if not server.is_down():
                log.warning("the %s database cannot be reached (trying it again in %s s): %s",
                            server.role, DOWN_FOR, context.original_exception)
            server.down_until = time.monotonic() + DOWN_FOR
            raise DatabaseUnavailable(server.role, str(context.original_exception)) \
                from context.original_exception


class Database:
    """Holds the engines and hands out sessions that commit or roll back as a unit.

    `engine` is the primary's; `replica` the read replica's, or None without one.
    """

    def __init__(self, url: str, replica_url: str = "") -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, class_=PortalSession, expire_on_commit=False,
                                     info={"replica": False})
        self._primary = _Server("primary", self.engine, self.sessions)
        _report_unreachable(self._primary)
        self.replica: Engine | None = None
        self._replica: _Server | None = None
        if replica_url:
            self.replica = make_engine(replica_url)
            self._replica = _Server("replica", self.replica, sessionmaker(
                self.replica, class_=PortalSession, expire_on_commit=False,
                info={"replica": True}))
            _report_unreachable(self._replica)

    def _choices(self, reads: Reads) -> list[_Server]:
        if self._replica is None or reads is Reads.PRIMARY:
            return [self._primary]
        if reads is Reads.FRESH:
            return [self._primary, self._replica]
        return [self._replica, self._primary]

    def _open(self, reads: Reads) -> Session:
        return self._first_live(reads, lambda server: server.sessions(),
                                lambda session: session.connection())

    def _first_live(self, reads: Reads, open_one, connect):  # noqa: ANN001,ANN202
        """`open_one(server)` on the first server `reads` may use that answers `connect`."""
        choices = self._choices(reads)
        if len(choices) == 1:
            server = choices[0]
            if self._replica is not None and server.is_down():
                raise DatabaseUnavailable(server.role, "unreachable a moment ago")  # fail fast
            return open_one(server)  # connects on first use
        # Skip a server that just failed; when both did, try both again (one may be back).
        live = [server for server in choices if not server.is_down()] or choices
        failure: DatabaseUnavailable | None = None
        for server in live:
            opened = None
            try:
                opened = open_one(server)
                connect(opened)  # find out now, while the other server can still serve
            except DatabaseUnavailable as exc:
                if opened is not None:
                    opened.close()
                failure = exc
                continue
            return opened
        raise failure

    @contextmanager
    def session(self, reads: Reads | None = None) -> Iterator[Session]:
        """A session on the server `reads` (default: the current read preference) asks for."""
        session = self._open(reads or _reads.get())
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def connection(self, reads: Reads | None = None) -> Iterator[Connection]:
        """A Core connection, chosen as `session()` chooses, for one small read on a hot path
        (a cache hit's data version): half the cost of a session, and no ORM. In autocommit,
        so one statement is one round trip, without a BEGIN before it and a ROLLBACK after."""
        connection = self._first_live(
            reads or _reads.get(),
            lambda server: server.engine.connect().execution_options(isolation_level="AUTOCOMMIT"),
            lambda _: None)
        try:
            yield connection
        finally:
            connection.close()

    def dispose(self) -> None:
        for engine in (self.engine, self.replica):
            if engine is not None:
                engine.dispose()


def on_replica(session: Session) -> bool:
    """Whether this session reads from the read replica (where nothing can be written)."""
    return bool(session.info.get("replica"))
