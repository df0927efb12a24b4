"""A body's public promises: per request type, how soon it acknowledges and fixes a report.

`body.json` may carry `service_hours` (time zone, working days and hours, holidays) and
`targets` (request type code -> `{"acknowledge": "2 business days", "fix": "10 business
days"}`); see tenants/README.md. `check` validates both when the body is loaded and keeps
them, normalised, as `Body.service_targets`. `due_times` turns them into the two instants an
issue is due by, which are stored on the issue (`acknowledge_due_at`, `close_due_at`) when it
is written, reassigned or imported, and again for all of a body's issues when its promises
change (`refresh_body`): lists, the map, the queue's "time left" and the dashboard's on-time
share then read two columns instead of redoing business-time maths per row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal.core import business_hours
from portal.core.business_hours import Hours, Span
from portal.core.errors import N_, ConfigError
from portal.models import Body, Issue, RequestType

STEPS = ("acknowledge", "fix")
BATCH = 1000


@dataclass(frozen=True)
class Promise:
    """What a body promises for one request type; either step may be missing."""

    acknowledge: Span | None
    fix: Span | None
    hours: Hours | None


def check(data: dict, where: str, codes: set[str]) -> dict | None:
    """`service_hours` and `targets` of a body.json, checked; None when it sets no targets.

    Errors name the file and the field ("… targets streetlight fix: 'ten days' is not …").
    """
    raw_targets = data.get("targets")
    raw_hours = data.get("service_hours")
    if raw_targets is None and raw_hours is None:
        return None
    hours = business_hours.parse_hours(raw_hours, f"{where} service_hours") \
        if raw_hours is not None else None
    if raw_targets is None:
        raw_targets = {}
    if not isinstance(raw_targets, dict):
        raise ConfigError(N_("targets must map request type codes to "
                             "{\"acknowledge\": \"2 business days\", \"fix\": \"10 business "
                             "days\"}"), where=f"{where} targets")
    targets: dict[str, dict[str, str]] = {}
    for code, steps in raw_targets.items():
        here = f"{where} targets {code}"
        if code not in codes:
            raise ConfigError(N_("%(code)r is not one of this body's request types"),
                              where=here, code=code)
        if not isinstance(steps, dict) or not steps or set(steps) - set(STEPS):
            raise ConfigError(N_("expected {\"acknowledge\": \"…\", \"fix\": \"…\"}"),
                              where=here)
        spans = {step: business_hours.parse_span(value, f"{here} {step}")
                 for step, value in steps.items()}
        if any(span.business for span in spans.values()) and hours is None:
            raise ConfigError(N_("a target in business time needs the body's service_hours"),
                              where=here)
        targets[code] = {step: span.text() for step, span in spans.items()}
    normal = {"targets": targets}
    if raw_hours is not None:
        assert hours is not None
        normal["service_hours"] = {
            "time_zone": hours.time_zone,
            "days": [business_hours.DAY_NAMES[d] for d in sorted(hours.days)],
            "opens": hours.opens_text, "closes": hours.closes_text,
            "holidays": sorted(d.isoformat() for d in hours.holidays)}
    return normal


def time_zone(body: Body, fallback: str) -> str:
    """The zone a body works in: its service hours' (`service_hours.time_zone`), else
    `fallback` (the portal's). Mail to the body and its due times are written in it."""
    hours = (body.service_targets or {}).get("service_hours") or {}
    return hours.get("time_zone") or fallback


def promise(config: dict | None, code: str) -> Promise | None:
    """The body's promise for a request type code; None when it makes none."""
    steps = (config or {}).get("targets", {}).get(code)
    if not steps:
        return None
    raw_hours = config.get("service_hours")
    hours = business_hours.parse_hours(raw_hours, "") if raw_hours else None
    spans = {step: business_hours.parse_span(steps[step], "") if step in steps else None
             for step in STEPS}
    return Promise(spans["acknowledge"], spans["fix"], hours)


def due_times(config: dict | None, code: str,
              reported: datetime) -> tuple[datetime | None, datetime | None]:
    """When an issue of this type reported at `reported` is due to be acknowledged and
    closed (UTC); None for a step the body sets no target for."""
    return due_by(promise(config, code), reported)


def due_by(found: Promise | None,
           reported: datetime) -> tuple[datetime | None, datetime | None]:
    """`due_times` from a promise already read (bulk writers read each type's once)."""
    if found is None:
        return None, None
    return tuple(business_hours.due(reported, span, found.hours) if span else None  # type: ignore[return-value]
                 for span in (found.acknowledge, found.fix))


def set_due_times(session: Session, issue: Issue) -> None:
    """Store the issue's due times from its body's current promises."""
    body = session.get(Body, issue.body_id)
    code = session.get(RequestType, issue.request_type_id).code
    issue.acknowledge_due_at, issue.close_due_at = due_times(
        body.service_targets if body else None, code, issue.created_at)


def refresh_body(session: Session, body: Body) -> int:
    """Recompute the due times of every issue of the body (its promises changed); returns
    how many issues were read. Batched by id, so a large body never sits in memory."""
    codes = dict(session.execute(select(RequestType.id, RequestType.code)
                                 .where(RequestType.body_id == body.id)).all())
    last, seen = 0, 0
    while True:
        rows = session.execute(
            select(Issue.id, Issue.request_type_id, Issue.created_at)
            .where(Issue.body_id == body.id, Issue.id > last).order_by(Issue.id)
            .limit(BATCH)).all()
        if not rows:
            return seen
        for issue_id, type_id, created in rows:
            ack, close = due_times(body.service_targets, codes.get(type_id, ""), created)
            session.execute(update(Issue).where(Issue.id == issue_id)
                            .values(acknowledge_due_at=ack, close_due_at=close)
                            .execution_options(synchronize_session=False))
        seen += len(rows)
        last = rows[-1][0]
