"""What a `GET requests` asks for, parsed and checked; every wrong parameter is named.

`service_request_id` (comma-separated) overrides every other filter. Otherwise the range is
`start_date`..`end_date`, at most 90 days apart, defaulting to the last 90 days (or the 90
days after a lone start, before a lone end); `service_code` and `status` are comma-separated
lists; `page`/`page_size` (an extension) page through at most 1,000 requests at a time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from portal.core import text_fields
from portal.core.errors import N_, Message, ValidationError
from portal.open311 import dates

MAX_RANGE = timedelta(days=90)
MAX_PAGE_SIZE = 1000
MAX_IDS = 1000
OPEN311_STATUSES = {"open": ("open", "acknowledged"), "closed": ("closed", "archived")}
"""The spec's two statuses and ours behind each: `acknowledged` is still open for a client."""


@dataclass
class RequestQuery:
    ids: list[int] | None = None
    codes: list[str] = field(default_factory=list)
    start: datetime | None = None
    end: datetime | None = None
    statuses: list[str] = field(default_factory=list)  # ours
    page: int = 1
    page_size: int = MAX_PAGE_SIZE
    extensions: bool = False


def _list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def parse_ids(text: str) -> tuple[list[int], Message | None]:
    ids = []
    for part in _list(text):
        number = text_fields.record_number(part)
        if number is None:
            return [], Message(N_("%(value)r is not a service request id."), {"value": part})
        ids.append(number)
    if len(ids) > MAX_IDS:
        return [], Message(N_("Ask for at most %(max)s requests at once."), {"max": MAX_IDS})
    return ids, None


def _positive(text: str, name: str, errors: dict[str, Message], default: int, most: int) -> int:
    if not text.strip():
        return default
    number = text_fields.record_number(text)
    if number is None or not 1 <= number <= most:
        errors[name] = Message(N_("Enter a whole number from 1 to %(max)s."), {"max": most})
        return default
    return number


def parse_range(params: Mapping[str, str], now: datetime,
                errors: dict[str, Message]) -> tuple[datetime, datetime]:
    """`start_date`..`end_date` with the spec's defaults; errors named by parameter."""
    found: dict[str, datetime | None] = {}
    for name in ("start_date", "end_date"):
        raw = params.get(name, "").strip()
        found[name] = dates.parse(raw) if raw else None
        if raw and found[name] is None:
            errors[name] = Message(N_("Use a W3C date and time with its zone, like "
                                      "2024-05-01T00:00:00Z."))
    start, end = found["start_date"], found["end_date"]
    if start is None and end is None:
        # To the next whole minute: clients that poll the default range within a minute ask
        # the same query, which a cache keyed by the query (and the portal's data) can answer.
        end = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    if start is None:
        start = end - MAX_RANGE
    if end is None:
        end = start + MAX_RANGE
    if "start_date" not in errors and "end_date" not in errors:
        if end < start:
            errors["end_date"] = Message(N_("end_date must come after start_date."))
        elif end - start > MAX_RANGE:
            errors["end_date"] = Message(
                N_("start_date and end_date may be at most %(days)s days apart."), {"days": 90})
    return start, end


def parse_query(params: Mapping[str, str], now: datetime) -> RequestQuery:
    """The query, or ValidationError naming each wrong parameter."""
    errors: dict[str, Message] = {}
    query = RequestQuery(extensions=params.get("extensions", "").strip().lower() == "true")
    query.page = _positive(params.get("page", ""), "page", errors, 1, 1_000_000)
    query.page_size = _positive(params.get("page_size", ""), "page_size", errors,
                                MAX_PAGE_SIZE, MAX_PAGE_SIZE)
    if params.get("service_request_id", "").strip():
        ids, problem = parse_ids(params["service_request_id"])
        if problem:
            errors["service_request_id"] = problem
        query.ids = ids
    else:
        query.start, query.end = parse_range(params, now, errors)
        query.codes = _list(params.get("service_code", ""))
        for code in query.codes:
            if text_fields.form_key_problem(code) is not None:
                errors["service_code"] = Message(N_("%(value)r is not a service code."),
                                                 {"value": code[:40]})
        for status in _list(params.get("status", "").lower()):
            if status not in OPEN311_STATUSES:
                errors["status"] = Message(N_("status is open or closed."))
            else:
                query.statuses.extend(OPEN311_STATUSES[status])
    if errors:
        raise ValidationError(errors)
    return query


def query_key(query: RequestQuery) -> tuple:
    """Everything the answer depends on, normalised (what a cache keys it by)."""
    return (tuple(query.ids) if query.ids is not None else None, tuple(sorted(query.codes)),
            query.start.isoformat() if query.start else None,
            query.end.isoformat() if query.end else None, tuple(sorted(query.statuses)),
            query.page, query.page_size, query.extensions)
