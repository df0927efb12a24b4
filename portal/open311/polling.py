"""Pulling a body's progress from its own Open311 endpoint into our issues' history.

`poll` asks each body with an `open311` block for what changed and applies it through
`service_updates.apply_change` (so through `staff.triage`: a history row in the body's name,
the reporter's mail, the watchers), each remote change once:

- `updates: "requests"` (the default, core GeoReport v2): `GET requests.json` with the
  `service_request_id`s of the body's issues not yet closed here, 50 at a time. A request's
  precise status (`extended_attributes.status`, as a Reportal endpoint gives it) or else its
  spec status is mapped through `service_updates.INCOMING`; the spec's `open` is satisfied by
  our `open` and `acknowledged` alike. The last (status, `updated_datetime`, notes) seen is
  kept per request, and the change's key is made from them, so polling again applies nothing.
- `updates: "servicerequestupdates"` (FixMyStreet's extension): the updates since the last
  poll (less a minute, for clocks; the keys make the overlap harmless), each keyed by the
  endpoint's own `update_id`.

Tokens the endpoint answered a report with are resolved to request ids first.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.core.db import Database
from portal.core.settings import Settings
from portal.models import Body, Issue, Open311Request, Update, utcnow
from portal.open311 import dates
from portal.open311.delivery import resolve_token
from portal.open311.endpoint import Caller, Endpoint, EndpointError, call
from portal.open311.reading import SPEC_STATUS
from portal.open311.service_updates import INCOMING, apply_change

log = logging.getLogger("reportal.open311")

BATCH = 50
OVERLAP = timedelta(minutes=1)
# The first poll looks this far back: within the spec's longest range (90 days) with room
# for the endpoint's default end (start + 90 days) to lie past its "now".
FIRST_WINDOW = timedelta(days=89)
PULL_KEY_PREFIX = "o311p-"


@dataclass
class PollReport:
    bodies: int = 0
    applied: int = 0
    errors: int = 0


def _key(body_id: int, *parts: str) -> str:
    digest = hashlib.sha256("\x1f".join([str(body_id), *parts]).encode()).hexdigest()
    return PULL_KEY_PREFIX + digest[: 64 - len(PULL_KEY_PREFIX)]


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _target(issue: Issue, precise: str, spec: str) -> str | None:
    """Our status for a remote one, or None if it names none we know."""
    mapped = INCOMING.get(precise.upper()) if precise else None
    if mapped is not None:
        return mapped
    if spec and SPEC_STATUS[issue.status] == spec.lower():
        return issue.status  # "open" there is open or acknowledged here: no change
    return INCOMING.get(spec.upper()) if spec else None


def _apply(session: Session, issue: Issue, new_status: str, text: str, key: str,
           public_url: str) -> bool:
    """Apply one remote change; False when there is nothing to write (same status, no
    words) or our rules refuse it (an archived issue)."""
    if new_status == issue.status and not text:
        return False
    if issue.status == "archived":
        return False
    if session.scalar(select(Update.id).where(Update.submission_key == key)) is not None:
        return False  # applied by an earlier poll
    apply_change(session, issue, new_status, text, key, public_url)
    return True


def _open_links(session: Session, body: Body) -> list[tuple[int, str | None, str | None]]:
    """(link id, request id, token) of the body's issues not yet closed here."""
    return [tuple(row) for row in session.execute(
        select(Open311Request.id, Open311Request.service_request_id, Open311Request.token)
        .join(Issue, Issue.id == Open311Request.issue_id)
        .where(Open311Request.body_id == body.id, Issue.body_id == body.id,
               Issue.status.in_(("open", "acknowledged")))
        .order_by(Open311Request.id))]


def _fetch_requests(endpoint: Endpoint, links: list[tuple[int, str | None, str | None]],
                    caller: Caller) -> tuple[dict[int, str], list[dict]]:
    """Over the network (no transaction open): the tokens resolved, then the requests."""
    resolved = {}
    for link_id, remote_id, token in links:
        if remote_id is None and token:
            found = resolve_token(endpoint, token, caller)
            if found:
                resolved[link_id] = found[:100]
    remote_ids = [resolved.get(i, r) for i, r, _t in links if resolved.get(i, r)]
    items: list[dict] = []
    for start in range(0, len(remote_ids), BATCH):
        answer = caller("GET", endpoint.base, "requests.json",
                        [*endpoint.common(),
                         ("service_request_id", ",".join(remote_ids[start:start + BATCH])),
                         ("extensions", "true")])
        items += [i for i in (answer if isinstance(answer, list) else []) if isinstance(i, dict)]
    return resolved, items


