"""Open311 at scale: `GET requests.json` and `.xml` answering 1,000 requests from a portal
that holds N, and `POST requests` without photos, through `portal serve` (uvicorn).

The database is loaded as bench/scale.py loads it (`scale.database` and `scale.loaded`: the
demo portals, then N synthetic issues over New Haven through the importer; `--keep DIR`
reuses a loaded one). The synthetic issues span 2019-2024, so each GET asks for a 90-day
window (the spec's most) that holds at least 1,000 of them, a different window per request,
and `_=<n>` makes every URL new. Below about 90,000 issues no 90 days hold 1,000: the GETs
then name 1,000 random ids (`service_request_id`, which overrides the range). wrk (16
connections) loads each for `--duration` seconds; the POSTs file anonymous reports with an
API key made by `portal.open311.api_keys`, each with its own fields (wrk appends a unique
`submission_key=` field, which Open311 ignores but which makes every request new, so none
is a repeat). Rate limits are off.

Target: p95 < 100 ms for the GETs.

Usage: python bench/open311.py [--sizes 100000] [--db sqlite,postgresql] [--duration 10]
       [--connections 16] [--workers 1] [--keep DIR]
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import secrets
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

import scale  # noqa: E402
from scale_http import free_port, have_wrk, server  # noqa: E402
from scale_http import request as http_request  # noqa: E402
from scale_http import wrk as run_wrk  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from portal.core import geo  # noqa: E402
from portal.core.db import Database  # noqa: E402
from portal.core.migrate import upgrade  # noqa: E402
from portal.models import Issue, IssuePortal, Tenant  # noqa: E402
from portal.open311 import api_keys  # noqa: E402

WANTED = 1000
TARGET_MS = 100
BASE = "/open311/v2"


def windows(url: str, count: int = 40) -> list[tuple[datetime, datetime]]:
    """90-day windows of the portal's issues, each holding at least `WANTED` of them."""
    db = Database(url)
    with db.session() as session:
        portal = session.scalars(select(Tenant).where(Tenant.slug == scale.scale_data.PORTAL)
                                 ).one()
        low, high = session.execute(select(func.min(IssuePortal.created_at),
                                           func.max(IssuePortal.created_at))
                                    .where(IssuePortal.tenant_id == portal.id)).one()
        found = []
        span = (high - low) - timedelta(days=90)
        for n in range(count * 5):
            start = low + span * (n / (count * 5))
            end = start + timedelta(days=90)
            held = session.scalar(select(func.count()).where(
                IssuePortal.tenant_id == portal.id, IssuePortal.created_at >= start,
                IssuePortal.created_at <= end))
            if held >= WANTED:
                found.append((start, end))
            if len(found) == count:
                break
    db.engine.dispose()
    return found


def make_key(url: str) -> str:
    db = Database(url)
    with db.session() as session:
        portal = session.scalars(select(Tenant).where(Tenant.slug == scale.scale_data.PORTAL)
                                 ).one()
        _, key = api_keys.create(session, portal, "bench/open311.py")
    db.engine.dispose()
    return key


