"""Residents who report by text message: their number (hashed and encrypted, never plain),
the conversation each is having with a portal, the gateway messages already taken (so a
replayed webhook is refused), and which issues were reported by text (for status texts)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.core import Base, utcnow


class SmsContact(Base):
    """One phone number as one portal knows it.

    `phone_hash` (an HMAC of the number under the server's key) finds the row when the number
    writes again; `phone_sealed` is the number encrypted (Fernet), opened only to send a
    reply or to show it to the responsible body's staff. Neither is ever shown publicly.
    """

    __tablename__ = "sms_contacts"
    __table_args__ = (UniqueConstraint("tenant_id", "phone_hash",
                                       name="uq_sms_contacts_tenant_phone"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    phone_hash: Mapped[str] = mapped_column(String(64))
    phone_sealed: Mapped[str] = mapped_column(Text)
    locale: Mapped[str] = mapped_column(String(16), default="en")
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)  # texted STOP
    blocked: Mapped[bool] = mapped_column(Boolean, default=False)  # by the portal's staff
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SmsConversation(Base):
    """Where a contact's report stands: the step (`state`), what is known so far (`data`),
    and when it lapses (a message after `expires_at` starts a new report)."""

    __tablename__ = "sms_conversations"

    contact_id: Mapped[int] = mapped_column(
        ForeignKey("sms_contacts.id", ondelete="CASCADE"), primary_key=True,
        autoincrement=False)
    number: Mapped[str] = mapped_column(String(32))  # the portal's number it is held on
    state: Mapped[str] = mapped_column(String(20))
    data: Mapped[dict] = mapped_column(default=dict)
    expires_at: Mapped[datetime] = mapped_column()


class SmsInbound(Base):
    """A gateway message id already taken: the same id again is a replay, and refused."""

    __tablename__ = "sms_inbound"
    __table_args__ = (UniqueConstraint("gateway", "number", "message_id",
                                       name="uq_sms_inbound_message"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    gateway: Mapped[str] = mapped_column(String(16))
    number: Mapped[str] = mapped_column(String(32))
    message_id: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class SmsReport(Base):
    """An issue reported by text: whom to text when its status changes, from which number."""

    __tablename__ = "sms_reports"

    issue_id: Mapped[int] = mapped_column(
        ForeignKey("issues.id", ondelete="CASCADE"), primary_key=True, autoincrement=False)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("sms_contacts.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(32))
