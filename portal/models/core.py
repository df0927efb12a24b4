"""The database schema as SQLAlchemy 2 typed models.

Three things are kept apart (see portal/ARCHITECTURE.md): a `Body` fixes things, an `Issue` is a
public record about a place, a `Tenant` is a portal (an audience and a brand). Which portals
contain an issue is computed once, when the issue is written or a portal's area changes, and
stored in `IssuePortal`; reads filter on it and on the indexed lat/lon, never point-in-polygon.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

STATUSES = ("open", "acknowledged", "closed", "archived")


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict: JSON, list: JSON, datetime: DateTime(timezone=True)}


class AreaMixin:
    """A (multi)polygon kept as GeoJSON text plus its bounding box for cheap prefilters."""

    area_geojson: Mapped[str] = mapped_column(Text)
    min_lon: Mapped[float] = mapped_column(Float)
    min_lat: Mapped[float] = mapped_column(Float)
    max_lon: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)


class Body(AreaMixin, Base):
    """Who fixes things: a city department, a county, a state agency, campus facilities."""

    __tablename__ = "bodies"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[dict] = mapped_column(default=dict)
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    language: Mapped[str] = mapped_column(String(16), default="en")
    # Square degrees of the area: the smaller, the more local (routing prefers it).
    area_size: Mapped[float] = mapped_column(Float, default=0.0)
    # An Open311 endpoint the body's reports go to and its progress comes from (body.json's
    # `open311` block, checked by `portal.tenancy.tenant_files`); None: email only.
    open311: Mapped[dict | None] = mapped_column(JSON, nullable=True, default=None)
    open311_polled_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # Its promises per request type and its working hours (body.json's `targets` and
    # `service_hours`, checked by `portal.tenancy.service_targets`); None: no targets.
    service_targets: Mapped[dict | None] = mapped_column(JSON, nullable=True, default=None)

    request_types: Mapped[list[RequestType]] = relationship(
        back_populates="body", cascade="all, delete-orphan", order_by="RequestType.id"
    )


class RequestType(Base):
    """A category of problem a body accepts, with per-language name and help text."""

    __tablename__ = "request_types"
    __table_args__ = (UniqueConstraint("body_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[dict] = mapped_column(default=dict)
    help: Mapped[dict] = mapped_column(default=dict)
    questions: Mapped[list] = mapped_column(default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # How near a report of this type must be to be offered as "already reported?" (metres);
    # None is the default of reports.nearby.
    nearby_m: Mapped[int | None] = mapped_column(Integer, nullable=True)

    body: Mapped[Body] = relationship(back_populates="request_types")

    @property
    def key(self) -> str:
        """Stable public identifier `body-slug/code`, used in forms, filters and the API."""
        return f"{self.body.slug}/{self.code}"


class Tenant(AreaMixin, Base):
    """A portal: a brand and an audience over an area. Its settings are data, see tenancy."""

    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[dict] = mapped_column(default=dict)
    area_name: Mapped[dict] = mapped_column(default=dict)
    default_language: Mapped[str] = mapped_column(String(16), default="en")
    languages: Mapped[list] = mapped_column(default=list)
    theme: Mapped[str] = mapped_column(String(64), default="civic")
    tokens: Mapped[dict] = mapped_column(default=dict)
    logo_svg: Mapped[str] = mapped_column(Text, default="")
    tile_url: Mapped[str] = mapped_column(String(500), default="")
    tile_attribution: Mapped[str] = mapped_column(String(500), default="")
    allow_anonymous: Mapped[bool] = mapped_column(Boolean, default=True)
    embed_origins: Mapped[list] = mapped_column(default=list)
    # None: every request type of the bodies covering the area; else a list of type keys.
    request_type_keys: Mapped[list | None] = mapped_column(JSON, nullable=True, default=None)
    admin_token_hash: Mapped[str] = mapped_column(String(128), default="")
    # Which geocoder answers the place search: {"backend": "gazetteer"} (built in, the
    # default), or "nominatim"/"photon" with a "url" (see `portal.places.backends`).
    geocoder: Mapped[dict] = mapped_column(default=dict)
    # The area simplified for maps (`/api/area.geojson`), None when the area itself is light
    # enough. Only drawn: membership and routing read `area_geojson`, the original, so a
    # simplified outline never moves a point in or out (`portal.tenancy.boundaries`).
    display_area_geojson: Mapped[str | None] = mapped_column(Text, nullable=True, default=None)
    # The portal's phone numbers for reports by text: [{"number", "gateway", "secret_env",
    # ...}] (see `portal.sms.numbers`); empty, none.
    sms_numbers: Mapped[list] = mapped_column(default=list)
    # IANA name; pages show times in it and forms read typed times in it (core.time_zones).
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    # Named corridors of the area file (lines with a width, see portal.core.corridors), for
    # the watch page; their buffered areas are already part of area_geojson.
    corridors: Mapped[list] = mapped_column(default=list)

    hosts: Mapped[list[TenantHost]] = relationship(
        back_populates="tenant", cascade="all, delete-orphan", order_by="TenantHost.host"
    )

    def offers(self, rt: RequestType) -> bool:
        """Whether the `request_types` setting lets this portal offer the type at all.

        The setting lists `body/code` keys, bare codes, or `body/*` for every type of one
        body: a city portal names the city's bodies, so a campus body inside the city, whose
        types are for its own buildings and lights, is not offered to the city's residents.
        """
        keys = self.request_type_keys
        return (keys is None or rt.key in keys or rt.code in keys
                or f"{rt.body.slug}/*" in keys)


class TenantHost(Base):
    __tablename__ = "tenant_hosts"

    host: Mapped[str] = mapped_column(String(253), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)

    tenant: Mapped[Tenant] = relationship(back_populates="hosts")


class PortalDataVersion(Base):
    """A number per portal that goes up, in the same transaction, with every change its public
    pages show: the key of every cached public response (see `portal.tenancy.data_version`)."""

    __tablename__ = "portal_data_versions"

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    version: Mapped[int] = mapped_column(BigInteger, default=1)


class Issue(Base):
    """A public record about a place, routed to one body.

    The reporter's contact fields are private: only the responsible body's staff see them.
    """

    __tablename__ = "issues"
    __table_args__ = (
        Index("ix_issues_lat_lon", "lat", "lon"),
        Index("ix_issues_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id"), index=True)
    request_type_id: Mapped[int] = mapped_column(ForeignKey("request_types.id"), index=True)
    origin_tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id"), nullable=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    address: Mapped[str] = mapped_column(String(300), default="")
    # The place named from the point when the issue was written ("120 Chapel Street,
    # Downtown", or just the neighbourhood), in the portal's language; "" when none is known.
    place_name: Mapped[str] = mapped_column(String(300), default="")
    title: Mapped[str] = mapped_column(String(120), default="")
    description: Mapped[str] = mapped_column(Text)
    answers: Mapped[dict] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    reporter_name: Mapped[str] = mapped_column(String(100), default="")
    reporter_email: Mapped[str] = mapped_column(String(254), default="")
    show_name: Mapped[bool] = mapped_column(Boolean, default=False)
    locale: Mapped[str] = mapped_column(String(16), default="en")
    photo: Mapped[str | None] = mapped_column(String(64), nullable=True)
    vote_count: Mapped[int] = mapped_column(Integer, default=0)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    submission_key: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True, nullable=True)
    # Where an imported record lives in the system it came from, and how far (metres) the
    # importer moved its point to bring it inside the portal's area (`--tolerance`).
    external_url: Mapped[str] = mapped_column(String(500), default="")
    moved_m: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # When the body promised to acknowledge and to close it, from its targets at the time
    # (`portal.tenancy.service_targets`); None where it sets no target.
    acknowledge_due_at: Mapped[datetime | None] = mapped_column(nullable=True)
    close_due_at: Mapped[datetime | None] = mapped_column(nullable=True)

    body: Mapped[Body] = relationship()
    request_type: Mapped[RequestType] = relationship()
    # Oldest first by when it happened, everywhere: imported histories arrive in any order.
    updates: Mapped[list[Update]] = relationship(
        back_populates="issue", cascade="all, delete-orphan",
        order_by=lambda: (Update.created_at, Update.id)
    )

    @property
    def public_name(self) -> str:
        return self.reporter_name if self.show_name and self.reporter_name else ""


class IssuePortal(Base):
    """Which portals contain an issue: computed on write, read by every public query.

    Each row also carries a copy of what public lists filter and sort on (place, status,
    hidden, time), kept equal to the issue's by database triggers (migration
    0008_issue_clusters), so a portal's list, page 200 or viewport is one index range over
    this table and never a join sorted in a temporary B-tree. The same triggers keep
    `IssueCell` counts. Never write these columns: the database fills them.
    """

    __tablename__ = "issue_portals"
    __table_args__ = (
        Index("ix_issue_portals_tenant_issue", "tenant_id", "issue_id"),
        # Newest first (keyset pages), with status trailing so a status filter reads the index
        # alone.
        Index("ix_issue_portals_newest", "tenant_id", "hidden", "created_at", "issue_id",
              "status"),
        Index("ix_issue_portals_place", "tenant_id", "hidden", "lat", "lon", "status"),
    )

    issue_id: Mapped[int] = mapped_column(
        ForeignKey("issues.id", ondelete="CASCADE"), primary_key=True
    )
    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    hidden: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    created_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # Copies for the dashboard's counts (migration 0009_dashboard_counts): the issue's body and
    # type, and its first public move to acknowledged and to closed, from its history.
    body_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    request_type_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(nullable=True)


class IssueCell(Base):
    """How many of a portal's visible issues of one status lie in one grid cell of one band.

    Band b cuts the world into cells of 360/2**b degrees (longitude and latitude alike); band
    0 is one cell, so its rows are the portal's counts by status. Kept by database triggers on
    `issue_portals`, in the writing transaction (see `portal.reports.clusters`): a zoomed-out
    map and every count shown to users read a few hundred of these rows, never the issues.
    """

    __tablename__ = "issue_cells"

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    band: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    cx: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    cy: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    status: Mapped[str] = mapped_column(String(16), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)
    sum_lat: Mapped[float] = mapped_column(Float, default=0.0)
    sum_lon: Mapped[float] = mapped_column(Float, default=0.0)


class IssueCellDeferral(Base):
    """While a row of this exists in a transaction, the triggers leave new membership rows
    uncounted: a bulk load counts its batch itself (`portal.reports.clusters.bulk_counted`).
    Other transactions never see the row, so their writes are counted as usual."""

    __tablename__ = "issue_cell_deferrals"

    id: Mapped[int] = mapped_column(primary_key=True)


class Update(Base):
    """One change to an issue: who, when, what, an optional comment and photo."""

    __tablename__ = "updates"

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # created, status, comment, fixed
    old_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    new_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    author_name: Mapped[str] = mapped_column(String(100), default="")
    author_role: Mapped[str] = mapped_column(String(16), default="public")  # public, staff
    text: Mapped[str] = mapped_column(Text, default="")
    photo: Mapped[str | None] = mapped_column(String(64), nullable=True)
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    submission_key: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)

    issue: Mapped[Issue] = relationship(back_populates="updates")


class Vote(Base):
    """One 'I want this fixed too' per person per issue.

    `network_key` is set for anonymous votes only: an HMAC of the voter's network (never the
    address) under a secret that changes daily, unique per issue, so wiping cookies or changing
    browsers does not make a new voter (see `portal.reports.voting.network_key`).
    """

    __tablename__ = "votes"
    __table_args__ = (
        UniqueConstraint("issue_id", "voter_key"),
        Index("ix_votes_issue_network", "issue_id", "network_key", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"))
    voter_key: Mapped[str] = mapped_column(String(64))
    network_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxMessage(Base):
    """Mail waiting to be sent, written in the same transaction as what caused it."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[str] = mapped_column(String(254))
    locale: Mapped[str] = mapped_column(String(16), default="en")
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    # The portal the message is about: its links and unsubscribe page live there.
    tenant_id: Mapped[int | None] = mapped_column(
        ForeignKey("tenants.id", ondelete="SET NULL"), nullable=True
    )


# `/media` asks "is this photo still on a visible issue or update?" on every request.
Index("ix_issues_photo", Issue.photo)
Index("ix_updates_photo", Update.photo)
