"""How fast `portal import-issues` loads a history, and in how much memory: rows per second
into SQLite and PostgreSQL, from a CSV and from a SeeClickFix-API-shaped JSON document.

Each run starts from an empty database (PostgreSQL: a throwaway cluster from
tests/pg_cluster.py, as bench/scale.py does), loads the demo portals, writes N synthetic
records over the New Haven portal's area (every record dated: reported, and for most an
acknowledgement and a closure, so history rows are written too), and imports them through
`import_issues` with a commit per batch, exactly as the CLI does. Printed: rows, seconds,
rows/s, the importing process's own CPU seconds and, for PostgreSQL, its server process's
(on a busy machine the wall clock says more about the neighbours; rows per CPU second, both
together, is what an idle machine would approach), and the growth of resident memory over the
import.

Usage: python bench/import_speed.py [--rows 20000] [--db sqlite,postgresql] [--format csv,json]
                                    [--pad BYTES]

`--pad 2000` lengthens every description by that many bytes, for a file of a given size
(about 2.4 KB a JSON record then: 400,000 rows wrote 954 MB, so `--rows 420000 --db sqlite
--format json --pad 2000` imports a 1 GB document), to see that memory stays flat however
large the file.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

import numpy as np  # noqa: E402
import scale_data  # noqa: E402
from sqlalchemy import select, text  # noqa: E402

from portal.core.db import Database  # noqa: E402
from portal.core.migrate import upgrade  # noqa: E402
from portal.core.settings import Settings  # noqa: E402
from portal.data import import_mapping  # noqa: E402
from portal.data.importer import import_issues  # noqa: E402
from portal.models import Tenant  # noqa: E402
from portal.tenancy import tenant_files  # noqa: E402

SINCE = datetime(2019, 1, 1, tzinfo=UTC)
COLUMNS = {"id": "id", "created": "created_at", "acknowledged": "acknowledged_at",
           "closed": "closed_at", "status": "status", "title": "summary",
           "description": "description", "address": "address", "lat": "lat", "lon": "lng",
           "request_type": "summary", "external_url": "html_url"}


def mapping(fmt: str) -> import_mapping.Mapping:
    return import_mapping.parse({
        "source": {"name": "bench", "format": fmt, "records": "issues" if fmt == "json" else ""},
        "columns": COLUMNS,
        "dates": {"format": "epoch_ms" if fmt == "json" else "iso"},
        "statuses": {"open": "open", "acknowledged": "acknowledged", "closed": "closed"},
        "request_types": {"default": "other", "map": {
            p: c for p, c in zip(scale_data.PHRASES, scale_data.CODES, strict=True)}}})


def records(points: np.ndarray, seed: int = 1, pad: int = 0) -> Iterator[dict]:
    rng = random.Random(seed)
    padding = (" " + "lorem ipsum " * (pad // 12 + 1))[:pad] if pad else ""
    span = int((datetime(2025, 1, 1, tzinfo=UTC) - SINCE).total_seconds())
    for n, (lon, lat) in enumerate(points.tolist()):
        created = SINCE + timedelta(seconds=rng.randrange(span))
        status = rng.choice(scale_data.STATUSES)
        acknowledged = closed = None
        if status != "open":
            acknowledged = created + timedelta(seconds=rng.randrange(60, 5 * 86400))
        if status == "closed":
            closed = acknowledged + timedelta(seconds=rng.randrange(60, 20 * 86400))
        phrase = rng.choice(scale_data.PHRASES)
        words = " ".join(rng.choices(scale_data.VOCABULARY, k=rng.randint(6, 18)))
        yield {"id": f"b{n}", "created_at": created, "acknowledged_at": acknowledged,
               "closed_at": closed, "status": status, "summary": phrase,
               "description": f"{phrase}: {words}{padding}", "address": f"{n % 900 + 1} Chapel St",
               "lat": round(lat, 6), "lng": round(lon, 6),
               "html_url": f"https://example.org/issues/{n}"}


def write(path: Path, fmt: str, points: np.ndarray, pad: int = 0) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        if fmt == "csv":
            writer = csv.DictWriter(out, fieldnames=list(dict.fromkeys(COLUMNS.values())))
            writer.writeheader()
            for r in records(points, pad=pad):
                writer.writerow({k: v.isoformat() if isinstance(v, datetime) else
                                 ("" if v is None else v) for k, v in r.items()})
            return
        out.write('{"issues": [')
        for n, r in enumerate(records(points, pad=pad)):
            out.write(("," if n else "") + json.dumps({
                k: int(v.timestamp() * 1000) if isinstance(v, datetime) else v
                for k, v in r.items()}))
        out.write("]}")


@contextmanager
def database(kind: str, folder: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'bench.sqlite3'}"
        return
    from tests.pg_cluster import running_cluster

    with running_cluster() as url:
        yield url


def resident_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * 4096 / 1e6


def server_cpu(session) -> float:  # noqa: ANN001 - a Session
    """CPU seconds the session's PostgreSQL backend has used so far (it runs on this machine;
    0 for SQLite, which runs inside the importer): with the importer's own CPU, what the
    import costs whatever the neighbours do, as the wall clock on a busy machine does not."""
    if session.get_bind().dialect.name != "postgresql":
        return 0.0
    pid = session.scalar(text("SELECT pg_backend_pid()"))
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(kind: str, fmt: str, rows: int, folder: Path, pad: int = 0) -> dict:
    with database(kind, folder) as url:
        upgrade(url)
        settings = Settings()
        db = Database(url)
        with db.session() as session:
            tenant_files.load_all(session, settings.tenants_dir, settings.themes_dir)
        with db.session() as session:
            city = session.scalars(select(Tenant).where(Tenant.slug == scale_data.PORTAL)).one()
            points = scale_data.sample_points(city.area_geojson, rows,
                                              np.random.default_rng(1))
            path = folder / f"records.{fmt}"
            write(path, fmt, points, pad)
            size = path.stat().st_size
            before = resident_mb()
            peak = [before]

            def progress(done: int, total: int) -> None:
                peak[0] = max(peak[0], resident_mb())
                sys.stderr.write(f"\r  {kind} {fmt}: {done:,} rows")

            started, cpu, server = time.perf_counter(), time.process_time(), server_cpu(session)
            summary = import_issues(session, path, city, mapping=mapping(fmt),
                                    on_batch=session.commit, progress=progress)
            seconds = time.perf_counter() - started
            cpu = time.process_time() - cpu
            server = server_cpu(session) - server
            sys.stderr.write("\n")
        db.engine.dispose()
        path.unlink()
    if summary.skipped:
        print(f"  skipped: {summary.skipped}", file=sys.stderr)
    return {"db": kind, "format": fmt, "rows": summary.total, "imported": summary.imported,
            "seconds": seconds, "rate": summary.total / seconds, "cpu": cpu, "server": server,
            "memory_mb": peak[0] - before, "file_mb": size / 1e6}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--rows", type=int, default=20_000)
    p.add_argument("--db", default="sqlite,postgresql")
    p.add_argument("--format", default="csv,json")
    p.add_argument("--pad", type=int, default=0, help="bytes added to every description")
    args = p.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="import-speed-") as tmp:
        for kind in args.db.split(","):
            for fmt in args.format.split(","):
                folder = Path(tmp) / f"{kind}-{fmt}"
                folder.mkdir()
                results.append(run(kind, fmt, args.rows, folder, args.pad))
    print(f"{'database':<11} {'format':<6} {'file MB':>8} {'rows':>8} {'imported':>9} "
          f"{'seconds':>8} "
          f"{'rows/s':>8} {'importer CPU s':>15} {'server CPU s':>13} {'rows/CPU s':>11} "
          f"{'memory growth':>14}")
    for r in results:
        print(f"{r['db']:<11} {r['format']:<6} {r['file_mb']:>8,.0f} {r['rows']:>8,} "
              f"{r['imported']:>9,} "
              f"{r['seconds']:>8.1f} {r['rate']:>8,.0f} {r['cpu']:>15.1f} {r['server']:>13.1f} "
              f"{r['rows'] / (r['cpu'] + r['server']):>11,.0f} {r['memory_mb']:>11.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
