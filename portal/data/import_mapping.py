"""Import mappings: which column of a source holds each field, and how its values read.

A mapping is a TOML file (see README, "Importing history"). The shapes the importer knew
before mappings existed (New Haven's SeeClickFix CSV, Boston 311) are mapping files shipped
in `portal/data/mappings/`, found from a file's columns when no mapping is given. Every
check here raises `ConfigError` naming the field, the column and the columns there are.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path

from portal.core.errors import N_, ConfigError
from portal.data import import_sources, import_values
from portal.models import STATUSES

SHIPPED = Path(__file__).with_name("mappings")
FORMATS = ("csv", "json", "jsonl", "geojson")
# Fields a mapping can name a column for; the dates among them are the events.
FIELDS = ("id", "created", "acknowledged", "closed", "reopened", "archived", "updated",
          "status", "title", "description", "address", "lat", "lon", "location",
          "request_type", "external_url")
EVENTS = {"created": "reported", "acknowledged": "acknowledged", "closed": "closed",
          "reopened": "reopened", "archived": "archived"}
# What each event moves the status to.
EVENT_STATUS = {"reported": "open", "acknowledged": "acknowledged", "closed": "closed",
                "reopened": "open", "archived": "archived"}


def fold(value: object) -> str:
    """A source value as a lookup key: trimmed, single-spaced, case-folded."""
    return " ".join(str(value if value is not None else "").split()).casefold()


@dataclass(frozen=True)
class Notes:
    """Open311-style event lists inside each record (`notes: [{type, datetime}, …]`)."""

    path: str
    type: str = "type"
    datetime: str = "datetime"
    events: dict[str, str] = field(default_factory=dict)  # folded note type -> our event


@dataclass(frozen=True)
class Mapping:
    name: str  # prefix of every external id: "<name>:<source id>"
    label: str  # the author shown on imported history rows
    format: str
    records: str  # dotted path to the list of records in a JSON document ("" = the top)
    columns: dict[str, str]
    date_format: str
    timezone: tzinfo
    statuses: dict[str, str]  # folded source value -> our status
    types: dict[str, str]  # folded source category -> our request type code
    default_type: str | None
    notes: Notes | None = None
    # A category that is one of the portal's own request-type codes is taken as that type
    # (a source speaking our codes: another Reportal, an Open311 server that shares them).
    same_codes: bool = False
    source: str = ""  # the file it came from, for messages

    def column(self, name: str) -> str:
        return self.columns.get(name, "")

    def required_columns(self) -> list[str]:
        """The columns a file must have for this mapping to read it."""
        return [c for c in self.columns.values() if c]


def _table(data: dict, key: str, where: str) -> dict:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(N_("[%(table)s] must be a table"), where=where, table=key)
    return value


def parse(data: dict, where: str = "") -> Mapping:
    """A `Mapping` from the TOML document's tables; `ConfigError` on the first problem."""
    source = _table(data, "source", where)
    columns = {str(k): str(v).strip() for k, v in _table(data, "columns", where).items()}
    for name in columns:
        if name not in FIELDS:
            raise ConfigError(N_("unknown field %(field)s in [columns]; the fields are: "
                                 "%(fields)s"), where=where, field=name,
                              fields=", ".join(FIELDS))
    for needed in ("id", "created"):
        if not columns.get(needed):
            raise ConfigError(N_("[columns] must say which column holds %(field)s"),
                              where=where, field=needed)
    if not (columns.get("location") or (columns.get("lat") and columns.get("lon"))):
        raise ConfigError(N_("[columns] must name lat and lon, or one location column"),
                          where=where)
    fmt = str(source.get("format", "csv"))
    if fmt not in FORMATS:
        raise ConfigError(N_("unknown format %(format)s; use one of: %(formats)s"),
                          where=where, format=fmt, formats=", ".join(FORMATS))
    dates = _table(data, "dates", where)
    date_format = str(dates.get("format", "iso"))
    if date_format not in import_values.DATE_FORMATS and "%" not in date_format:
        raise ConfigError(N_("unknown date format %(format)s; use iso, epoch_s, epoch_ms or "
                             "a strftime pattern such as %%d/%%m/%%Y %%H:%%M"),
                          where=where, format=date_format)
    zone_name = str(dates.get("timezone", "UTC"))
    try:
        zone = import_values.zone(zone_name)
    except Exception:  # noqa: BLE001 - any unreadable zone name is the same mistake
        raise ConfigError(N_("unknown time zone %(zone)s"), where=where, zone=zone_name) \
            from None
    statuses = {}
    for value, ours in _table(data, "statuses", where).items():
        if ours not in STATUSES:
            raise ConfigError(N_("status %(value)s maps to %(status)s; use one of: "
                                 "%(statuses)s"), where=where, value=value, status=str(ours),
                              statuses=", ".join(STATUSES))
        statuses[fold(value)] = str(ours)
    types_table = _table(data, "request_types", where)
    default = types_table.get("default")
    types = {fold(k): str(v) for k, v in _table(types_table, "map", where).items()}
    notes = None
    if notes_table := _table(data, "notes", where):
        events = {}
        for kind, event in _table(notes_table, "events", where).items():
            if event not in EVENT_STATUS:
                raise ConfigError(N_("note type %(value)s maps to %(event)s; use one of: "
                                     "%(events)s"), where=where, value=kind, event=str(event),
                                  events=", ".join(EVENT_STATUS))
            events[fold(kind)] = str(event)
        notes = Notes(path=str(notes_table.get("path", "notes")),
                      type=str(notes_table.get("type", "type")),
                      datetime=str(notes_table.get("datetime", "datetime")), events=events)
    name = str(source.get("name", "")).strip()
    if not name:
        raise ConfigError(N_("[source] must give a name (the prefix of every imported id)"),
                          where=where)
    return Mapping(
        name=name[:40], label=str(source.get("label", f"{name} (import)"))[:100], format=fmt,
        records=str(source.get("records", "features" if fmt == "geojson" else "")),
        columns=columns, date_format=date_format, timezone=zone, statuses=statuses,
        types=types, default_type=str(default) if default else None, notes=notes,
        same_codes=bool(types_table.get("same_codes", False)),
        source=where)


