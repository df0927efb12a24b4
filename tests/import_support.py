"""Test-only cities for import tests, and the dashboard's figures recomputed from a file.

`city` loads one portal and one body over a box, the FixMyStreet pattern of a throwaway
tenant. `figures_from` computes, from the records themselves (never from the database), what
the dashboard must show for them: counts by status and type, the first acknowledgement and
closure of each record, their medians in whole seconds, and reports and closures per week.
"""

from __future__ import annotations

import json
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from portal.models import Tenant
from portal.tenancy import tenant_files
from tests.worlds import box


def city(session: Session, folder: Path, themes_dir: Path, slug: str,
         bounds: tuple[float, float, float, float], types: dict[str, str]) -> Tenant:
    """A portal `slug` and its body `<slug>-works` over `bounds` (min lon, min lat, max lon,
    max lat), offering `types` (code -> English name)."""
    body = folder / "bodies" / f"{slug}-works"
    portal = folder / "portals" / slug
    for d in (body, portal):
        d.mkdir(parents=True, exist_ok=True)
        (d / "area.geojson").write_text(json.dumps(box(*bounds)))
    (body / "body.json").write_text(json.dumps({
        "slug": f"{slug}-works", "name": {"en": f"{slug} works"},
        "contact_email": f"{slug}@bodies.test", "language": "en",
        "request_types": [{"code": c, "name": {"en": n}} for c, n in types.items()]}))
    (portal / "portal.json").write_text(json.dumps({
        "slug": slug, "kind": "city", "name": {"en": slug.title()}, "languages": ["en"],
        "default_language": "en", "time_zone": "UTC", "hosts": [f"{slug}.example.test"]}))
    tenant_files.load_all(session, folder, themes_dir)
    session.flush()
    return session.query(Tenant).filter_by(slug=slug).one()


def whole_seconds(since: datetime, until: datetime) -> int:
    """As the dashboard counts: each time truncated to its second, never below 0."""
    return max(0, int(until.timestamp()) - int(since.timestamp()))


def monday(when: datetime) -> date:
    day = when.astimezone(UTC).date()
    return day - timedelta(days=day.weekday())


@dataclass
class Expected:
    """One record as the file says it: its type's name, status and times (aware, UTC)."""

    type_name: str
    status: str
    created: datetime
    acknowledged: datetime | None = None
    closed: datetime | None = None


@dataclass
class Figures:
    total: int
    by_status: dict[str, int]
    by_type: list[tuple[str, int]]
    acknowledged: list[int] = field(default_factory=list)
    closed: list[int] = field(default_factory=list)
    reported_weeks: Counter = field(default_factory=Counter)
    closed_weeks: Counter = field(default_factory=Counter)

    def median(self, values: list[int]) -> timedelta | None:
        return timedelta(seconds=statistics.median(values)) if values else None


def figures_from(records: list[Expected]) -> Figures:
    by_status = dict.fromkeys(("open", "acknowledged", "closed", "archived"), 0)
    for r in records:
        by_status[r.status] += 1
    types = Counter(r.type_name for r in records)
    out = Figures(len(records), by_status,
                  sorted(types.items(), key=lambda item: (-item[1], item[0])))
    for r in records:
        out.reported_weeks[monday(r.created)] += 1
        if r.acknowledged:
            out.acknowledged.append(whole_seconds(r.created, r.acknowledged))
        if r.closed:
            out.closed.append(whole_seconds(r.created, r.closed))
            out.closed_weeks[monday(r.closed)] += 1
    return out


def assert_median(shown: timedelta | None, approximate: bool, values: list[int]) -> None:
    """The dashboard's median is the file's: exactly, or within its histogram bucket (about
    9.1 % plus a second) when the page says "about"."""
    if not values:
        assert shown is None
        return
    true = statistics.median(values)
    assert shown is not None
    if approximate:
        assert abs(shown.total_seconds() - true) <= true * 0.0915 + 1
    else:
        assert shown.total_seconds() == true
