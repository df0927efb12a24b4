"""Signing in with an emailed link: it works once, for 15 minutes, on its own portal, for its
own purpose; the answer never says whether an address is known; signing out everywhere ends
every session."""

from __future__ import annotations

from datetime import timedelta

import itsdangerous.timed
import pytest
from sqlalchemy import func, select, update
from starlette.testclient import TestClient

from portal.core import signing
from portal.models import LoginToken, OutboxMessage, User
from portal.staff.accounts import SIGNIN
from tests.conftest import client_for
from tests.http_support import csrf
from tests.staff_support import confirm, grant, last_link, request_link, sign_in


def _count(db, model) -> int:  # noqa: ANN001
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_a_resident_signs_in_from_the_link_in_the_mail(client, db):
    response = request_link(client, "Resident@Example.org ")
    assert response.status_code == 200
    assert "Check your email" in response.text
    link, token = last_link(db, "resident@example.org")
    # The link points back at the portal's own host, never at an unchecked one.
    assert link.startswith("http://northside.reportal.test/signin/confirm?token=")
    with db.session() as s:
        mail = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "signin")).one()
        assert mail.key.startswith("signin:") and "15 minutes" in mail.body_text
    assert _count(db, User) == 0  # no account until the link is used
    done = confirm(client, token)
    assert done.status_code == 303 and done.headers["location"].startswith("/account")
    page = client.get("/account")
    assert "resident@example.org" in page.text
    assert "You have no staff roles" in page.text
    assert "Your account" in client.get("/").text
    assert _count(db, User) == 1


def test_staff_land_in_the_staff_area(client, db, world):
    grant(db, "works@city.test", "staff", body="city-works")
    request_link(client, "works@city.test")
    done = confirm(client, last_link(db, "works@city.test")[1])
    assert done.headers["location"] == "/staff"
    assert ">Staff<" in client.get("/").text


def test_the_answer_is_the_same_for_known_and_unknown_addresses(app, db, world):
    grant(db, "works@city.test", "staff", body="city-works")
    pages = []
    for email in ("works@city.test", "nobody@nowhere.test"):
        response = request_link(client_for(app, "northside.reportal.test"), email)
        assert response.status_code == 200
        pages.append(response.text.replace(email, "EMAIL"))
    assert pages[0] == pages[1]
    # Both get a link (anyone may sign in); nothing else differs.
    assert last_link(db, "nobody@nowhere.test") and last_link(db, "works@city.test")


def test_a_link_works_only_once(app, client, db):
    request_link(client, "once@example.org")
    _, token = last_link(db, "once@example.org")
    assert confirm(client, token).status_code == 303
    other = client_for(app, "northside.reportal.test")
    page = other.get(f"/signin/confirm?token={token}")  # the page itself still opens...
    used = other.post("/signin/confirm", data={"csrf_token": csrf(page.text), "token": token})
    assert used.status_code == 400 and "already used" in used.text  # ...but signs nobody in
    assert other.get("/account").status_code == 303


def test_opening_the_link_does_not_use_it_up(client, db):
    """Mail scanners open links; only the button on the page signs in."""
    request_link(client, "scan@example.org")
    _, token = last_link(db, "scan@example.org")
    for _ in range(3):
        assert client.get(f"/signin/confirm?token={token}").status_code == 200
    assert client.get("/account").status_code == 303
    assert confirm(client, token).status_code == 303


def test_an_expired_link_is_refused(client, db, monkeypatch):
    request_link(client, "late@example.org")
    _, token = last_link(db, "late@example.org")
    page = client.get(f"/signin/confirm?token={token}")
    real = itsdangerous.timed.time.time
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: real() + 16 * 60)
    late = client.post("/signin/confirm", data={"csrf_token": csrf(page.text), "token": token})
    assert late.status_code == 400 and "expired" in late.text
    assert client.get(f"/signin/confirm?token={token}").status_code == 400
    assert client.get("/account").status_code == 303


def test_the_database_also_enforces_the_15_minutes(client, db):
    request_link(client, "old@example.org")
    _, token = last_link(db, "old@example.org")
    with db.session() as s:
        s.execute(update(LoginToken).values(
            created_at=LoginToken.created_at - timedelta(minutes=16)))
    assert confirm(client, token).status_code == 400


@pytest.mark.parametrize("mangle", [
    lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # signature changed
    lambda t: "x" + t[1:],  # payload changed
    lambda t: "",
    lambda t: "not-a-token",
])
def test_a_tampered_link_is_refused(client, db, mangle):
    request_link(client, "tamper@example.org")
    _, token = last_link(db, "tamper@example.org")
    bad = mangle(token)
    assert client.get(f"/signin/confirm?token={bad}").status_code == 400
    page = client.get("/signin")
    refused = client.post("/signin/confirm", data={"csrf_token": csrf(page.text), "token": bad})
    assert refused.status_code == 400
    assert client.get("/account").status_code == 303
    assert confirm(client, token).status_code == 303  # the real one still works


