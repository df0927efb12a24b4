"""Sending new reports to a body's own Open311 endpoint, through the outbox.

When a report is filed for a body with an `open311` block, `enqueue` writes an outbox row
(kind `open311_request`) in the same transaction, holding the request's fields as JSON;
`send_due` then claims such rows with the outbox's own `claim`/`mark_sent`/`mark_failed`/
`release` (the same lease, backoff and attempts as mail) and POSTs `requests.json`,
form-encoded, adding `api_key` (from the environment) and `jurisdiction_id` at send time.

The answer's `service_request_id` (or `token`, resolved through `tokens/{token}` now or at
the next poll) is stored in `Open311Request`, in the transaction that marks the row sent.
A 5xx, 408, 429, a time-out or a dropped connection counts an attempt and waits
`outbox.backoff`; any other refusal (a 4xx, a redirect) is permanent, its errors kept in
`last_error` (`portal outbox failed` lists it). One refusal is worked around: a 400 about
`media_url` alone (the endpoint cannot fetch the photo) sends the report without it.

**Sending twice.** The fields are fixed when the report is filed (the description ends with
the issue's own address, so no two issues send the same request), and a resend is the same
request byte for byte. Nothing in GeoReport v2 lets a client look its request up by its own
key, so a crash after the endpoint accepted and before we recorded it (or an answer lost to
a time-out) resends; a Reportal endpoint answers that resend with the request it already
filed (its `POST requests` is idempotent for a repeated request), so the body gets it once
and we record the same id. An endpoint that does not de-duplicate may get it twice in that
one case: the same at-least-once contract as mail, stated, not hidden.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.core.db import Database
from portal.core.settings import Settings
from portal.mail import outbox
from portal.mail.compose import PORTAL_URL
from portal.models import Body, Issue, Open311Request, OutboxMessage, Tenant, utcnow
from portal.open311.endpoint import Caller, Endpoint, EndpointError, call
from portal.open311.filing import MAX_DESCRIPTION
from portal.tenancy.links import portal_base

log = logging.getLogger("reportal.open311")


def request_fields(issue: Issue, body: Body) -> list[tuple[str, str]]:
    """What the body's endpoint is sent for `issue`, but the key and jurisdiction.

    The reporter's name and email go when they gave them, as in the body's email (the form
    tells them officials receive these); anonymous reports send neither.
    """
    codes = body.open311.get("service_codes") or {}
    code = issue.request_type.code
    link = f"\n\n{PORTAL_URL}/issues/{issue.id}"
    description = issue.description[: MAX_DESCRIPTION - len(link) - 40] + link
    fields = [("service_code", codes.get(code, code)), ("lat", repr(issue.lat)),
              ("long", repr(issue.lon)), ("description", description)]
    if issue.address:
        fields.append(("address_string", issue.address))
    if issue.reporter_email:
        fields.append(("email", issue.reporter_email))
    if issue.reporter_name:
        first, _, last = issue.reporter_name.partition(" ")
        fields.append(("first_name", first))
        if last:
            fields.append(("last_name", last))
    if issue.photo:
        fields.append(("media_url", f"{PORTAL_URL}/media/{issue.photo}.jpg"))
    return fields


def enqueue(session: Session, issue: Issue) -> OutboxMessage | None:
    """The outbox row that sends a new report to its body's endpoint; None without one."""
    body = issue.body if issue.body is not None else session.get(Body, issue.body_id)
    if not body.open311:
        return None
    return outbox.enqueue(
        session, key=f"open311:{issue.id}:{body.id}", kind=outbox.OPEN311_KIND,
        recipient=body.open311["endpoint"][:254], locale=body.language or "en",
        subject=f"{issue.id} {body.id}",
        body_text=json.dumps({"issue_id": issue.id, "body_id": body.id,
                              "fields": request_fields(issue, body)}),
        tenant_id=issue.origin_tenant_id)


def _expanded(session: Session, settings: Settings, message: OutboxMessage,
              fields: list) -> list[tuple[str, str]]:
    tenant = session.get(Tenant, message.tenant_id) if message.tenant_id else None
    base = portal_base(settings.public_url, tenant) if tenant else settings.public_url
    return [(str(k), str(v).replace(PORTAL_URL, base)) for k, v in fields]


def _first(answer: object) -> dict:
    if isinstance(answer, list) and answer and isinstance(answer[0], dict):
        return answer[0]
    return answer if isinstance(answer, dict) else {}


