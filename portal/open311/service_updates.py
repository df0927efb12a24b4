"""FixMyStreet's `servicerequestupdates`: the public history since a date, and a back
office's status changes and comments coming in.

Going out (GET), each public history entry of the portal's issues is an update with the
issue's extended status after it (`OPEN`, `IN_PROGRESS`, `FIXED`, `CLOSED`). Coming in
(POST), a key bound to a body may update that body's issues: the extended statuses map to
ours (`INCOMING`), the change goes through `portal.staff.triage.set_status` (history row in
the body's name, the reporter's mail, watchers), a comment without a change of status is a
public comment by the body, and the back office's own `update_id` makes a repeat harmless.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.core.errors import N_, Forbidden, Message, NotFound, ValidationError
from portal.models import Issue, IssuePortal, Open311Key, Tenant, Update
from portal.open311 import dates
from portal.open311.reading import Links
from portal.reports import status
from portal.staff import triage
from portal.tenancy.scoping import get_public_issue

MAX_UPDATES = 1000
OUTGOING = {"open": "OPEN", "acknowledged": "IN_PROGRESS", "closed": "FIXED",
            "archived": "CLOSED"}
INCOMING = {
    "OPEN": "open", "REOPEN": "open", "REOPENED": "open",
    "IN_PROGRESS": "acknowledged", "ACTION_SCHEDULED": "acknowledged",
    "INVESTIGATING": "acknowledged", "ACKNOWLEDGED": "acknowledged",
    "FIXED": "closed", "CLOSED": "closed", "DUPLICATE": "closed",
    "NOT_COUNCILS_RESPONSIBILITY": "closed", "NO_FURTHER_ACTION": "closed",
    "UNABLE_TO_FIX": "closed", "WONT_FIX": "closed", "INTERNAL_REFERRAL": "closed",
}
UPDATE_KEY_PREFIX = "o311u-"


def updates_since(session: Session, tenant: Tenant, start: datetime, end: datetime,
                  links: Links) -> list[dict]:
    """The public history of the portal's issues between `start` and `end`, oldest first."""
    rows = session.execute(
        select(Update, Issue.status)
        .join(IssuePortal, IssuePortal.issue_id == Update.issue_id)
        .join(Issue, Issue.id == Update.issue_id)
        .where(IssuePortal.tenant_id == tenant.id, IssuePortal.hidden.is_(False),
               Update.internal.is_(False), Update.hidden.is_(False),
               Update.created_at >= start, Update.created_at <= end)
        .order_by(Update.created_at, Update.id).limit(MAX_UPDATES))
    return [{
        "update_id": str(u.id),
        "service_request_id": str(u.issue_id),
        "status": OUTGOING[u.new_status or current],
        "updated_datetime": dates.format_w3c(u.created_at),
        "description": u.text,
        "media_url": links.photo(u.photo) or "",
    } for u, current in rows]


def _update_key(api_key: Open311Key, update_id: str) -> str:
    # Keyed by the API key's stored digest, which only this server holds: from the key's id
    # and a back office's (often sequential) update ids anyone could work the key out, post
    # a comment under it first, and have the city's update taken for a repeat and dropped.
    digest = hmac.new(api_key.key_hash.encode(), update_id.encode(), hashlib.sha256).hexdigest()
    return UPDATE_KEY_PREFIX + digest[: 64 - len(UPDATE_KEY_PREFIX)]


def post_update(session: Session, tenant: Tenant, api_key: Open311Key,
                fields: dict[str, str], public_url: str) -> Update:
    """Apply a back office's update; ValidationError names each wrong field, Forbidden a
    key that may not update this issue, NotFound an issue the portal does not show."""
    errors: dict[str, Message] = {}
    update_id = fields.get("update_id", "").strip()
    if not update_id or len(update_id) > 200:
        errors["update_id"] = Message(N_("Give the update's own update_id."))
    raw_status = fields.get("status", "").strip().upper()
    new_status = INCOMING.get(raw_status)
    if new_status is None:
        errors["status"] = Message(N_("Unknown status %(status)r."), {"status": raw_status[:40]})
    stamp = fields.get("updated_datetime", "").strip()
    if stamp and dates.parse(stamp) is None:
        errors["updated_datetime"] = Message(N_("Use a W3C date and time with its zone, like "
                                                "2024-05-01T00:00:00Z."))
    number = fields.get("service_request_id", "").strip()
    if not number.isdigit() or len(number) > 10:
        errors["service_request_id"] = Message(N_("Give the service_request_id."))
    if errors:
        raise ValidationError(errors)
    key = _update_key(api_key, update_id)
    existing = session.scalars(select(Update).where(Update.submission_key == key)).first()
    if existing is not None:
        return existing
    issue = get_public_issue(session, tenant, int(number))
    if api_key.body_id is None or api_key.body_id != issue.body_id:
        raise Forbidden(N_("This key may not update this request."))
    return apply_change(session, issue, new_status, fields.get("description", ""), key,
                        public_url)


def apply_change(session: Session, issue: Issue, new_status: str, text: str, key: str,
                 public_url: str) -> Update:
    """A back office's change, in the body's name (the reporter is mailed, watchers told),
    once per `key`: a repeat returns the row the first one wrote. Also used for the changes
    `portal.open311.polling` pulls from a body's own endpoint."""
    existing = session.scalars(select(Update).where(Update.submission_key == key)).first()
    if existing is not None:
        return existing
    actor = triage.Actor(None, public_url)
    if new_status == issue.status:
        row = triage.reply(session, issue, text, actor)  # in the body's name, mailed
    else:
        if new_status not in status.ALLOWED[issue.status]:
            # A back office knows only its own statuses: closed -> IN_PROGRESS is reopening
            # and then acknowledging, as staff would do here in two steps.
            triage.set_status(session, issue, "open", actor)
        row = triage.set_status(session, issue, new_status, actor, text=text)
    row.submission_key = key
    session.flush()
    return row


__all__ = ["Forbidden", "NotFound", "apply_change", "post_update", "updates_since"]
