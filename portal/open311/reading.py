"""Service requests as a client reads them: our issues, scoped to the portal, in the spec's shape.

A list reads the portal's membership rows first (`scoping.public_issue_rows`: an index range
by time, status and type), then only the page's issues, their types and bodies, and one
query for their latest public status notes; the extensions add photos and public history.
Statuses: ours are four, the spec's two (`queries.OPEN311_STATUSES`); `extended_attributes`
carries ours.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.core.errors import N_, Message
from portal.core.i18n import translate
from portal.core.localized import localized
from portal.models import Body, Issue, IssuePortal, RequestType, Tenant, Update
from portal.open311 import dates
from portal.open311.queries import OPEN311_STATUSES, RequestQuery
from portal.tenancy.scoping import public_issue_rows, public_issues

SPEC_STATUS = {ours: spec for spec, all_ours in OPEN311_STATUSES.items() for ours in all_ours}
OPEN311_KEY_PREFIX = "o311-"
"""Submission keys of reports filed through Open311 start with this (see `filing`)."""

NOTE_SUMMARIES = {
    "created": N_("Reported"),
    "status": N_("Status changed"),
    "comment": N_("Comment"),
    "fixed": N_("Reported as fixed"),
    "reassigned": N_("Sent to another body"),
    "duplicate": N_("Marked as a duplicate"),
}


@dataclass(frozen=True)
class Links:
    """Where the portal is on the web: `base` is its absolute address with any /t/ prefix."""

    base: str

    def photo(self, digest: str | None) -> str | None:
        return f"{self.base}/media/{digest}.jpg" if digest else None

    def issue(self, issue_id: int) -> str:
        return f"{self.base}/issues/{issue_id}"


def find_ids(session: Session, tenant: Tenant, query: RequestQuery) -> list[int]:
    """The ids of the requests asked for, newest first, within the page."""
    if query.ids is not None:
        if not query.ids:
            return []
        stmt = public_issues(tenant).with_only_columns(Issue.id).where(Issue.id.in_(query.ids))
        found = set(session.scalars(stmt))
        return [i for i in dict.fromkeys(query.ids) if i in found]
    stmt = public_issue_rows(tenant).with_only_columns(IssuePortal.issue_id).where(
        IssuePortal.created_at >= query.start, IssuePortal.created_at <= query.end)
    if query.statuses:
        stmt = stmt.where(IssuePortal.status.in_(query.statuses))
    if query.codes:
        type_ids = select(RequestType.id).where(RequestType.code.in_(query.codes))
        stmt = stmt.where(IssuePortal.request_type_id.in_(type_ids))
    stmt = (stmt.order_by(IssuePortal.created_at.desc(), IssuePortal.issue_id.desc())
            .offset((query.page - 1) * query.page_size).limit(query.page_size))
    return list(session.scalars(stmt))


def _status_notes(session: Session, ids: list[int]) -> dict[int, str]:
    """The text of each issue's latest public status change that has one."""
    notes: dict[int, str] = {}
    for start in range(0, len(ids), 500):
        rows = session.execute(
            select(Update.issue_id, Update.text).where(
                Update.issue_id.in_(ids[start:start + 500]), Update.kind == "status",
                Update.internal.is_(False), Update.hidden.is_(False), Update.text != "")
            .order_by(Update.id))
        notes.update({issue_id: text for issue_id, text in rows})
    return notes