def resolve_token(endpoint: Endpoint, token: str, caller: Caller) -> str | None:
    """The request id a token stands for, once the endpoint has one (`tokens/{token}`)."""
    try:
        answer = caller("GET", endpoint.base, f"tokens/{token}.json", endpoint.common())
    except EndpointError:
        return None
    found = _first(answer).get("service_request_id")
    return str(found) if found not in (None, "") else None


def _record(session: Session, message_id: int, issue_id: int, body_id: int,
            answer: object, endpoint: Endpoint, caller: Caller, now: datetime,
            note: str = "") -> None:
    first = _first(answer)
    remote_id = first.get("service_request_id")
    token = first.get("token")
    remote_id = str(remote_id) if remote_id not in (None, "") else None
    token = str(token)[:100] if token not in (None, "") else None
    if remote_id is None and token is None:
        outbox.mark_failed(session, message_id, now, "the answer has neither "
                           "service_request_id nor token", permanent=True)
        return
    if remote_id is None:
        remote_id = resolve_token(endpoint, token, caller)
    link = session.scalars(select(Open311Request).where(
        Open311Request.issue_id == issue_id, Open311Request.body_id == body_id)).first()
    link = link or Open311Request(issue_id=issue_id, body_id=body_id)
    link.service_request_id = remote_id[:100] if remote_id else None
    link.token = token
    session.add(link)
    outbox.mark_sent(session, message_id, utcnow(),
                     f"service_request_id {remote_id or '?'} {note}".strip())


def _post(endpoint: Endpoint, fields: list[tuple[str, str]], caller: Caller
          ) -> tuple[object, str]:
    """POST the request; if the endpoint refuses only our photo's address (it may not reach
    the portal, or fetch photos at all), the report is worth more than its photo: send it
    again at once without `media_url`, and say so in the row's note."""
    try:
        return caller("POST", endpoint.base, "requests.json",
                      [("api_key", endpoint.api_key), *endpoint.common(), *fields]), ""
    except EndpointError as exc:
        if not (exc.status == 400 and "media_url" in str(exc)
                and any(k == "media_url" for k, _ in fields)):
            raise
        without = [(k, v) for k, v in fields if k != "media_url"]
        answer = caller("POST", endpoint.base, "requests.json",
                        [("api_key", endpoint.api_key), *endpoint.common(), *without])
        return answer, f"sent without the photo ({str(exc)[:300]})"


def send_due(db: Database, settings: Settings, *, now: datetime | None = None,
             limit: int = outbox.BATCH, environ: Mapping[str, str] | None = None,
             caller: Caller = call) -> outbox.RunReport:
    """Claim a batch of Open311 rows and send each. Safe to run concurrently."""
    now = now or utcnow()
    environ = os.environ if environ is None else environ
    report = outbox.RunReport()
    with db.session() as session:
        ids = outbox.claim(session, now, limit, open311=True)
    report.claimed = len(ids)
    for mid in ids:
        with db.session() as session:
            message = session.get(OutboxMessage, mid)
            if message is None or message.sent_at is not None:
                continue
            job = json.loads(message.body_text)
            body = session.get(Body, job["body_id"])
            if body is None or not body.open311:
                outbox.mark_failed(session, mid, now, "the body has no open311 endpoint now",
                                   permanent=True)
                report.failed += 1
                continue
            endpoint = Endpoint.of(body.open311, environ)
            fields = _expanded(session, settings, message, job["fields"])
        if not endpoint.api_key:
            with db.session() as session:  # the operator may still set it: retry later
                outbox.mark_failed(session, mid, now, f"the environment variable "
                                   f"{body.open311['api_key_env']} (the API key) is not set")
            report.failed += 1
            continue
        try:
            answer, note = _post(endpoint, fields, caller)
        except EndpointError as exc:
            log.warning("open311 request %s: %s", mid, exc)
            with db.session() as session:
                outbox.mark_failed(session, mid, now, str(exc), exc.permanent)
            report.failed += 1
            continue
        # Accepted. A crash right here resends later, the same request (module docstring).
        with db.session() as session:
            _record(session, mid, job["issue_id"], job["body_id"], answer, endpoint, caller,
                    now, note)
        report.sent += 1
    return report


def drain(db: Database, settings: Settings, *, now: datetime | None = None,
          environ: Mapping[str, str] | None = None, caller: Caller = call,
          max_batches: int = 20) -> outbox.RunReport:
    total = outbox.RunReport()
    for _batch in range(max_batches):
        report = send_due(db, settings, now=now, environ=environ, caller=caller)
        for name in ("claimed", "sent", "failed"):
            setattr(total, name, getattr(total, name) + getattr(report, name))
        if report.claimed == 0 or report.failed:
            break
    return total


__all__ = ["Endpoint", "EndpointError", "drain", "enqueue", "send_due"]
