"""Delivering the outbox over SMTP: claim due rows, send, mark sent, retry with backoff.

Mail is written to `OutboxMessage` in the same transaction as the event that caused it, so
nothing accepted is lost. This module moves those rows to an SMTP server:

1. **Claim.** Due rows (not sent, `next_attempt_at` passed, attempts left) are leased by
   moving `next_attempt_at` a few minutes ahead with a conditional UPDATE that only one
   sender can win (it works the same on SQLite and PostgreSQL). A sender that dies holding
   a lease simply lets it run out; the rows become due again.
2. **Send.** Each message gets its idempotency key as a stable `Message-ID`
   (`<sha256(key)@domain>`, plus `X-Reportal-Key`), a signed one-click unsubscribe link
   (`List-Unsubscribe`, `List-Unsubscribe-Post`) and a footer in the recipient's language.
3. **Mark.** `sent_at` is written only after the server accepted the message (`250`).
   A row that cannot be made into an email (`compose` raised) fails alone: it counts an
   attempt, keeps the reason in `last_error`, and the rest of the batch is sent.
   A temporary failure (4xx, a dropped connection) counts an attempt and waits
   `backoff(attempts)`: 1, 2, 4 ... minutes, at most 6 hours, up to `MAX_ATTEMPTS`. A
   permanent refusal (5xx) stops retrying at once. If the connection drops, the rest of the
   batch is released untouched and retried on the next run.

**The contract is at-least-once.** A crash, or a connection lost after the server took the
message but before we heard its `250`, makes us send that message again, with the *same*
`Message-ID`. Receivers (and our tests' SMTP double) de-duplicate on it, so from the
recipient's view every notice arrives once. Exactly-once is impossible over SMTP without
the receiver's help (the acknowledgement can always be lost), so we do not pretend.

Links: messages composed without a request (watch notices, digests) write links as
`PORTAL_URL + "/issues/12"`; the sender puts the portal's absolute address there, from
`PUBLIC_URL` and the message's `tenant_id` (see `portal.tenancy.links`).

`portal worker` runs `run_forever`; `make run` starts `BackgroundSender` inside the app.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal.core.db import Database
from portal.core.settings import Settings
from portal.core.text_fields import as_one_line
from portal.mail import unsubscribe
from portal.mail.compose import compose
from portal.models import OutboxMessage, utcnow

log = logging.getLogger("reportal.outbox")

BATCH = 50
LEASE = timedelta(minutes=5)
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=6)
MAX_ATTEMPTS = 12
MAX_SUBJECT = 300  # the column's size
SUPPRESSED = "suppressed by an unsubscribe"
OPEN311_KIND = "open311_request"
"""Rows that go to a body's Open311 endpoint, not by mail: `portal.open311.delivery` claims
and marks them with the same functions (same lease, backoff and attempts); SMTP skips them."""
SMS_KIND = "sms"
SMS_PULL_KIND = "sms_pull"
"""Texts to residents (`portal.sms.outbound`): `sms` rows are pushed to a gateway's API,
`sms_pull` rows wait for a phone gateway (SMSSync) to fetch them. SMTP skips both."""
CHANNEL_KINDS = (OPEN311_KIND, SMS_KIND, SMS_PULL_KIND)


def backoff(attempts: int) -> timedelta:
    """Wait before the next try after `attempts` failed ones: 1, 2, 4 ... minutes, capped."""
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


def enqueue(session: Session, *, key: str, kind: str, recipient: str, locale: str,
            subject: str, body_text: str, tenant_id: int | None = None,
            not_before: datetime | None = None) -> OutboxMessage | None:
    """Add one message unless a message with this key exists; returns the new row or None.

    `tenant_id` names the portal whose links (and unsubscribe page) the mail uses;
    `not_before` holds a message back until then (an announcement published for later).
    """
    if session.scalars(select(OutboxMessage.id).where(OutboxMessage.key == key)).first():
        return None
    subject = as_one_line(subject)
    if len(subject) > MAX_SUBJECT:
        subject = subject[:MAX_SUBJECT - 1] + "…"
    message = OutboxMessage(key=key, kind=kind, recipient=recipient, locale=locale,
                            subject=subject, body_text=body_text, tenant_id=tenant_id,
                            next_attempt_at=not_before or utcnow())
    session.add(message)
    return message


@dataclass
class RunReport:
    """What one `send_due` run did."""

    claimed: int = 0
    sent: int = 0
    failed: int = 0
    suppressed: int = 0
    released: int = 0


# -- claiming -------------------------------------------------------------------------------


def claim(session: Session, now: datetime, limit: int = BATCH, *,
          open311: bool = False, channel: str | None = None,
          subject: str | None = None) -> list[int]:
    """Lease up to `limit` due messages; returns their ids (oldest first). Mail by default,
    or (`open311=True`) the requests for bodies' Open311 endpoints, or the rows of another
    `channel` (one of `CHANNEL_KINDS`), optionally only those with this `subject`."""
    channel = OPEN311_KIND if open311 else channel
    kind = (OutboxMessage.kind == channel if channel
            else OutboxMessage.kind.notin_(CHANNEL_KINDS))
    if subject is not None:
        kind = kind & (OutboxMessage.subject == subject)
    due = session.execute(
        select(OutboxMessage.id, OutboxMessage.next_attempt_at)
        .where(OutboxMessage.sent_at.is_(None), OutboxMessage.next_attempt_at <= now,
               OutboxMessage.attempts < MAX_ATTEMPTS, kind)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    ).all()
    claimed = []
    for message_id_, seen in due:
        won = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id_, OutboxMessage.next_attempt_at == seen,
                   OutboxMessage.sent_at.is_(None))
            .values(next_attempt_at=now + LEASE)
        ).rowcount
        if won == 1:
            claimed.append(message_id_)
    return claimed


# -- recording outcomes ---------------------------------------------------------------------


def mark_sent(session: Session, message_id_: int, now: datetime, note: str = "") -> None:
    session.execute(
        update(OutboxMessage).where(OutboxMessage.id == message_id_,
                                    OutboxMessage.sent_at.is_(None))
        .values(sent_at=now, attempts=OutboxMessage.attempts + 1, last_error=note)
    )


def mark_failed(session: Session, message_id_: int, now: datetime, error: str,
                permanent: bool = False) -> None:
    message = session.get(OutboxMessage, message_id_)
    if message is None or message.sent_at is not None:
        return
    message.attempts = MAX_ATTEMPTS if permanent else message.attempts + 1
    message.last_error = error[:1000]
    message.next_attempt_at = now + backoff(message.attempts)


def release(session: Session, ids: list[int], now: datetime) -> None:
    """Give leased, untried messages back: due again at once, no attempt counted."""
    if ids:
        session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids),
                                                    OutboxMessage.sent_at.is_(None))
                        .values(next_attempt_at=now))


# Refusals of one message on a working connection (anything else drops the connection).
MESSAGE_ERRORS = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused,
                  smtplib.SMTPDataError)


def _permanent(exc: Exception) -> bool:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _msg in exc.recipients.values())
    code = getattr(exc, "smtp_code", None)
    return isinstance(code, int) and code >= 500


# -- sending --------------------------------------------------------------------------------


def smtp_connection(settings: Settings) -> smtplib.SMTP:
    return smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30)


def send_due(db: Database, settings: Settings, *, now: datetime | None = None,
             limit: int = BATCH,
             connect: Callable[[Settings], smtplib.SMTP] = smtp_connection) -> RunReport:
    """Claim one batch and send it over one SMTP connection. Safe to run concurrently."""
    now = now or utcnow()
    report = RunReport()
    with db.session() as session:
        ids = claim(session, now, limit)
    report.claimed = len(ids)
    smtp: smtplib.SMTP | None = None
    try:
        for index, mid in enumerate(ids):
            try:
                with db.session() as session:
                    message = session.get(OutboxMessage, mid)
                    if message is None or message.sent_at is not None:
                        continue
                    if unsubscribe.is_suppressed(session, message.recipient, message.kind,
                                                 message.key):
                        mark_sent(session, mid, now, SUPPRESSED)
                        report.suppressed += 1
                        continue
                    mail = compose(session, settings, message)
                    recipient = message.recipient
            except Exception as exc:  # noqa: BLE001 - one bad row must not stop the batch
                log.exception("outbox message %s could not be composed", mid)
                report.failed += 1
                with db.session() as session:
                    mark_failed(session, mid, now, f"compose: {type(exc).__name__}: {exc}")
                continue
            try:
                if smtp is None:
                    smtp = connect(settings)
                envelope_from = parseaddr(settings.mail_from)[1] or "reportal@localhost"
                smtp.send_message(mail, from_addr=envelope_from, to_addrs=[recipient])
            except (smtplib.SMTPException, OSError) as exc:
                report.failed += 1
                with db.session() as session:
                    mark_failed(session, mid, now, f"{type(exc).__name__}: {exc}",
                                _permanent(exc))
                if smtp is not None and isinstance(exc, MESSAGE_ERRORS):
                    continue  # the server refused this message; the connection is fine
                with db.session() as session:
                    release(session, ids[index + 1:], now)
                report.released = len(ids) - index - 1
                _close(smtp)
                smtp = None
                break
            # Accepted by the server. A crash right here resends this message later, with
            # the same Message-ID: that is the at-least-once contract (see the docstring).
            with db.session() as session:
                mark_sent(session, mid, utcnow())
            report.sent += 1
    finally:
        _close(smtp)
    return report


def failed(session: Session, limit: int = 200) -> list[OutboxMessage]:
    """Unsent messages that met an error, oldest first: those that stopped retrying
    (`attempts >= MAX_ATTEMPTS`) and those still retrying after a failure."""
    return list(session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.sent_at.is_(None),
               (OutboxMessage.attempts >= MAX_ATTEMPTS) | (OutboxMessage.last_error != ""))
        .order_by(OutboxMessage.created_at, OutboxMessage.id)
        .limit(limit)))


def _close(smtp: smtplib.SMTP | None) -> None:
    if smtp is None:
        return
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def drain(db: Database, settings: Settings, *, now: datetime | None = None,
          max_batches: int = 100) -> RunReport:
    """Send batches until nothing due is left (or a batch made no progress)."""
    total = RunReport()
    for _batch in range(max_batches):
        report = send_due(db, settings, now=now)
        for name in ("claimed", "sent", "failed", "suppressed", "released"):
            setattr(total, name, getattr(total, name) + getattr(report, name))
        if report.claimed == 0 or report.failed:
            break
    return total