def _uncompressed(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    try:
        conn.request("GET", path, headers={"Host": scale.PORTAL_HOST})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _w3c(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _count(url: str) -> int:
    db = Database(url)
    with db.session() as session:
        count = session.scalar(select(func.count()).select_from(Issue)) or 0
    db.engine.dispose()
    return count


def bench(kind: str, size: int, args: argparse.Namespace, tmp: Path) -> dict:
    keep = args.keep is not None
    folder = args.keep / f"{kind}-{size}" if keep else Path(tempfile.mkdtemp(dir=tmp))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\n{kind}, {size:,} issues: loading", flush=True)
    with scale.database(kind, folder, keep) as url:
        upgrade(url)
        data = scale.loaded(kind, url, size, folder, keep)
        print(f"  {data.rows:,} issues ({data.rate:,.0f} rows/s when loaded)", flush=True)
        spans = windows(url)
        if not spans:  # below ~90,000 issues: 1,000 named ids (which override the range)
            print(f"  no 90-day window holds {WANTED:,} issues: asking by service_request_id",
                  flush=True)
        low, high = data.issue_ids
        key = make_key(url)
        port = free_port()
        env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": url,
               "SECRET_KEY": secrets.token_hex(32), "HTTPS_ONLY_COOKIES": "0",
               "MEDIA_DIR": str(folder / "media"), "STATIC_BUILD_DIR": str(folder / "static"),
               "RATE_LIMITS": "0", "PUBLIC_URL": f"http://127.0.0.1:{port}"}
        rows = []
        with server(scale.portal_command(port, args.workers), env, port, folder / "log"):
            for fmt in ("json", "xml"):
                # Cold: a new query per request (windows shifted by whole seconds), so the
                # kept answers (`requests_list`) do not help; warm: one query repeated.
                if spans:
                    paths = [f"{BASE}/requests.{fmt}?" + urlencode(
                        {"start_date": _w3c(spans[k % len(spans)][0] + timedelta(seconds=k)),
                         "end_date": _w3c(spans[k % len(spans)][1] + timedelta(seconds=k))})
                        for k in range(3000)]
                else:
                    paths = [f"{BASE}/requests.{fmt}?service_request_id=" + ",".join(
                        str(i) for i in random.Random(n).sample(range(low, high + 1), WANTED))
                        for n in range(200)]
                status, body = _uncompressed(port, paths[0])
                if status != 200:
                    raise RuntimeError(f"GET {paths[0]} answered {status}: {body[:300]!r}")
                answered = body.count(b'"service_request_id"') if fmt == "json" else \
                    body.count(b"<service_request_id>")
                if answered != WANTED:
                    raise RuntimeError(f"GET {paths[0]} gave {answered} requests, not {WANTED}")
                # what wrk receives: compressed as for any client that accepts it
                _, sent = http_request(port, paths[1], scale.PORTAL_HOST)
                for mode, chosen, connections in (("cold", paths[2:], args.connections),
                                                  ("cold", paths[2:], 1),
                                                  ("warm", paths[:1], args.connections)):
                    run = run_wrk(port, scale.PORTAL_HOST, chosen, bust=False,
                                  duration=args.duration, connections=connections)
                    rows.append({"read": f"GET requests.{fmt}", "mode": mode,
                                 "connections": connections, "n_items": answered,
                                 "kb": len(sent) / 1024, "raw_kb": len(body) / 1024, "run": run,
                                 "target": f"p95 < {TARGET_MS} ms",
                                 "result": "PASS" if run.requests and not run.errors
                                 and run.p95 < TARGET_MS else "MISS"})
                    print(f"  requests.{fmt} {mode} x{connections}: p95 {run.p95:.1f} ms, "
                          f"{run.rps:,.1f} req/s", flush=True)
            lat, lon = geo.centre(data.area)
            body = None
            for code in ("pothole", "streetlight", "graffiti", "other", "sidewalk"):
                fields = urlencode({"api_key": key, "service_code": code, "lat": f"{lat:.6f}",
                                    "long": f"{lon:.6f}",
                                    "description": "Bench: hydrant leaking on the corner"})
                status, answer = http_request(port, f"{BASE}/requests.json", scale.PORTAL_HOST,
                                              "POST", fields + "&n=probe")
                if status == 201:
                    body = fields
                    break
            if body is None:
                raise RuntimeError(f"no service took a report at the centre: {answer[:300]!r}")
            before = _count(url)
            run = run_wrk(port, scale.PORTAL_HOST, [f"{BASE}/requests.json"], bust=False,
                          duration=args.duration, connections=args.connections, body=body,
                          run_id=secrets.token_hex(4))
            filed = _count(url) - before
            rows.append({"read": "POST requests.json", "mode": "-",
                         "connections": args.connections, "n_items": filed, "kb": 0,
                         "raw_kb": len(body) / 1024, "run": run, "target": "-", "result": "-"})
            print(f"  POST: {filed:,} filed, {run.rps:,.1f} req/s", flush=True)
    return {"db": kind, "size": data.rows, "workers": args.workers, "rows": rows}


FORMAT = "{:<19} {:<5} {:>5} {:>6} {:>7} {:>6} {:>8} {:>8} {:>8} {:>8} {:>6} {:>4}  {:<14} {}"


def print_result(result: dict) -> None:
    print(f"\n== Open311, {result['db']}, {result['size']:,} issues, "
          f"{result['workers']} worker(s) ==")
    print(FORMAT.format("request", "mode", "conns", "items", "raw KB", "KB", "p50 ms", "p95 ms",
                        "p99 ms", "req/s", "n", "err", "target", ""))
    for row in result["rows"]:
        run = row["run"]
        print(FORMAT.format(row["read"], row["mode"], row["connections"], f"{row['n_items']:,}",
                            f"{row['raw_kb']:.0f}", f"{row['kb']:.0f}",
                            f"{run.p50:.1f}", f"{run.p95:.1f}", f"{run.p99:.1f}",
                            f"{run.rps:,.1f}", run.requests, run.errors, row["target"],
                            row["result"]))
    print("(items: requests per GET answer, or reports filed during the POST run; raw KB "
          "uncompressed, KB as sent with Accept-Encoding: br)")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--sizes", default="100000")
    p.add_argument("--db", default="sqlite")
    p.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--keep", type=Path, help="keep (and reuse) the loaded databases here")
    args = p.parse_args()
    if not have_wrk():
        print("wrk is not installed: apt-get install -y wrk", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="reportal-open311-") as tmp:
        for kind in args.db.split(","):
            for size in (int(s) for s in args.sizes.split(",")):
                print_result(bench(kind.strip(), size, args, Path(tmp)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
