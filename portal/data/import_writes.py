"""One batch of read records written: new ones inserted set-based, known ones updated where
they changed.

New issues go in with their history, portal membership, search index and the places their
addresses make, in one statement per table: on SQLite an executemany, on PostgreSQL a COPY
(`portal.core.bulk`). The triggers that keep the map's cells and the dashboard's figures leave
the batch's issues alone (`counting_deferred`) and the batch is counted in a few set-based
statements on the way out, computed exactly as the triggers would. Re-imported records are
updated row by row through the ORM, and the triggers keep every count.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session, selectinload

from portal.core import bulk
from portal.data.import_mapping import Mapping
from portal.data.import_records import DUPLICATE, ImportSummary, Places, Record
from portal.models import Issue, IssuePortal, Tenant, Update
from portal.places import gazetteer
from portal.places.gazetteer import NewPlace
from portal.reports import clusters, dashboard_counts, search
from portal.tenancy import data_version, membership, service_targets

ISSUES, UPDATES = Issue.__table__, Update.__table__
# Every column of an imported history row, so the executemany has one shape.
HISTORY_DEFAULTS = {"old_status": None, "author_name": "", "author_role": "public", "text": "",
                    "photo": None, "internal": False, "hidden": False, "submission_key": None}


@dataclass
class _Text:  # what the search index reads of an issue
    id: int
    title: str
    description: str


def _insert(session: Session, records: list[Record], places: Places, tenant: Tenant) -> None:
    """Insert new issues with their history rows, portal membership and search index."""
    promises: dict = {}
    rows = [{
        "body_id": r.request_type.body_id, "request_type_id": r.request_type.id,
        "origin_tenant_id": tenant.id, "lat": r.lat, "lon": r.lon, "address": r.address,
        "place_name": places.namer.name(r.lat, r.lon),
        "title": r.title, "description": r.description, "answers": {}, "status": r.status,
        "created_at": r.created_at, "updated_at": r.updated_at, "locale": "en",
        "external_id": r.external_id, "external_url": r.external_url, "moved_m": r.moved_m,
        "reporter_name": "", "reporter_email": "", "show_name": False, "vote_count": 0,
        "hidden": False, **_due(r, promises)} for r in records]
    # One statement per table: COPY on PostgreSQL, an executemany on SQLite, ids taken as
    # they go in (`portal.core.bulk`).
    ids = bulk.insert_new(session, ISSUES, rows)
    search.index_issues(session, [_Text(i, r.title, r.description)
                                  for i, r in zip(ids, records, strict=True)])
    history = [{**HISTORY_DEFAULTS, **row, "issue_id": i}
               for i, r in zip(ids, records, strict=True) for row in r.history()]
    bulk.insert_rows(session, UPDATES, history)
    # The membership rows carry their copies of the issue, its first public moves included,
    # and the batch is counted into the map's cells and the dashboard's figures in a few
    # statements rather than by the triggers row by row.
    # Each record's copy is made once, then given to each portal showing it.
    copies = [({"issue_id": i, "lat": r.lat, "lon": r.lon, "status": r.status,
                "hidden": False, "created_at": r.created_at,
                "body_id": r.request_type.body_id, "request_type_id": r.request_type.id,
                "acknowledged_at": r.first("acknowledged"), "closed_at": r.first("closed")},
               places.portal_ids(r.lat, r.lon)) for i, r in zip(ids, records, strict=True)]
    links = [{**copy, "tenant_id": tenant_id} for copy, portal_ids in copies
             for tenant_id in portal_ids]
    # The addresses the records carry become places of the portals showing them.
    by_id = dict(zip(ids, records, strict=True))
    offered: dict[int, list[NewPlace]] = {}
    for link in links:
        record = by_id[link["issue_id"]]
        if record.address:
            offered.setdefault(link["tenant_id"], []).append(NewPlace(
                "reported", {"en": record.address}, record.lat, record.lon,
                street=record.address, issue_id=link["issue_id"]))
    gazetteer.add_places_of(session, offered, "issue")
    if links:
        with clusters.counting_deferred(session) as counted, \
                dashboard_counts.counting_deferred(session, ids):
            bulk.insert_rows(session, IssuePortal.__table__, links)
            # No session event sees a bulk insert: the portals' data versions move here.
            data_version.bump(session.connection(), {link["tenant_id"] for link in links})
            counted.extend(ids)


def _seconds(when: datetime | None) -> int | None:
    if when is None:
        return None
    return int((when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp())


def _due(record: Record, promises: dict | None = None) -> dict:
    """The record's due times from its body's promises, as the issue columns; `promises`
    keeps each request type's promise read once for a batch."""
    rt = record.request_type
    promises = {} if promises is None else promises
    if rt.id not in promises:
        promises[rt.id] = service_targets.promise(rt.body.service_targets, rt.code)
    ack, close = service_targets.due_by(promises[rt.id], record.created_at)
    return {"acknowledge_due_at": ack, "close_due_at": close}


