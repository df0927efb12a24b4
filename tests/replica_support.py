"""Seeing which database server a request used: statements per engine, and for PostgreSQL
whether the server behind each statement's connection is a standby (`pg_is_in_recovery()`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine, event

from portal.core.db import Database


def read_only_url(url: str) -> str:
    """The same database opened read-only: a replica with no lag, where any write fails."""
    if url.startswith("sqlite:///"):
        return "sqlite:///file:" + url.removeprefix("sqlite:///") + "?mode=ro&uri=true"
    separator = "&" if "?" in url else "?"
    return url + separator + "options=-c%20default_transaction_read_only%3Don"


@dataclass
class Statement:
    engine: str  # "primary" or "replica": which of the app's engines ran it
    sql: str
    in_recovery: bool | None  # PostgreSQL: was the server a standby? (None on SQLite)


@dataclass
class StatementLog:
    """Every statement the app's engines run from now on (call before the first request, so
    that each new connection is asked once whether its server is in recovery)."""

    db: Database
    statements: list[Statement] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._listen("primary", self.db.engine)
        if self.db.replica is not None:
            self._listen("replica", self.db.replica)

    def _listen(self, name: str, engine: Engine) -> None:
        postgres = engine.dialect.name == "postgresql"

        @event.listens_for(engine, "connect")
        def _server_kind(dbapi_connection, record) -> None:  # noqa: ANN001 - DB-API objects
            if postgres:
                cursor = dbapi_connection.cursor()
                cursor.execute("SELECT pg_is_in_recovery()")
                record.info["in_recovery"] = cursor.fetchone()[0]
                cursor.close()
                dbapi_connection.rollback()

        @event.listens_for(engine, "before_cursor_execute")
        def _seen(conn, _cursor, statement, *_args) -> None:  # noqa: ANN001
            self.statements.append(Statement(name, statement, conn.info.get("in_recovery")))

    def clear(self) -> None:
        self.statements.clear()

    def on(self, engine: str) -> list[Statement]:
        return [s for s in self.statements if s.engine == engine]
