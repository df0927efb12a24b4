"""Issue 13's layout matrix: every page type on a phone (390x844) and a desktop (1280x800), in
English and in Arabic (right to left), on a throttled connection (400 kbps, 400 ms).

Each page must not scroll sideways, must keep its header one bar (at most 64 px) on the phone,
must not move while it loads (summed layout shift at most 0.05) and must pass axe's WCAG 2.2 AA
rules with no serious or critical finding. One browser context per size and direction visits
every page, so the assets load once per context, as they would for a resident; every page's
screenshot goes to test-output/layout/, and the English desktop home page, signed out, is the
README's (readme-home.png, copied to tests/screenshots/portal-home.png when the look changes).
"""

from __future__ import annotations

import time

from portal.data.demo import seed_demo_issues
from portal.tenancy import tenant_files
from tests.browser.conftest import OUTPUT, LiveServer, _only_loopback, axe_violations
from tests.browser.layout_checks import (
    header_height,
    layout_shift,
    sideways_overflow,
    throttle,
    watch_layout_shift,
)
from tests.staff_support import grant, last_link

PORTAL = "new-haven"
STAFF = "crew@demo.test"
SIZES = {"phone": (390, 844), "desktop": (1280, 800)}
MAX_SHIFT = 0.05
MAX_PHONE_HEADER = 64


def _pages(issue_id: int) -> list[tuple[str, str, str | None]]:
    """(name, path, a selector that says the page's script has drawn it)."""
    return [
        ("home", "/", "#map[data-loaded]"),
        ("report", "/report", "#report-map.leaflet-container"),
        ("issue", f"/issues/{issue_id}", "#issue-map.leaflet-container"),
        ("list", "/issues", None),
        ("watch", "/watch", None),
        ("dashboard", "/dashboard", None),
        ("announcements", "/announcements", None),
        ("signin", "/signin", None),
        ("staff-queue", "/staff/queue", None),
    ]


# Where things are on the line, as a reader sees them (x of the right edge, CSS px): in Arabic
# the line reads from the right, so what comes first in the text must be furthest right.
RIGHT_EDGES = """sel => [...document.querySelectorAll(sel)]
  .map(e => e.getBoundingClientRect().right)"""
MINUS_BEFORE_DIGITS = """sel => {
  const box = document.querySelector(sel), text = box.firstChild, at = text.data.indexOf("-");
  if (at < 0) return null;
  const rect = i => { const r = document.createRange(); r.setStart(text, i); r.setEnd(text, i + 1);
                      return r.getBoundingClientRect(); };
  return rect(at).left < rect(at + 1).left;
}"""


def _arabic_reads_right(page, name: str) -> list[str]:  # noqa: ANN001
    """Issue 13's scrambled examples, checked where they appear on the Arabic pages."""
    wrong = []
    if name == "home":
        # "Accessibility barrier · 2 weeks ago · 0 votes": type, then date, then votes, leftwards.
        meta = "#issue-list .issue-item:first-child .issue-meta"
        edges = page.evaluate(RIGHT_EDGES,
                              f"{meta} > bdi:first-child, {meta} > time, {meta} > .votes")
        if len(edges) != 3 or not edges[0] > edges[1] > edges[2]:
            wrong.append(f"list line parts out of order: {edges}")
    if name == "issue":
        if page.evaluate(MINUS_BEFORE_DIGITS, ".facts bdi[dir=ltr]") is False:
            wrong.append("the longitude's minus sign is not before its digits")
        if page.get_attribute(".issue-description", "dir") != "auto":
            wrong.append("the description does not take its own direction")
        # History: the author's name first (right), then the time (left of it).
        line = ".update:first-child .issue-meta"
        edges = page.evaluate(RIGHT_EDGES, f"{line} > bdi, {line} > time")
        if len(edges) != 2 or not edges[0] > edges[1]:
            wrong.append(f"history line out of order: {edges}")
    if name == "report":
        page.fill("#lon", "-72.929306")
        if page.evaluate("getComputedStyle(document.querySelector('#lon')).direction") != "ltr":
            wrong.append("the longitude field is not left to right")
        page.fill("#lon", "")
    return wrong


def _sign_in(page, base: str, db) -> None:  # noqa: ANN001
    page.goto(f"{base}/signin")
    page.fill("#signin-email", STAFF)
    page.locator("form[action$='/signin'] button[type=submit]").click()
    page.wait_for_load_state()
    _, token = last_link(db, STAFF)
    page.goto(f"{base}/signin/confirm?token={token}")
    page.click("#finish-signin")
    page.wait_for_url("**/staff")