def _apply_requests(session: Session, body: Body, resolved: dict[int, str], items: list[dict],
                    public_url: str) -> int:
    for link_id, remote_id in resolved.items():
        link = session.get(Open311Request, link_id)
        if link is not None and link.service_request_id is None:
            link.service_request_id = remote_id
    applied = 0
    for item in items:
        link = session.scalars(select(Open311Request).where(
            Open311Request.body_id == body.id,
            Open311Request.service_request_id == str(item.get("service_request_id", ""))
        )).first()
        issue = session.get(Issue, link.issue_id) if link is not None else None
        if issue is None or issue.body_id != body.id:
            continue
        extended = item.get("extended_attributes")
        precise = _text(extended.get("status")) if isinstance(extended, dict) else ""
        spec, notes = _text(item.get("status")), _text(item.get("status_notes"))
        remote = (precise or spec)[:30]
        notes_mark = hashlib.sha256(notes.encode()).hexdigest()[:8]
        seen = f"{remote}|{notes_mark}"
        updated = _text(item.get("updated_datetime"))[:40]
        if (seen, updated) == (link.remote_status, link.remote_updated):
            continue  # nothing new there since the last poll
        target = _target(issue, precise, spec)
        # The notes are words only when they are new: the same status_notes seen again
        # (another field changed there) are not posted twice.
        old_mark = link.remote_status.partition("|")[2]
        text = notes if notes_mark != old_mark else ""
        key = _key(body.id, link.service_request_id, remote, updated, notes_mark)
        if target is not None and _apply(session, issue, target, text, key, public_url):
            applied += 1
        link.remote_status, link.remote_updated = seen, updated
    return applied


def _fetch_updates(endpoint: Endpoint, polled_at: datetime | None, caller: Caller,
                   now: datetime) -> list[dict]:
    since = dates.aware(polled_at) - OVERLAP if polled_at else now - FIRST_WINDOW
    answer = caller("GET", endpoint.base, "servicerequestupdates.json",
                    # no end_date: the endpoint's default (W3C dates have whole seconds, so
                    # our "now" could end before a change made in this very second)
                    [*endpoint.common(), ("start_date", dates.format_w3c(since))])
    return [i for i in (answer if isinstance(answer, list) else [])  # oldest first
            if isinstance(i, dict) and i.get("update_id") not in (None, "")]


def _apply_updates(session: Session, body: Body, updates: list[dict], public_url: str) -> int:
    by_request: dict[str, list[dict]] = {}
    for item in updates:
        by_request.setdefault(str(item.get("service_request_id", "")), []).append(item)
    applied = 0
    for remote_id, items in by_request.items():
        link = session.scalars(select(Open311Request).where(
            Open311Request.body_id == body.id,
            Open311Request.service_request_id == remote_id)).first()
        issue = session.get(Issue, link.issue_id) if link is not None else None
        if issue is None or issue.body_id != body.id:
            continue
        for item in _unseen(link, items):
            target = INCOMING.get(_text(item.get("status")).upper())
            key = _key(body.id, "u", str(item["update_id"]))
            if target is not None and _apply(session, issue, target,
                                             _text(item.get("description")), key, public_url):
                applied += 1
        last = items[-1]
        link.remote_status = f"u:{last['update_id']}"[:40]
        link.remote_updated = _text(last.get("updated_datetime"))[:40]
    return applied


def _unseen(link: Open311Request, items: list[dict]) -> list[dict]:
    """The updates after the last one an earlier poll went through (the windows overlap): an
    old "OPEN" seen again must not reopen what a later update closed."""
    ids = [f"u:{item['update_id']}"[:40] for item in items]
    if link.remote_status in ids:
        return items[ids.index(link.remote_status) + 1:]
    return [item for item in items
            if _text(item.get("updated_datetime")) >= link.remote_updated]


def poll(db: Database, settings: Settings, *, now: datetime | None = None,
         environ: Mapping[str, str] | None = None, caller: Caller = call) -> PollReport:
    """Pull every Open311 body's changes; one body's failure does not stop the others."""
    now = now or utcnow()
    environ = os.environ if environ is None else environ
    report = PollReport()
    with db.session() as session:
        body_ids = [b.id for b in session.scalars(select(Body).order_by(Body.id)) if b.open311]
    for body_id in body_ids:
        report.bodies += 1
        try:
            # Read, then ask the endpoint with no transaction open (a slow endpoint must not
            # hold SQLite's write lock), then write what changed in one transaction.
            with db.session() as session:
                body = session.get(Body, body_id)
                endpoint = Endpoint.of(body.open311, environ)
                polled_at = body.open311_polled_at
                links = _open_links(session, body) if endpoint.updates == "requests" else []
            if endpoint.updates == "servicerequestupdates":
                fetched = _fetch_updates(endpoint, polled_at, caller, now)
            else:
                resolved, items = _fetch_requests(endpoint, links, caller)
            with db.session() as session:
                body = session.get(Body, body_id)
                if endpoint.updates == "servicerequestupdates":
                    applied = _apply_updates(session, body, fetched, settings.public_url)
                else:
                    applied = _apply_requests(session, body, resolved, items,
                                              settings.public_url)
                body.open311_polled_at = now
            report.applied += applied
        except EndpointError as exc:  # the whole body's poll is retried next time
            log.warning("open311 poll of body %s: %s", body_id, exc)
            report.errors += 1
    return report
