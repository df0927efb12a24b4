"""A setting saved through one process is served by every other from its next request on.

Two `create_app` objects on one database are two processes' worth of state: each has its own
tenant cache and page cache. Nothing here moves a clock: "at once" means the very next request
(`portal.tenancy.settings_stamp`).
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import delete, event, select, update
from starlette.testclient import TestClient

from portal.app import create_app
from portal.models import Body, RequestType, SettingsStamp, Tenant, TenantHost, Vote
from portal.tenancy import settings_stamp
from tests.factories import file_report, tenant

NORTH = "http://northside.example.test"
LOGO = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">'
        '<rect width="10" height="10" fill="#123456"/></svg>')


@pytest.fixture
def apps(settings, db, world):  # noqa: ANN001, ANN201
    """The process an operator saves through, and another one serving visitors."""
    pair = create_app(settings), create_app(settings)
    yield pair
    for app in pair:
        app.state.db.engine.dispose()


def _visitor(app, base: str = NORTH) -> TestClient:  # noqa: ANN001
    return TestClient(app, base_url=base, follow_redirects=False)


def _warm(client: TestClient, path: str = "/") -> str:
    """The page until it is answered from the page cache (the first answer teaches the cache
    the page is shared, the second is kept, the third is the kept one)."""
    client.get(path)
    client.get(path)
    hits = client.app.state.page_cache.hits
    page = client.get(path)
    assert page.status_code == 200 and client.app.state.page_cache.hits == hits + 1
    return page.text


def _stamp(db) -> int:  # noqa: ANN001
    with db.connection() as connection:
        return settings_stamp.current(connection)


def test_a_renamed_portal_shows_on_the_other_process_at_once(apps, db):
    first, second = apps
    visitor = _visitor(second)
    assert "Northside Portal" in _warm(visitor) and "Northside Portal" in _warm(visitor, "/issues")
    with first.state.db.session() as s:
        portal = tenant(s, "northside")
        portal.name = {**portal.name, "en": "Northside Neighbours"}
    for path in ("/", "/issues"):
        page = visitor.get(path).text
        assert "Northside Neighbours" in page and "Northside Portal" not in page
    assert "Northside Neighbours" in _warm(visitor)  # and the new page is kept in turn


def _stylesheet_link(page: str) -> str:
    found = re.search(r'<link rel="stylesheet" href="(/theme\.css\?v=[0-9a-f]+)">', page)
    assert found, "the page links its portal's stylesheet"
    return found.group(1)


def test_a_new_brand_colour_is_served_by_the_other_process_at_once(apps, db):
    """The page links the stylesheet under a new URL, so a browser that kept the old one for
    its minutes asks again; and that URL, and only it, is kept a year."""
    first, second = apps
    visitor = _visitor(second)
    before = _stylesheet_link(_warm(visitor))
    assert "immutable" in visitor.get(before).headers["cache-control"]
    with first.state.db.session() as s:
        portal = tenant(s, "northside")
        portal.tokens = {**portal.tokens, "color-primary": "#7a1f5c"}
    after = _stylesheet_link(visitor.get("/").text)
    assert after != before
    sheet = visitor.get(after)
    assert "--rp-color-primary:#7a1f5c" in sheet.text
    assert "immutable" in sheet.headers["cache-control"]
    old = visitor.get(before)  # an old page's link: today's colours, for minutes only
    assert "#7a1f5c" in old.text and old.headers["cache-control"] == "public, max-age=300"


def test_a_new_logo_gets_a_new_address_on_every_page(apps, db):
    first, second = apps
    visitor = _visitor(second)
    _warm(visitor)
    with first.state.db.session() as s:
        tenant(s, "northside").logo_svg = LOGO
    found = re.search(r'<img class="brand-logo" src="(/logo\.svg\?v=[0-9a-f]+)"',
                      visitor.get("/").text)
    assert found and visitor.get(found.group(1)).text == LOGO


def test_host_names_added_moved_and_removed_answer_at_once(apps, db):
    first, second = apps
    new_name = _visitor(second, "http://north.example.test")
    assert new_name.get("/").status_code == 404  # and that "not found" is held
    with first.state.db.session() as s:
        s.add(TenantHost(tenant_id=tenant(s, "northside").id, host="north.example.test"))
    assert "Northside Portal" in _warm(new_name)

    with first.state.db.session() as s:  # the name moves to another portal
        s.execute(update(TenantHost).where(TenantHost.host == "north.example.test")
                  .values(tenant_id=tenant(s, "riverside").id))
    page = new_name.get("/").text
    assert "Riverside Portal" in page and "Northside Portal" not in page

    with first.state.db.session() as s:
        s.execute(delete(TenantHost).where(TenantHost.host == "north.example.test"))
    assert new_name.get("/").status_code == 404


def test_a_renamed_request_type_shows_in_the_other_process_filters_at_once(apps, db):
    first, second = apps
    visitor = _visitor(second)
    assert "Streetlight out" in _warm(visitor, "/issues")
    with first.state.db.session() as s:
        light = s.scalars(select(RequestType).join(Body).where(
            Body.slug == "city-works", RequestType.code == "streetlight")).one()
        light.name = {**light.name, "en": "Street lamp dark"}
    page = visitor.get("/issues").text
    assert "Street lamp dark" in page and "Streetlight out" not in page


def test_a_removed_portal_is_not_found_on_the_other_process_at_once(apps, db):
    first, second = apps
    visitor = _visitor(second, "http://faraway.example.test")
    _warm(visitor)
    with first.state.db.session() as s:
        s.delete(tenant(s, "faraway"))
    assert visitor.get("/").status_code == 404


def test_the_stamp_moves_with_settings_and_not_with_reports_or_votes(db, world):
    start = _stamp(db)
    assert start >= 1  # the migration starts it
    with db.session() as s:
        issue = file_report(s, "northside", 2.0, 1.0)
        s.add(Vote(issue_id=issue.id, voter_key="someone"))
    assert _stamp(db) == start  # residents' traffic never makes processes read portals again

    with db.session() as s:
        tenant(s, "northside").allow_anonymous = False
    assert _stamp(db) == start + 1
    with db.session() as s:  # a statement, which no flush sees
        s.execute(update(Tenant).where(Tenant.slug == "riverside").values(theme="civic"))
    assert _stamp(db) == start + 2
    with db.session() as s:
        s.add(TenantHost(tenant_id=tenant(s, "northside").id, host="n2.example.test"))
    assert _stamp(db) == start + 3

    try:  # a change rolled back takes its move back with it
        with db.session() as s:
            tenant(s, "northside").allow_anonymous = True
            s.flush()
            raise RuntimeError("rolled back")
    except RuntimeError:
        pass
    assert _stamp(db) == start + 3


def test_a_database_without_the_stamp_row_gets_it_on_the_first_change(db, world):
    with db.session() as s:
        s.execute(delete(SettingsStamp))
    assert _stamp(db) == 0
    with db.session() as s:
        tenant(s, "northside").allow_anonymous = False
    assert _stamp(db) == 2


def test_a_shared_page_the_cache_missed_reads_the_stamp_once(apps, db):
    """The page cache reads the stamp with the data version; the tenant middleware takes that
    value instead of asking again."""
    _, second = apps
    visitor = _visitor(second)
    _warm(visitor)
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args) -> None:  # noqa: ANN001
        statements.append(statement)

    def count_on_next_page() -> int:
        statements.clear()
        event.listen(second.state.db.engine, "before_cursor_execute", seen)
        try:
            assert visitor.get("/").status_code == 200
        finally:
            event.remove(second.state.db.engine, "before_cursor_execute", seen)
        # Read alone (not with the data version, as the page cache reads it) is a second trip.
        return sum(s.lstrip().startswith("SELECT settings_stamps.value") for s in statements)

    with second.state.db.session() as s:  # a report: the page is rendered again
        file_report(s, "northside", 2.0, 1.0)
    assert count_on_next_page() == 0, statements
    with second.state.db.session() as s:  # a setting: the page is learned again
        tenant(s, "northside").allow_anonymous = False
    assert count_on_next_page() == 0, statements
    assert count_on_next_page() == 0, statements  # a hit: the data version's read alone
    assert visitor.get("/report").status_code == 200  # not a shared page: its own read
    assert sum(s.lstrip().startswith("SELECT settings_stamps.value") for s in statements) == 0
