"""How heavy and how quick the embeddable widgets are. Prints figures; not a test.

    .venv/bin/python bench/widget_weight.py [--tenant register] [--runs 3]

- `embed.js`: raw, gzip and brotli bytes of what /embed.js serves.
- Per widget: bytes transferred (compressed, headers included) from the host page's first
  request to the portal until the widget is interactive (its frame said "ready"; for the map,
  its pins have loaded), map tiles excluded (requests off this machine are aborted), in a cold
  browser cache; and the time from the host page starting to load to the frame's "ready".

The portal runs on 127.0.0.1 with the demo portals and demo issues in a throwaway SQLite
database; the host page is served from 127.0.0.2 and holds the snippet the generator writes,
with the widget in the first screen. Static files are the pre-compressed build WhiteNoise
serves (brotli or gzip, as the browser asks); HTML is sent uncompressed, as the app sends it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from playwright.sync_api import sync_playwright  # noqa: E402
from sqlalchemy import select  # noqa: E402

from portal.app import create_app  # noqa: E402
from portal.core.localized import localized  # noqa: E402
from portal.core.migrate import upgrade  # noqa: E402
from portal.core.settings import Settings  # noqa: E402
from portal.data.demo import seed_demo_issues  # noqa: E402
from portal.models import Tenant  # noqa: E402
from portal.tenancy import tenant_files  # noqa: E402
from portal.web import static_build  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, LiveServer  # noqa: E402
from tests.browser.host_site import HostSite  # noqa: E402
from widgets import loader, snippets  # noqa: E402

VERBOSE = "--verbose" in sys.argv
TARGETS = {"map": 70 * 1024, "report": 30 * 1024, "announcements": 15 * 1024}
READY = "window.__ready = null; addEventListener('message', e => { if (e.data && " \
        "e.data.reportal === 1 && e.data.type === 'ready' && window.__ready === null) " \
        "window.__ready = performance.now(); });"


def portal_settings(folder: Path) -> Settings:
    return Settings(database_url=f"sqlite:///{folder / 'bench.sqlite3'}", development=True,
                    media_dir=folder / "media", static_build_dir=folder / "static",
                    rate_limits=False)


def prepare(settings: Settings, slug: str, host_origin: str) -> str:
    """Demo portals and issues; the host site may embed `slug`. Returns the portal's name."""
    upgrade(settings.database_url)
    static_build.build(settings.static_build_dir)
    app = create_app(settings)
    with app.state.db.session() as session:
        tenant_files.load_all(session, settings.tenants_dir, settings.themes_dir)
        seed_demo_issues(session, settings)
        portal = session.scalars(select(Tenant).where(Tenant.slug == slug)).one()
        portal.embed_origins = [host_origin]
        name = localized(portal.name, portal.default_language, portal.default_language)
    app.state.db.engine.dispose()
    return name


def measure(browser, server: LiveServer, site: HostSite, slug: str, name: str,  # noqa: ANN001
            kind: str) -> tuple[int, int, set[str], float]:
    options, _ = snippets.parse_options(slug, {"kind": kind}, [])
    snippet = snippets.build_snippet(options, server.url, f"{server.url}/t/{slug}", name,
                                     loader.current())
    url = site.article(f"/{kind}.html", snippet.full, before="short")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.route("**/*", lambda route: route.continue_()
                  if route.request.url.split("/")[2].split(":")[0] in ("127.0.0.1", "127.0.0.2")
                  else route.abort())
    page = context.new_page()
    page.add_init_script(READY)
    finished: list = []
    page.on("requestfinished", lambda request: finished.append(request))
    page.goto(url)
    page.wait_for_function("window.__ready !== null", timeout=20_000)
    ready_ms = page.evaluate("window.__ready")
    frame = next(f for f in page.frames if f"/w/{slug}/{kind}" in f.url)
    # Interactive: the frame said "ready" and has loaded; the map has its pins too.
    frame.wait_for_load_state("load")
    if kind == "map":
        frame.wait_for_selector("#map[data-loaded]", state="attached", timeout=20_000)
    page.wait_for_timeout(300)  # let the last responses be counted
    total, count, encodings = 0, 0, set()
    for request in list(finished):
        if not request.url.startswith(server.url) or request.url.endswith("/embed.js"):
            continue
        sizes = request.sizes()
        total += sizes["responseBodySize"] + sizes["responseHeadersSize"]
        if VERBOSE:
            print(f"    {sizes['responseBodySize']:>8} B  {request.url[len(server.url):][:90]}")
        count += 1
        response = request.response()
        if response is not None and "/static/" in request.url:
            encodings.add(response.headers.get("content-encoding", "identity"))
    context.close()
    return total, count, encodings, ready_ms


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tenant", default="register", help="demo portal to embed")
    parser.add_argument("--runs", type=int, default=3, help="runs per widget (median shown)")
    parser.add_argument("--verbose", action="store_true", help="list every response")
    args = parser.parse_args(argv)

    build = loader.current()
    print(f"embed.js: {len(build.body)} B raw, {len(build.gzip)} B gzip, "
          f"{len(build.brotli)} B brotli (target: at most 1,024 B gzipped)")
    with tempfile.TemporaryDirectory() as tmp, HostSite() as site:
        settings = portal_settings(Path(tmp))
        name = prepare(settings, args.tenant, site.origin)
        app = create_app(settings)
        with LiveServer(app) as server, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                        args=CHROMIUM_ARGS)
            print(f"\nportal {args.tenant!r} at {server.url}, host page at {site.origin}, "
                  f"median of {args.runs} cold-cache runs; 1 KB = 1,024 B")
            print(f"{'widget':<14} {'transferred':>12} {'requests':>9} {'static encoding':>16}"
                  f" {'snippet→ready':>14} {'target':>9}")
            for kind in ("map", "report", "announcements"):
                runs = [measure(browser, server, site, args.tenant, name, kind)
                        for _ in range(args.runs)]
                size = statistics.median(r[0] for r in runs)
                ready = statistics.median(r[3] for r in runs)
                encodings = ",".join(sorted(set().union(*(r[2] for r in runs))))
                verdict = "ok" if size <= TARGETS[kind] else "OVER"
                print(f"{kind:<14} {size / 1024:>9.1f} KB {runs[0][1]:>9} {encodings:>16}"
                      f" {ready:>11.0f} ms {TARGETS[kind] // 1024:>5} KB {verdict}")
            browser.close()
        app.state.db.engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