def request_items(session: Session, ids: list[int], locale: str, links: Links,
                  extensions: bool = False) -> list[dict]:
    """The requests with these ids, in this order, as the spec's `request` items."""
    if not ids:
        return []
    rows = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for row in session.execute(
            select(Issue.id, Issue.status, Issue.description, Issue.address, Issue.lat,
                   Issue.lon, Issue.created_at, Issue.updated_at, Issue.photo,
                   Issue.submission_key, Issue.external_id, Issue.request_type_id,
                   Issue.body_id).where(Issue.id.in_(chunk))):
            rows[row[0]] = row
    # A page holds a few types and bodies: their names are read (and decoded) once each.
    types = {t.id: t for t in session.execute(select(
        RequestType.id, RequestType.code, RequestType.name).where(
        RequestType.id.in_({r[11] for r in rows.values()})))}
    bodies = {b.id: b for b in session.execute(select(Body.id, Body.slug, Body.name,
                                                      Body.language).where(
        Body.id.in_({r[12] for r in rows.values()})))}
    names: dict[tuple, str] = {}

    def name(kind: str, key: int, texts: dict, fallback: str) -> str:
        if (kind, key) not in names:
            names[kind, key] = localized(texts, locale, fallback)
        return names[kind, key]

    notes = _status_notes(session, ids)
    histories = _histories(session, ids, links) if extensions else {}
    items = []
    for issue_id in ids:
        (_, status, description, address, lat, lon, created, updated, photo, key, external,
         type_id, body_id) = rows[issue_id]
        kind, body = types[type_id], bodies[body_id]
        fallback = body.language or "en"
        agency = name("body", body_id, body.name, fallback)
        item = {
            "service_request_id": str(issue_id),
            "status": SPEC_STATUS[status],
            "status_notes": notes.get(issue_id),
            "service_name": name("type", type_id, kind.name, fallback),
            "service_code": kind.code,
            "description": description,
            "agency_responsible": agency,
            "service_notice": None,
            "requested_datetime": dates.format_w3c(created),
            "updated_datetime": dates.format_w3c(updated),
            "expected_datetime": None,
            "address": address,
            "address_id": None,
            "zipcode": None,
            "lat": lat,
            "long": lon,
            "media_url": links.photo(photo),
        }
        if extensions:
            history = histories.get(issue_id, [])
            photos = [links.photo(photo)] if photo else []
            photos += [n["media_url"] for n in history if n.get("media_url")]
            item["extended_attributes"] = {
                "status": status, "channel": _channel(key, external),
                "body": body.slug, "body_name": agency,
                "url": links.issue(issue_id), "photos": photos,
            }
            item["notes"] = history
        items.append(item)
    return items


def _channel(submission_key: str | None, external_id: str | None) -> str:
    if external_id:
        return "import"
    if submission_key and submission_key.startswith(OPEN311_KEY_PREFIX):
        return "open311"
    return "web"


def _histories(session: Session, ids: list[int], links: Links) -> dict[int, list]:
    """Each issue's public history as `notes`, oldest first (what its page shows)."""
    found: dict[int, list] = {}
    for start in range(0, len(ids), 500):
        rows = session.scalars(
            select(Update).where(Update.issue_id.in_(ids[start:start + 500]),
                                 Update.internal.is_(False), Update.hidden.is_(False))
            .order_by(Update.id))
        for u in rows:
            note = {"datetime": dates.format_w3c(u.created_at),
                    "summary": translate(Message(NOTE_SUMMARIES.get(u.kind, N_("Comment")))),
                    # A status change is typed by the status it moved to, as Chicago's
                    # notes are ("closed"), so an importer can date each step.
                    "description": u.text or None,
                    "type": (u.new_status or u.kind) if u.kind == "status" else u.kind,
                    "status": SPEC_STATUS.get(u.new_status or "", None),
                    "author": u.author_name or None}
            if u.photo:
                note["media_url"] = links.photo(u.photo)
            found.setdefault(u.issue_id, []).append(note)
    return found


def find_by_token(session: Session, tenant: Tenant, token: str) -> int | None:
    """The request a token (the submission key `filing` returned) names, on this portal."""
    token = token.strip()
    if not token.startswith(OPEN311_KEY_PREFIX) or len(token) > 64:
        return None
    return session.scalar(public_issues(tenant).with_only_columns(Issue.id)
                          .where(Issue.submission_key == token))
