"""Each portal's data version: a number that goes up with every change its public pages show.

Cached public responses (the map API's GeoJSON bodies) are keyed by (portal, data version,
query), so a cache hit costs one primary-key read and no process ever serves a body older than
the database: the number is a row (`PortalDataVersion`) moved in the transaction of the change,
and a rollback takes the bump back with it.

Nobody calls a bump. Listeners on `PortalSession` (every `Database` session) do it for every
write to a table in `LINKS`, the rows some public page shows:

- ORM flushes: rows changed or deleted are read by primary key *before* the flush (a deleted
  issue's portals vanish with it), new and changed rows *after* it.
- Bulk statements (`session.execute(update(...) / delete(...) / insert(...))`), which bypass the
  flush: the rows the WHERE clause (or the by-primary-key parameters) name are read before the
  statement and, for an UPDATE, again after it, so rows moved to another issue bump both sides;
  an INSERT is read from its parameters.

What a row names becomes portals: an issue, by its `IssuePortal` rows (a membership change is
itself such a row, so the portal an issue leaves and the one it joins both move); an
announcement, by its `AnnouncementPortal` rows; a body or request type, by the portals of its
issues; a portal, itself. Then one `UPDATE portal_data_versions … WHERE tenant_id IN (…)` per
flush or statement. A new portal gets its row in the flush that creates it. The one writer
that calls `bump` itself is a COPY (`portal.core.bulk`), which no session event sees.

Readers call `current` *before* reading the data it keys: on PostgreSQL each statement sees the
latest commit, so data read after the version is never older than it. On a read replica the
same holds (a standby replays commits in order), as long as the version and the data are read
in one session, so on one server: a body read on the replica is keyed by the replica's version.

The versions stay in the database even when `REDIS_URL` is set (where rate limits go): a version
must move in the transaction of the change it counts, and commit or roll back with it, and Redis
cannot join that transaction.

Time alone changes nothing here: an announcement whose `publish_at` arrives bumps no version, so
a cache that shows announcements must also key on time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import (
    Connection,
    Table,
    bindparam,
    event,
    insert,
    inspect,
    select,
    tuple_,
    update,
)
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from portal.core.db import PortalSession
from portal.models import (
    Announcement,
    AnnouncementPortal,
    Body,
    Issue,
    IssueDuplicate,
    IssuePortal,
    PointAward,
    PortalDataVersion,
    RequestType,
    Tenant,
    Update,
    Vote,
)
from portal.tenancy import settings_stamp

ISSUE, ANNOUNCEMENT, BODY, REQUEST_TYPE, PORTAL = (
    "issue", "announcement", "body", "request_type", "portal")

# The tables public pages show, and what each linking column names.
LINKS: dict[str, dict[str, str]] = {
    Issue.__tablename__: {"id": ISSUE},
    Update.__tablename__: {"issue_id": ISSUE},
    Vote.__tablename__: {"issue_id": ISSUE},
    IssueDuplicate.__tablename__: {"issue_id": ISSUE, "original_id": ISSUE},
    PointAward.__tablename__: {"issue_id": ISSUE},
    IssuePortal.__tablename__: {"tenant_id": PORTAL},
    Announcement.__tablename__: {"id": ANNOUNCEMENT},
    AnnouncementPortal.__tablename__: {"tenant_id": PORTAL},
    Tenant.__tablename__: {"id": PORTAL},
    Body.__tablename__: {"id": BODY},
    RequestType.__tablename__: {"id": REQUEST_TYPE},
}
# Tables whose linking column is the row's own id: a new row of them is on no portal yet.
NAMED_BY_ITSELF = {Issue.__tablename__, Announcement.__tablename__, Tenant.__tablename__,
                   Body.__tablename__, RequestType.__tablename__}
CHUNK = 500  # ids per IN (…): well inside every database's limit on bound parameters
_BEFORE = "data_version.before_flush"
VERSIONS = PortalDataVersion.__table__


class UntrackedStatement(TypeError):
    """A bulk INSERT whose rows cannot be read (from a SELECT, or a multi-row VALUES clause):
    pass the rows as parameters, `session.execute(insert(Model), [{…}, …])`."""


@dataclass
class _Names:
    """Ids of what changed rows name, by kind (see `LINKS`)."""

    ids: dict[str, set[int]] = field(default_factory=dict)

    def add(self, table: Table, row: dict) -> None:
        for column, kind in LINKS[table.name].items():
            if row.get(column) is not None:
                self.ids.setdefault(kind, set()).add(int(row[column]))

    def portals(self, connection: Connection) -> set[int]:
        found = set(self.ids.get(PORTAL, ()))
        ip, ap, issues = IssuePortal.__table__, AnnouncementPortal.__table__, Issue.__table__
        lookups = {
            ISSUE: lambda ids: select(ip.c.tenant_id).where(ip.c.issue_id.in_(ids)),
            ANNOUNCEMENT: lambda ids: select(ap.c.tenant_id).where(ap.c.announcement_id.in_(ids)),
            BODY: lambda ids: select(ip.c.tenant_id).join(issues, issues.c.id == ip.c.issue_id)
            .where(issues.c.body_id.in_(ids)),
            REQUEST_TYPE: lambda ids: select(ip.c.tenant_id)
            .join(issues, issues.c.id == ip.c.issue_id).where(issues.c.request_type_id.in_(ids)),
        }
        for kind, query in lookups.items():
            for ids in _chunks(self.ids.get(kind, ())):
                found.update(connection.scalars(query(ids).distinct()))
        return found


def _chunks(values: Iterable) -> Iterator[list]:
    ordered = sorted(values)
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start:start + CHUNK]


_CURRENT = select(VERSIONS.c.version).where(VERSIONS.c.tenant_id == bindparam("tenant_id"))


def current(bind: Session | Connection, tenant_id: int) -> int:
    """The portal's data version. Read it before the data it keys (see the module docstring).

    On the session's connection (or a bare one), past the ORM: every cache hit pays for this
    read."""
    connection = bind.connection() if isinstance(bind, Session) else bind
    version = connection.execute(_CURRENT, {"tenant_id": tenant_id}).scalar()
    return version or 1  # a portal without its row yet is at the start


_CURRENT_AND_STAMP = select(_CURRENT.scalar_subquery(), settings_stamp.CURRENT.scalar_subquery())


def current_and_stamp(connection: Connection, tenant_id: int) -> tuple[int, int]:
    """The portal's data version and the settings stamp (`portal.tenancy.settings_stamp`), in
    one round trip: what a cached page's key needs."""
    version, stamp = connection.execute(_CURRENT_AND_STAMP, {"tenant_id": tenant_id}).one()
    return version or 1, stamp or 0


