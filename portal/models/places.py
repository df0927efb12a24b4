"""The gazetteer's rows: a portal's own named places and the index its search box reads.

A `Place` is something a resident may type: a named area (neighbourhood, district, campus
building, landmark, with its outline when it has one), an address point, an intersection, or
the address of an issue already reported there. Names are kept per language. Suggestions
never scan places: `PlaceTerm` holds each normalised word of a place's names (a B-tree range
answers a prefix), and `PlaceGram` the trigrams of each distinct word, so a misspelt word
finds its neighbours by index too (see `portal.places.gazetteer`).
"""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.core import Base

# Words compare byte by byte on PostgreSQL, so a prefix is one range (migration 0014).
WORD = String(100).with_variant(String(100, collation="C"), "postgresql")
PLACE_KINDS = ("area", "landmark", "address", "intersection", "reported")


class Place(Base):
    __tablename__ = "places"
    __table_args__ = (
        Index("ix_places_tenant_kind_lat_lon", "tenant_id", "kind", "lat", "lon"),
        Index("ix_places_tenant_street", "tenant_id", "street_key"),
        Index("ix_places_tenant_source", "tenant_id", "source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    # Per-language names, {"en": "Downtown", "es": "Centro"}; an address has one.
    names: Mapped[dict] = mapped_column(default=dict)
    # What a match is checked against: every name's normalised words, space-separated,
    # each name between "|" so a query's words must all match within one name.
    search_key: Mapped[str] = mapped_column(Text, default="")
    # An address point's normalised street ("chapel street"), for intersections.
    street_key: Mapped[str] = mapped_column(String(200), default="")
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    # A named area's outline (GeoJSON geometry text) and its box; empty for points.
    area_geojson: Mapped[str] = mapped_column(Text, default="")
    min_lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    min_lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    max_lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    max_lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    # Where it came from: "tenant-files", "import:<file name>", "issue".
    source: Mapped[str] = mapped_column(String(200), default="")
    issue_id: Mapped[int | None] = mapped_column(
        ForeignKey("issues.id", ondelete="CASCADE"), nullable=True, index=True)
    # Lower first: areas and landmarks before addresses before past reports.
    rank: Mapped[int] = mapped_column(Integer, default=50)
    # A named area's residents, when its tenant file gives the figure (never estimated).
    population: Mapped[int | None] = mapped_column(Integer, nullable=True)


class PlaceTerm(Base):
    """One normalised word of one place's names: `term >= 'chap' AND term < 'chaq'`.

    The place's rank leads the key after the portal, so named areas are read before the
    (many) address points that share a prefix with them.

    `tenant_id` is the place's portal, copied into the key; it has no foreign key of its own
    (migration 0028_importspeed3): the row goes with its place, and the place with its portal, and a
    check of the portal for every word of every place an import adds was a good part of
    what adding them cost.
    """

    __tablename__ = "place_terms"

    tenant_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    rank: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    term: Mapped[str] = mapped_column(WORD, primary_key=True)
    place_id: Mapped[int] = mapped_column(
        ForeignKey("places.id", ondelete="CASCADE"), primary_key=True, autoincrement=False,
        index=True)


class PlaceGram(Base):
    """A trigram of a word some place of the portal has: how a misspelt word is corrected."""

    __tablename__ = "place_grams"

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True, autoincrement=False)
    gram: Mapped[str] = mapped_column(String(16), primary_key=True)
    term: Mapped[str] = mapped_column(WORD, primary_key=True)
