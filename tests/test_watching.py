"""Watch areas: ask without an account, confirm by email, then get instant notices, a daily
digest and a private Atom feed about new issues and status changes in the area."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from portal.engagement import digests, watch_notices, watching
from portal.mail import compose
from portal.models import Issue, OutboxMessage, Update, Watch
from portal.reports import status
from portal.staff import announcements
from tests.factories import file_report, tenant
from tests.http_support import csrf, field_error

ATOM = "{http://www.w3.org/2005/Atom}"
CENTRE = (2.0, 1.0)  # inside northside (lat 1..3, lon 0..2)
NEAR = (2.003, 1.0)  # about 330 m north
FAR = (2.8, 1.8)  # inside northside, well outside a 1 km circle


def messages(db, kind: str | None = None) -> list[OutboxMessage]:
    with db.session() as s:
        stmt = select(OutboxMessage).order_by(OutboxMessage.id)
        if kind:
            stmt = stmt.where(OutboxMessage.kind == kind)
        return list(s.scalars(stmt))


def ask(client, **fields) -> object:
    page = client.get("/watch")
    data = {"csrf_token": csrf(page.text), "email": "watcher@example.org", "kind": "circle",
            "lat": str(CENTRE[0]), "lon": str(CENTRE[1]), "radius": "1000",
            "frequency": "instant", **fields}
    return client.post("/watch", data=data)


def confirm_path(db) -> str:
    body = messages(db, "watch_confirm")[-1].body_text
    return re.search(re.escape(compose.PORTAL_URL) + r"(/watch/confirm/\S+)", body).group(1)


def confirmed_watch(client, db, **fields) -> Watch:
    assert ask(client, **fields).status_code == 303
    assert client.post(confirm_path(db)).status_code == 200
    with db.session() as s:
        return s.scalars(select(Watch).order_by(Watch.id.desc())).first()


def test_ask_confirm_then_instant_notice_for_new_issue_inside_only(client, db, world):
    response = ask(client)
    assert response.status_code == 303 and response.headers["location"].endswith("sent=1")
    assert "Check your email" in client.get(response.headers["location"]).text
    confirm = messages(db, "watch_confirm")
    assert [m.recipient for m in confirm] == ["watcher@example.org"]

    # Nothing is sent before the address is confirmed.
    with db.session() as s:
        file_report(s, "northside", *NEAR)
    assert messages(db, "watch_new") == []

    page = client.get(confirm_path(db))
    assert page.status_code == 200 and "Confirm your watch" in page.text
    done = client.post(confirm_path(db))
    assert "Your watch is on" in done.text
    with db.session() as s:
        watch = s.scalars(select(Watch)).one()
        assert watch.confirmed_at is not None
        feed_token = watch.feed_token
    assert f"/watch/{feed_token}/feed.atom" in done.text

    with db.session() as s:
        inside = file_report(s, "northside", *NEAR, title="Broken bench")
        file_report(s, "northside", *FAR, title="Far away")
        # The reporter is not told about their own report.
        file_report(s, "northside", *NEAR, email="watcher@example.org", title="Mine")
    notices = messages(db, "watch_new")
    assert [m.key for m in notices] == [f"watch-new:{watch.id}:{inside.id}"]
    assert "Broken bench" in notices[0].subject
    assert f"{compose.PORTAL_URL}/issues/{inside.id}" in notices[0].body_text


def test_form_refuses_a_centre_outside_the_portal_and_a_bad_email(client, db, world):
    response = ask(client, lat="0.5", lon="1.0", email="not-an-email")
    assert response.status_code == 400
    assert "outside" in field_error(response.text, "lat")
    assert field_error(response.text, "email")
    assert messages(db) == []


def test_asking_twice_makes_one_watch_and_no_extra_mail(client, db, world):
    ask(client)
    ask(client)
    with db.session() as s:
        assert len(s.scalars(select(Watch)).all()) == 1
    assert len(messages(db, "watch_confirm")) == 1


def test_bad_or_foreign_confirmation_links_are_refused(client, db, world, app, settings):
    from tests.conftest import client_for

    ask(client)
    path = confirm_path(db)
    assert client.post(path[:-3] + "xyz").status_code == 400
    # The same link on another portal does not confirm this portal's watch.
    other = client_for(app, "riverside.reportal.test")
    assert other.post(path).status_code == 400
    with db.session() as s:
        assert s.scalars(select(Watch)).one().confirmed_at is None


def test_status_change_reaches_area_and_issue_watchers_not_internal_notes(client, db, world):
    with db.session() as s:
        issue = file_report(s, "northside", *NEAR, email="reporter@example.org")
        issue_id = issue.id
    confirmed_watch(client, db)
    follower = confirmed_watch(client, db, kind="issue", issue_id=str(issue_id),
                               email="follower@example.org")
    assert follower.kind == "issue"
    with db.session() as s:
        issue = s.get(Issue, issue_id)
        note = status.change_status(s, issue, "acknowledged", author="Crew", internal=True)
        assert watch_notices.notify_status_change(s, issue, note) == 0
        issue.status = "open"
        update = status.change_status(s, issue, "acknowledged", author="Roads desk",
                                      text="Crew booked")
        assert watch_notices.notify_status_change(s, issue, update) == 2
        assert watch_notices.notify_status_change(s, issue, update) == 0  # idempotent
    notices = messages(db, "watch_status")
    assert sorted(m.recipient for m in notices) == ["follower@example.org",
                                                    "watcher@example.org"]
    assert "Crew booked" in notices[0].body_text


def test_portal_wide_watch_hears_about_everything_in_the_portal(client, db, world):
    watch = confirmed_watch(client, db, kind="portal", email="all@example.org")
    with db.session() as s:
        file_report(s, "northside", *FAR)
        file_report(s, "riverside", 0.5, 1.0)  # not in northside
    assert [m.recipient for m in messages(db, "watch_new")] == ["all@example.org"]
    assert watch.kind == "portal"


def test_daily_digest_lists_the_days_events_once(client, db, world):
    watch = confirmed_watch(client, db, frequency="daily")
    day = date(2025, 3, 10)
    at = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
    with db.session() as s:
        first = file_report(s, "northside", *NEAR, title="Pothole on Elm")
        second = file_report(s, "northside", *NEAR, title="Light out")
        outside = file_report(s, "northside", *FAR, title="Elsewhere")
        for issue in (first, second, outside):
            issue.created_at = at
        update = status.change_status(s, first, "acknowledged", author="Desk")
        update.created_at = at + timedelta(hours=3)
        second.created_at = at - timedelta(days=1)  # the day before: not in this digest
    assert messages(db, "watch_new") == []  # daily watchers get no instant mail
    with db.session() as s:
        assert digests.compose_digests(s, day) == 1
        assert digests.compose_digests(s, day) == 0
        assert digests.compose_digests(s, day + timedelta(days=5)) == 0
    digest = messages(db, "watch_digest")
    assert [m.key for m in digest] == [f"watch-digest:{watch.id}:2025-03-10"]
    text = digest[0].body_text
    assert "Pothole on Elm" in text and "Light out" not in text and "Elsewhere" not in text
    assert text.count("Pothole on Elm") == 2  # reported, then acknowledged
    assert f"/watch/{watch.feed_token}/feed.atom" in text


def test_digest_command(client, db, world, settings, monkeypatch, capsys):
    from portal import cli

    confirmed_watch(client, db, frequency="daily")
    with db.session() as s:
        file_report(s, "northside", *NEAR).created_at = datetime(2025, 3, 10, 9, tzinfo=UTC)
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    assert cli.main(["digest", "--date", "2025-03-10"]) == 0
    assert "1" in capsys.readouterr().out
    assert len(messages(db, "watch_digest")) == 1
    assert cli.main(["digest", "--date", "March"]) == 1


def test_watch_feed_is_private_valid_atom_of_the_area(client, db, world):
    watch = confirmed_watch(client, db)
    with db.session() as s:
        near = file_report(s, "northside", *NEAR, title="Tree <down> & blocking")
        file_report(s, "northside", *FAR, title="Far away")
        status.change_status(s, near, "acknowledged", author="Desk")
    response = client.get(f"/watch/{watch.feed_token}/feed.atom")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    assert response.headers["x-robots-tag"] == "noindex"
    feed = ET.fromstring(response.content)
    titles = [e.findtext(f"{ATOM}title") for e in feed.iter(f"{ATOM}entry")]
    assert titles == ["Tree <down> & blocking is now: Acknowledged",
                      "New: Tree <down> & blocking"]
    assert client.get("/watch/not-a-token/feed.atom").status_code == 404
    with db.session() as s:
        s.get(Watch, watch.id).ended_at = datetime.now(UTC)
    assert client.get(f"/watch/{watch.feed_token}/feed.atom").status_code == 404


def test_unsubscribing_ends_the_watch(client, db, world, settings):
    from portal.mail import unsubscribe

    watch = confirmed_watch(client, db)
    token = unsubscribe.make_token(settings.secret_key, watch.email, f"watch:{watch.id}")
    assert client.post(f"/unsubscribe/{token}").status_code == 200
    with db.session() as s:
        assert s.get(Watch, watch.id).ended_at is not None
        file_report(s, "northside", *NEAR)
    assert messages(db, "watch_new") == []


def test_announcement_goes_to_watchers_whose_area_it_touches(client, db, world):
    confirmed_watch(client, db, email="near@example.org")
    confirmed_watch(client, db, email="far@example.org", lat="2.9", lon="0.1", radius="250")
    confirmed_watch(client, db, email="digest@example.org", frequency="daily")
    box = {"type": "Polygon", "coordinates": [[[0.9, 1.9], [1.1, 1.9], [1.1, 2.1],
                                              [0.9, 2.1], [0.9, 1.9]]]}
    import json

    with db.session() as s:
        portal = tenant(s, "northside")
        later = datetime.now(UTC) + timedelta(days=2)
        row = announcements.publish(s, title={"en": "Road closed"},
                                    body_md={"en": "Elm Street is closed on **Monday**."},
                                    tenant=portal, area_geojson=json.dumps(box),
                                    publish_at=later)
    sent = messages(db, "watch_announcement")
    assert [m.recipient for m in sent] == ["near@example.org"]
    assert "Road closed" in sent[0].subject
    assert abs((sent[0].next_attempt_at.replace(tzinfo=UTC) - later).total_seconds()) < 1
    with db.session() as s:  # the daily watcher finds it in that day's digest
        assert digests.compose_digests(s, later.date()) == 1
    assert "Road closed" in messages(db, "watch_digest")[0].body_text
    assert row.id


def test_move_watchers_to_the_original_issue(client, db, world):
    with db.session() as s:
        dup = file_report(s, "northside", *NEAR)
        original = file_report(s, "northside", *NEAR)
        ids = dup.id, original.id
    confirmed_watch(client, db, kind="issue", issue_id=str(ids[0]), email="a@example.org")
    confirmed_watch(client, db, kind="issue", issue_id=str(ids[0]), email="b@example.org")
    confirmed_watch(client, db, kind="issue", issue_id=str(ids[1]), email="b@example.org")
    with db.session() as s:
        moved = watching.move_watchers(s, s.get(Issue, ids[0]), s.get(Issue, ids[1]))
        assert moved == 1
        active = s.scalars(select(Watch.email).where(Watch.issue_id == ids[1],
                                                     Watch.ended_at.is_(None))).all()
        assert sorted(active) == ["a@example.org", "b@example.org"]
        update = status.change_status(s, s.get(Issue, ids[1]), "acknowledged", author="x")
        assert watch_notices.notify_status_change(s, s.get(Issue, ids[1]), update) == 2
    assert isinstance(update, Update)


def test_issue_page_links_to_following_it(client, db, world):
    with db.session() as s:
        issue_id = file_report(s, "northside", *NEAR).id
    page = client.get(f"/issues/{issue_id}")
    assert f"/watch?issue={issue_id}" in page.text
    form = client.get(f"/watch?issue={issue_id}")
    assert form.status_code == 200 and "Follow this issue by email" in form.text


def test_withdrawn_announcement_is_not_mailed(client, db, world):
    confirmed_watch(client, db, email="near@example.org")
    confirmed_watch(client, db, email="digest@example.org", frequency="daily")
    later = datetime.now(UTC) + timedelta(days=1)
    with db.session() as s:
        row = announcements.publish(s, title={"en": "Parade"}, body_md={"en": "Sunday"},
                                    tenant=tenant(s, "northside"), publish_at=later)
    assert [m.recipient for m in messages(db, "watch_announcement")] == ["near@example.org"]
    with db.session() as s:
        row = s.merge(row)
        row.expire_at = datetime.now(UTC)  # withdrawn before it was published
        assert watch_notices.cancel_announcement_mail(s, row) == 1
        assert digests.compose_digests(s, later.date()) == 0
    assert messages(db, "watch_announcement") == []
