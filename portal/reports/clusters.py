"""What a map viewport shows: its issues when they are few, else clusters of them.

Clusters come from `IssueCell` rows, which database triggers keep for every portal, grid band
and status (see `portal.core.grid` and migration 0008_issue_clusters): a zoomed-out view of a
million issues reads at most `grid.MAX_CELLS` cells' rows and never the issues themselves. The
same rows at band 0 are the portal's counts by status.

Filters the cells do not know (request type, words, dates, `near`) are grouped on the fly from
the matching issues: correct, and as fast as the filter is selective.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

from sqlalchemy import (
    Float,
    Integer,
    Select,
    cast,
    column,
    delete,
    func,
    literal,
    select,
    true,
    values,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from portal.core import bulk, grid
from portal.core.db import is_sqlite
from portal.models import IssueCell, IssueCellDeferral, IssuePortal, Tenant

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


MAX_COLUMNS = 64  # of cells across a box, looked up one by one


def _cells(session: Session, tenant_id: int, bbox: tuple, band: int,
           statuses: list[str]) -> list[Cluster]:
    x0, y0, x1, y1 = grid.cell_range(bbox, band)
    # Column by column: a range over cx would read the whole strip of the city between x0
    # and x1 (tens of thousands of cells at street level), the next key column only within it.
    columns = (IssueCell.cx.in_(range(x0, x1 + 1)) if x1 - x0 < MAX_COLUMNS
               else IssueCell.cx.between(x0, x1))
    stmt = (select(IssueCell.cx, IssueCell.cy, IssueCell.status, IssueCell.n,
                   IssueCell.sum_lat, IssueCell.sum_lon)
            .where(IssueCell.tenant_id == tenant_id, IssueCell.band == band,
                   columns, IssueCell.cy.between(y0, y1), IssueCell.n > 0))
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


def _cell_columns(session: Session, lat, lon, band: int) -> tuple:  # noqa: ANN001 - columns
    """SQL for the cell of (lat, lon) at `band`, bit for bit what the triggers compute."""
    s = grid.scale(band)
    if is_sqlite(session):  # CAST truncates there, and lon + 180 >= 0
        return cast((lon + 180.0) * s, Integer), cast((lat + 90.0) * s, Integer)
    # PostgreSQL rounds a cast: floor first, as the triggers do
    return (cast(func.floor((lon + 180.0) * s), Integer),
            cast(func.floor((lat + 90.0) * s), Integer))


def _grouped_on_the_fly(session: Session, matching: Select, band: int) -> list[Cluster]:
    """Cells of the issues `matching` selects (a select of IssuePortal rows), grouped in SQL.

    The rows come through the box's spatial index (`scoping.in_bbox`: PostGIS's GiST, SQLite's
    R*Tree) and fall into the triggers' floor grid, never PostGIS's ST_SnapToGrid: that rounds
    half to even, and would put the issues on every other cell's west edge in its neighbour.
    """
    rows = matching.with_only_columns(IssuePortal.lat, IssuePortal.lon,
                                      IssuePortal.status).subquery()
    cx, cy = _cell_columns(session, rows.c.lat, rows.c.lon, band)
    stmt = (select(cx, cy, rows.c.status, func.count(), func.sum(rows.c.lat),
                   func.sum(rows.c.lon)).group_by(cx, cy, rows.c.status))
    return _gather(band, session.execute(stmt))


@contextmanager
def counting_deferred(session: Session) -> Iterator[list[int]]:
    """For bulk loads: membership rows written inside are not counted row by row by the
    triggers; the issue ids put in the yielded list are counted on the way out, a statement
    per band (PostgreSQL: one for all bands). Other transactions' writes are counted as
    always meanwhile."""
    deferral = IssueCellDeferral()
    session.add(deferral)
    session.flush()
    batch: list[int] = []
    try:
        yield batch
        session.flush()
        count_new_rows(session, batch)
    finally:
        # Never leave the deferral behind, even if the caller goes on after an error: every
        # later write in the transaction would go uncounted.
        with suppress(Exception):
            session.execute(delete(IssueCellDeferral).where(IssueCellDeferral.id == deferral.id))


def count_new_rows(session: Session, issue_ids: list[int]) -> None:
    """Add these issues' (uncounted) membership rows to the cells."""
    sqlite = is_sqlite(session)
    for start in range(0, len(issue_ids), bulk.IDS_PER_STATEMENT):
        chunk = issue_ids[start:start + bulk.IDS_PER_STATEMENT]
        if sqlite:
            for band in grid.BANDS:
                cx, cy = _cell_columns(session, IssuePortal.lat, IssuePortal.lon, band)
                _add_cells(session, select(IssuePortal.tenant_id, literal(band), cx, cy,
                                           IssuePortal.status, *_sums())
                           .where(bulk.one_of(session, IssuePortal.issue_id, chunk),
                                  IssuePortal.hidden.is_(False))
                           .group_by(IssuePortal.tenant_id, cx, cy, IssuePortal.status))
            continue
        # PostgreSQL: every band in one statement, the chunk's rows read once (a join with
        # the bands' scales, computed as the triggers do), in key order as the triggers take
        # them, so a concurrent writer cannot deadlock with it.
        bands = values(column("band", Integer), column("scale", Float), name="bands").data(
            [(band, grid.scale(band)) for band in grid.BANDS])
        cx = cast(func.floor((IssuePortal.lon + 180.0) * bands.c.scale), Integer)
        cy = cast(func.floor((IssuePortal.lat + 90.0) * bands.c.scale), Integer)
        keys = (IssuePortal.tenant_id, bands.c.band, cx, cy, IssuePortal.status)
        _add_cells(session, select(*keys, *_sums()).select_from(IssuePortal).join(bands, true())
                   .where(bulk.one_of(session, IssuePortal.issue_id, chunk),
                          IssuePortal.hidden.is_(False))
                   .group_by(*keys).order_by(*keys))


