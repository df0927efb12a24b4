"""Place-search latency for a 100,000-address gazetteer, server-side (target: p95 < 30 ms).

A test portal over Boston's neighbourhoods (../shared/data) gets 100,000 address points:
Boston's real street names (from the 311 cases) with house numbers, laid along short lines
inside the area, written as an OpenAddresses CSV and loaded by `addresses.import_addresses`,
the code behind `portal places import`. Then the suggestions a resident's typing asks for
are timed: every prefix of sampled addresses from the second letter on (one request per
keystroke, the worst case: the box waits 200 ms between them), misspelt addresses,
neighbourhoods and two-street crossings. "lookup" is `find_places` alone; "http" the whole
`GET /api/places` through the app in-process (middleware, JSON, no socket).

"cpu ms" is the mean CPU a lookup costs, this process's thread plus (PostgreSQL) its server
backend: on a shared machine the wall clock also counts the neighbours' work, this does not.

    python bench/places.py [--addresses 100000] [--queries 2000] [--database-url URL | --postgres]

`--postgres` starts a throwaway PostgreSQL cluster for the run (tests/pg_cluster.py).
"""

from __future__ import annotations

import argparse
import csv
import html
import json
import math
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from shapely.geometry import Point, shape
from sqlalchemy import select, text
from starlette.testclient import TestClient

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from portal.app import create_app  # noqa: E402
from portal.core.db import Database, settle  # noqa: E402
from portal.core.migrate import upgrade  # noqa: E402
from portal.core.settings import REPO_ROOT, Settings  # noqa: E402
from portal.models import Tenant  # noqa: E402
from portal.places import addresses, backends, named_areas  # noqa: E402
from portal.tenancy import tenant_files  # noqa: E402

DATA = Path("/work/shared/data") if not (REPO.parent / "shared" / "data").is_dir() \
    else REPO.parent / "shared" / "data"


def streets() -> list[str]:
    names = set()
    with (DATA / "boston_311_open_cases_2025.csv").open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            street = " ".join(html.unescape(row["location_street_name"]).split())
            if street.startswith("INTERSECTION"):
                for part in street.removeprefix("INTERSECTION").split(" & "):
                    names.add(part.strip())
            else:
                first, _, rest = street.partition(" ")
                if rest and first[:1].isdigit():
                    names.add(rest)
    return sorted(n for n in names if n)


def write_addresses(path: Path, area, count: int, rng: random.Random) -> list[tuple]:
    """`count` address points on Boston's street names; returns (number, street) samples."""
    names = streets()
    per_street = -(-count * 13 // (10 * len(names)))  # spare numbers: some fall in the water
    min_lon, min_lat, max_lon, max_lat = area.bounds
    written, samples = 0, []
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["LON", "LAT", "NUMBER", "STREET", "UNIT", "CITY", "DISTRICT", "REGION",
                      "POSTCODE", "ID", "HASH"])
        for street in names:
            while True:  # a street starts somewhere inside the area
                lon0, lat0 = rng.uniform(min_lon, max_lon), rng.uniform(min_lat, max_lat)
                if area.covers(Point(lon0, lat0)):
                    break
            heading = rng.uniform(0, 6.283)
            for n in range(per_street):
                if written >= count:
                    break
                step = n * 0.00012  # about 10-13 m between numbers
                lon = lon0 + step * math.cos(heading)
                lat = lat0 + step * math.sin(heading)
                if not area.covers(Point(lon, lat)):
                    continue
                number = str(2 * n + 1 + (n % 2))
                out.writerow([f"{lon:.7f}", f"{lat:.7f}", number, street, "", "Boston", "",
                              "MA", "", str(written), ""])
                written += 1
                if rng.random() < 0.01:
                    samples.append((number, street))
    return samples


def queries(samples: list[tuple], hoods: list[str], names: list[str], total: int,
            rng: random.Random) -> list[tuple[str, str]]:
    """(kind, text) pairs: keystroke prefixes, misspellings, neighbourhoods, crossings."""
    out: list[tuple[str, str]] = []
    while len(out) < total:
        number, street = rng.choice(samples)
        address = f"{number} {street}"
        out += [("typing", address[:i]) for i in range(2, len(address) + 1)]
        cut = rng.randrange(len(number) + 2, len(address))
        out.append(("misspelt", address[:cut] + address[cut + 1:]))
        out.append(("neighbourhood", rng.choice(hoods)[: rng.randrange(3, 12)]))
        a, b = rng.sample(names, 2)
        out.append(("crossing", f"{a} & {b}"))
    return out[:total]


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


def backend_pid(session) -> int | None:  # noqa: ANN001 - a Session
    if session.get_bind().dialect.name != "postgresql":
        return None
    return session.scalar(text("SELECT pg_backend_pid()"))


