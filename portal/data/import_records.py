"""One source record read through a mapping: a `Record` ready to write, or a `Skip` saying
why it does not go in; and the `ImportSummary` that counts both.

Reading knows nothing of how records are written (`import_writes`): it asks the database only
what the portals and bodies are and what is offered where (`Places`, once per distinct set of
bodies), so a record costs no query of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.core import geo
from portal.core.text_fields import as_one_line, as_text
from portal.data import import_sources, import_values
from portal.data.import_mapping import EVENT_STATUS, EVENTS, Mapping, fold
from portal.models import Body, RequestType, Tenant
from portal.places import naming
from portal.reports.routing import request_types_at

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


class Places:
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


class Reader:
    """Turns one source record into a `Record` by the mapping, or raises `Skip`."""

    def __init__(self, mapping: Mapping, places: Places, tolerance_m: float,
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