def test_a_token_for_another_purpose_or_portal_is_refused(app, client, db, settings):
    request_link(client, "purpose@example.org")
    _, token = last_link(db, "purpose@example.org")
    payload = signing.unsign(settings.secret_key, SIGNIN, token, 900)
    for purpose in ("unsubscribe", "watch", "csrf"):
        forged = signing.sign(settings.secret_key, purpose, payload)
        assert client.get(f"/signin/confirm?token={forged}").status_code == 400
    # The same link on another portal is refused too.
    river = client_for(app, "riverside.reportal.test")
    assert river.get(f"/signin/confirm?token={token}").status_code == 400
    # A correctly signed token whose nonce was never issued cannot sign in either.
    invented = signing.sign(settings.secret_key, SIGNIN, {**payload, "n": "made-up"})
    page = client.get(f"/signin/confirm?token={invented}")
    assert page.status_code == 200
    refused = client.post("/signin/confirm", data={"csrf_token": csrf(page.text),
                                                   "token": invented})
    assert refused.status_code == 400
    assert confirm(client, token).status_code == 303


def test_sign_in_forms_need_their_csrf_token(client, db):
    assert client.post("/signin", data={"email": "x@example.org"}).status_code == 400
    assert _count(db, OutboxMessage) == 0
    request_link(client, "csrf@example.org")
    _, token = last_link(db, "csrf@example.org")
    assert client.post("/signin/confirm", data={"token": token}).status_code == 400
    assert client.get("/account").status_code == 303
    assert confirm(client, token).status_code == 303  # not used up by the refused post
    assert client.post("/signout", data={}).status_code == 403
    assert client.get("/account").status_code == 200  # still signed in


def test_a_bad_address_gets_a_field_error(client, db):
    response = request_link(client, "not an address")
    assert response.status_code == 400 and 'id="email-error"' in response.text
    assert _count(db, OutboxMessage) == 0


def test_sign_in_requests_are_rate_limited(app, client, db):
    app.state.limiter.enabled = True
    codes = [request_link(client, f"flood{n}@example.org").status_code for n in range(7)]
    assert codes[:5] == [200] * 5 and codes[5:] == [429, 429]
    assert _count(db, OutboxMessage) == 5


def test_one_address_cannot_be_mail_bombed_from_many_places(app, db, world):
    app.state.limiter.enabled = True
    codes = []
    for n in range(7):
        c = TestClient(app, base_url="http://northside.reportal.test", follow_redirects=False,
                       client=(f"192.0.2.{n + 1}", 40000))
        codes.append(request_link(c, "victim@example.org").status_code)
    assert codes == [200] * 5 + [429, 429]


def test_a_link_asked_for_on_a_foreign_host_points_at_the_public_url(app, db, world):
    """Host-header injection: `/t/{slug}/` works on any host, but mail never links there."""
    evil = client_for(app, "evil.example.com")
    token = csrf(evil.get("/t/northside/signin").text)
    evil.post("/t/northside/signin", data={"csrf_token": token, "email": "who@example.org"})
    link, _ = last_link(db, "who@example.org")
    assert link.startswith("http://reportal.test/t/northside/signin/confirm?token=")


def test_sign_out_ends_this_session(client, db):
    sign_in(client, db, "leaving@example.org")
    token = csrf(client.get("/account").text)
    assert client.post("/signout", data={"csrf_token": token}).status_code == 303
    assert client.get("/account").status_code == 303
    assert "Sign in" in client.get("/").text


def test_sign_out_everywhere_ends_every_session(app, db, world):
    grant(db, "busy@city.test", "staff", body="city-works")
    laptop = client_for(app, "northside.reportal.test")
    phone = client_for(app, "northside.reportal.test")
    sign_in(laptop, db, "busy@city.test")
    sign_in(phone, db, "busy@city.test")
    stolen_cookie = dict(phone.cookies)
    assert phone.get("/staff").status_code == 200
    token = csrf(laptop.get("/account").text)
    done = laptop.post("/signout/everywhere", data={"csrf_token": token})
    assert done.status_code == 303
    assert phone.get("/staff").status_code == 403
    assert laptop.get("/staff").status_code == 403
    replay = client_for(app, "northside.reportal.test")
    replay.cookies.update(stolen_cookie)
    assert replay.get("/staff").status_code == 403
    # Signing in again works and gives a fresh, valid session.
    sign_in(phone, db, "busy@city.test")
    assert phone.get("/staff").status_code == 200
