"""Import a city's history of issues from another system's export, through a mapping.

Why not `submit_report`: these are history. They keep their original dates and status, and
the bodies must not be mailed about reports that are years old. Everything else a report gets
still happens: history rows, portal membership and the search index, so imported issues show
on every portal whose area holds them, and the dashboard counts them.

What a file means is said by a mapping (`import_mapping`): which column holds each field,
how dates read, which source status and category is which of ours. Nothing is guessed: a
status the mapping does not list, a category with no entry and no default, a date that does
not read as the mapping says — each skips its record with that reason, and the rest go in.

History is true: one row per event the source dates (reported, acknowledged, closed,
reopened, archived, and an Open311 record's notes), at its own time, so medians, the weekly
chart and exports say what happened. An event the source does not date gets no row; the
issue's status is still the source's.

Every record gets `Issue.external_id = "<mapping name>:<source id>"`. Importing the same file
again updates records whose fields or events changed (row by row, the database's triggers
keeping every count) and leaves the others alone. A record twice in one file is skipped as a
duplicate when this run wrote it; a repeat of a record from an earlier run reads as already
there (the run remembers no ids beyond its batch, so memory stays flat).
Records are read one at a time and written in batches, so memory stays flat however large
the file (`import_sources`).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, selectinload

from portal.core import geo
from portal.core.db import is_sqlite
from portal.core.text_fields import as_one_line, as_text
from portal.data import import_mapping, import_sources, import_values
from portal.data.import_mapping import EVENT_STATUS, EVENTS, Mapping, fold
from portal.models import Body, Issue, IssuePortal, RequestType, Tenant, Update
from portal.places import gazetteer, naming
from portal.places.gazetteer import NewPlace
from portal.reports import clusters, dashboard_counts, search
from portal.reports.routing import request_types_at
from portal.tenancy import membership, service_targets

BATCH = 1000
# Skip reasons, as the summary and the skipped file name them.
MISSING_ID = "missing id"
DUPLICATE = "duplicate"
BAD_PLACE = "missing or bad coordinates"
OUTSIDE = "outside the portal's area"
BAD_DATE = "missing or bad date"
EMPTY = "empty description"
UNKNOWN_STATUS = "unknown status"
UNMAPPED_TYPE = "request type not in the mapping"
TYPE_NOT_HERE = "request type not offered there"
NO_TYPE = "no request type offered there"
NOT_JSON = "not valid JSON"
SNAPPED = "moved inside the area"  # not a skip: listed in the skipped file as a flag


@dataclass
class ImportSummary:
    """What an import did: how many issues it wrote or updated, and why others were skipped."""

    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    snapped: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    fmt: str = ""
    total: int = 0

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    def lines(self) -> list[str]:
        """Human-readable summary, one fact per line, for the CLI."""
        out = [f"Read {self.total} records ({self.fmt or 'unknown format'}).",
               f"Imported {self.imported} issues."]
        if self.updated or self.unchanged:
            out.append(f"Updated {self.updated}; {self.unchanged} already up to date.")
        if self.snapped:
            out.append(f"Moved {self.snapped} points from just outside into the area "
                       "(within the tolerance).")
        if self.skipped:
            out.append(f"Skipped {sum(self.skipped.values())}:")
            out += [f"  {reason}: {count}" for reason, count in sorted(
                self.skipped.items(), key=lambda item: (-item[1], item[0]))]
        return out


@dataclass
class Record:
    """One source record read through the mapping, ready to write."""

    row: int
    source: dict
    external_id: str
    lat: float
    lon: float
    moved_m: int | None
    title: str
    description: str
    address: str
    status: str
    events: list[tuple[str, datetime]]  # (event, when), sorted, the report first
    updated_at: datetime
    request_type: RequestType
    external_url: str
    label: str  # the author of its status rows
    _history: list[dict] | None = None

    @property
    def created_at(self) -> datetime:
        return self.events[0][1]

    def history(self) -> list[dict]:
        """The history rows: created, then one status row per move the events make."""
        if self._history is not None:
            return self._history
        rows = [{"kind": "created", "new_status": "open", "created_at": self.created_at}]
        current = "open"
        for event, when in self.events[1:]:
            new = EVENT_STATUS[event]
            if new != current:
                rows.append({"kind": "status", "old_status": current, "new_status": new,
                             "author_name": self.label, "author_role": "staff",
                             "created_at": when})
                current = new
        self._history = rows
        return rows

    def first(self, status: str) -> datetime | None:
        return next((row["created_at"] for row in self.history()
                     if row["kind"] == "status" and row["new_status"] == status), None)


class Skip(Exception):  # noqa: N818 - not an error: a record that does not go in, and why
    def __init__(self, reason: str, detail: str = "", distance: float | None = None) -> None:
        super().__init__(reason)
        self.reason, self.detail, self.distance = reason, detail, distance


class SkippedFile:
    """`--skipped FILE`: each skipped (or moved) record with its source row, the reason, the
    detail, and for a point outside the area its distance to it in metres."""

    def __init__(self, handle: IO[str], columns: list[str] | None) -> None:
        self.columns = columns  # a CSV source's own columns, echoed; JSON: one record column
        self.writer = csv.writer(handle, lineterminator="\n")
        self.writer.writerow(["source_row", "reason", "detail", "distance_m",
                              *(columns if columns else ["record"])])

    def write(self, row: int, source: dict, reason: str, detail: str,
              distance: float | None) -> None:
        tail = ([source.get(c, "") for c in self.columns] if self.columns
                else [json.dumps(source, ensure_ascii=False, default=str)])
        self.writer.writerow([row, reason, detail,
                              "" if distance is None else round(distance), *tail])


class _Places:
    """Routing and membership answers for many points, without a query per record.

    Bodies and portals are loaded once. What `request_types_at` offers depends only on which
    bodies contain the point, so it is asked once per distinct set of bodies (with a point of
    that set) and reused; which portals contain a point is the same covers-test that
    `membership.record_issue` runs, done in memory and inserted in one statement per batch.
    """

    def __init__(self, session: Session, tenant: Tenant) -> None:
        self.session, self.tenant = session, tenant
        self.offered: dict[frozenset[int], list[RequestType]] = {}
        self.namer = naming.Namer(session, tenant)  # the gazetteer only: no remote per record
        self.load()

    def load(self) -> None:
        """(Re)read bodies and portals, as plain tuples: (id, bounds, area text)."""
        def plain(rows: list) -> list[tuple]:
            return [(r.id, (r.min_lat, r.max_lat, r.min_lon, r.max_lon), r.area_geojson)
                    for r in rows]

        self.bodies = plain(self.session.scalars(select(Body)).all())
        self.portals = plain(self.session.scalars(select(Tenant)).all())
        self.offered.clear()

    @staticmethod
    def _inside(bounds: tuple[float, float, float, float], area: str, lat: float,
                lon: float) -> bool:
        return (bounds[0] <= lat <= bounds[1] and bounds[2] <= lon <= bounds[3]
                and geo.contains(area, lat, lon))

    def request_types(self, lat: float, lon: float) -> list[RequestType]:
        key = frozenset(i for i, bounds, area in self.bodies
                        if self._inside(bounds, area, lat, lon))
        if key not in self.offered:
            self.offered[key] = request_types_at(self.session, self.tenant, lat, lon)
        return self.offered[key]

    def portal_ids(self, lat: float, lon: float) -> list[int]:
        return [i for i, bounds, area in self.portals if self._inside(bounds, area, lat, lon)]


def _web_link(value: str) -> str:
    """The source's link to the record, shown on the issue page: http(s) only, so a
    `javascript:` value can never become a link."""
    link = as_one_line(value)[:500]
    return link if link.lower().startswith(("https://", "http://")) else ""


class _Reader:
    """Turns one source record into a `Record` by the mapping, or raises `Skip`."""

    def __init__(self, mapping: Mapping, places: _Places, tolerance_m: float,
                 lower_case: bool) -> None:
        self.mapping, self.places, self.tolerance_m = mapping, places, tolerance_m
        self.now = datetime.now(UTC)
        # Each field's column as a path of keys, worked out once (CSV headers are read
        # lower-cased); a field the mapping leaves out has none.
        self.paths = {name: tuple((column.lower() if lower_case else column).split("."))
                      for name, column in mapping.columns.items() if column}

    def get(self, record: dict, name: str) -> object:
        path = self.paths.get(name)
        if path is None:
            return None
        if len(path) == 1:
            return record.get(path[0])
        return import_sources.value_at(record, ".".join(path))

    def text(self, record: dict, name: str) -> str:
        value = self.get(record, name)
        return "" if value is None else str(value)

    def date(self, record: dict, name: str, value: object = None) -> datetime | None:
        try:
            return import_values.parse_date(self.get(record, name) if value is None else value,
                                            self.mapping.date_format, self.mapping.timezone,
                                            self.now)
        except import_values.BadValue as exc:
            raise Skip(BAD_DATE, f"{self.mapping.column(name) or name}: {exc}") from None

    def read(self, row: int, record: dict) -> Record:
        m = self.mapping
        source_id = as_one_line(self.text(record, "id"))
        if not source_id:
            raise Skip(MISSING_ID)
        external_id = f"{m.name}:{source_id}"[:100]
        try:
            point = import_values.parse_point(self.get(record, "lat"), self.get(record, "lon"),
                                              self.get(record, "location"))
        except import_values.BadValue as exc:
            raise Skip(BAD_PLACE, str(exc)) from None
        if point is None:
            raise Skip(BAD_PLACE, "no coordinates")
        moved = None
        area = self.places.tenant.area_geojson
        if not geo.contains(area, *point):
            distance, inside = import_values.distance_outside(area, *point)
            if distance > self.tolerance_m:
                raise Skip(OUTSIDE, f"{round(distance)} m outside", distance)
            moved, point = max(1, round(distance)), inside
        created = self.date(record, "created")
        if created is None:
            raise Skip(BAD_DATE, f"{m.column('created')}: empty")
        events = [("reported", created)]
        for name, event in EVENTS.items():
            if name != "created" and (when := self.date(record, name)) is not None:
                events.append((event, when))
        events += self._notes(record)
        # The report first, then the rest in time order (a stable sort keeps the source's
        # order for events at the same second).
        events = [events[0], *sorted(events[1:], key=lambda e: e[1])]
        status = self._status(record, events)
        title = as_one_line(self.text(record, "title"))
        text = as_text(self.text(record, "description"))
        if not (text or title):
            raise Skip(EMPTY)
        rt = self._request_type(record, point)
        updated = self.date(record, "updated")
        return Record(
            row=row, source=record, external_id=external_id, lat=round(point[0], 7),
            lon=round(point[1], 7), moved_m=moved, title=title[:120],
            description=(text or title)[:5000],
            address=" ".join(as_one_line(self.text(record, "address")).split())[:300],
            status=status,
            events=events, updated_at=max([when for _e, when in events]
                                          + ([updated] if updated else [])),
            request_type=rt, external_url=_web_link(self.text(record, "external_url")),
            label=m.label)

    def _notes(self, record: dict) -> list[tuple[str, datetime]]:
        spec = self.mapping.notes
        if spec is None:
            return []
        notes = import_sources.value_at(record, spec.path) or []
        found = []
        for note in notes if isinstance(notes, list) else []:
            if not isinstance(note, dict):
                continue
            event = spec.events.get(fold(note.get(spec.type)))
            if event and event != "reported":
                when = self.date(record, "notes", note.get(spec.datetime) or "")
                if when is not None:
                    found.append((event, when))
        return found

    def _status(self, record: dict, events: list[tuple[str, datetime]]) -> str:
        value = self.get(record, "status")
        if value is None or str(value).strip() == "":
            return EVENT_STATUS[events[-1][0]]  # no status given: where the events lead
        status = self.mapping.statuses.get(fold(value))
        if status is None:
            raise Skip(UNKNOWN_STATUS, f"{str(value)[:60]!r} is not in [statuses]")
        return status

    def _request_type(self, record: dict, point: tuple[float, float]) -> RequestType:
        m = self.mapping
        category = as_one_line(self.text(record, "request_type"))
        offered = self.places.request_types(*point)
        code = m.types.get(fold(category))
        if code is None and m.same_codes and any(rt.code == category for rt in offered):
            code = category
        code = code or m.default_type
        if not code:
            raise Skip(UNMAPPED_TYPE, f"{category[:60]!r} is not in [request_types.map] "
                                      "and there is no default")
        if not offered:
            raise Skip(NO_TYPE)
        chosen = next((rt for rt in offered if rt.code == code), None)
        if chosen is None and m.default_type and code != m.default_type:
            chosen = next((rt for rt in offered if rt.code == m.default_type), None)
        if chosen is None:
            raise Skip(TYPE_NOT_HERE, f"{code} is not offered at {point[0]:.5f}, "
                                      f"{point[1]:.5f}")
        return chosen


ISSUES, UPDATES = Issue.__table__, Update.__table__
# Every column of an imported history row, so the executemany has one shape.
HISTORY_DEFAULTS = {"old_status": None, "author_name": "", "author_role": "public", "text": "",
                    "photo": None, "internal": False, "hidden": False, "submission_key": None}


@dataclass
class _Text:  # what the search index reads of an issue
    id: int
    title: str
    description: str


def _insert(session: Session, records: list[Record], places: _Places, tenant: Tenant) -> None:
    """Insert new issues with their history rows, portal membership and search index."""
    # Core inserts of tables, each one executemany: the ORM's bulk insert splits rows into
    # runs by which values are None (a statement per run), and RETURNING in parameter order
    # would make SQLite insert row by row. The new ids are then read by their external ids.
    promises: dict = {}
    session.execute(ISSUES.insert(), [{
        "body_id": r.request_type.body_id, "request_type_id": r.request_type.id,
        "origin_tenant_id": tenant.id, "lat": r.lat, "lon": r.lon, "address": r.address,
        "place_name": places.namer.name(r.lat, r.lon),
        "title": r.title, "description": r.description, "answers": {}, "status": r.status,
        "created_at": r.created_at, "updated_at": r.updated_at, "locale": "en",
        "external_id": r.external_id, "external_url": r.external_url, "moved_m": r.moved_m,
        "reporter_name": "", "reporter_email": "", "show_name": False, "vote_count": 0,
        "hidden": False, **_due(r, promises)} for r in records])
    by_external = dict(session.execute(select(Issue.external_id, Issue.id).where(
        Issue.external_id.in_([r.external_id for r in records]))).all())
    ids = [by_external[r.external_id] for r in records]
    search.index_issues(session, [_Text(i, r.title, r.description)
                                  for i, r in zip(ids, records, strict=True)])
    session.execute(UPDATES.insert(), [{**HISTORY_DEFAULTS, **row, "issue_id": i}
                                        for i, r in zip(ids, records, strict=True)
                                        for row in r.history()])
    # The membership rows carry their copies of the issue, its first public moves included,
    # and the batch is counted into the map's cells and the dashboard's figures in a few
    # statements rather than by the triggers row by row.
    links = [{"issue_id": i, "tenant_id": tenant_id, "lat": r.lat, "lon": r.lon,
              "status": r.status, "hidden": False, "created_at": r.created_at,
              "body_id": r.request_type.body_id, "request_type_id": r.request_type.id,
              "acknowledged_at": r.first("acknowledged"), "closed_at": r.first("closed")}
             for i, r in zip(ids, records, strict=True)
             for tenant_id in places.portal_ids(r.lat, r.lon)]
    # The addresses the records carry become places of the portals showing them.
    by_id = dict(zip(ids, records, strict=True))
    offered: dict[int, list[NewPlace]] = {}
    for link in links:
        record = by_id[link["issue_id"]]
        if record.address:
            offered.setdefault(link["tenant_id"], []).append(NewPlace(
                "reported", {"en": record.address}, record.lat, record.lon,
                street=record.address, issue_id=link["issue_id"]))
    for tenant_id, new_places in offered.items():
        gazetteer.add_places(session, tenant_id, new_places, "issue")
    if links:
        with clusters.counting_deferred(session) as counted, \
                dashboard_counts.counting_deferred(session, ids):
            session.execute(IssuePortal.__table__.insert(), links)
            counted.extend(ids)


def _due(record: Record, promises: dict | None = None) -> dict:
    """The record's due times from its body's promises, as the issue columns; `promises`
    keeps each request type's promise read once for a batch."""
    rt = record.request_type
    promises = {} if promises is None else promises
    if rt.id not in promises:
        promises[rt.id] = service_targets.promise(rt.body.service_targets, rt.code)
    ack, close = service_targets.due_by(promises[rt.id], record.created_at)
    return {"acknowledge_due_at": ack, "close_due_at": close}


