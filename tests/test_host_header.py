"""The Host header decides which portal answers and which address its links carry, so it is
parsed strictly at the edge: a host name or IP literal and an optional port 1-65535, nothing
else. Anything else is a plain 400 that writes nothing. Links are built only from the parsed
host (lower-cased, with its port), and only when the portal owns it; otherwise they use
`PUBLIC_URL`. Absolute-form request targets and `X-Forwarded-Host` never change either.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from urllib.parse import quote, urlsplit

import pytest
from sqlalchemy import event, func, select
from starlette.testclient import TestClient

from portal.app import create_app
from portal.mail import compose
from portal.models import OutboxMessage
from portal.staff import announcements
from tests.factories import file_report, tenant
from tests.http_support import csrf
from tests.staff_support import grant

ATOM = "{http://www.w3.org/2005/Atom}"
PUBLIC = "http://reportal.test/t/northside"  # PUBLIC_URL + the portal's prefix
STAFF = "works@city.test"
ADMIN = "admin@northside.test"
LINK = re.compile(r"https?://[^\s\"'<>]+")


def raw_client(app, *hosts: bytes, peer: tuple[str, int] = ("testclient", 50000),  # noqa: ANN001
               scheme: str = "http", path: str | None = None) -> TestClient:
    """A browser whose Host header is exactly `hosts` (none: no Host at all; two: both), and,
    with `path`, whose request path is exactly that (HTTP clients tidy odd paths up)."""

    async def with_hosts(scope, receive, send):  # noqa: ANN001, ANN202 - ASGI
        if scope["type"] == "http":
            scope["headers"] = [(k, v) for k, v in scope["headers"] if k != b"host"] + [
                (b"host", h) for h in hosts]
            if path is not None:
                scope["path"], scope["raw_path"] = path, quote(path).encode()
        await app(scope, receive, send)

    return TestClient(with_hosts, base_url=f"{scheme}://northside.reportal.test",
                      follow_redirects=False, client=peer)


def outbox_count(db) -> int:  # noqa: ANN001
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(OutboxMessage))


def newest_mail(db, kind: str) -> OutboxMessage:  # noqa: ANN001
    with db.session() as s:
        row = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)
                        .order_by(OutboxMessage.id.desc())).first()
        assert row is not None, f"no {kind} mail"
        s.expunge(row)
        return row


@pytest.fixture
def news(db, world):  # noqa: ANN001, ANN201
    """An issue and an announcement, so every feed and export has entries with links."""
    with db.session() as s:
        file_report(s, "northside", 1.2, 1.0, title="Bench")
        announcements.publish(s, title={"en": "Leaf pickup"}, body_md={"en": "Bags out"},
                              tenant=tenant(s, "northside"))
    grant(db, STAFF, "staff", body="city-works")
    grant(db, ADMIN, "admin", portal="northside")


# --- what each page links to ---------------------------------------------------------------


def signin_links(client, db, prefix: str) -> list[str]:  # noqa: ANN001
    token = csrf(client.get(f"{prefix}/signin").text)
    response = client.post(f"{prefix}/signin", data={"csrf_token": token, "email": STAFF})
    assert response.status_code == 200, response.text
    return LINK.findall(newest_mail(db, "signin").body_text)


def watch_links(client, db, prefix: str, settings) -> list[str]:  # noqa: ANN001
    page = client.get(f"{prefix}/watch")
    response = client.post(f"{prefix}/watch", data={
        "csrf_token": csrf(page.text), "email": "watcher@example.org", "kind": "circle",
        "lat": "2.0", "lon": "1.0", "radius": "500", "frequency": "instant"})
    assert response.status_code == 303, response.text
    row = newest_mail(db, "watch_confirm")
    with db.session() as s:
        mail = compose.compose(s, settings, row).get_content()
    # Mail is written without the request: its links always use PUBLIC_URL.
    assert LINK.findall(mail) and all(link.startswith(PUBLIC + "/") for link in LINK.findall(mail))
    confirm = re.search(re.escape(compose.PORTAL_URL) + r"(/watch/confirm/\S+)",
                        row.body_text).group(1)
    done = client.post(prefix + confirm)
    assert done.status_code == 200, done.text
    return re.findall(r'class="feed-url" href="([^"]+)"', done.text)


def feed_links(client, path: str) -> list[str]:  # noqa: ANN001
    response = client.get(path)
    assert response.status_code == 200, response.text
    root = ET.fromstring(response.content)
    links = [node.get("href") for node in root.iter(f"{ATOM}link")]
    assert len(links) >= 3  # self, alternate and at least one entry
    return links


def csv_links(client, path: str) -> list[str]:  # noqa: ANN001
    response = client.get(path)
    assert response.status_code == 200, response.text
    links = [row["url"] for row in csv.DictReader(io.StringIO(response.text))]
    assert links
    return links


def geojson_links(client, path: str) -> list[str]:  # noqa: ANN001
    response = client.get(path)
    assert response.status_code == 200, response.text
    links = [f["properties"]["url"] for f in json.loads(response.text)["features"]]
    assert links
    return links


def widget_links(client, db, prefix: str) -> list[str]:  # noqa: ANN001
    """The snippet generator, for a signed-in portal admin: where its loader comes from."""
    token = csrf(client.get(f"{prefix}/signin").text)
    assert client.post(f"{prefix}/signin", data={"csrf_token": token,
                                                 "email": ADMIN}).status_code == 200
    signin = urlsplit(LINK.search(newest_mail(db, "signin").body_text).group(0))
    page = client.get(f"{prefix}/signin/confirm?{signin.query}")
    assert client.post(f"{prefix}/signin/confirm", data={
        "csrf_token": csrf(page.text),
        "token": signin.query.removeprefix("token=")}).status_code == 303
    page = client.get(f"{prefix}/staff/widgets")
    assert page.status_code == 200, page.text
    links = re.findall(r'src="(https?://[^"]+)"', page.text)
    links += re.findall(r"(?:src|href)=&#34;(https?://[^&]+)&#34;", page.text)
    assert any(link.endswith("/embed.js") for link in links)
    assert any("/w/northside/" in link for link in links)  # the iframe fallback
    return links


PAGES = ("signin mail", "watch", "feed.atom", "announcements.atom", "issues.csv",
         "issues.geojson", "widgets")


def links_of(page: str, client, db, settings, prefix: str = "") -> list[str]:  # noqa: ANN001
    if page == "signin mail":
        return signin_links(client, db, prefix)
    if page == "watch":
        return watch_links(client, db, prefix, settings)
    if page.endswith(".atom"):
        return feed_links(client, f"{prefix}/{page}")
    if page == "issues.csv":
        return csv_links(client, f"{prefix}/exports/issues.csv")
    if page == "issues.geojson":
        return geojson_links(client, f"{prefix}/exports/issues.geojson")
    return widget_links(client, db, prefix)


def assert_all_on(links: list[str], base: str) -> None:
    assert links
    for link in links:
        assert link.startswith(base + "/"), (link, base)
        assert urlsplit(link).netloc == urlsplit(base).netloc, link


# --- malformed hosts: 400, nothing written -------------------------------------------------

MALFORMED = [
    b"northside.reportal.test:@evil.example",
    b"northside.reportal.test:80@evil.example",
    b"evil.example@northside.reportal.test",
    b"a@b",
    b"northside.reportal.test@evil.example",
    b"northside.reportal.test:0",
    b"northside.reportal.test:00",
    b"northside.reportal.test:65536",
    b"northside.reportal.test:99999999999999999999",
    b"northside.reportal.test:http",
    b"northside.reportal.test:",
    b"northside.reportal.test:-80",
    b"northside.reportal.test:+80",
    b"northside.reportal.test:8_0",
    b"northside.reportal.test:80:80",
    b"northside.reportal.test: 80",
    "nörthside.reportal.test".encode(),
    "nörthside.reportal.test".encode("latin-1"),
    "northside.reportal.test\u3002evil".encode(),
    b"northside.reportal.test/evil.example",
    b"northside.reportal.test\\evil.example",
    b"northside.reportal.test#@evil.example",
    b"northside.reportal.test?@evil.example",
    b"northside..reportal.test",
    b".northside.reportal.test",
    b"northside.reportal.test..",
    b"-northside.reportal.test",
    b"northside-.reportal.test",
    b"north_side.reportal.test",
    b"north side.reportal.test",
    b"northside.reportal.test\x00.evil.example",
    b"northside.reportal.test\r\nx-evil: 1",
    b"a" * 64 + b".reportal.test",
    b".".join([b"a" * 60] * 5),
    b"",
    b":8000",
    b"[::1",
    b"[::1]x",
    b"[::1]:",
    b"[fe80::1%eth0]",
    b"[evil.example]",
    b"::1",
    b"1.2.3.999",
    b"http://northside.reportal.test",
    b"northside.reportal.test, evil.example",
]


def _refused(response) -> None:  # noqa: ANN001
    assert response.status_code == 400, response.text
    assert response.text == "Bad Request"
    assert response.headers["content-type"].startswith("text/plain")


def _every_request(client, token: str) -> list:  # noqa: ANN001
    gets = ["/", "/signin", "/watch", "/feed.atom", "/announcements.atom",
            "/exports/issues.csv", "/exports/issues.geojson", "/staff/widgets", "/nope",
            "/t/northside/signin", "/t/northside/feed.atom", "/healthz"]
    responses = [client.get(path) for path in gets]
    for prefix in ("", "/t/northside"):
        responses.append(client.post(f"{prefix}/signin", data={
            "csrf_token": token, "email": STAFF}))
        responses.append(client.post(f"{prefix}/watch", data={
            "csrf_token": token, "email": "watcher@example.org", "kind": "circle",
            "lat": "2.0", "lon": "1.0", "radius": "500", "frequency": "instant"}))
    return responses


@pytest.mark.parametrize("host", MALFORMED, ids=lambda h: repr(h)[2:-1][:40])
def test_a_malformed_host_is_a_plain_400_that_writes_nothing(app, db, news, host):
    token = csrf(raw_client(app, b"northside.reportal.test").get("/signin").text)
    before = outbox_count(db)
    for response in _every_request(raw_client(app, host), token):
        _refused(response)
    assert outbox_count(db) == before


@pytest.mark.parametrize("hosts", [(), (b"northside.reportal.test", b"evil.example"),
                                   (b"northside.reportal.test", b"northside.reportal.test")],
                         ids=["missing", "two-different", "two-same"])
def test_no_host_or_more_than_one_is_a_plain_400(app, db, news, hosts):
    token = csrf(raw_client(app, b"northside.reportal.test").get("/signin").text)
    before = outbox_count(db)
    for response in _every_request(raw_client(app, *hosts), token):
        _refused(response)
    assert outbox_count(db) == before


def test_the_attack_from_the_report_sends_no_mail(settings, db, world):
    """`Host: ward-7.localhost:@evil.example` once mailed a staff sign-in link to evil."""
    local = create_app(replace(settings, base_domain="localhost"))
    grant(db, STAFF, "staff", body="city-works")
    good = raw_client(local, b"northside.localhost")
    token = csrf(good.get("/signin").text)
    _refused(raw_client(local, b"northside.localhost:@evil.example").post(
        "/signin", data={"csrf_token": token, "email": STAFF}))
    assert outbox_count(db) == 0
    assert good.post("/signin", data={"csrf_token": token, "email": STAFF}).status_code == 200
    assert LINK.findall(newest_mail(db, "signin").body_text)[0].startswith(
        "http://northside.localhost/signin/confirm?token=")
    local.state.db.engine.dispose()


# --- valid hosts: links on exactly the verified host ----------------------------------------

VALID = [
    (b"northside.reportal.test", "http", "http://northside.reportal.test"),
    (b"NorthSide.Reportal.TEST", "http", "http://northside.reportal.test"),
    (b"northside.reportal.test:8080", "http", "http://northside.reportal.test:8080"),
    (b"northside.reportal.test:08080", "http", "http://northside.reportal.test:8080"),
    (b"northside.reportal.test.", "http", "http://northside.reportal.test"),
    (b"NORTHSIDE.EXAMPLE.TEST.:65535", "http", "http://northside.example.test:65535"),
    (b"northside.example.test:1", "https", "https://northside.example.test:1"),
    (b"northside.example.test", "https", "https://northside.example.test"),
]


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize(("host", "scheme", "base"), VALID, ids=lambda v: str(v))
def test_a_portals_own_host_gives_links_on_exactly_that_host(app, db, news, settings, page,
                                                             host, scheme, base):
    client = raw_client(app, host, scheme=scheme)
    assert_all_on(links_of(page, client, db, settings), base)


@pytest.mark.parametrize("page", PAGES)
def test_absolute_form_targets_and_forwarded_host_never_move_the_links(app, db, news,
                                                                       settings, page):
    client = raw_client(app, b"northside.reportal.test")
    client.headers["x-forwarded-host"] = "evil.example"
    client.headers["forwarded"] = "host=evil.example"
    client.base_url = "http://evil.example:666"  # the request target's authority
    assert_all_on(links_of(page, client, db, settings), "http://northside.reportal.test")


# --- look-alikes: unknown hosts stay 404, the /t/ prefix falls back to PUBLIC_URL -----------

LOOK_ALIKES = [
    b"northside.reportal.test.evil.example",
    b"northside.example.test.evil.example",
    b"evil.example",
    b"northside-reportal.test",
    b"northsidereportal.test",
    b"evil.northside.reportal.test",
    b"reportal.test.evil.example",
    b"xn--northsde-0ya.reportal.test",
    b"northside.example.test-evil.example",
    b"127.0.0.1:8000",
    b"[::1]:8000",
    b"[::ffff:127.0.0.1]",
]


@pytest.mark.parametrize("host", LOOK_ALIKES, ids=lambda h: h.decode())
def test_a_look_alike_host_is_an_unknown_host(app, news, host):
    response = raw_client(app, host).get("/")
    assert response.status_code == 404 and response.text == "Not Found"
    assert raw_client(app, host).get("/feed.atom").status_code == 404


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("host", LOOK_ALIKES[:3] + LOOK_ALIKES[-3:], ids=lambda h: h.decode())
def test_on_a_host_the_portal_does_not_own_links_use_public_url(app, db, news, settings, page,
                                                                host):
    client = raw_client(app, host)
    client.headers["x-forwarded-host"] = "northside.reportal.test"  # cannot vouch for it
    links = links_of(page, client, db, settings, prefix="/t/northside")
    # The loader and widget pages live at the root of PUBLIC_URL; all else under the prefix.
    assert_all_on(links, PUBLIC if page != "widgets" else "http://reportal.test")


# --- the language switcher never links off the portal ---------------------------------------

OFF_SITE = re.compile(r'(?:href|src|action)="(?:[a-zA-Z][a-zA-Z0-9+.-]*:|//|/\\|\\)')


@pytest.mark.parametrize("path", ["//evil.example", "///evil.example/x", "//evil.example/",
                                  "/\\evil.example", "/\\\\evil.example", "/\t/evil.example",
                                  "/\n/evil.example", "/\r/\\/evil.example", "/\\/evil.example"],
                         ids=repr)
@pytest.mark.parametrize("prefix", ["", "/t/northside"])
def test_a_404_pages_language_links_stay_on_the_portal(app, world, path, prefix):
    host = b"127.0.0.1:8000" if prefix else b"northside.reportal.test"
    response = raw_client(app, host, path=prefix + path).get("/")
    assert response.status_code == 404
    switcher = re.search(r'<nav class="lang-switcher".*?</nav>', response.text, re.S).group(0)
    hrefs = re.findall(r'href="([^"]*)"', switcher)
    assert len(hrefs) == 2  # English and Spanish
    for href in hrefs:
        assert href.startswith(prefix + "/") and not href.startswith("//"), href
        assert not re.search(r"[\\\s]", href) and urlsplit(href).netloc == "", href
    assert not OFF_SITE.search(response.text), OFF_SITE.search(response.text).group(0)


def test_the_switcher_still_keeps_the_page_and_its_filters(client):
    html = client.get("/issues?status=open&page=2").text
    assert 'href="/issues?status=open&amp;page=2&amp;lang=es"' in html


# --- the tenant cache stays bounded ---------------------------------------------------------


async def _status(app, host: bytes) -> int:  # noqa: ANN001
    """One GET / with this Host, straight through the ASGI app (10,000 of them must be quick)."""
    scope = {"type": "http", "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": "/", "raw_path": b"/", "root_path": "", "query_string": b"",
             "headers": [(b"host", host)], "client": ("203.0.113.9", 5000),
             "server": ("127.0.0.1", 80), "state": {}}
    sent = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent[0]["status"]


def _run(coroutine):  # noqa: ANN001, ANN202
    """asyncio.run in a thread of its own: Playwright's sync API (the browser tests, earlier
    in the same session) leaves an event loop running in the main thread."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def test_a_flood_of_random_hosts_leaves_the_tenant_cache_at_its_bound(app, world):
    cache = app.state.tenants
    cache.ttl = 3600  # so that only the bound, not the clock, can drop an entry

    flood_size = cache.max_entries + 500  # more names than the cache may hold

    async def flood() -> list[int]:
        statuses = []
        for n in range(flood_size):
            suffix = "reportal.test" if n % 2 else "evil.example"  # slug look-ups too
            statuses.append(await _status(app, f"h{n:05d}.{suffix}".encode()))
        return statuses

    assert _run(_status(app, b"northside.example.test")) == 200
    assert set(_run(flood())) == {404}
    assert 0 < len(cache) <= cache.max_entries < flood_size
    # The portal found before the flood is still cached: no query needed to serve it.
    queries = []
    event.listen(app.state.db.engine, "before_cursor_execute",
                 lambda *args: queries.append(args[2]))
    assert _run(_status(app, b"northside.example.test")) == 200
    assert not [q for q in queries if "tenant_hosts" in q and "JOIN" in q]


def test_starlettes_own_redirects_use_the_checked_host(app, world):
    response = raw_client(app, b"NorthSide.Reportal.Test:0080").get("/issues/")
    assert response.status_code == 307
    assert response.headers["location"] == "http://northside.reportal.test:80/issues"