def _readme_screenshot(page, base: str) -> list[str]:  # noqa: ANN001
    """The README's picture: the home page as a resident sees it, signed out (no staff
    links), with the language menu open so its Chinese, Korean and Arabic names show in real
    glyphs (fonts-noto-cjk and the Noto Arabic fonts; a missing font draws boxes)."""
    page.goto(f"{base}/?lang=en")
    page.wait_for_selector("#map[data-loaded]")
    page.wait_for_load_state("networkidle")
    wrong = []
    if page.locator(".site-header a[href$='/staff']").count():
        wrong.append("readme: the signed-out home page links to the staff area")
    page.locator(".lang-menu summary").click()
    names = page.locator(".lang-menu").inner_text()
    if not all(name in names for name in ("中文", "한국어", "العربية")):
        wrong.append(f"readme: language menu lacks CJK or Arabic names: {names!r}")
    page.screenshot(path=str(OUTPUT / "layout" / "readme-home.png"))
    page.locator(".lang-menu summary").click()
    return wrong


def test_every_page_type_fits_holds_still_and_passes_axe_on_phone_and_desktop_in_en_and_ar(
        app, db, settings, browser):
    with db.session() as s:
        tenant_files.load_all(s, settings.tenants_dir, settings.themes_dir)
        seed_demo_issues(s, settings, count_per_portal=15)
        s.commit()
    grant(db, STAFF, "staff", body="nhv-public-works")
    app.state.tenants.clear()
    out = OUTPUT / "layout"
    out.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    timings: list[str] = []
    issue_id = None
    with LiveServer(app) as server:
        base = f"{server.url}/t/{PORTAL}"
        for size, (width, height) in SIZES.items():
            for lang in ("en", "ar"):
                started = time.monotonic()
                context = browser.new_context(viewport={"width": width, "height": height})
                context.route("**/*", _only_loopback)
                watch_layout_shift(context)
                page = context.new_page()
                errors: list[str] = []
                page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
                if size == "desktop" and lang == "en":
                    problems += _readme_screenshot(page, base)
                _sign_in(page, base, db)
                if issue_id is None:  # the newest issue on the portal's list
                    page.goto(f"{base}/issues")
                    href = page.locator(".issue-item a").first.get_attribute("href")
                    issue_id = int(href.rstrip("/").rsplit("/", 1)[1])
                throttle(page)
                for name, path, drawn in _pages(issue_id):
                    where = f"{size}/{lang}/{name}"
                    response = page.goto(f"{base}{path}?lang={lang}", wait_until="load")
                    if name == "announcements" and response.status == 404:
                        continue  # not every build has the announcements page yet
                    assert response.ok, (where, response.status)
                    if drawn:
                        page.wait_for_selector(drawn)
                    page.wait_for_load_state("networkidle")
                    direction = "rtl" if lang == "ar" else "ltr"
                    if page.evaluate("document.documentElement.dir") != direction:
                        problems.append(f"{where}: wrong direction")
                    if (over := sideways_overflow(page)) > 0:
                        problems.append(f"{where}: scrolls sideways by {over} px")
                    if size == "phone" and (h := header_height(page)) > MAX_PHONE_HEADER:
                        problems.append(f"{where}: header {h:.0f} px tall")
                    shift, shifts = layout_shift(page)
                    if shift > MAX_SHIFT:
                        problems.append(f"{where}: layout shift {shift:.3f}: {shifts}")
                    if lang == "ar":
                        problems += [f"{where}: {w}" for w in _arabic_reads_right(page, name)]
                    if name == "home":
                        # The list the map script redraws keeps its votes and dates.
                        items = page.locator("#issue-list .issue-item").count()
                        kept = page.locator("#issue-list .issue-item .votes").count()
                        dated = page.locator("#issue-list .issue-item time").count()
                        if not items or kept != items or dated != items:
                            problems.append(f"{where}: {items} issues listed, {kept} with votes,"
                                            f" {dated} dated")
                    if name == "dashboard" and size == "phone":
                        label = page.evaluate("document.querySelector('.chart-label')"
                                              ".getBoundingClientRect().height")
                        if label < 11:
                            problems.append(f"{where}: chart labels {label:.1f} px tall")
                    page.screenshot(path=str(out / f"{name}-{size}-{lang}.png"))
                    if found := axe_violations(page):
                        problems.append(f"{where}: axe {found}")
                if errors:
                    problems.append(f"{size}/{lang}: script errors {errors}")
                context.close()
                timings.append(f"{size}/{lang} {time.monotonic() - started:.1f}s")
    print("layout matrix:", ", ".join(timings))
    assert problems == [], "\n".join(problems)