def _seconds(when: datetime | None) -> int | None:
    if when is None:
        return None
    return int((when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp())


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


@contextmanager
def _skipped_file(path: Path | None, columns: list[str] | None) -> Iterator[SkippedFile | None]:
    if path is None:
        yield None
        return
    with Path(path).open("w", newline="", encoding="utf-8") as handle:
        yield SkippedFile(handle, columns)


def _count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))


def import_issues(
    session: Session,
    path: Path,
    tenant: Tenant,
    *,
    mapping: Mapping | None = None,
    fmt: str | None = None,
    default_type: str | None = None,
    skipped_path: Path | None = None,
    tolerance_m: float = 0.0,
    progress: Callable[[int, int], None] | None = None,
    on_batch: Callable[[], None] | None = None,
    batch_size: int = BATCH,
) -> ImportSummary:
    """Import the records of `path` that lie in `tenant`'s area; see the module docstring.

    Without a `mapping`, the shipped one named `fmt` is used, or the one a CSV's header
    matches; `default_type` replaces the mapping's default request type. Writes in the
    caller's transaction, flushing every `batch_size` records; pass `on_batch=session.commit`
    to commit as it goes. `progress(done, total)` is called after every batch (total is 0
    when it is not known ahead, for a JSON document). A point up to `tolerance_m` metres
    outside the area is moved just inside it, and its issue keeps how far (`moved_m`).
    """
    path = Path(path)
    if mapping is None:
        mapping = (import_mapping.shipped_named(fmt) if fmt else
                   import_mapping.for_columns(import_sources.header(path, "csv")))
    if default_type:
        mapping = replace(mapping, default_type=default_type)
    found = import_sources.header(path, mapping.format, mapping.records)
    import_mapping.check_columns(mapping, found)
    lines = _count_lines(path) if mapping.format in ("csv", "jsonl") else 0
    summary = ImportSummary(fmt=mapping.name, total=max(lines - (mapping.format == "csv"), 0))
    places = _Places(session, tenant)
    reader = _Reader(mapping, places, tolerance_m, lower_case=mapping.format == "csv")
    newest_before = session.scalar(select(func.max(Issue.id))) or 0
    pending: dict[str, Record] = {}
    done = 0
    batches = [0]

    with _skipped_file(skipped_path, found if mapping.format == "csv" else None) as report:
        def skip(row: int, source: dict, reason: str, detail: str = "",
                 distance: float | None = None) -> None:
            summary.skip(reason)
            if report is not None:
                report.write(row, source, reason, detail, distance)

        def flush() -> None:
            if pending:
                _write(session, list(pending.values()), places, tenant, mapping, summary,
                       newest_before, skip)
                pending.clear()
                batches[0] += 1
                if on_batch is not None:
                    on_batch()
                if batches[0] & (batches[0] - 1) == 0 and not is_sqlite(session):
                    _analyze(session)
            if progress is not None:
                progress(done, max(summary.total, done) if summary.total else 0)

        for row, source in import_sources.records(path, mapping.format, mapping.records):
            done += 1
            try:
                if source is None:
                    source = {}
                    raise Skip(NOT_JSON)
                record = reader.read(row, source)
            except Skip as exc:
                skip(row, source, exc.reason, exc.detail, exc.distance)
            else:
                if record.external_id in pending:
                    skip(row, source, DUPLICATE, record.external_id)
                else:
                    pending[record.external_id] = record
                    if record.moved_m is not None:
                        summary.snapped += 1
                        if report is not None:
                            report.write(row, source, SNAPPED, f"{record.moved_m} m outside",
                                         record.moved_m)
            if len(pending) >= batch_size:
                flush()
        flush()
    summary.total = done
    return summary


def _analyze(session: Session) -> None:
    """PostgreSQL: fresh statistics for the tables a load grows, after batch 1, 2, 4, 8…

    The triggers' statements are planned once per connection; planned while the tables were
    small they go on scanning them whole, and every batch takes longer than the last. ANALYZE
    moves the statistics, which makes PostgreSQL plan those statements again."""
    session.execute(text("ANALYZE issues, updates, issue_portals"))


def _write(session: Session, records: list[Record], places: _Places, tenant: Tenant,
           mapping: Mapping, summary: ImportSummary, newest_before: int,
           skip: Callable[..., None]) -> None:
    """One batch: new records inserted set-based, known ones updated where they changed."""
    known = {issue.external_id: issue for issue in session.scalars(
        select(Issue).where(Issue.external_id.in_([r.external_id for r in records]))
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
