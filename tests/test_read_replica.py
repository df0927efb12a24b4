"""Which server each request uses when `DATABASE_REPLICA_URL` is set, and what a visitor gets
while the primary cannot be reached.

The "replica" here is the test database itself opened read-only (SQLite `mode=ro`, PostgreSQL
`default_transaction_read_only`): no lag, and any write sent to it fails, so a page that wrote
on the replica would answer 500. A primary that is down is a PostgreSQL address nobody listens
on. These run in both suite passes; tests/test_streaming_replica.py does the same against a
real primary and hot standby.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import socket
import time
from datetime import timedelta

import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import event, func, select, update

from portal.app import create_app
from portal.core import signing
from portal.core.db import CONNECT_TIMEOUT, make_engine
from portal.core.settings import Settings
from portal.mail import unsubscribe
from portal.middleware import read_preference
from portal.models import Issue, OutboxMessage, UserSession, Watch, utcnow
from portal.routes import home
from portal.web.unavailable import RETRY_AFTER
from tests.conftest import client_for
from tests.factories import file_report
from tests.http_support import csrf, field_error, form_tokens
from tests.replica_support import StatementLog, read_only_url
from tests.staff_support import grant, sign_in

HOST = "northside.reportal.test"
UNAVAILABLE = "The portal cannot reach its database just now"
NOT_SENT = "Your report could not be sent just now"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _app(settings: Settings, **changes):  # noqa: ANN003, ANN202
    application = create_app(dataclasses.replace(settings, **changes))
    log = StatementLog(application.state.db)
    return application, log


@pytest.fixture
def replicated(settings: Settings, world):  # noqa: ANN001, ANN201
    """An app whose replica is the test database, read-only, and its statement log."""
    application, log = _app(settings,
                            database_replica_url=read_only_url(settings.database_url))
    yield application, log
    application.state.db.dispose()


@pytest.fixture
def primary_down(settings: Settings, world):  # noqa: ANN001, ANN201
    """An app whose primary cannot be reached; its replica is the test database, read-only."""
    dead = f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/reportal"
    application, log = _app(settings, database_url=dead,
                            database_replica_url=read_only_url(settings.database_url))
    yield application, log
    application.state.db.dispose()


def _report(db, **fields) -> int:  # noqa: ANN001, ANN003
    with db.session() as s:
        return file_report(s, "northside", 1.5, 1.0, **fields).id


def _post_report(client, description: str):  # noqa: ANN001, ANN201
    return client.post("/report", data={
        "lat": "1.5", "lon": "1.0", "request_type": "city-works/pothole",
        "description": description, **form_tokens(client, "/report")})


def test_public_pages_the_map_api_feeds_and_widgets_read_on_the_replica(replicated, db):
    app, log = replicated
    issue_id = _report(db, title="Read from the replica")
    browser = client_for(app, HOST)
    browser.get("/")  # the portal is looked up once (on the primary), then cached
    # Sync handlers run in anyio's thread pool; the request's preference must reach them.
    assert not inspect.iscoroutinefunction(home.home_page)
    for path in ("/", "/issues", f"/issues/{issue_id}", "/search?q=replica",
                 "/api/issues.geojson", "/feed.atom", "/dashboard", "/w/northside/announcements"):
        log.clear()
        response = browser.get(path)
        assert response.status_code == 200, (path, response.status_code)
        assert log.on("replica"), path
        assert log.on("primary") == [], (path, [s.sql for s in log.on("primary")])
    assert "Read from the replica" in browser.get("/api/issues.geojson").text


def test_a_write_and_the_pages_just_after_it_use_the_primary(replicated, db):
    app, log = replicated
    browser = client_for(app, HOST)
    form = form_tokens(browser, "/report")
    log.clear()
    sent = browser.post("/report", data={
        "lat": "1.5", "lon": "1.0", "request_type": "city-works/pothole",
        "description": "Filed on the primary", **form})
    assert sent.status_code == 303
    assert log.on("replica") == [] and log.on("primary")
    assert read_preference.COOKIE in sent.headers["set-cookie"]
    assert f"Max-Age={read_preference.FRESH_SECONDS}" in sent.headers["set-cookie"]
    log.clear()
    page = browser.get(sent.headers["location"])
    assert page.status_code == 200 and "Filed on the primary" in page.text
    assert log.on("replica") == [] and log.on("primary")

    # Once the marker is stale (or forged), the same page reads on the replica again.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) - 60)
        stale = signing.sign(app.state.settings.secret_key, read_preference.PURPOSE, 1)
    for value in (stale, "1", "forged.value.here"):
        browser.cookies.delete(read_preference.COOKIE)
        browser.cookies.set(read_preference.COOKIE, value, domain=HOST)
        log.clear()
        assert browser.get(sent.headers["location"]).status_code == 200
        assert log.on("primary") == [] and log.on("replica"), value


def test_the_report_widget_sets_no_cookie_and_its_thank_you_page_reads_on_the_primary(
        replicated):
    app, log = replicated
    widget = client_for(app, HOST)
    tokens = form_tokens(widget, "/w/northside/report?lang=en")
    sent = widget.post("/w/northside/report?lang=en", data={
        **tokens, "lat": "2.0", "lon": "1.0", "request_type": "city-works/pothole",
        "description": "Hole by the bakery"})
    assert sent.status_code == 303 and "set-cookie" not in sent.headers
    log.clear()
    thanks = widget.get(sent.headers["location"])
    assert thanks.status_code == 200 and 'id="issue-link"' in thanks.text
    assert log.on("primary") and log.on("replica") == []


def test_private_pages_read_on_the_primary(replicated, db, settings):
    app, log = replicated
    grant(db, "desk@city.test", "staff", body="city-works")
    grant(db, "desk@city.test", "moderator", portal="northside")
    staff = client_for(app, HOST)
    sign_in(staff, db, "desk@city.test")
    watcher = client_for(app, HOST)  # a watch asked for: its confirmation link is private
    assert watcher.post("/watch", data={
        "csrf_token": csrf(watcher.get("/watch").text), "email": "watcher@example.org",
        "kind": "circle", "lat": "2.0", "lon": "1.0", "radius": "500",
        "frequency": "instant"}).status_code == 303
    with db.session() as s:
        watch = s.scalars(select(Watch)).one()
    confirm = re.search(r"/watch/confirm/\S+", _last_mail(db, "watch_confirm")).group(0)
    stop = unsubscribe.make_token(settings.secret_key, watch.email, f"watch:{watch.id}")
    staff.cookies.delete(read_preference.COOKIE)  # only the pages themselves decide
    for path in ("/staff", "/staff/queue", "/staff/moderation", "/account", confirm,
                 f"/unsubscribe/{stop}"):
        log.clear()
        response = staff.get(path)
        assert response.status_code == 200, (path, response.status_code)
        assert log.on("replica") == [], path


def _last_mail(db, kind: str) -> str:  # noqa: ANN001
    with db.session() as s:
        return s.scalars(select(OutboxMessage.body_text).where(OutboxMessage.kind == kind)
                         .order_by(OutboxMessage.id.desc())).first()


def test_a_public_page_that_records_a_sessions_use_does_so_on_the_primary(replicated, db):
    """The one GET that writes on a public page: a session unused for an hour is touched."""
    app, log = replicated
    browser = client_for(app, HOST)
    sign_in(browser, db, "reader@example.org")
    two_hours_ago = utcnow() - timedelta(hours=2)
    with db.session() as s:
        s.execute(update(UserSession).values(last_seen_at=two_hours_ago))
    browser.cookies.delete(read_preference.COOKIE)
    log.clear()
    page = browser.get("/")
    assert page.status_code == 200 and "Your account" in page.text
    touched = [s for s in log.on("primary") if s.sql.lstrip().upper().startswith("UPDATE")]
    assert touched and all("user_sessions" in s.sql for s in touched)
    assert not [s for s in log.on("replica") if "user_sessions" in s.sql]
    with db.session() as s:
        seen = s.scalar(select(UserSession.last_seen_at)).replace(tzinfo=None)
    assert seen > two_hours_ago.replace(tzinfo=None) + timedelta(hours=1)


def test_without_a_replica_nothing_changes(app, client, db):
    assert app.state.db.replica is None
    sent = _post_report(client, "One database only")
    assert sent.status_code == 303
    assert read_preference.COOKIE not in sent.headers.get("set-cookie", "")


def test_the_replica_url_comes_from_the_environment():
    assert Settings.from_env({}).database_replica_url == ""
    url = "postgresql://reader@standby.internal/reportal"
    assert Settings.from_env({"DATABASE_REPLICA_URL": url}).database_replica_url == url


def test_postgresql_connections_give_up_within_seconds():
    seen: list[dict] = []
    for url in ("postgresql://reportal@127.0.0.1:1/reportal",
                "postgresql://reportal@127.0.0.1:1/reportal?connect_timeout=7"):
        engine = make_engine(url)

        @event.listens_for(engine, "do_connect")
        def _capture(_dialect, _record, _cargs, cparams) -> None:  # noqa: ANN001
            seen.append(dict(cparams))
            raise ConnectionAbortedError  # look, do not connect

        with pytest.raises(ConnectionAbortedError):
            engine.connect()
    assert seen[0]["connect_timeout"] == CONNECT_TIMEOUT <= 3
    assert seen[1]["connect_timeout"] == "7"  # an operator's own choice in the URL stands


# -- the primary is down ---------------------------------------------------------------------


def test_public_pages_stay_up_while_the_primary_is_down(primary_down, db):
    app, log = primary_down
    _report(db, title="Still on the map")
    browser = client_for(app, HOST)
    for path in ("/", "/issues", "/api/issues.geojson", "/feed.atom", "/report?lat=1.5&lon=1"):
        response = browser.get(path)
        assert response.status_code == 200, (path, response.status_code)
    assert "Still on the map" in browser.get("/api/issues.geojson").text
    hits = app.state.page_cache.hits
    for _ in range(2):  # asked twice already: from the page cache, its version read on the replica
        assert "Still on the map" in browser.get("/api/issues.geojson").text
    assert app.state.page_cache.hits == hits + 2
    assert log.on("primary") == []  # a dead server runs nothing, the replica ran everything


def test_a_report_sent_while_the_primary_is_down_gets_503_and_keeps_the_form(primary_down, db):
    app, _log = primary_down
    browser = client_for(app, HOST)
    sent = _post_report(browser, "Lamp post leaning over the road")
    assert sent.status_code == 503
    assert sent.headers["retry-after"] == str(RETRY_AFTER)
    assert NOT_SENT in sent.text
    assert "Lamp post leaning over the road" in sent.text  # what they typed is still there
    assert 'value="city-works/pothole"' in sent.text  # and the request types (from the replica)
    assert field_error(sent.text, "description") == ""
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Issue)) == 0


def test_other_writes_get_a_translated_503_page_and_write_nothing(primary_down, db):
    app, _log = primary_down
    issue_id = _report(db)
    browser = client_for(app, HOST)
    token = csrf(browser.get(f"/issues/{issue_id}").text)
    vote = browser.post(f"/issues/{issue_id}/vote", data={"csrf_token": token})
    assert vote.status_code == 503 and vote.headers["retry-after"] == str(RETRY_AFTER)
    assert UNAVAILABLE in vote.text and "<html" in vote.text
    spanish = browser.post(f"/issues/{issue_id}/vote?lang=es", data={"csrf_token": token})
    assert spanish.status_code == 503 and 'lang="es"' in spanish.text
    assert "El portal no puede acceder a su base de datos" in spanish.text
    signin = browser.post("/signin?lang=en",
                          data={"csrf_token": csrf(browser.get("/signin?lang=en").text),
                                "email": "someone@example.org"})
    assert signin.status_code == 503 and UNAVAILABLE in signin.text
    with db.session() as s:
        assert s.scalar(select(Issue.vote_count).where(Issue.id == issue_id)) == 0


def test_signed_in_people_still_read_public_pages_but_private_ones_answer_503(
        settings, replicated, primary_down, db):
    healthy, _ = replicated
    browser = client_for(healthy, HOST)
    sign_in(browser, db, "reader@example.org")
    down, _log = primary_down
    same_person = client_for(down, HOST)
    same_person.cookies.update(dict(browser.cookies))
    same_person.cookies.delete(read_preference.COOKIE)
    page = same_person.get("/")
    assert page.status_code == 200 and "Your account" in page.text  # found on the replica
    account = same_person.get("/account")
    assert account.status_code == 503 and UNAVAILABLE in account.text
