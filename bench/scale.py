"""Reportal at scale: load N issues, serve them with `portal serve`, and measure every read.

For each database and size: a throwaway database (a SQLite file, or a PostgreSQL cluster from
tests/pg_cluster.py), migrated, the demo portals loaded, then N synthetic issues over the
New Haven portal imported through `import_issues` (rows/s printed). `portal serve --workers N`
then runs on a loopback port and wrk (16 connections) loads each read for `--duration` seconds:

- cold: no two requests share a URL: a new map view, search word or issue id per request,
  and `_=<n>` appended (ignored by the portal) so no ETag or URL-keyed cache can answer.
- cold, one client: the same with a single connection, so each figure is one request's own
  time and not the queue of sixteen in front of it.
- warm: one URL repeated, so whatever the portal caches is hit.
- report POSTs: anonymous reports without a photo, each with its own submission key.

Beside each row is the bare limit: a Starlette app under the same uvicorn (bench/bare_app.py)
answering with pre-built bytes of the same size. Rate limits are off in the served portal
(RATE_LIMITS=0): with them, 16 clients on one address would measure the 429 page. The PG
cluster is the test one (fsync off). Requests carry a browser's Accept-Encoding.

`--keep DIR` keeps each loaded database in DIR (a SQLite file, or a PostgreSQL cluster's
data directory) and reuses it on the next run, migrated to the current schema: a million
issues take a while to load. `--load-only` stops after loading.

Usage: python bench/scale.py [--sizes 10000,100000,1000000] [--db sqlite,postgresql]
       [--duration 10] [--connections 16] [--workers 1] [--json out.json]
       [--keep DIR] [--load-only]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import secrets
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlencode

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))

import scale_data  # noqa: E402
from scale_http import HOST, Run, form_fields, free_port, have_wrk, memory_mb, server  # noqa: E402
from scale_http import request as http_request  # noqa: E402
from scale_http import wrk as run_wrk  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402

from portal.core import geo  # noqa: E402
from portal.core.db import Database  # noqa: E402
from portal.core.migrate import upgrade  # noqa: E402
from portal.models import Issue  # noqa: E402

PORTAL_HOST = f"{scale_data.PORTAL}.localhost"
VIEWPORT_ISSUES = 460
RSS_TARGET_MB, RSS_TARGET_SIZE = 300, 1_000_000


@dataclass
class Read:
    name: str
    kind: str  # "map" or "page": which latency target applies
    paths: list[str]  # cold picks one per request; warm repeats the first (for search: the
    # most common word, so the warm search is the heaviest one)


def _bbox(box: tuple[float, ...]) -> str:
    return ",".join(f"{v:.5f}" for v in box)  # as static/js/map.js sends it


def _zoom(box: tuple[float, ...]) -> int:
    """The zoom a 1280-pixel-wide Leaflet map shows `box` at: what static/js/map.js sends."""
    return max(0, min(19, math.floor(math.log2(1280 / 256 * 360 / (box[2] - box[0])))))


def reads(data: scale_data.Loaded, views: list[tuple[float, ...]]) -> list[Read]:
    rng = random.Random(3)
    low, high = data.issue_ids
    city = geo.bbox(data.area)
    return [
        Read("map viewport", "map",
             [f"/api/issues.geojson?bbox={_bbox(b)}&zoom={_zoom(b)}" for b in views]),
        Read("map whole city", "map",
             [f"/api/issues.geojson?bbox={_bbox(city)}&zoom={_zoom(city)}"]),
        Read("API page of 500", "map",
             [f"/api/issues.geojson?bbox={_bbox(city)}&per_page=500"]),
        Read("home", "page", ["/"]),
        Read("list page 1", "page", ["/issues?page=1"]),
        Read("list page 200", "page", ["/issues?page=200"]),
        Read("search", "page", [f"/search?q={w}" for w in scale_data.VOCABULARY]),
        Read("issue page", "page",
             [f"/issues/{rng.randint(low, high)}" for _ in range(5000)]),
        Read("dashboard", "page", ["/dashboard"]),
    ]


def target(read: Read | None, mode: str) -> tuple[str, Callable[[dict], bool] | None]:
    if read is None:
        return "-", None
    if mode == "warm":
        return ">= 50% of bare", lambda row: row["ratio"] >= 0.5
    limit = 50 if read.kind == "map" else 100
    return f"p95 < {limit} ms", lambda row: row["p95"] < limit


class BareLimit:
    """wrk against bare_app, one run per body size (within 5 %), reused across rows."""

    def __init__(self, port: int, args: argparse.Namespace) -> None:
        self.port, self.args, self.runs = port, args, {}

    def _wrk(self, paths: list[str], body: str = "", connections: int | None = None) -> Run:
        return run_wrk(self.port, HOST, paths, bust=False, duration=self.args.duration,
                       connections=connections or self.args.connections, body=body,
                       run_id="bare")

    def for_size(self, size: int, connections: int | None = None) -> Run:
        key = (round(math.log(max(size, 1), 1.05)), connections)
        if key not in self.runs:
            self.runs[key] = self._wrk([f"/bytes/{size}"], connections=connections)
        return self.runs[key]

    def for_post(self, body: str) -> Run:
        if "post" not in self.runs:
            self.runs["post"] = self._wrk(["/post"], body)
        return self.runs["post"]


def _row(name: str, mode: str, size: float, run: Run, bare: Run, read: Read | None) -> dict:
    row = {"read": name, "mode": mode, "kb": size / 1024, **asdict(run), "bare_rps": bare.rps,
           "ratio": run.rps / bare.rps if bare.rps else 0.0}
    row["target"], check = target(read, mode)
    passed = check is not None and run.requests > 0 and not run.errors and check(row)
    row["result"] = "-" if check is None else "PASS" if passed else "MISS"
    return row


def _sample(port: int, paths: list[str]) -> float:
    """Mean body size of `paths`; any answer but 200 stops the benchmark, loudly."""
    sizes = []
    for path in paths:
        status, body = http_request(port, path, PORTAL_HOST)
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}: {body[:300]!r}")
        sizes.append(len(body))
    return sum(sizes) / len(sizes)


def measure_read(read: Read, port: int, bare: BareLimit, args: argparse.Namespace) -> list[dict]:
    rows = []
    for mode, paths, bust, clients in (("cold", read.paths, True, args.connections),
                                       ("cold1", read.paths, True, 1),
                                       ("warm", read.paths[:1], False, args.connections)):
        probe = [p + ("&" if "?" in p else "?") + f"_=probe{i}" for i, p in
                 enumerate(paths[:5])] if bust else paths
        try:
            size = _sample(port, probe)
        except RuntimeError as exc:  # one broken read must not hide the others' figures
            print(f"  {read.name} {mode}: {exc}", flush=True)
            row = _row(read.name, mode, 0, Run(0, 0, 0, 0, 0, 1), Run(0, 0, 0, 0, 0, 0), read)
            rows.append({**row, "result": "ERROR"})
            continue
        run = run_wrk(port, PORTAL_HOST, paths, bust=bust, duration=args.duration,
                      connections=clients)
        limit = bare.for_size(round(size), clients if clients != args.connections else None)
        rows.append(_row(read.name, mode, size, run, limit, read))
        print(f"  {read.name} {mode}: p95 {run.p95:.1f} ms, {_rate(run.rps)} req/s", flush=True)
    return rows


def _count_issues(url: str) -> int:
    db = Database(url)
    with db.session() as session:
        count = session.scalar(select(func.count()).select_from(Issue))
    db.engine.dispose()
    return count or 0


def measure_posts(url: str, area: str, port: int, bare: BareLimit,
                  args: argparse.Namespace) -> tuple[dict, int]:
    """Report POSTs with the form's own CSRF token and fields; and how many were filed."""
    lat, lon = geo.centre(area)
    status, page = http_request(port, f"/report?lat={lat:.6f}&lon={lon:.6f}", PORTAL_HOST)
    fields = form_fields(page.decode())
    needed = {"csrf_token", "submission_key", "lat", "lon", "request_type", "description"}
    if status != 200 or not needed <= fields.keys() or not fields["request_type"]:
        raise RuntimeError(f"the report form ({status}) lacks {needed - fields.keys()} "
                           "or offers no request type at the portal's centre")
    body = urlencode({"csrf_token": fields["csrf_token"], "lat": f"{lat:.6f}",
                      "lon": f"{lon:.6f}", "request_type": fields["request_type"],
                      "description": "Bench report: hydrant leaking on the corner"})
    before = _count_issues(url)
    run = run_wrk(port, PORTAL_HOST, ["/report"], bust=False, duration=args.duration,
                  connections=args.connections, body=body, run_id=secrets.token_hex(4))
    accepted = _count_issues(url) - before
    # The server finishes what is in flight when wrk stops, so it may file a few more.
    print(f"  report POST: {accepted:,} filed, {run.requests:,} answered within the run",
          flush=True)
    return _row("report POST", "-", 0, run, bare.for_post(body), None), accepted


