"""Print how fast a portal's public reads are with ~10,000 real issues loaded.

Builds a throwaway SQLite database, loads the demo portals, imports the New Haven
SeeClickFix history from ../shared/data (or seeds demo issues if that folder is absent),
then times the map API, home, search and list pages in-process (Starlette TestClient, no
network). Usage: .venv/bin/python bench/portal_reads.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from starlette.testclient import TestClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from portal.app import create_app  # noqa: E402
from portal.core.migrate import upgrade  # noqa: E402
from portal.core.settings import Settings  # noqa: E402
from portal.data.demo import seed_demo_issues  # noqa: E402
from portal.data.importer import import_issues  # noqa: E402
from portal.models import Tenant  # noqa: E402
from portal.tenancy import tenant_files  # noqa: E402

CSV = ROOT.parent / "shared" / "data" / "new_haven_seeclickfix_issues_2008_2015.csv"
PATHS = [
    "/api/issues.geojson?per_page=500",
    "/api/issues.geojson?bbox=-72.94,41.29,-72.91,41.32&per_page=500",
    "/",
    "/issues?page=3",
    "/search?q=pothole",
]


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="reportal-bench-"))
    settings = Settings(database_url=f"sqlite:///{folder / 'bench.sqlite3'}",
                        media_dir=folder / "media", static_build_dir=folder / "static",
                        development=True)
    upgrade(settings.database_url)
    app = create_app(settings)
    with app.state.db.session() as session:
        tenant_files.load_all(session, settings.tenants_dir, settings.themes_dir)
        city = session.query(Tenant).filter_by(slug="new-haven").one()
        started = time.perf_counter()
        if CSV.is_file():
            summary = import_issues(session, CSV, city, on_batch=session.commit,
                                    default_type="other")
            print(f"imported {summary.imported} New Haven issues in "
                  f"{time.perf_counter() - started:.1f} s")
        else:
            print(f"{CSV} is absent: seeding demo issues instead")
            seed_demo_issues(session, settings, count_per_portal=500)
    client = TestClient(app, base_url="http://new-haven.localhost")
    print(f"{'request':66} {'bytes':>8} {'median':>9} {'p90':>9}")
    for path in PATHS:
        client.get(path)
        times = []
        for _ in range(20):
            t = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - t) * 1000)
        times.sort()
        print(f"{path:66} {len(response.content):>8} {statistics.median(times):7.1f}ms "
              f"{times[int(len(times) * 0.9) - 1]:7.1f}ms")


if __name__ == "__main__":
    main()