def bump(connection: Connection, tenant_ids: Iterable[int]) -> None:
    """Move these portals' versions on, in the connection's transaction."""
    ids = sorted(set(tenant_ids))
    if not ids:
        return
    moved = connection.execute(update(VERSIONS).where(VERSIONS.c.tenant_id.in_(ids))
                               .values(version=VERSIONS.c.version + 1)).rowcount
    if moved < len(ids):  # portals written without the ORM (or deleted in this transaction)
        have = set(connection.scalars(select(VERSIONS.c.tenant_id)
                                      .where(VERSIONS.c.tenant_id.in_(ids))))
        alive = set(connection.scalars(select(Tenant.id).where(Tenant.id.in_(ids))))
        _start(connection, sorted(alive - have), version=2)


def _start(connection: Connection, tenant_ids: list[int], version: int = 1) -> None:
    if tenant_ids:
        connection.execute(insert(VERSIONS),
                           [{"tenant_id": i, "version": version} for i in tenant_ids])


def _link_columns(table: Table) -> list:
    return [table.c[name] for name in LINKS[table.name]]


def _rows_by_key(connection: Connection, table: Table, keys: list[tuple]) -> list[dict]:
    """The linking columns of the rows with these primary keys, as the database has them now."""
    pk = list(table.primary_key.columns)
    wanted = _link_columns(table)
    if all(c in pk for c in wanted):  # the key itself says it all
        return [dict(zip([c.name for c in pk], key, strict=True)) for key in keys]
    rows: list[dict] = []
    key_expr = pk[0] if len(pk) == 1 else tuple_(*pk)
    for chunk in _chunks(k[0] if len(pk) == 1 else k for k in keys):
        rows.extend(r._asdict() for r in connection.execute(
            select(*wanted).where(key_expr.in_(chunk))))
    return rows


def _watched(objects: Iterable, session: Session, *, modified_only: bool = False
             ) -> list[tuple[Table, list]]:
    """Objects of the tables in `LINKS`, grouped by table."""
    by_table: dict[Table, list] = {}
    for obj in objects:
        mapper = inspect(obj).mapper
        table = mapper.local_table
        if table.name not in LINKS:
            continue
        if modified_only and not session.is_modified(obj, include_collections=False):
            continue
        by_table.setdefault(table, []).append(obj)
    return list(by_table.items())