@contextmanager
def database(kind: str, folder: Path, keep: bool) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'bench.sqlite3'}"
        return
    from tests.pg_cluster import kept_cluster, running_cluster

    with kept_cluster(str(folder / "pg")) if keep else running_cluster() as url:
        yield url


def loaded(kind: str, url: str, size: int, folder: Path, keep: bool) -> scale_data.Loaded:
    """The issues of a kept database (as it recorded them), or `size` new ones."""
    record = folder / "loaded.json"
    if keep and record.exists():
        data = scale_data.Loaded.read(record)
        print(f"  reusing the {data.rows:,} issues loaded before in {folder}", flush=True)
        return data
    data = scale_data.load(url, size, folder)
    if kind == "postgresql":  # autovacuum would within a minute; now, for repeatable runs
        db = Database(url)
        with db.engine.begin() as conn:
            conn.execute(text("ANALYZE"))
        db.engine.dispose()
    if keep:
        data.write(record)
    return data


def uvicorn_command(app: list[str], port: int, workers: int) -> list[str]:
    return [sys.executable, str(BENCH / "uvicorn_workers.py"), *app, "--host", HOST,
            "--port", str(port), "--log-level", "warning", "--workers", str(workers)]


def portal_command(port: int, workers: int) -> list[str]:
    return [sys.executable, "-m", "portal.cli", "serve", "--host", HOST, "--port", str(port),
            "--workers", str(workers)]


