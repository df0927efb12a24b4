"""Residents' phone numbers: personal data, kept so that no one reading the database sees
them.

A number is stored twice, never plain: an HMAC under a key of the server's (`digest`), which
finds the sender's row when they text again, and a Fernet encryption (`seal`/`unseal`),
opened only to send them a reply or to show it to the staff of the body their report went
to, as an email would be. The key is `SMS_PHONE_KEY`, or one derived from `SECRET_KEY`
(then changing that key makes the stored numbers unreadable: their texts fail, and say so).
`forget` deletes a number and everything held with it, on request.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from portal.core.settings import Settings
from portal.models import SmsContact, SmsConversation, SmsReport

_NOT_DIGITS = re.compile(r"[^0-9]")


def normalise(number: str) -> str:
    """'+1 (203) 555-0100' -> '+12035550100'; a number without '+' keeps its digits only."""
    number = number.strip()
    digits = _NOT_DIGITS.sub("", number)
    return f"+{digits}" if number.startswith("+") else digits


class PhoneVault:
    """Hashing and sealing numbers with the server's keys."""

    def __init__(self, settings: Settings) -> None:
        secret = settings.secret_key.encode()
        self._hash_key = hashlib.sha256(b"reportal.sms.phone-hash:" + secret).digest()
        key = settings.sms_phone_key or base64.urlsafe_b64encode(
            hashlib.sha256(b"reportal.sms.phone-seal:" + secret).digest()).decode()
        self._fernet = Fernet(key)

    def digest(self, number: str) -> str:
        return hmac.new(self._hash_key, normalise(number).encode(), hashlib.sha256).hexdigest()

    def seal(self, number: str) -> str:
        return self._fernet.encrypt(normalise(number).encode()).decode()

    def unseal(self, sealed: str) -> str | None:
        """The number, or None when it was sealed under another key."""
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            return None


def contact(session: Session, vault: PhoneVault, tenant_id: int, number: str,
            locale: str) -> SmsContact:
    """The portal's row for this number, made on its first text."""
    digest = vault.digest(number)
    found = session.scalars(select(SmsContact).where(
        SmsContact.tenant_id == tenant_id, SmsContact.phone_hash == digest)).first()
    if found is None:
        found = SmsContact(tenant_id=tenant_id, phone_hash=digest, phone_sealed=vault.seal(number),
                           locale=locale, opted_out=False, blocked=False)
        session.add(found)
        session.flush()
    return found


def find(session: Session, vault: PhoneVault, tenant_id: int, number: str) -> SmsContact | None:
    return session.scalars(select(SmsContact).where(
        SmsContact.tenant_id == tenant_id,
        SmsContact.phone_hash == vault.digest(number))).first()


def forget(session: Session, vault: PhoneVault, tenant_id: int, number: str) -> bool:
    """Delete the number, its conversation and its link to the issues it reported (the issues
    stay, anonymous); its unsent texts fail as "deleted". True if it was known."""
    row = find(session, vault, tenant_id, number)
    if row is None:
        return False
    session.execute(delete(SmsReport).where(SmsReport.contact_id == row.id))
    session.execute(delete(SmsConversation).where(SmsConversation.contact_id == row.id))
    session.delete(row)
    session.flush()
    return True


def set_blocked(session: Session, vault: PhoneVault, tenant_id: int, number: str,
                blocked: bool) -> SmsContact:
    """Put a number on the portal's block list (its texts are ignored) or take it off."""
    row = contact(session, vault, tenant_id, number, "en")
    row.blocked = blocked
    return row


def number_for_staff(session: Session, vault: PhoneVault, issue_id: int) -> str | None:
    """The reporter's number of an issue reported by text, for the body's staff only (the
    caller checks that the viewer may see the reporter's contact)."""
    row = session.execute(select(SmsContact.phone_sealed).join(
        SmsReport, SmsReport.contact_id == SmsContact.id).where(
        SmsReport.issue_id == issue_id)).first()
    return vault.unseal(row[0]) if row else None
