"""Residents follow their own reports: a receipt email whose link shows the status without
signing in, and an account page listing the person's reports, votes and watches here."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal.engagement import watching
from portal.mail import compose, status_links
from portal.models import Issue, OutboxMessage
from portal.reports import status
from portal.staff import moderation
from tests.conftest import client_for
from tests.factories import file_report, tenant
from tests.http_support import csrf, form_tokens
from tests.staff_support import sign_in

NORTH_ONLY = (2.0, 1.0)
RIVER_ONLY = (0.5, 1.5)
LINK = re.compile(r"https?://\S+?(/reports/status/\S+)")


def report(client, **fields) -> str:  # noqa: ANN001
    data = {"lat": str(NORTH_ONLY[0]), "lon": str(NORTH_ONLY[1]),
            "request_type": "city-works/pothole", "description": "Deep pothole",
            "nearby": "none", **form_tokens(client, "/report"), **fields}
    response = client.post("/report", data=data)
    assert response.status_code == 303, response.text
    return response.headers["location"]


def receipts(db) -> list[OutboxMessage]:  # noqa: ANN001
    with db.session() as s:
        return list(s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "receipt")
                              .order_by(OutboxMessage.id)))


def status_path(db, settings, message: OutboxMessage) -> str:  # noqa: ANN001
    with db.session() as s:
        mail = compose.compose(s, settings, s.get(OutboxMessage, message.id))
    match = LINK.search(mail.get_content())
    assert match, mail.get_content()
    return match.group(1)


def test_an_anonymous_report_gets_a_receipt_whose_link_shows_its_status(app, client, db,
                                                                        settings):
    client.get("/?lang=es")
    report(client, title="Bache junto a la escuela", email="Vecina@Example.org",
           name="Ana Secreta", show_name="")
    [message] = receipts(db)
    assert message.recipient == "vecina@example.org" and message.locale == "es"
    assert "Bache junto a la escuela" in message.subject
    assert "Recibimos" in message.subject  # in the language the resident reported in
    path = status_path(db, settings, message)
    assert path.startswith("/reports/status/")

    stranger = client_for(app, "northside.reportal.test")  # no cookie, no sign-in
    page = stranger.get(path)
    assert page.status_code == 200
    assert "Bache junto a la escuela" in page.text and "Open" in page.text
    assert "vecina@example.org" not in page.text.lower() and "Ana Secreta" not in page.text

    with db.session() as s:
        issue = s.scalars(select(Issue)).one()
        status.change_status(s, issue, "acknowledged", author="City works",
                             text="Crew booked for Monday")
    page = stranger.get(path)
    assert "Acknowledged" in page.text and "Crew booked for Monday" in page.text


def test_no_email_no_receipt_and_one_receipt_per_report(client, db):
    report(client)
    assert receipts(db) == []
    tokens = form_tokens(client, "/report")
    data = {"lat": "2.0", "lon": "1.0", "request_type": "city-works/pothole",
            "description": "Deep pothole", "nearby": "none", "email": "me@example.org",
            **tokens}
    assert client.post("/report", data=data).status_code == 303
    assert client.post("/report", data=data).status_code == 303  # a double submit
    assert len(receipts(db)) == 1


def test_a_status_link_opens_only_its_issue_on_its_portal(app, client, db, settings, world):
    with db.session() as s:
        north = file_report(s, "northside", *NORTH_ONLY, email="a@example.org")
        river = file_report(s, "riverside", *RIVER_ONLY, email="a@example.org")
        hidden = file_report(s, "northside", *NORTH_ONLY, email="a@example.org",
                             title="Hidden one")
        moderation.hide_issue(s, hidden, tenant(s, "northside"), None, "spam")
        ids = north.id, river.id, hidden.id
    secret = settings.secret_key
    good = status_links.make_token(secret, ids[0], "northside")
    assert client.get(f"/reports/status/{good}").status_code == 200
    river_path = f"/reports/status/{status_links.make_token(secret, ids[1], 'riverside')}"
    assert client_for(app, "riverside.reportal.test").get(river_path).status_code == 200
    assert client.get(river_path).status_code == 404  # riverside's link, on northside
    claimed = status_links.make_token(secret, ids[1], "northside")  # not shown on northside
    assert client.get(f"/reports/status/{claimed}").status_code == 404
    hidden_token = status_links.make_token(secret, ids[2], "northside")
    hidden_page = client.get(f"/reports/status/{hidden_token}")
    assert hidden_page.status_code == 404 and "Hidden one" not in hidden_page.text
    assert client.get(f"/reports/status/{good[:-2]}xx").status_code == 404
    forged = status_links.make_token("another-secret-" + "y" * 32, ids[0], "northside")
    assert client.get(f"/reports/status/{forged}").status_code == 404


def watch_for(db, settings, slug: str, email: str, **fields) -> None:  # noqa: ANN001
    with db.session() as s:
        portal = tenant(s, slug)
        form = watching.WatchForm(email=email, **fields)
        watch = watching.create_watch(s, portal, form, settings.secret_key)
        watching.confirm_watch(s, portal, watching.confirm_token(settings.secret_key, watch),
                               settings.secret_key)


def test_the_account_page_lists_exactly_this_persons_items_on_this_portal(app, client, db,
                                                                          settings, world):
    with db.session() as s:
        mine = file_report(s, "northside", *NORTH_ONLY, email="ana@example.org",
                           title="Ana's pothole")
        file_report(s, "riverside", *RIVER_ONLY, email="ana@example.org",
                    title="Ana's riverside pothole")
        theirs = file_report(s, "northside", *NORTH_ONLY, email="ben@example.org",
                             title="Ben's pothole")
        file_report(s, "northside", *NORTH_ONLY, email="ben@example.org", title="Ben's other")
        mine_id, theirs_id = mine.id, theirs.id
    watch_for(db, settings, "northside", "ana@example.org", kind="circle", lat="2.0",
              lon="1.0", radius="500", frequency="daily")
    watch_for(db, settings, "riverside", "ana@example.org", kind="portal")
    watch_for(db, settings, "northside", "ben@example.org", kind="issue",
              issue_id=str(mine_id))

    ben = client_for(app, "northside.reportal.test")
    token = csrf(ben.get(f"/issues/{mine_id}").text)
    assert ben.post(f"/issues/{mine_id}/vote", data={"csrf_token": token}).status_code == 303
    sign_in(client, db, "ana@example.org")
    page = client.get(f"/issues/{theirs_id}")
    assert client.post(f"/issues/{theirs_id}/vote",
                       data={"csrf_token": csrf(page.text)}).status_code == 303

    account = client.get("/account").text
    reports = account.split('id="own-reports-heading"')[1].split("</section>")[0]
    votes = account.split('id="own-votes-heading"')[1].split("</section>")[0]
    watches = account.split('id="own-watches-heading"')[1].split("</section>")[0]
    assert "Ana&#39;s pothole" in reports and f"/issues/{mine_id}" in reports
    assert "riverside" not in reports and "Ben" not in reports
    assert "Ben&#39;s pothole" in votes and "Ana" not in votes  # Ben's vote is not hers
    assert "Within 500 metres" in watches and "a daily digest" in watches
    assert "Issue #" not in watches and "All of" not in watches  # Ben's; riverside's
    stop = re.search(r'href="(/unsubscribe/[^"]+)"', watches).group(1)
    assert client.post(stop).status_code == 200
    assert "You watch no place here." in client.get("/account").text

    # Ben, signed in, sees his own things only.
    sign_in(ben, db, "ben@example.org")
    account = ben.get("/account").text
    assert "Ben&#39;s other" in account and f"Issue #{mine_id}" in account  # his watch
    assert "Ana&#39;s" not in account  # his anonymous vote is linked to nobody
    assert "Within 500 metres" not in account