def backend_cpu(pid: int | None) -> float:
    """CPU seconds PostgreSQL backend `pid` has used so far (0 for SQLite: none)."""
    if pid is None:
        return 0.0
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addresses", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    if args.postgres:
        from tests.pg_cluster import running_cluster

        with running_cluster() as url:
            return run(args, url)
    return run(args, args.database_url)


def run(args: argparse.Namespace, url: str) -> int:
    rng = random.Random(12)
    work = Path(tempfile.mkdtemp(prefix="places-bench-"))
    url = url or f"sqlite:///{work / 'bench.sqlite3'}"
    upgrade(url)
    db = Database(url)
    hoods_fc = json.loads((DATA / "boston_neighborhoods.geojson").read_text(encoding="utf-8"))
    area = shape({"type": "MultiPolygon", "coordinates": [
        poly for f in hoods_fc["features"] for poly in (
            f["geometry"]["coordinates"] if f["geometry"]["type"] == "MultiPolygon"
            else [f["geometry"]["coordinates"]])]}).buffer(0)
    tenants = work / "tenants"
    for kind, slug in (("bodies", "works"), ("portals", "bench")):
        folder = tenants / kind / slug
        folder.mkdir(parents=True)
        (folder / "area.geojson").write_text(json.dumps(hoods_fc))
    (tenants / "bodies" / "works" / "body.json").write_text(json.dumps({
        "name": "Works", "request_types": [{"code": "sidewalk", "name": "Sidewalk"}]}))
    (tenants / "portals" / "bench" / "portal.json").write_text(json.dumps({
        "name": "Bench", "languages": ["en"], "tile_url": ""}))
    (tenants / "portals" / "bench" / "places.geojson").write_text(json.dumps(hoods_fc))
    csv_path = work / "addresses.csv"
    samples = write_addresses(csv_path, area, args.addresses, rng)
    with db.session() as session:
        _bodies, portals = tenant_files.load_all(session, tenants, REPO_ROOT / "themes")
        named_areas.load_portal_places(session, portals[0], tenants / "portals" / "bench")
        started = time.perf_counter()
        summary = addresses.import_addresses(session, portals[0], csv_path)
        loaded = time.perf_counter() - started
    settle(db.engine, addresses.TABLES)  # as `portal places import` does
    print(f"{db.engine.dialect.name}: {summary.added} address points "
          f"({summary.outside} outside the area skipped) loaded in {loaded:.1f} s")
    hoods = [f["properties"]["name"] for f in hoods_fc["features"]]
    todo = queries(samples, hoods, streets(), args.queries, rng)

    settings = Settings(database_url=url, secret_key="bench-secret-" + "x" * 32,
                        https_only_cookies=False, base_domain="bench.test",
                        public_url="http://bench.test", media_dir=work / "media",
                        static_build_dir=work / "static", tenants_dir=tenants,
                        themes_dir=REPO_ROOT / "themes", rate_limits=False)
    app = create_app(settings)
    timings: dict[tuple[str, str], list[float]] = {}
    cpu_ms: dict[str, float] = {}
    empty = 0
    with db.session() as session:
        portal = session.scalars(select(Tenant).where(Tenant.slug == "bench")).one()
        for _kind, query in todo[:50]:  # warm the statement caches
            backends.find_places(session, portal, query, "en", typing=True)
        pid = backend_pid(session)
        for kind, query in todo:
            cpu = time.thread_time() + backend_cpu(pid)
            started = time.perf_counter()
            found = backends.find_places(session, portal, query, "en", typing=True)
            timings.setdefault(("lookup", kind), []).append(
                (time.perf_counter() - started) * 1000)
            spent = time.thread_time() + backend_cpu(pid) - cpu
            cpu_ms[kind] = cpu_ms.get(kind, 0.0) + spent * 1000
            empty += not found
    # One client for the run, as a server keeps its event loop: a client outside `with` starts
    # a thread and a loop per request, milliseconds that are the harness's, not the server's.
    with TestClient(app, base_url="http://bench.bench.test") as client:
        for kind, query in todo:
            started = time.perf_counter()
            response = client.get("/api/places", params={"q": query})
            timings.setdefault(("http", kind), []).append(
                (time.perf_counter() - started) * 1000)
            assert response.status_code == 200
    print(f"{len(todo)} queries, {empty} with no suggestion")
    print(f"{'path':<7} {'queries':<14} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} "
          f"{'cpu ms':>8}")
    cpu_ms["all"] = sum(cpu_ms.values())
    for path in ("lookup", "http"):
        rows = [(k, v) for (p, k), v in sorted(timings.items()) if p == path]
        everything = [t for _k, v in rows for t in v]
        for kind, values in [*rows, ("all", everything)]:
            cpu = f"{cpu_ms[kind] / len(values):>8.2f}" if path == "lookup" else f"{'':>8}"
            print(f"{path:<7} {kind:<14} {len(values):>5} {statistics.median(values):>8.2f} "
                  f"{pct(values, 95):>8.2f} {max(values):>8.2f} {cpu}")
    app.state.db.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
