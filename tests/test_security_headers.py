"""The security headers of every kind of page, over http and https.

Every response: a CSP without `unsafe-inline`, `nosniff`, a Referrer-Policy and a
Permissions-Policy. HTML pages: `frame-ancestors` (`'self'`, or the portal's embedding origins
on widget pages). Private pages (staff, account, sign-in, watch management and private feeds,
unsubscribe) are `Cache-Control: no-store`; public ones are not. HSTS only over https.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from portal.engagement import watching
from portal.mail import unsubscribe
from portal.models import Issue
from tests.factories import file_report, jpeg_bytes
from tests.factories import tenant as tenant_row
from tests.staff_support import grant, last_link, request_link, sign_in

EMBED_ORIGIN = "http://127.0.0.2:8766"
HSTS = "max-age=31536000; includeSubDomains"


@dataclass
class Site:
    """A signed-in staff member's browser and an anonymous one, with every kind of page."""

    staff: TestClient
    anonymous: TestClient
    public: dict[str, str]
    private: dict[str, str]


def _arrange(app, db, settings, scheme: str) -> Site:  # noqa: ANN001
    base = f"{scheme}://northside.reportal.test"
    staff = TestClient(app, base_url=base, follow_redirects=False)
    anonymous = TestClient(app, base_url=base, follow_redirects=False)
    grant(db, "all@city.test", "staff", body="city-works")
    grant(db, "all@city.test", "admin", portal="northside")
    sign_in(staff, db, "all@city.test")
    with db.session() as s:
        issue = file_report(s, "northside", 1.5, 1.0, title="Deep hole",
                            media_dir=settings.media_dir, photo=jpeg_bytes())
        portal = tenant_row(s, "northside")
        watch = watching.create_watch(s, portal, watching.WatchForm(
            email="watcher@example.org", kind="circle", lat="1.5", lon="1.0"),
            settings.secret_key)
        confirm = watching.confirm_token(settings.secret_key, watch)
        watching.confirm_watch(s, portal, confirm, settings.secret_key)
        feed_token = watch.feed_token
    with db.session() as s:
        photo = s.scalars(select(Issue.photo).where(Issue.id == issue.id)).one()
    request_link(anonymous, "someone@example.org")
    _, signin_token = last_link(db, "someone@example.org")
    stop = unsubscribe.make_token(settings.secret_key, "watcher@example.org", "all")
    static = app.state.templates.manifest["js/map.js"]
    public = {
        "home": "/", "list": "/issues", "issue": f"/issues/{issue.id}", "report": "/report",
        "search": "/search?q=hole", "dashboard": "/dashboard", "leaderboard": "/leaderboard",
        "watch form": "/watch",
        "map widget": "/w/northside/map", "report widget": "/w/northside/report",
        "announcements widget": "/w/northside/announcements",
        "not found": "/no-such-page", "feed": "/feed.atom",
        "announcements feed": "/announcements.atom", "api": "/api/issues.geojson",
        "api area": "/api/area.geojson", "api types": "/api/request-types?lat=1.5&lon=1.0",
        "csv export": "/exports/issues.csv", "geojson export": "/exports/issues.geojson",
        "static": f"/static/{static}", "media": f"/media/{photo}.jpg",
        "theme": "/theme.css", "loader": "/embed.js",
    }
    private = {
        "sign-in form": "/signin", "account": "/account", "staff home": "/staff",
        "staff queue": "/staff/queue",
        "staff issue": f"/staff/issues/{issue.id}", "moderation": "/staff/moderation",
        "announcements": "/staff/announcements", "widget snippets": "/staff/widgets",
        "sign-in confirmation": f"/signin/confirm?token={signin_token}",
        "watch management": f"/watch/confirm/{confirm}",
        "watch feed": f"/watch/{feed_token}/feed.atom",
        "unsubscribe": f"/unsubscribe/{stop}",
    }
    return Site(staff, anonymous, public, private)


@pytest.fixture(params=["http", "https"])
def site(request, app, db, settings, world) -> Site:  # noqa: ANN001
    return _arrange(app, db, settings, request.param)


def _common(response, path: str) -> None:  # noqa: ANN001
    csp = response.headers.get("content-security-policy", "")
    assert csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp, path
    assert response.headers["x-content-type-options"] == "nosniff", path
    assert response.headers["referrer-policy"], path
    assert "camera=()" in response.headers["permissions-policy"], path
    if response.headers.get("content-type", "").startswith("text/html"):
        ancestors = re.search(r"frame-ancestors ([^;]*)", csp)
        assert ancestors, path
        expected = f"'self' {EMBED_ORIGIN}" if path.startswith("/w/") else "'self'"
        assert ancestors.group(1).strip() == expected, path
    https = str(response.url).startswith("https://")
    assert response.headers.get("strict-transport-security") == (HSTS if https else None), path


def test_every_public_page_has_the_headers_and_may_be_cached(site):
    for name, path in site.public.items():
        for browser in (site.anonymous, site.staff):
            response = browser.get(path)
            expected = 404 if name == "not found" else 200
            assert response.status_code == expected, (name, response.status_code)
            _common(response, path)
            assert "no-store" not in response.headers.get("cache-control", ""), name


def test_every_private_page_has_the_headers_and_is_never_stored(site):
    for name, path in site.private.items():
        response = site.staff.get(path)
        assert response.status_code == 200, (name, response.status_code)
        _common(response, path)
        assert response.headers.get("cache-control") == "no-store", name


def test_private_pages_are_not_stored_when_refused_or_redirected_either(site):
    for path in ("/account", "/staff", "/staff/queue", "/watch/nope/feed.atom",
                 "/unsubscribe/nope", "/signin/confirm?token=nope"):
        response = site.anonymous.get(path)
        assert response.status_code in (303, 400, 403, 404), path
        assert response.headers.get("cache-control") == "no-store", path
        _common(response, path)


def test_private_pages_behind_a_portal_prefix_are_not_stored(app, db, world):
    browser = TestClient(app, base_url="https://reportal.test", follow_redirects=False)
    assert browser.get("/t/northside/account").headers["cache-control"] == "no-store"
    assert browser.get("/t/northside/staff").headers["cache-control"] == "no-store"
    home = browser.get("/t/northside/")
    assert home.status_code == 200 and "no-store" not in home.headers.get("cache-control", "")
    assert home.headers["strict-transport-security"] == HSTS
