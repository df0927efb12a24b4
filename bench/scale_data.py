"""Synthetic issues for bench/scale.py, written through the importer's own write path.

The issues are a SeeClickFix-shaped CSV handed to `import_issues`, exactly what
`portal import-issues` does, so the load rate printed is the importer's. Points are uniform
over the portal's area; text is a phrase that `MAPPING` (the shipped SeeClickFix mapping with
a table for these phrases) routes to a request type
plus words of a small vocabulary, Zipf-weighted so some searches hit many issues and some few.
"""

from __future__ import annotations

import csv
import json
import random
import sys
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import shapely
from sqlalchemy import func, select

from portal.core import geo
from portal.core.db import Database, analyze
from portal.core.settings import Settings
from portal.data import import_mapping
from portal.data.importer import import_issues
from portal.models import Issue, Tenant
from portal.tenancy import tenant_files

PORTAL = "new-haven"
PHRASES = ["Pothole", "Streetlight out", "Graffiti on a wall", "Illegal dumping",
           "Sidewalk cracked", "Tree branch down", "Missed trash pickup",
           "Traffic signal stuck", "Park bench broken", "Noise at night", "Abandoned car"]
VOCABULARY = (
    "hydrant corner school driveway crosswalk alley parking bridge church library market "
    "station garage fence gutter drain puddle flooding broken deep dangerous leaking dark "
    "cracked blocked overflowing loose missing bent faded smashed rusty noisy smelly "
    "weeks again children cyclists neighbours elderly wheelchair morning evening winter "
    "rain snow ice storm truck bus scooter stroller avenue boulevard plaza playground"
).split()
# The request type of each phrase, as the import mapping's table says.
CODES = ["pothole", "streetlight", "graffiti", "illegal-dumping", "sidewalk", "fallen-tree",
         "missed-trash", "traffic-signal", "park-maintenance", "other", "other"]
MAPPING = replace(import_mapping.shipped_named("seeclickfix"),
                  types={import_mapping.fold(p): c for p, c in zip(PHRASES, CODES, strict=True)})
STATUSES = ["open"] * 6 + ["acknowledged"] + ["closed"] * 3
SINCE = datetime(2019, 1, 1, tzinfo=UTC)


@dataclass
class Loaded:
    """What the load wrote, and what the reads need to know about it."""

    rows: int
    seconds: float
    skipped: int
    points: np.ndarray  # (n, 2) lon, lat of the generated issues
    area: str  # the portal's area, GeoJSON text
    issue_ids: tuple[int, int]

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0

    def write(self, path: Path) -> None:
        """Record what was loaded beside a kept database (the points in a .npy file)."""
        np.save(path.with_suffix(".npy"), self.points)
        path.write_text(json.dumps({"rows": self.rows, "seconds": self.seconds,
                                    "skipped": self.skipped, "area": self.area,
                                    "issue_ids": list(self.issue_ids)}))

    @classmethod
    def read(cls, path: Path) -> Loaded:
        record = json.loads(path.read_text())
        return cls(record["rows"], record["seconds"], record["skipped"],
                   np.load(path.with_suffix(".npy")), record["area"], tuple(record["issue_ids"]))


def sample_points(area: str, count: int, rng: np.random.Generator) -> np.ndarray:
    """`count` (lon, lat) points uniform inside `area`, by rejection in its bounding box."""
    shape = geo.area(area)
    min_lon, min_lat, max_lon, max_lat = shape.bounds
    found: list[np.ndarray] = []
    have = 0
    for _ in range(1000):  # the city fills a good part of its box: a few rounds suffice
        lon = rng.uniform(min_lon, max_lon, 2 * count)
        lat = rng.uniform(min_lat, max_lat, 2 * count)
        keep = shapely.contains_xy(shape, lon, lat)
        found.append(np.column_stack([lon[keep], lat[keep]]))
        have += int(keep.sum())
        if have >= count:
            break
    return np.concatenate(found)[:count]