def bench(kind: str, size: int, args: argparse.Namespace, bare: BareLimit, tmp: Path) -> dict:
    keep = args.keep is not None
    if keep:
        folder = args.keep / f"{kind}-{size}"
        folder.mkdir(parents=True, exist_ok=True)
    else:
        folder = Path(tempfile.mkdtemp(prefix=f"{kind}-{size}-", dir=tmp))
    print(f"\n{kind}, {size:,} issues: loading", flush=True)
    with database(kind, folder, keep) as url:
        upgrade(url)
        data = loaded(kind, url, size, folder, keep)
        if args.load_only:
            return {}
        views, held = scale_data.viewports(data, VIEWPORT_ISSUES, 2000)
        print(f"  imported {data.rows:,} rows ({data.skipped:,} skipped) in {data.seconds:.1f} s:"
              f" {data.rate:,.0f} rows/s; viewports hold {held:.0f} issues on average",
              flush=True)
        port = free_port()
        # Production mode (templates not re-read, no debug), on plain http.
        env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": url,
               "SECRET_KEY": secrets.token_hex(32), "HTTPS_ONLY_COOKIES": "0",
               "MEDIA_DIR": str(folder / "media"), "STATIC_BUILD_DIR": str(folder / "static"),
               "RATE_LIMITS": "0", "PUBLIC_URL": f"http://{HOST}:{port}"}
        command = portal_command(port, args.workers)
        with server(command, env, port, folder / "portal.log") as pid:
            rows = [row for read in reads(data, views)
                    for row in measure_read(read, port, bare, args)]
            post_row, accepted = measure_posts(url, data.area, port, bare, args)
            rows.append(post_row)
            rss, peak = memory_mb(pid)
    return {"db": kind, "size": size, "loaded": data.rows, "load_seconds": data.seconds,
            "rows_per_second": data.rate, "viewport_issues": held, "reports_filed": accepted,
            "workers": args.workers, "rss_mb": rss, "peak_rss_mb": peak, "rows": rows}


