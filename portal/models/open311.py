"""Open311 API keys: one per portal and client application, stored as a hash only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.core import Base, utcnow


class Open311Key(Base):
    """A client application's key to file reports on one portal through Open311.

    `key_hash` is the SHA-256 of the key, which is shown once when created; `prefix` is its
    first characters, so staff can tell keys apart in a list. A key bound to a body
    (`body_id`) may also post that body's status updates (`servicerequestupdates`): that is
    how a back office sends its progress back. Revoked keys are kept for the record.
    """

    __tablename__ = "open311_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"),
                                           index=True)
    body_id: Mapped[int | None] = mapped_column(ForeignKey("bodies.id", ondelete="CASCADE"),
                                                nullable=True)
    application: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)


class Open311Request(Base):
    """An issue as a request in its body's own Open311 system (`portal.open311.delivery`).

    `service_request_id` is the body's id for it (None while only a `token` is known);
    `remote_status` and `remote_updated` are what the last poll saw, so a change the body
    made is applied once.
    """

    __tablename__ = "open311_requests"
    __table_args__ = (UniqueConstraint("issue_id", "body_id",
                                       name="uq_open311_requests_issue_body"),
                      Index("ix_open311_requests_body_remote", "body_id", "service_request_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"))
    body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id", ondelete="CASCADE"))
    service_request_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    token: Mapped[str | None] = mapped_column(String(100), nullable=True)
    remote_status: Mapped[str] = mapped_column(String(40), default="")
    remote_updated: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
