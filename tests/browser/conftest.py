"""Browser fixtures: a live server in a thread, Debian's Chromium through Playwright, axe-core.

Chromium is `/usr/bin/chromium` (package `chromium`, installed by `make test`), never a
Playwright download. Requests to anything but loopback are aborted, so no test ever fetches
a map tile or reaches the network.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, sync_playwright

from portal.core.settings import REPO_ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-quic",
                 "--disable-sync"]
AXE = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"
OUTPUT = REPO_ROOT / "test-output"
LOOPBACK = ("127.0.0.1", "127.0.0.2", "localhost")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class LiveServer:
    """Uvicorn serving an ASGI app on a thread, for as long as a test needs it."""

    def __init__(self, app, host: str = "127.0.0.1") -> None:  # noqa: ANN001
        self.host, self.port = host, free_port(host)
        config = uvicorn.Config(app, host=host, port=self.port, log_level="warning",
                                lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("live server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def live_server(app, world) -> Iterator[LiveServer]:  # noqa: ANN001
    """The test app with the test world, served on 127.0.0.1; portals at /t/{slug}/."""
    with LiveServer(app) as server:
        yield server


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: apt-get install -y chromium (make test does this)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _only_loopback(route) -> None:  # noqa: ANN001
    host = route.request.url.split("/")[2].split(":")[0]
    if host in LOOPBACK or host.endswith(".localhost"):
        route.continue_()
    else:
        route.abort()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.route("**/*", _only_loopback)
    pg = context.new_page()
    pg.errors = []  # type: ignore[attr-defined]
    pg.on("pageerror", lambda exc: pg.errors.append(str(exc)))  # type: ignore[attr-defined]
    yield pg
    context.close()


# WCAG 2.2 AA and everything before it, plus axe's best practices (its defaults): target-size
# (24 by 24 px) is a 2.2 rule that axe's defaults leave out.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def axe_violations(page: Page, impacts: tuple[str, ...] = ("serious", "critical")) -> list[dict]:
    """Run axe-core inside the page (or a frame) and return the serious/critical violations."""
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        "async (tags) => { const r = await axe.run(document, {resultTypes: ['violations'],"
        " runOnly: {type: 'tag', values: tags}});"
        " return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)})); }", AXE_TAGS
    )
    return [v for v in result if v["impact"] in impacts]


def screenshot(page: Page, name: str) -> Path:
    OUTPUT.mkdir(exist_ok=True)
    path = OUTPUT / name
    page.screenshot(path=str(path), full_page=False)
    return path
