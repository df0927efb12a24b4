"""A politician's constituent desk: which reporters let the office contact them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.core import Base, utcnow


class OfficeContact(Base):
    """The reporter of `issue_id` ticked "Let {portal}'s office contact me about this" on the
    report form of politician portal `tenant_id`.

    Tenant-private (read through `portal.tenancy.scoping.for_tenant`): only that portal's
    office sees the reporter's name and email, and only for issues listed here. No public
    reader, export, feed or API knows this table.
    """

    __tablename__ = "office_contacts"

    issue_id: Mapped[int] = mapped_column(
        ForeignKey("issues.id", ondelete="CASCADE"), primary_key=True
    )
    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
