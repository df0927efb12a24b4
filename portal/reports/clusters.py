"""What a map viewport shows: its issues when they are few, else clusters of them.

Clusters come from `IssueCell` rows, which database triggers keep for every portal, grid band
and status (see `portal.core.grid` and migration 0008_issue_clusters): a zoomed-out view of a
million issues reads at most `grid.MAX_CELLS` cells' rows and never the issues themselves. The
same rows at band 0 are the portal's counts by status.

Filters the cells do not know (request type, words, dates, `near`) are grouped on the fly from
the matching issues: correct, and as fast as the filter is selective.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Integer, Select, cast, func, select
from sqlalchemy.orm import Session

from portal.core import grid
from portal.models import IssueCell, IssuePortal, Tenant

MAX_POINTS = 300  # a viewport with more matching issues than this is drawn as clusters


@dataclass
class Cluster:
    lat: float
    lon: float
    counts: dict[str, int]
    bounds: tuple[float, float, float, float]

    @property
    def count(self) -> int:
        return sum(self.counts.values())


@dataclass
class Viewport:
    """Either `issue_ids` (newest first) or `clusters`; `total` matching issues in view."""

    band: int
    total: int
    issue_ids: list[int] = field(default_factory=list)
    clusters: list[Cluster] = field(default_factory=list)

    @property
    def clustered(self) -> bool:
        return bool(self.clusters)


def status_counts(session: Session, tenant_id: int) -> dict[str, int]:
    """The portal's visible issues by status, from its band-0 cell."""
    rows = session.execute(
        select(IssueCell.status, func.sum(IssueCell.n))
        .where(IssueCell.tenant_id == tenant_id, IssueCell.band == 0)
        .group_by(IssueCell.status))
    return {status: int(n) for status, n in rows if n}


def count(session: Session, tenant_id: int, statuses: list[str] | None = None) -> int:
    counts = status_counts(session, tenant_id)
    return sum(n for status, n in counts.items() if not statuses or status in statuses)


def _cells(session: Session, tenant_id: int, bbox: tuple, band: int,
           statuses: list[str]) -> list[Cluster]:
    x0, y0, x1, y1 = grid.cell_range(bbox, band)
    stmt = (select(IssueCell.cx, IssueCell.cy, IssueCell.status, IssueCell.n,
                   IssueCell.sum_lat, IssueCell.sum_lon)
            .where(IssueCell.tenant_id == tenant_id, IssueCell.band == band,
                   IssueCell.cx.between(x0, x1), IssueCell.cy.between(y0, y1),
                   IssueCell.n > 0))
    if statuses:
        stmt = stmt.where(IssueCell.status.in_(statuses))
    return _gather(band, session.execute(stmt))


def _gather(band: int, rows) -> list[Cluster]:  # noqa: ANN001 - rows of (cx, cy, status, n, Σlat, Σlon)
    sums: dict[tuple[int, int], list] = {}
    for cx, cy, status, n, sum_lat, sum_lon in rows:
        entry = sums.setdefault((cx, cy), [{}, 0.0, 0.0])
        entry[0][status] = entry[0].get(status, 0) + int(n)
        entry[1] += sum_lat
        entry[2] += sum_lon
    clusters = []
    for (cx, cy), (counts, sum_lat, sum_lon) in sorted(sums.items()):
        total = sum(counts.values())
        west, south, east, north = grid.cell_bounds(band, cx, cy)
        # Float sums drift a hair as issues come and go: keep the centre inside its cell.
        lat = min(max(sum_lat / total, south), north)
        lon = min(max(sum_lon / total, west), east)
        clusters.append(Cluster(lat, lon, counts, (west, south, east, north)))
    return clusters


def _grouped_on_the_fly(session: Session, matching: Select, band: int) -> list[Cluster]:
    """Cells of the issues `matching` selects (a select of IssuePortal rows), grouped in SQL."""
    rows = matching.with_only_columns(IssuePortal.lat, IssuePortal.lon,
                                      IssuePortal.status).subquery()
    s = grid.scale(band)
    if session.get_bind().dialect.name == "sqlite":  # CAST truncates there; lon + 180 >= 0
        cx, cy = (cast((rows.c.lon + 180.0) * s, Integer), cast((rows.c.lat + 90.0) * s, Integer))
    else:  # PostgreSQL rounds a cast: floor first, as the triggers do
        cx = cast(func.floor((rows.c.lon + 180.0) * s), Integer)
        cy = cast(func.floor((rows.c.lat + 90.0) * s), Integer)
    stmt = (select(cx, cy, rows.c.status, func.count(), func.sum(rows.c.lat),
                   func.sum(rows.c.lon)).group_by(cx, cy, rows.c.status))
    return _gather(band, session.execute(stmt))


def viewport(session: Session, tenant: Tenant, matching: Select, bbox: tuple,
             zoom: int | None, statuses: list[str], cells_apply: bool) -> Viewport:
    """What to draw for `bbox`. `matching` selects the IssuePortal rows the filters and the box
    let through; `cells_apply` says whether the filters are ones the cells count (status only).
    """
    band = grid.band_for(bbox, zoom)
    if cells_apply:
        clusters = _cells(session, tenant.id, bbox, band, statuses)
        in_cells = sum(c.count for c in clusters)
        if in_cells > MAX_POINTS:
            return Viewport(band, in_cells, clusters=clusters)
    ids = list(session.scalars(
        matching.with_only_columns(IssuePortal.issue_id)
        .order_by(IssuePortal.created_at.desc(), IssuePortal.issue_id.desc())
        .limit(MAX_POINTS + 1)))
    if len(ids) <= MAX_POINTS:
        return Viewport(band, len(ids), issue_ids=ids)
    clusters = _grouped_on_the_fly(session, matching, band)
    return Viewport(band, sum(c.count for c in clusters), clusters=clusters)
