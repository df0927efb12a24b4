"""Shared public pages: kept per process, and never once out of date or someone else's."""

from __future__ import annotations

from sqlalchemy import select

from portal.middleware.page_cache import Page, PageCache
from portal.models import Issue, Tenant
from portal.staff import moderation
from tests.factories import file_report
from tests.http_support import KEY
from tests.staff_support import grant, sign_in


def _report(db, title: str, lat: float = 1.5) -> int:  # noqa: ANN001
    with db.session() as s:
        return file_report(s, "northside", lat, 1.0, title=title).id


def test_a_second_visit_is_served_from_the_cache_and_a_new_report_shows_at_once(client, app, db):
    _report(db, "Hole on Main")
    cache = app.state.page_cache
    client.get("/")  # finds out that the home page is a shared page
    first = client.get("/")  # rendered, and kept
    hits = cache.hits
    again = client.get("/")
    assert cache.hits == hits + 1
    assert again.text == first.text and "Hole on Main" in again.text
    assert again.headers["content-security-policy"] == first.headers["content-security-policy"]
    _report(db, "Streetlight out on Elm")
    after = client.get("/").text
    assert "Streetlight out on Elm" in after and "2 issues" in after


def test_what_a_moderator_hides_is_never_served_again(client, db):
    issue_id = _report(db, "Offensive words here")
    for _ in range(3):  # the last from the cache
        assert "Offensive words here" in client.get("/issues").text
    with db.session() as s:
        issue = s.get(Issue, issue_id)
        tenant = s.scalars(select(Tenant).where(Tenant.slug == "northside")).one()
        moderation.hide_issue(s, issue, tenant, None, "Abusive")
    assert "Offensive words here" not in client.get("/issues").text
    assert "Offensive words here" not in client.get("/").text


MAP = "/api/issues.geojson?bbox=0.5,0.5,2,2&zoom=12"


def test_the_map_api_is_answered_from_the_cache_with_a_304_for_an_etag_held(client, app, db):
    _report(db, "Hole on Main")
    client.get(MAP)
    first = client.get(MAP)  # rendered, and kept
    hits = app.state.page_cache.hits
    held = client.get(MAP, headers={"if-none-match": first.headers["etag"]})
    other = client.get(MAP, headers={"if-none-match": '"not-this-one"'})
    assert app.state.page_cache.hits == hits + 2
    assert held.status_code == 304 and held.content == b""
    assert held.headers["etag"] == first.headers["etag"]
    assert "content-length" not in held.headers or held.headers["content-length"] == "0"
    assert other.status_code == 200 and other.content == first.content
    assert "Hole on Main" in other.text
    _report(db, "Streetlight out on Elm")  # a new version: the ETag held is stale
    fresh = client.get(MAP, headers={"if-none-match": first.headers["etag"]})
    assert fresh.status_code == 200 and "Streetlight out on Elm" in fresh.text


def test_a_signed_in_visitor_gets_their_own_page(client, app, db):
    _report(db, "Hole on Main")
    for _ in range(3):
        client.get("/")  # the anonymous page is kept, and served
    grant(db, "ana@example.org", "moderator", portal="northside")
    sign_in(client, db, "ana@example.org")
    hits = app.state.page_cache.hits
    page = client.get("/").text
    assert app.state.page_cache.hits == hits
    assert "Your account" in page and ">Sign in<" not in page


def test_each_language_has_its_own_page(client):
    english = client.get("/", headers={"accept-language": "en"}).text
    spanish = client.get("/", headers={"accept-language": "es"}).text
    assert 'lang="en"' in english and 'lang="es"' in spanish
    assert 'lang="es"' in client.get("/", headers={"accept-language": "es"}).text
    assert 'lang="en"' in client.get("/", headers={"accept-language": "en"}).text


def test_the_report_form_is_never_shared(client):
    keys = {KEY.search(client.get("/report?lat=1.5&lon=1.0").text).group(1) for _ in range(3)}
    assert len(keys) == 3  # each visitor's submission key is their own


def test_relative_times_are_rendered_again_each_minute(app, client, monkeypatch):  # noqa: ANN001
    import portal.middleware.page_cache as page_cache

    monkeypatch.setattr(page_cache.PageCacheMiddleware, "LEARN_FOR", 3600.0)
    for _ in range(3):
        client.get("/")
    cache = app.state.page_cache
    hits = cache.hits
    client.get("/")
    assert cache.hits == hits + 1  # the same minute
    real = page_cache.time.time
    monkeypatch.setattr(page_cache.time, "time", lambda: real() + 60)
    client.get("/")
    assert cache.hits == hits + 1  # a new minute: rendered again


def test_a_page_of_another_portal_is_never_served_on_this_one(app, client, db):  # noqa: ANN001
    from tests.conftest import client_for

    _report(db, "Northside only", lat=2.5)  # north of riverside
    riverside = client_for(app, "riverside.reportal.test")
    for _ in range(3):
        assert "Northside only" in client.get("/issues").text
    assert "Northside only" not in riverside.get("/issues").text


def test_the_cache_keeps_to_its_budget_dropping_the_least_recently_used():
    cache = PageCache(budget=250)
    for n in range(3):
        cache.put(("page", n), Page(200, [], b"x" * 100))
    assert cache.get(("page", 0)) is None  # 300 bytes would pass the budget: the oldest went
    assert cache.get(("page", 1)) is not None and cache.get(("page", 2)) is not None
    assert cache.used == 200
    cache.get(("page", 1))
    cache.put(("page", 3), Page(200, [], b"y" * 100))
    assert cache.get(("page", 2)) is None and cache.get(("page", 1)) is not None