def _update(session: Session, issue: Issue, record: Record, label: str) -> bool:
    """Bring an imported issue in line with its record again; False when nothing changed.

    Row by row through the ORM: re-imports change few records, and the database's triggers
    then keep membership copies, map cells and dashboard figures exact."""
    fields = {"status": record.status, "title": record.title,
              "description": record.description, "address": record.address,
              "lat": record.lat, "lon": record.lon, "external_url": record.external_url,
              "moved_m": record.moved_m, "body_id": record.request_type.body_id,
              "request_type_id": record.request_type.id}
    changed = {k: v for k, v in fields.items() if getattr(issue, k) != v}
    ours = [u for u in issue.updates if u.kind == "status" and u.author_name == label]
    have = sorted((u.new_status, _seconds(u.created_at)) for u in ours)
    want_rows = [row for row in record.history() if row["kind"] == "status"]
    want = sorted((row["new_status"], _seconds(row["created_at"])) for row in want_rows)
    created_moved = _seconds(issue.created_at) != _seconds(record.created_at)
    if not changed and have == want and not created_moved:
        return False
    for key, value in changed.items():
        setattr(issue, key, value)
    issue.created_at, issue.updated_at = record.created_at, record.updated_at
    for key, value in _due(record).items():
        setattr(issue, key, value)
    for update in issue.updates:
        if update.kind == "created":
            update.created_at = record.created_at
    if have != want:
        for update in ours:
            session.delete(update)
        session.flush()
        session.execute(UPDATES.insert(), [{**HISTORY_DEFAULTS, **row, "issue_id": issue.id}
                                            for row in want_rows])
    session.flush()
    if "lat" in changed or "lon" in changed:
        membership.record_issue(session, issue)
    if "title" in changed or "description" in changed:
        search.index_issue(session, issue)
    return True


def analyze(session: Session) -> None:
    """PostgreSQL: fresh statistics for the tables a load grows, after batch 1, 2, 4, 8…

    The triggers' statements are planned once per connection; planned while the tables were
    small they go on scanning them whole, and every batch takes longer than the last. ANALYZE
    moves the statistics, which makes PostgreSQL plan those statements again. Only the
    columns a batch's statements look rows up by: the table sizes move all the same, and
    the rest (the membership's geometry above all) cost most of a whole-table ANALYZE;
    autovacuum brings them up to date after the load."""
    session.execute(text("ANALYZE issues (id, external_id), updates (issue_id), "
                         "issue_portals (issue_id, tenant_id, hidden)"))


def write_batch(session: Session, records: list[Record], places: Places, tenant: Tenant,
           mapping: Mapping, summary: ImportSummary, newest_before: int,
           skip: Callable[..., None]) -> None:
    """One batch: new records inserted set-based, known ones updated where they changed."""
    known = {issue.external_id: issue for issue in session.scalars(
        select(Issue).where(bulk.one_of(session, Issue.external_id,
                                          [r.external_id for r in records]))
        .options(selectinload(Issue.updates)))}
    new = []
    for record in records:
        issue = known.get(record.external_id)
        if issue is None:
            new.append(record)
        elif issue.id > newest_before:  # written by this run: the file holds it twice
            skip(record.row, record.source, DUPLICATE, record.external_id)
        elif _update(session, issue, record, mapping.label):
            summary.updated += 1
        else:
            summary.unchanged += 1
    if new:
        _insert(session, new, places, tenant)
        summary.imported += len(new)
    session.flush()
    for issue in known.values():  # memory stays flat: nothing of this batch is kept
        session.expunge(issue)
