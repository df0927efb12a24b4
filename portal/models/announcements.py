"""Announcements: news from a portal or a body, and the portals each one reaches."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.core import Base, utcnow


class Announcement(Base):
    """News from a portal or a body; per-language title and Markdown body."""

    __tablename__ = "announcements"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), nullable=True, index=True
    )
    body_id: Mapped[int | None] = mapped_column(
        ForeignKey("bodies.id", ondelete="CASCADE"), nullable=True, index=True
    )
    title: Mapped[dict] = mapped_column(default=dict)
    body_md: Mapped[dict] = mapped_column(default=dict)
    area_geojson: Mapped[str | None] = mapped_column(Text, nullable=True)
    publish_at: Mapped[datetime] = mapped_column(default=utcnow)
    expire_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AnnouncementPortal(Base):
    """Which portals an announcement touches, computed when it is written."""

    __tablename__ = "announcement_portals"

    announcement_id: Mapped[int] = mapped_column(
        ForeignKey("announcements.id", ondelete="CASCADE"), primary_key=True
    )
    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True, index=True
    )
