"""Sign-in sessions live on the server: signing out ends the session itself (a copy of the
cookie opens nothing), a session works only on the portal it was made on, it ends after two
weeks without use or a month after sign-in, and its cookie is Secure outside development."""

from __future__ import annotations

import base64
import dataclasses
import json
from datetime import timedelta

from sqlalchemy import select
from starlette.testclient import TestClient

from portal.app import create_app
from portal.models import UserSession
from tests.conftest import client_for
from tests.http_support import csrf
from tests.staff_support import confirm, grant, last_link, request_link, sign_in


def _sign_out(client, path: str = "/signout", account: str = "/account"):  # noqa: ANN001, ANN202
    token = csrf(client.get(account).text)
    return client.post(path, data={"csrf_token": token})


def test_a_copied_cookie_opens_nothing_after_sign_out(app, db, world):
    grant(db, "desk@city.test", "staff", body="city-works")
    browser = client_for(app, "northside.reportal.test")
    sign_in(browser, db, "desk@city.test")
    copied = dict(browser.cookies)
    assert _sign_out(browser).status_code == 303
    thief = client_for(app, "northside.reportal.test")
    thief.cookies.update(copied)
    account = thief.get("/account")
    assert account.status_code == 303 and account.headers["location"] == "/signin"
    assert thief.get("/staff").status_code == 403
    with db.session() as s:
        assert s.scalars(select(UserSession)).all() == []


def test_signing_out_ends_only_that_session(app, db, world):
    laptop = client_for(app, "northside.reportal.test")
    phone = client_for(app, "northside.reportal.test")
    sign_in(laptop, db, "two@example.org")
    sign_in(phone, db, "two@example.org")
    _sign_out(laptop)
    assert laptop.get("/account").status_code == 303
    assert phone.get("/account").status_code == 200


def test_a_session_made_on_one_portal_is_not_valid_on_another_host(app, db, world):
    grant(db, "campus@city.test", "staff", body="city-works")
    north = client_for(app, "northside.reportal.test")
    sign_in(north, db, "campus@city.test")
    assert north.get("/staff").status_code == 200
    river = client_for(app, "riverside.reportal.test")
    river.cookies.update(dict(north.cookies))
    assert river.get("/account").status_code == 303
    assert river.get("/staff").status_code == 403
    assert "Your account" not in river.get("/").text
    assert north.get("/account").status_code == 200


def test_portals_sharing_a_host_keep_their_sessions_apart(app, db, world):
    browser = client_for(app, "reportal.test")  # /t/{slug}/ prefixes on one host
    _sign_in_prefixed(browser, db, "northside", "here@example.org")
    assert browser.get("/t/northside/account").status_code == 200
    other = browser.get("/t/riverside/account")
    assert other.status_code == 303 and other.headers["location"] == "/t/riverside/signin"
    # Visiting the other portal did not sign this one out.
    assert browser.get("/t/northside/account").status_code == 200
    # Signing in there too keeps both; signing out of one leaves the other.
    _sign_in_prefixed(browser, db, "riverside", "here@example.org")
    assert browser.get("/t/riverside/account").status_code == 200
    assert _sign_out(browser, "/t/riverside/signout", "/t/riverside/account").status_code == 303
    assert browser.get("/t/riverside/account").status_code == 303
    assert browser.get("/t/northside/account").status_code == 200


def _sign_in_prefixed(client, db, slug: str, email: str) -> None:  # noqa: ANN001
    token = csrf(client.get(f"/t/{slug}/signin").text)
    assert client.post(f"/t/{slug}/signin",
                       data={"csrf_token": token, "email": email}).status_code == 200
    _, token = last_link(db, email)
    page = client.get(f"/t/{slug}/signin/confirm?token={token}")
    done = client.post(f"/t/{slug}/signin/confirm",
                       data={"csrf_token": csrf(page.text), "token": token})
    assert done.status_code == 303, done.text


def _age(db, column: str, by: timedelta) -> None:  # noqa: ANN001
    """Move every session's `column` back in time (computed here: SQLite has no date math)."""
    with db.session() as s:
        for row in s.scalars(select(UserSession)):
            setattr(row, column, getattr(row, column) - by)


def test_a_session_unused_for_two_weeks_has_ended(client, db):
    sign_in(client, db, "idle@example.org")
    _age(db, "last_seen_at", timedelta(days=14, minutes=1))
    assert client.get("/account").status_code == 303


def test_use_keeps_a_session_alive_for_two_more_weeks(client, db):
    sign_in(client, db, "busy@example.org")
    _age(db, "last_seen_at", timedelta(days=13))
    assert client.get("/account").status_code == 200  # used: seen now
    _age(db, "last_seen_at", timedelta(days=13))
    assert client.get("/account").status_code == 200


def test_a_session_ends_thirty_days_after_sign_in_however_busy(client, db):
    sign_in(client, db, "forever@example.org")
    _age(db, "created_at", timedelta(days=30, minutes=1))
    assert client.get("/account").status_code == 303


def test_the_cookie_holds_a_random_token_the_database_only_its_hash(client, db):
    sign_in(client, db, "hash@example.org")
    data = client.cookies["reportal_session"].split(".")[0]
    content = json.loads(base64.b64decode(data + "=" * (-len(data) % 4)))
    assert "uid" not in content
    (token,) = content["auth"].values()
    with db.session() as s:
        row = s.scalars(select(UserSession)).one()
    assert len(token) >= 43 and token not in row.token_hash


def test_the_session_cookie_is_secure_httponly_and_lax_outside_development(settings, world,
                                                                             db):
    production = dataclasses.replace(settings, https_only_cookies=None)
    assert production.https_only_cookies is True
    app = create_app(production)
    browser = TestClient(app, base_url="https://northside.reportal.test",
                         follow_redirects=False)
    assert request_link(browser, "secure@example.org").status_code == 200
    done = confirm(browser, last_link(db, "secure@example.org")[1])
    assert done.status_code == 303
    cookie = done.headers["set-cookie"]
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert {"secure", "httponly", "samesite=lax"} <= flags
    app.state.db.engine.dispose()