def _sums() -> tuple:
    return func.count(), func.sum(IssuePortal.lat), func.sum(IssuePortal.lon)


def _add_cells(session: Session, rows: Select) -> None:
    """Add `rows` (tenant, band, cx, cy, status, n, sum of lat, sum of lon) into the cells."""
    upsert = sqlite_insert if is_sqlite(session) else postgresql_insert
    stmt = upsert(IssueCell).from_select(
        ["tenant_id", "band", "cx", "cy", "status", "n", "sum_lat", "sum_lon"], rows)
    session.execute(stmt.on_conflict_do_update(
        index_elements=["tenant_id", "band", "cx", "cy", "status"],
        set_={"n": IssueCell.n + stmt.excluded.n,
              "sum_lat": IssueCell.sum_lat + stmt.excluded.sum_lat,
              "sum_lon": IssueCell.sum_lon + stmt.excluded.sum_lon}))


def viewport(session: Session, tenant: Tenant, matching: Callable[[], Select], bbox: tuple,
             zoom: int | None, statuses: list[str], cells_apply: bool) -> Viewport:
    """What to draw for `bbox`. `matching()` selects the IssuePortal rows the filters and the
    box let through (built only when the cells do not answer: building it costs more than
    reading them); `cells_apply` says whether the filters are ones the cells count (status).
    """
    band = grid.band_for(bbox, zoom)
    if cells_apply:
        clusters = _cells(session, tenant.id, bbox, band, statuses)
        in_cells = sum(c.count for c in clusters)
        if in_cells > MAX_POINTS:
            return Viewport(band, in_cells, clusters=clusters)
    matching = matching()
    ids = list(session.scalars(
        matching.with_only_columns(IssuePortal.issue_id)
        .order_by(IssuePortal.created_at.desc(), IssuePortal.issue_id.desc())
        .limit(MAX_POINTS + 1)))
    if len(ids) <= MAX_POINTS:
        return Viewport(band, len(ids), issue_ids=ids)
    clusters = _grouped_on_the_fly(session, matching, band)
    return Viewport(band, sum(c.count for c in clusters), clusters=clusters)
