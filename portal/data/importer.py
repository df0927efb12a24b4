"""Import historical issue records from CSV exports into a portal.

Why not `submit_report`: these are history. They keep their original date and status, and
the bodies must not be mailed about reports that are years old. Everything else a report gets
still happens: a "created" history row, portal membership and the search index, so imported
issues show on every portal whose area holds them.

Two shapes are understood, detected from the header:

- `seeclickfix`: row_id, created_at, status, summary, description, rating, lat, lng
- `boston311`: case_enquiry_id, open_dt, case_title, type, latitude, longitude, case_status…

Every record gets `Issue.external_id = "<format>:<source id>"`, so re-running an import skips
what is already there. Records that cannot be placed are skipped and counted by reason.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, selectinload

from portal.core import geo
from portal.core.text_fields import as_one_line, as_text
from portal.models import Body, Issue, IssuePortal, RequestType, Tenant, Update
from portal.places import gazetteer, naming
from portal.places.gazetteer import NewPlace
from portal.reports import clusters, dashboard_counts, search
from portal.reports.routing import request_types_at

BATCH = 500


@dataclass(frozen=True)
class Format:
    """Which CSV columns carry what; `naive_tz` is the zone of dates without an offset."""

    name: str
    label: str
    id: str
    created: str
    title: str
    text: str
    kind: str
    lat: str
    lon: str
    status: str
    address: str = ""
    naive_tz: str = "UTC"


FORMATS = {
    "seeclickfix": Format("seeclickfix", "SeeClickFix (import)", "row_id", "created_at",
                          "summary", "description", "summary", "lat", "lng", "status"),
    "boston311": Format("boston311", "Boston 311 (import)", "case_enquiry_id", "open_dt",
                        "case_title", "", "type", "latitude", "longitude", "case_status",
                        address="location", naive_tz="America/New_York"),
}
STATUS_MAP = {"open": "open", "acknowledged": "acknowledged", "closed": "closed",
              "archived": "archived", "new": "open", "in progress": "acknowledged"}
# (pattern, request type code), first match that the place offers wins; order matters.
RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p, re.IGNORECASE), code)
    for p, code in (
        (r"pot ?holes?|cave-?in|pavement|road surface|street repair|sinkhole|manhole",
         "pothole"),
        (r"traffic (light|signal)|signal", "traffic-signal"),
        (r"street ?lights?|lamp|\blights?\b", "streetlight"),
        (r"graffiti|tagging", "graffiti"),
        (r"missed|not collected|pick ?up|collection|recycl|leaf bags|yard waste",
         "missed-trash"),
        (r"dump|bulk|trash|garbage|litter|debris|rubbish", "illegal-dumping"),
        (r"sidewalk|curb", "sidewalk"),
        (r"\btrees?\b|branch|\blimbs?\b|stump|\btrim|\bhangers?\b|^\s*remov(e|al)\s*$",
         "fallen-tree"),
        (r"playground|swing", "playground"),
        (r"\bparks?\b", "park-maintenance"),
        (r"\bsigns?\b", "highway-sign"),
        (r"guard ?rail", "guardrail"),
        (r"\bbikes?\b|bicycle", "bike-rack"),
    )
]


@dataclass
class ImportSummary:
    """What an import did: how many issues it wrote and why the others were skipped."""

    imported: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    fmt: str = ""
    total: int = 0

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    def lines(self) -> list[str]:
        """Human-readable summary, one fact per line, for the CLI."""
        out = [f"Read {self.total} records ({self.fmt or 'unknown format'}).",
               f"Imported {self.imported} issues."]
        if self.skipped:
            out.append(f"Skipped {sum(self.skipped.values())}:")
            out += [f"  {reason}: {count}" for reason, count in sorted(
                self.skipped.items(), key=lambda item: (-item[1], item[0]))]
        return out


def detect_format(header: list[str]) -> Format:
    """Pick the format whose key columns are all in the header."""
    names = {h.strip().lower() for h in header}
    for spec in FORMATS.values():
        if {spec.id, spec.created, spec.lat, spec.lon} <= names:
            return spec
    raise ValueError(f"unknown CSV shape; columns: {', '.join(sorted(names))[:300]}")


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError:  # no tz database installed: US Eastern standard time
        return timezone(timedelta(hours=-5)) if name == "America/New_York" else UTC


def parse_when(text: str, naive_tz: tzinfo) -> datetime | None:
    """ISO-ish date text to an aware UTC datetime; None when it cannot be read."""
    text = (text or "").strip().replace("Z", "+00:00")
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=naive_tz)
    return when.astimezone(UTC)


def parse_point(lat_text: str, lon_text: str) -> tuple[float, float] | None:
    try:
        lat, lon = float(lat_text), float(lon_text)
    except (TypeError, ValueError):
        return None
    if not (math.isfinite(lat) and math.isfinite(lon)) or (lat == 0 and lon == 0):
        return None
    return (lat, lon) if geo.valid_coordinates(lat, lon) else None


def choose_type(offered: list[RequestType], text: str, default: str | None = None) -> RequestType:
    """The offered type whose keywords match `text`; else the `default` code if offered here,
    else the first (most local) offered type."""
    by_code = {rt.code: rt for rt in offered}
    for pattern, code in RULES:
        if code in by_code and pattern.search(text):
            return by_code[code]
    return by_code.get(default or "", offered[0])


def _rows(path: Path) -> Iterator[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        reader.fieldnames = [(name or "").strip().lower() for name in reader.fieldnames or []]
        yield from reader


def _header(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return next(csv.reader(handle), [])


def _count(path: Path) -> int:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return max(sum(1 for _ in csv.reader(handle)) - 1, 0)


def _existing_ids(session: Session, prefix: str) -> set[str]:
    return set(session.scalars(select(Issue.external_id).where(
        Issue.external_id.startswith(prefix, autoescape=True))))


def _build(row: dict[str, str], spec: Format, external_id: str, when: datetime,
           point: tuple[float, float], rt: RequestType, tenant: Tenant,
           place_name: str) -> Issue:
    # Old exports hold stray line breaks and control bytes; the record is still worth keeping.
    title = as_one_line(row.get(spec.title) or "")
    text = as_text(row.get(spec.text) or "") if spec.text else ""
    state = STATUS_MAP.get((row.get(spec.status) or "").strip().lower(), "open")
    return Issue(
        body_id=rt.body_id, request_type_id=rt.id, origin_tenant_id=tenant.id,
        lat=round(point[0], 7), lon=round(point[1], 7),
        address=as_one_line(row.get(spec.address) or "")[:300] if spec.address else "",
        place_name=place_name,
        title=title[:120], description=(text or title)[:5000], status=state,
        created_at=when, updated_at=when, locale="en", external_id=external_id,
    )


class _Places:
    """Routing and membership answers for many points, without a query per record.

    Bodies and portals are loaded once. What `request_types_at` offers depends only on which
    bodies contain the point, so it is asked once per distinct set of bodies (with a point of
    that set) and reused; which portals contain a point is the same covers-test that
    `membership.record_issue` runs, done in memory and inserted in one statement per batch.
    """

    def __init__(self, session: Session, tenant: Tenant) -> None:
        self.session, self.tenant = session, tenant
        self.bodies = session.scalars(select(Body).options(selectinload(Body.request_types))).all()
        self.portals = session.scalars(select(Tenant)).all()
        self.offered: dict[frozenset[int], list[RequestType]] = {}
        self.namer = naming.Namer(session, tenant)  # the gazetteer only: no remote per record

    @staticmethod
    def _inside(row: Body | Tenant, lat: float, lon: float) -> bool:
        return (row.min_lat <= lat <= row.max_lat and row.min_lon <= lon <= row.max_lon
                and geo.contains(row.area_geojson, lat, lon))

    def request_types(self, lat: float, lon: float) -> list[RequestType]:
        key = frozenset(b.id for b in self.bodies if self._inside(b, lat, lon))
        if key not in self.offered:
            self.offered[key] = request_types_at(self.session, self.tenant, lat, lon)
        return self.offered[key]

    def portal_ids(self, lat: float, lon: float) -> list[int]:
        return [t.id for t in self.portals if self._inside(t, lat, lon)]


# Every column of an imported history row, so the executemany has one shape.
HISTORY_DEFAULTS = {"old_status": None, "author_name": "", "author_role": "public", "text": "",
                    "photo": None, "internal": False, "hidden": False, "submission_key": None}


def _write(session: Session, issues: list[Issue], places: _Places, label: str) -> None:
    """Insert a batch with its history rows, portal membership and search index."""
    session.add_all(issues)
    session.flush()
    search.index_issues(session, issues)
    history = []  # rows of one executemany, not objects: nothing reads them back here
    for issue in issues:
        history.append({"issue_id": issue.id, "kind": "created", "new_status": "open",
                        "created_at": issue.created_at})
        if issue.status != "open":  # the source gives no date for the change: use the report's
            history.append({"issue_id": issue.id, "kind": "status", "old_status": "open",
                            "new_status": issue.status, "author_name": label,
                            "author_role": "staff", "created_at": issue.created_at})
    session.execute(insert(Update), [{**HISTORY_DEFAULTS, **row} for row in history])
    # The membership rows carry their copies of the issue (its first public moves are the one
    # status row above), and the batch is counted into the map's cells and the dashboard's
    # figures in a few statements rather than by the triggers row by row.
    links = [{"issue_id": issue.id, "tenant_id": tenant_id, "lat": issue.lat, "lon": issue.lon,
              "status": issue.status, "hidden": issue.hidden, "created_at": issue.created_at,
              "body_id": issue.body_id, "request_type_id": issue.request_type_id,
              "acknowledged_at": issue.created_at if issue.status == "acknowledged" else None,
              "closed_at": issue.created_at if issue.status == "closed" else None}
             for issue in issues for tenant_id in places.portal_ids(issue.lat, issue.lon)]
    by_id = {issue.id: issue for issue in issues}
    # The addresses the records carry become places of the portals showing them.
    offered: dict[int, list[NewPlace]] = {}
    for link in links:
        issue = by_id[link["issue_id"]]
        if issue.address:
            offered.setdefault(link["tenant_id"], []).append(NewPlace(
                "reported", {"en": issue.address}, issue.lat, issue.lon, street=issue.address,
                issue_id=issue.id))
    for tenant_id, new_places in offered.items():
        gazetteer.add_places(session, tenant_id, new_places, "issue")
    if links:
        with clusters.counting_deferred(session) as counted, \
                dashboard_counts.counting_deferred(session, [issue.id for issue in issues]):
            session.execute(insert(IssuePortal), links)
            counted.extend(issue.id for issue in issues)


def import_issues(
    session: Session,
    csv_path: Path,
    tenant: Tenant,
    *,
    fmt: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    on_batch: Callable[[], None] | None = None,
    batch_size: int = BATCH,
    default_type: str | None = None,
) -> ImportSummary:
    """Import the records of `csv_path` that lie in `tenant`'s area; see the module docstring.

    Writes in the caller's transaction, flushing every `batch_size` records; pass
    `on_batch=session.commit` to commit as it goes. `progress(done, total)` is called after
    every batch and at the end. A record whose summary matches no keyword rule gets the
    `default_type` code where that is offered, else the first type offered at its place.
    """
    csv_path = Path(csv_path)
    spec = FORMATS[fmt] if fmt else detect_format(_header(csv_path))
    summary = ImportSummary(fmt=spec.name, total=_count(csv_path))
    zone = _zone(spec.naive_tz)
    seen = _existing_ids(session, f"{spec.name}:")
    places = _Places(session, tenant)
    pending: list[Issue] = []
    done = 0

    def flush() -> None:
        if pending:
            _write(session, pending, places, spec.label)
            summary.imported += len(pending)
            pending.clear()
            if on_batch is not None:
                on_batch()
        if progress is not None:
            progress(done, summary.total)

    for row in _rows(csv_path):
        done += 1
        reason = _check(row, spec, zone, places, seen, pending, default_type)
        if reason:
            summary.skip(reason)
        if done % batch_size == 0:
            flush()
    flush()
    return summary


def _check(row: dict[str, str], spec: Format, zone: tzinfo, places: _Places, seen: set[str],
           pending: list[Issue], default_type: str | None) -> str:
    """Validate one record; on success append its Issue to `pending` and return ''."""
    source_id = as_one_line(row.get(spec.id) or "")
    if not source_id:
        return "missing id"
    external_id = f"{spec.name}:{source_id}"[:100]
    if external_id in seen:
        return "duplicate"
    point = parse_point(row.get(spec.lat, ""), row.get(spec.lon, ""))
    if point is None:
        return "missing or bad coordinates"
    if not geo.contains(places.tenant.area_geojson, *point):
        return "outside the portal's area"
    when = parse_when(row.get(spec.created, ""), zone)
    if when is None:
        return "missing or bad date"
    title = as_one_line(row.get(spec.title) or "")
    text = as_text(row.get(spec.text) or "") if spec.text else ""
    if not (text or title):
        return "empty description"
    offered = places.request_types(*point)
    if not offered:
        return "no request type offered there"
    kind = (row.get(spec.kind) or "").strip() if spec.kind != spec.title else ""
    rt = choose_type(offered, f"{title} | {kind}" if kind else title, default_type)
    seen.add(external_id)
    pending.append(_build(row, spec, external_id, when, point, rt, places.tenant,
                          places.namer.name(*point)))
    return ""