@event.listens_for(PortalSession, "before_flush")
def _before_flush(session: Session, _flush: UOWTransaction, _instances: object) -> None:
    """Changed and deleted rows as they were: what they named may be gone after the flush."""
    names = _Names()
    connection = session.connection()
    stored = [*_watched(session.dirty, session, modified_only=True),
              *_watched(session.deleted, session)]
    for table, objects in stored:
        keys = [inspect(o).identity for o in objects if inspect(o).identity is not None]
        for row in _rows_by_key(connection, table, keys):
            names.add(table, row)
    session.info[_BEFORE] = names.portals(connection) if names.ids else set()


@event.listens_for(PortalSession, "after_flush")
def _after_flush(session: Session, _flush: UOWTransaction) -> None:
    """New and changed rows as they are now, then one bump for the whole flush."""
    names = _Names()
    connection = session.connection()
    _start(connection, sorted(o.id for o in session.new if isinstance(o, Tenant)))
    for table, objects in _watched(session.new, session):
        if table.name in NAMED_BY_ITSELF:
            continue  # a new issue (…) is on no portal until its membership rows are written
        unknown = []
        for obj in objects:
            row = _new_values(obj, table)
            if row is None:
                unknown.append(tuple(inspect(obj).mapper.primary_key_from_instance(obj)))
            else:
                names.add(table, row)
        for row in _rows_by_key(connection, table, unknown):
            names.add(table, row)
    for table, objects in _watched(session.dirty, session, modified_only=True):
        keys = [tuple(inspect(o).mapper.primary_key_from_instance(o)) for o in objects]
        for row in _rows_by_key(connection, table, keys):
            names.add(table, row)
    before = session.info.pop(_BEFORE, set())
    bump(connection, before | (names.portals(connection) if names.ids else set()))


def _new_values(obj: object, table: Table) -> dict | None:
    """A new row's linking columns as the object holds them, or None to read them back."""
    state = inspect(obj)
    row = {}
    for name in LINKS[table.name]:
        key = state.mapper.get_property_by_column(table.c[name]).key
        value = state.dict.get(key)
        if value is None:  # set by a relationship during the flush, or not at all
            return None
        row[name] = value
    return row


@event.listens_for(PortalSession, "do_orm_execute")
def _bulk_statement(state: ORMExecuteState):  # noqa: ANN202 - a Result, or None to go on
    """UPDATE, DELETE and INSERT statements run through the session, which no flush sees."""
    if not (state.is_update or state.is_delete or state.is_insert):
        return None
    table = state.statement.table
    if not isinstance(table, Table) or table.name not in LINKS:
        return None
    connection = state.session.connection()
    names = _Names()
    if state.is_insert:
        for row in _inserted_rows(state, table):
            names.add(table, row)
        result = state.invoke_statement()
    else:
        pk = list(table.primary_key.columns)
        columns = pk + [c for c in _link_columns(table) if c not in pk]
        found = [row._asdict() for row in connection.execute(
            select(*columns).where(*_where(state, table)))]
        for row in found:
            names.add(table, row)
        result = state.invoke_statement()
        if state.is_update:  # the same rows now: an UPDATE may have moved them elsewhere
            keys = [tuple(row[c.name] for c in pk) for row in found]
            for row in _rows_by_key(connection, table, keys):
                names.add(table, row)
    bump(connection, names.portals(connection))
    return result


def _where(state: ORMExecuteState, table: Table) -> list:
    """The statement's WHERE, or (an ORM bulk UPDATE by primary key) its rows' keys."""
    if state.statement.whereclause is not None:
        return [state.statement.whereclause]
    params = state.parameters
    if state.is_update and isinstance(params, list) and params:
        pk = list(table.primary_key.columns)
        if len(pk) == 1:
            return [pk[0].in_([p[pk[0].key] for p in params])]
        return [tuple_(*pk).in_([tuple(p[c.key] for c in pk) for p in params])]
    return []  # every row


def _inserted_rows(state: ORMExecuteState, table: Table) -> list[dict]:
    params = state.parameters
    if isinstance(params, list):
        return params
    if isinstance(params, dict) and params:
        return [params]
    values = state.statement.compile().params  # `insert(...).values(a=1)`: keyed by column
    if not values.keys() <= set(table.columns.keys()):
        raise UntrackedStatement(UntrackedStatement.__doc__)
    return [values]