# Modes: cold (a new URL per request, --connections clients), cold1 (the same, one client),
# warm (one URL repeated).
COLUMNS = ("read", "mode", "KB", "p50 ms", "p95 ms", "p99 ms", "req/s", "bare req/s", "ratio",
           "n", "err", "target", "")
FORMAT = "{:<15} {:<5} {:>6} {:>8} {:>8} {:>8} {:>7} {:>10} {:>6} {:>6} {:>4}  {:<15} {}"


def _rate(value: float) -> str:
    return f"{value:.1f}" if value < 10 else f"{value:,.0f}"


def print_result(result: dict) -> None:
    print(f"\n== {result['db']}, {result['size']:,} issues, {result['workers']} worker(s) ==")
    estimate = 1_000_000 / result["rows_per_second"] / 60 if result["rows_per_second"] else 0
    print(f"load: {result['loaded']:,} rows in {result['load_seconds']:.1f} s, "
          f"{result['rows_per_second']:,.0f} rows/s (1,000,000 rows at this rate: "
          f"~{estimate:.0f} min)")
    print(FORMAT.format(*COLUMNS))
    for r in result["rows"]:
        # No answer within the run leaves wrk's histogram empty: its zeros are no latency.
        p50, p95, p99 = (f"{r[k]:.1f}" if r["requests"] else "-" for k in ("p50", "p95", "p99"))
        print(FORMAT.format(r["read"], r["mode"], f"{r['kb']:.1f}", p50, p95, p99, _rate(r["rps"]),
                            _rate(r["bare_rps"]), f"{r['ratio']:.3f}", r["requests"],
                            r["errors"], r["target"], r["result"]))
    # Judged on the peak (VmHWM): the memory a host must have, not what is left at the end.
    peak = result["peak_rss_mb"]
    verdict = ("PASS" if peak < RSS_TARGET_MB else "MISS") if result["size"] >= RSS_TARGET_SIZE \
        else f"(judged at {RSS_TARGET_SIZE:,})"
    print(f"reports filed: {result['reports_filed']:,}; server RSS {result['rss_mb']:.0f} MB "
          f"after the runs, peak {peak:.0f} MB; target peak < {RSS_TARGET_MB} MB at "
          f"{RSS_TARGET_SIZE:,} issues: {verdict}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--sizes", default="10000,100000")
    p.add_argument("--db", default="sqlite,postgresql")
    p.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--json", type=Path, help="also write the figures here")
    p.add_argument("--keep", type=Path, help="keep (and reuse) the loaded databases here")
    p.add_argument("--load-only", action="store_true", help="stop after loading")
    args = p.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    kinds = [k.strip() for k in args.db.split(",")]
    if not set(kinds) <= {"sqlite", "postgresql"} or min(sizes) < 1:
        p.error("--db takes sqlite and/or postgresql; --sizes positive numbers")
    if not have_wrk():
        print("wrk is not installed: apt-get install -y wrk", file=sys.stderr)
        return 2
    results = []
    with tempfile.TemporaryDirectory(prefix="reportal-scale-") as tmp:
        bare_port = free_port()
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        bare_cmd = uvicorn_command(["bare_app:app", "--app-dir", str(BENCH)], bare_port,
                                   args.workers)
        with server(bare_cmd, env, bare_port, Path(tmp) / "bare.log"):
            bare = BareLimit(bare_port, args)
            for kind in kinds:
                for size in sizes:
                    result = bench(kind, size, args, bare, Path(tmp))
                    if result:
                        results.append(result)
                        print_result(result)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
