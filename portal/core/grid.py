"""The grid behind map clusters and counts: bands of square cells in degrees.

Band b cuts the world into cells of 360 / 2**b degrees of longitude and the same of latitude,
numbered from (-180, -90). The database computes a point's cell in triggers with the very
expression `cell_of` uses — `(lon + 180) * scale`, truncated — so Python and SQL agree to the
bit on which cell holds a point. The triggers are written once, by migration
0008_issue_clusters, for exactly these bands: a change here needs a migration there.

Even bands only: each is 16 times finer than the one before, so a viewport shown with up to
`MAX_CELLS` cells of its band is never shown with fewer than `MAX_CELLS / 16` of them. Band 20
cells are about 38 m wide, a building or two at street level.
"""

from __future__ import annotations

import math

BANDS = (0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20)
MAX_CELLS = 300  # cells a viewport may be drawn with: the map's feature budget


def scale(band: int) -> float:
    """Cells per degree at `band`."""
    return 2.0**band / 360.0


def cell_of(lat: float, lon: float, band: int) -> tuple[int, int]:
    s = scale(band)
    return int((lon + 180.0) * s), int((lat + 90.0) * s)


def cell_bounds(band: int, cx: int, cy: int) -> tuple[float, float, float, float]:
    """(min_lon, min_lat, max_lon, max_lat) of one cell."""
    size = 360.0 / 2.0**band
    return (cx * size - 180.0, cy * size - 90.0, (cx + 1) * size - 180.0, (cy + 1) * size - 90.0)


def cell_range(bbox: tuple[float, float, float, float], band: int) -> tuple[int, int, int, int]:
    """The cells (min_cx, min_cy, max_cx, max_cy) that a box touches, inclusive."""
    min_lon, min_lat, max_lon, max_lat = bbox
    x0, y0 = cell_of(min_lat, min_lon, band)
    x1, y1 = cell_of(max_lat, max_lon, band)
    return x0, y0, x1, y1


def cells_in(bbox: tuple[float, float, float, float], band: int) -> int:
    x0, y0, x1, y1 = cell_range(bbox, band)
    return (x1 - x0 + 1) * (y1 - y0 + 1)


def band_for(bbox: tuple[float, float, float, float], zoom: int | None = None) -> int:
    """The finest band that draws the box with at most `MAX_CELLS` cells.

    With a map zoom, no finer than about four cells per 256-pixel tile side (zoom + 2): a small
    window on a big screen should not split clusters further than the eye can tell apart.
    """
    chosen = BANDS[0]
    ceiling = zoom + 2 if zoom is not None else math.inf
    for band in BANDS:
        if band > ceiling or cells_in(bbox, band) > MAX_CELLS:
            break
        chosen = band
    return chosen
