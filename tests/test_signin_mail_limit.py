"""One address gets at most five sign-in mails an hour, whichever portals ask, and the page
never shows that the limit was reached (it must not tell who is asking what about whom)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from portal.models import LoginToken, OutboxMessage
from tests.conftest import client_for
from tests.staff_support import grant, request_link

VICTIM = "desk@city.test"


def _mails(db, email: str) -> int:  # noqa: ANN001
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.recipient == email, OutboxMessage.kind == "signin"))


def test_the_sixth_request_in_an_hour_writes_no_mail_and_looks_the_same(app, db, world):
    app.state.limiter.enabled = True  # the per-portal limits stay as they were
    grant(db, VICTIM, "staff", body="city-works")
    north = client_for(app, "northside.reportal.test")
    river = client_for(app, "riverside.reportal.test")
    answers = []
    for browser in (north, north, north, river, river, river):
        response = request_link(browser, VICTIM)
        answers.append((response.status_code, response.text))
    assert _mails(db, VICTIM) == 5
    assert answers[5] == answers[4] == answers[3] and answers[5][0] == 200
    assert answers[0] == answers[1] == answers[2]
    # Other addresses are not held back by it.
    assert request_link(river, "other@example.org").status_code == 200
    assert _mails(db, "other@example.org") == 1


def test_the_limit_is_per_address_not_per_spelling(client, db):
    for spelling in ("Case@Example.org", "case@example.org ", "CASE@EXAMPLE.ORG"):
        request_link(client, spelling)
        request_link(client, spelling)
    assert _mails(db, "case@example.org") == 5


def test_mail_flows_again_an_hour_later(client, db):
    for _ in range(6):
        request_link(client, "patient@example.org")
    assert _mails(db, "patient@example.org") == 5
    with db.session() as s:
        for row in s.scalars(select(LoginToken)):
            row.created_at = row.created_at - timedelta(minutes=61)
    assert request_link(client, "patient@example.org").status_code == 200
    assert _mails(db, "patient@example.org") == 6