def write_csv(path: Path, points: np.ndarray, seed: int) -> None:
    rng = random.Random(seed)
    weights = [1 / (rank + 1) for rank in range(len(VOCABULARY))]
    span = int((datetime(2025, 1, 1, tzinfo=UTC) - SINCE).total_seconds())
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["row_id", "created_at", "status", "summary", "description", "rating",
                      "lat", "lng"])
        for n, (lon, lat) in enumerate(points.tolist()):
            phrase = rng.choice(PHRASES)
            words = " ".join(rng.choices(VOCABULARY, weights, k=rng.randint(6, 18)))
            when = SINCE + timedelta(seconds=rng.randrange(span))
            out.writerow([f"bench-{n}", when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                          rng.choice(STATUSES), phrase, f"{phrase}: {words}", 1,
                          f"{lat:.6f}", f"{lon:.6f}"])


def load(database_url: str, count: int, folder: Path, seed: int = 1) -> Loaded:
    """Demo portals and bodies, then `count` issues over the portal's area, imported."""
    settings = Settings()
    db = Database(database_url)
    with db.session() as session:
        tenant_files.load_all(session, settings.tenants_dir, settings.themes_dir)
    with db.session() as session:
        tenant = session.scalars(select(Tenant).where(Tenant.slug == PORTAL)).one()
        area = tenant.area_geojson
        points = sample_points(area, count, np.random.default_rng(seed))
        path = folder / "issues.csv"
        started = time.perf_counter()
        write_csv(path, points, seed)
        print(f"  wrote {count:,} synthetic records in {time.perf_counter() - started:.1f} s",
              flush=True)
        started = time.perf_counter()
        shown = [0]  # tenths of the file reported so far

        def progress(done: int, total: int) -> None:
            if total and done * 10 // total > shown[0]:
                shown[0] = done * 10 // total
                rate = done / (time.perf_counter() - started)
                sys.stderr.write(f"  … {done:,}/{total:,} rows, {rate:,.0f} rows/s\n")

        summary = import_issues(session, path, tenant, mapping=MAPPING,
                                on_batch=session.commit, progress=progress)
        seconds = time.perf_counter() - started
    analyze(db.engine)  # as `portal import` does after a bulk load
    with db.session() as session:
        low, high = session.execute(select(func.min(Issue.id), func.max(Issue.id))).one()
    db.engine.dispose()
    path.unlink()
    return Loaded(summary.imported, seconds, sum(summary.skipped.values()), points, area,
                  (low or 0, high or 0))


def viewports(data: Loaded, per_view: int, count: int,
              seed: int = 2) -> tuple[list[tuple[float, ...]], float]:
    """`count` map views (min_lon, min_lat, max_lon, max_lat), screen-shaped (1.6:1 in
    metres), centred on issues and sized to hold about `per_view` of them; with the mean
    number they hold, counted."""
    rng = np.random.default_rng(seed)
    lon, lat = data.points[:, 0], data.points[:, 1]
    squash = float(np.cos(np.radians(lat.mean())))
    centres = data.points[rng.integers(0, len(data.points), count)]

    def views(scale: float) -> np.ndarray:
        height = np.sqrt(scale * geo.size(data.area) * per_view / len(lon) * squash / 1.6)
        width = 1.6 * height / squash
        return np.column_stack([centres[:, 0] - width / 2, centres[:, 1] - height / 2,
                                centres[:, 0] + width / 2, centres[:, 1] + height / 2])

    def mean_held(boxes: np.ndarray) -> float:
        return float(np.mean([np.count_nonzero((lon >= b[0]) & (lon <= b[2]) & (lat >= b[1])
                                               & (lat <= b[3])) for b in boxes[:200]]))

    scale = 1.0
    for _ in range(3):  # views near the edge hold fewer: grow them until the mean is right
        held = mean_held(views(scale))
        scale *= per_view / max(held, 1.0)
    boxes = views(scale)
    return [tuple(b) for b in boxes.tolist()], mean_held(boxes)