def load(path: Path) -> Mapping:
    """Read a mapping file; `ConfigError` names the file and what is wrong in it."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError:
        raise ConfigError(N_("no such file: %(path)s"), path=str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(N_("this is not a readable TOML file: %(problem)s"),
                          where=str(path), problem=str(exc)) from None
    return parse(data, str(path))


def shipped() -> list[Mapping]:
    return [load(path) for path in sorted(SHIPPED.glob("*.toml"))]


def shipped_named(name: str) -> Mapping:
    found = next((m for m in shipped() if m.name == name), None)
    if found is None:
        raise ConfigError(N_("no shipped mapping is called %(name)s; there are: %(names)s"),
                          name=name, names=", ".join(m.name for m in shipped()))
    return found


def for_columns(found: list[str]) -> Mapping:
    """The shipped mapping whose columns the file has; else an error naming what each
    shipped mapping expects."""
    have = {c.strip().lower() for c in found}
    candidates = [m for m in shipped() if m.format == "csv"]
    for mapping in candidates:
        if {c.lower() for c in mapping.required_columns()} <= have:
            return mapping
    expected = "; ".join(f"{Path(m.source).stem}: {', '.join(m.required_columns())}"
                         for m in candidates)
    raise ConfigError(N_("these columns match no shipped mapping. Expected columns — "
                         "%(expected)s. Give your own with --mapping FILE "
                         "(--suggest-mapping writes a starting one)."), expected=expected)


def check_columns(mapping: Mapping, found: list[str]) -> None:
    """Every column the mapping names must be in the file (a CSV's header, or the keys of a
    JSON file's first records)."""
    have = {c.strip().lower() for c in found}
    for name, column in mapping.columns.items():
        top = column.split(".")[0].lower()
        if column and top not in have:
            raise ConfigError(N_("the mapping names column %(column)s for %(field)s, but the "
                                 "file has no such column; its columns are: %(found)s"),
                              where=mapping.source, column=column, field=name,
                              found=", ".join(found)[:600])


# -- a starting mapping from the columns a file has ----------------------------------------

_HINTS = {
    "id": ("id", "service_request_id", "case_enquiry_id", "row_id", "issue_id", "case_id"),
    "created": ("created_at", "requested_datetime", "open_dt", "opened", "created",
                "date_created", "reported_at"),
    "acknowledged": ("acknowledged_at", "acknowledged"),
    "closed": ("closed_at", "closed_dt", "closed", "date_closed"),
    "reopened": ("reopened_at",),
    "updated": ("updated_at", "updated_datetime", "last_updated"),
    "status": ("status", "case_status", "state"),
    "title": ("summary", "title", "case_title", "service_name"),
    "description": ("description", "details", "status_notes"),
    "address": ("address", "location_address", "location"),
    "lat": ("lat", "latitude", "y"),
    "lon": ("lng", "lon", "long", "longitude", "x"),
    "request_type": ("service_name", "type", "request_type", "category", "summary"),
    "external_url": ("html_url", "url", "link"),
}


def suggest(found: list[str], fmt: str, records: str, name: str,
            values: dict[str, set[str]]) -> str:
    """TOML text for a mapping of these columns, to edit: every field with a likely column
    filled in, every status and request type value seen listed for the operator to map."""
    lower = {c.lower(): c for c in found}
    lines = ["# A starting mapping written by `portal import-issues --suggest-mapping`.",
             "# Check every line; see README, \"Importing history\".", "", "[source]",
             f'name = "{name}"', f'format = "{fmt}"']
    if records:
        lines.append(f'records = "{records}"')
    lines += ["", "[columns]"]
    chosen: dict[str, str] = {}
    for field_name in FIELDS:
        # A column holds one field, except that a summary may stand in for a category.
        column = next((lower[h] for h in _HINTS.get(field_name, ()) if h in lower
                       and (lower[h] not in chosen.values() or field_name == "request_type")),
                      "")
        chosen[field_name] = column
        lines.append(f'{field_name} = "{column}"')
    lines += ["", "[dates]", 'format = "iso"  # or epoch_s, epoch_ms, "%m/%d/%Y %H:%M:%S"',
              'timezone = "UTC"  # the zone of dates written without an offset', "",
              "[statuses]  # each value seen -> open, acknowledged, closed or archived"]
    for value in sorted(values.get(chosen["status"], set())):
        guess = fold(value) if fold(value) in STATUSES else "open"
        lines.append(f'{_key(value)} = "{guess}"')
    lines += ["", "[request_types]", '# default = "other"  # for categories not listed below',
              "[request_types.map]  # each category seen -> one of the portal's type codes"]
    for value in sorted(values.get(chosen["request_type"], set()))[:500]:
        lines.append(f'{_key(value)} = ""')
    return "\n".join(lines) + "\n"


def _key(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def values_seen(path: Path, fmt: str, records: str, found: list[str],
                limit: int = 500) -> dict[str, set[str]]:
    """Distinct values of the columns a status or category may be in (at most `limit` each),
    read in one streaming pass."""
    wanted = [c for c in found if c.lower() in _HINTS["status"] + _HINTS["request_type"]]
    seen: dict[str, set[str]] = {c: set() for c in wanted}
    for _row, record in import_sources.records(path, fmt, records):
        if record is None:
            continue
        for column in wanted:
            value = record.get(column)
            if isinstance(value, (str, int)) and len(seen[column]) < limit:
                seen[column].add(" ".join(str(value).split()))
    return seen
