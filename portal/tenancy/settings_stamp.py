"""The settings stamp: one number for the whole server that goes up, in the transaction of the
change, with every write to a portal's settings — its row, its host names, its bodies and
their request types.

Every process keeps portals in memory (`portal.middleware.tenant.TenantCache`), because the
portal is looked up on every request. A request reads the stamp first (one primary-key read of
a one-row table) and a process whose stamp is behind drops every portal it holds, so a setting
saved through any process (the staff pages, `/operator`, `portal tenants load`) is served by
every other from its next request on: a new host name answers, a removed one is refused, a new
colour shows. Whole cached pages carry the stamp in their key and are kept only when rendered
with portal settings as new as it (`portal.middleware.page_cache`).

Why one number for every portal, and not one each: a name no portal has yet ("not found") is
no portal's, so only a number that moves when *any* portal gains a host can say it is stale;
and settings change seldom, by a person, so that every process then reads each portal it
serves once more costs nothing. The portals' data versions (`portal.tenancy.data_version`)
also move with a portal's own row, but with every report and vote as well, and not with host
names, so they cannot tell a process when its settings are stale.

Nobody calls `bump` for a change made through a `Database` session: listeners on
`PortalSession` do it for every flush or statement that writes one of `TABLES`.
"""

from __future__ import annotations

from sqlalchemy import Connection, Table, event, insert, inspect, select, update
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from portal.core.db import PortalSession
from portal.models import Body, RequestType, SettingsStamp, Tenant, TenantHost
from portal.models.settings_stamp import ROW

STAMPS = SettingsStamp.__table__
TABLES = frozenset(t.__tablename__ for t in (Tenant, TenantHost, Body, RequestType))
CURRENT = select(STAMPS.c.value).where(STAMPS.c.id == ROW)


def current(connection: Connection) -> int:
    """The stamp now; 0 before the migration that starts it has run."""
    return connection.execute(CURRENT).scalar() or 0


def bump(connection: Connection) -> None:
    """Move the stamp on, in the connection's transaction."""
    moved = connection.execute(update(STAMPS).where(STAMPS.c.id == ROW)
                               .values(value=STAMPS.c.value + 1)).rowcount
    if not moved:
        connection.execute(insert(STAMPS).values(id=ROW, value=2))


def _writes_settings(session: Session) -> bool:
    for obj in (*session.new, *session.deleted):
        if inspect(obj).mapper.local_table.name in TABLES:
            return True
    return any(inspect(obj).mapper.local_table.name in TABLES
               and session.is_modified(obj, include_collections=False) for obj in session.dirty)


@event.listens_for(PortalSession, "after_flush")
def _after_flush(session: Session, _flush: UOWTransaction) -> None:
    """One bump for a flush that wrote settings (`new`, `dirty` and `deleted` still hold what
    the flush wrote)."""
    if _writes_settings(session):
        bump(session.connection())


@event.listens_for(PortalSession, "do_orm_execute")
def _bulk_statement(state: ORMExecuteState) -> None:
    """UPDATE, DELETE and INSERT statements run through the session, which no flush sees. The
    bump goes first, in the same transaction, so it commits or rolls back with the statement."""
    if state.is_update or state.is_delete or state.is_insert:
        table = state.statement.table
        if isinstance(table, Table) and table.name in TABLES:
            bump(state.session.connection())
