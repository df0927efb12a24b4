"""Residents' engagement: watch areas, the civic points ledger, mail suppressions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.core import Base, Tenant, utcnow


class Watch(Base):
    """A resident's email watch: a circle around a place, the whole portal, or one issue.

    No account is needed: nothing is sent until the email is confirmed through a signed link
    (`confirmed_at`); unsubscribing sets `ended_at`. The bounding box is the SQL prefilter for
    "which watches cover this point"; `feed_token` is the secret in the watch's Atom feed URL.
    """

    __tablename__ = "watches"
    __table_args__ = (Index("ix_watches_tenant_bbox", "tenant_id", "min_lat", "max_lat"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(254), index=True)
    locale: Mapped[str] = mapped_column(String(16), default="en")
    kind: Mapped[str] = mapped_column(String(16))  # circle, portal, issue, route
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    radius_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    issue_id: Mapped[int | None] = mapped_column(
        ForeignKey("issues.id", ondelete="CASCADE"), nullable=True, index=True
    )
    min_lon: Mapped[float] = mapped_column(Float)
    min_lat: Mapped[float] = mapped_column(Float)
    max_lon: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)
    # A route watch (a commute): its line buffered by `radius_m`, as GeoJSON; `corridor` is
    # the key of the portal corridor it follows, if the resident picked one.
    area_geojson: Mapped[str | None] = mapped_column(Text, nullable=True, default=None)
    corridor: Mapped[str | None] = mapped_column(String(64), nullable=True, default=None)
    frequency: Mapped[str] = mapped_column(String(8), default="instant")  # instant, daily
    feed_token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(nullable=True)

    tenant: Mapped[Tenant] = relationship()


class PointAward(Base):
    """One line of the civic points ledger; (person, act) is unique, so never twice.

    `person_key` is a stable hash (of the reporter's email, or of a visitor key), never shown.
    `public` is false for acts done anonymously (a report without a shown name): those never
    count on a leaderboard. `display_name` is the name the person chose to show, if any.
    """

    __tablename__ = "point_awards"
    __table_args__ = (UniqueConstraint("person_key", "act"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_key: Mapped[str] = mapped_column(String(64), index=True)
    act: Mapped[str] = mapped_column(String(64))  # e.g. report:12, vote:12, fix:12, comment:40
    kind: Mapped[str] = mapped_column(String(16))  # report, vote, fix, comment
    points: Mapped[int] = mapped_column(Integer)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Contribution(Base):
    """Who (as a person key) wrote a public comment or an "It's fixed" post, for points."""

    __tablename__ = "contributions"

    update_id: Mapped[int] = mapped_column(
        ForeignKey("updates.id", ondelete="CASCADE"), primary_key=True
    )
    person_key: Mapped[str] = mapped_column(String(64), index=True)


class MailSuppression(Base):
    """An unsubscribe: no more mail of `scope` (or of anything, scope "all") to `email`."""

    __tablename__ = "mail_suppressions"
    __table_args__ = (UniqueConstraint("email", "scope"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    scope: Mapped[str] = mapped_column(String(64))  # all, watch:7, kind:new_report
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
