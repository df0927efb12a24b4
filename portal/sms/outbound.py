"""Texts to residents, through the outbox: the same lease, retry and "written in the
transaction that caused it" as mail (`portal.mail.outbox`), never sent inline.

- `queue` writes one text as an outbox row keyed by what caused it (the inbound message and
  the reply's place, or the status update), so it exists once whatever retries. The row
  holds no number: `recipient` names the `SmsContact`, whose sealed number is opened only
  when the text goes out; a number deleted meanwhile fails the row for good.
- Gateways that take pushes (Twilio) get `sms` rows from `send_due`, run by the worker.
- A phone gateway (SMSSync) cannot be pushed to: its rows are `sms_pull`, leased when the
  phone asks for its tasks (`smssync_tasks`) and marked sent when it reports them sent
  (`smssync_sent`). A phone that never confirms lets the lease run out, and the next poll
  gets them again.

The contract is at-least-once, as for mail: a gateway that took a text and whose answer was
lost gets it again (Twilio has no idempotency key to stop that; the window is one request).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.orm import Session

from portal.core.db import Database
from portal.core.settings import Settings
from portal.mail import outbox
from portal.mail.compose import PORTAL_URL
from portal.models import OutboxMessage, SmsContact, Tenant, utcnow
from portal.sms.gateways import GATEWAYS, SendFailed
from portal.sms.phones import PhoneVault
from portal.tenancy.links import portal_base

log = logging.getLogger("reportal.sms")

RECIPIENT = "sms-contact:"
FORCED = ":kw"  # a key ending so is a STOP/START/HELP answer, sent even to an opted-out number
SUPPRESSED = "suppressed: the number texted STOP"


def number_config(tenant: Tenant | None, number: str) -> dict | None:
    return next((n for n in (tenant.sms_numbers if tenant else []) if n["number"] == number),
                None)


def queue(session: Session, contact: SmsContact, config: dict, text: str, key: str,
          tenant_id: int, *, force: bool = False) -> OutboxMessage | None:
    """One text to `contact` from the portal's number `config`; None if it exists already or
    the number opted out (unless `force`: the answer to a keyword)."""
    if contact.opted_out and not force:
        return None
    pushes = GATEWAYS[config["gateway"]].pushes
    return outbox.enqueue(
        session, key=(key + FORCED if force else key)[:128],
        kind=outbox.SMS_KIND if pushes else outbox.SMS_PULL_KIND,
        recipient=f"{RECIPIENT}{contact.id}", locale=contact.locale, subject=config["number"],
        body_text=text, tenant_id=tenant_id)


def _prepared(session: Session, settings: Settings, vault: PhoneVault, message: OutboxMessage,
              now: datetime) -> tuple[dict, str, str] | None:
    """(the number's config, the resident's number, the text) for a row; None when the row
    cannot be sent (marked failed, or sent-and-suppressed, here)."""
    contact = session.get(SmsContact, int(message.recipient.removeprefix(RECIPIENT)))
    tenant = session.get(Tenant, message.tenant_id) if message.tenant_id else None
    config = number_config(tenant, message.subject)
    problem = ("the number was deleted" if contact is None
               else "the portal has no such number now" if config is None else "")
    phone = vault.unseal(contact.phone_sealed) if contact is not None else None
    if not problem and phone is None:
        problem = "the number was sealed under another key (SMS_PHONE_KEY or SECRET_KEY changed)"
    if problem:
        outbox.mark_failed(session, message.id, now, problem, permanent=True)
        return None
    if contact.opted_out and not message.key.endswith(FORCED):
        outbox.mark_sent(session, message.id, now, SUPPRESSED)
        return None
    text = message.body_text.replace(PORTAL_URL, portal_base(settings.public_url, tenant))
    return config, phone, text


def send_due(db: Database, settings: Settings, *, now: datetime | None = None,
             gateways: Mapping | None = None, environ: Mapping[str, str] | None = None,
             limit: int = outbox.BATCH) -> outbox.RunReport:
    """Claim a batch of `sms` rows and hand each to its gateway. Safe to run concurrently."""
    now = now or utcnow()
    gateways = GATEWAYS if gateways is None else gateways
    environ = os.environ if environ is None else environ
    vault = PhoneVault(settings)
    report = outbox.RunReport()
    with db.session() as session:
        ids = outbox.claim(session, now, limit, channel=outbox.SMS_KIND)
    report.claimed = len(ids)
    for mid in ids:
        with db.session() as session:
            message = session.get(OutboxMessage, mid)
            if message is None or message.sent_at is not None:
                continue
            ready = _prepared(session, settings, vault, message, now)
        if ready is None:
            report.suppressed += 1
            continue
        config, phone, text = ready
        try:
            sid = gateways[config["gateway"]].send(config, environ, phone, text)
        except SendFailed as exc:
            log.warning("sms %s: %s", mid, exc)
            with db.session() as session:
                outbox.mark_failed(session, mid, now, str(exc), exc.permanent)
            report.failed += 1
            continue
        with db.session() as session:
            outbox.mark_sent(session, mid, utcnow(), f"sid {sid}".strip())
        report.sent += 1
    return report


def drain(db: Database, settings: Settings, *, now: datetime | None = None,
          gateways: Mapping | None = None, environ: Mapping[str, str] | None = None,
          max_batches: int = 20) -> outbox.RunReport:
    total = outbox.RunReport()
    for _batch in range(max_batches):
        report = send_due(db, settings, now=now, gateways=gateways, environ=environ)
        for name in ("claimed", "sent", "failed", "suppressed"):
            setattr(total, name, getattr(total, name) + getattr(report, name))
        if report.claimed == 0 or report.failed:
            break
    return total


def smssync_tasks(session: Session, settings: Settings, tenant: Tenant, config: dict,
                  now: datetime | None = None) -> list[dict]:
    """The texts a phone gateway should send now, leased to it: SMSSync's `messages`."""
    now = now or utcnow()
    vault = PhoneVault(settings)
    messages = []
    for mid in outbox.claim(session, now, outbox.BATCH, channel=outbox.SMS_PULL_KIND,
                            subject=config["number"]):
        message = session.get(OutboxMessage, mid)
        if message.tenant_id != tenant.id:
            outbox.release(session, [mid], now)
            continue
        ready = _prepared(session, settings, vault, message, now)
        if ready is not None:
            messages.append({"to": ready[1], "message": ready[2], "uuid": f"reportal-{mid}"})
    return messages


def smssync_sent(session: Session, tenant: Tenant, config: dict, uuids: list[str]) -> list[str]:
    """Mark the texts the phone reports sent; returns the uuids that were ours."""
    done = []
    for uuid in uuids:
        number = uuid.removeprefix("reportal-")
        if not number.isdigit():
            continue
        message = session.get(OutboxMessage, int(number))
        if (message is not None and message.kind == outbox.SMS_PULL_KIND
                and message.subject == config["number"] and message.tenant_id == tenant.id):
            outbox.mark_sent(session, message.id, utcnow(), "sent by the phone gateway")
            done.append(uuid)
    return done
