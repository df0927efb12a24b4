"""Daily digests follow the portal's own day, and carry an office's follow-ups.

A New Haven watcher's digest for Monday lists what happened on Monday in New Haven
(midnight to midnight Eastern), and is written once Monday has ended there, not at midnight
UTC, five hours early. A politician's office following up on an issue reaches daily watchers
in their digest and every reader of the feeds, not only instant watchers by mail.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from portal import worker
from portal.engagement import digests, watching
from portal.models import OutboxMessage
from portal.staff import constituent_desk
from tests.conftest import client_for
from tests.factories import file_report, tenant

ATOM = "{http://www.w3.org/2005/Atom}"
SECRET = "s" * 32


def daily_watch(db, portal: str, email: str = "daily@example.org"):  # noqa: ANN001, ANN201
    with db.session() as s:
        t = tenant(s, portal)
        watch = watching.create_watch(s, t, watching.WatchForm(
            email=email, kind="portal", frequency="daily"), SECRET)
        watching.confirm_watch(s, t, watching.confirm_token(SECRET, watch), SECRET)
        return watch.id


def digests_sent(db) -> list[OutboxMessage]:  # noqa: ANN001
    with db.session() as s:
        return list(s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "watch_digest")
                              .order_by(OutboxMessage.id)))


@pytest.fixture
def eastern(db, world):  # noqa: ANN001, ANN201
    """Northside keeps Eastern time (daylight time began on 9 March 2025: UTC-4)."""
    with db.session() as s:
        tenant(s, "northside").time_zone = "America/New_York"


def test_a_digest_covers_the_portals_own_day(db, eastern):
    watch_id = daily_watch(db, "northside")
    with db.session() as s:
        late = file_report(s, "northside", 2.0, 1.0, title="Late on Monday")
        late.created_at = datetime(2025, 3, 11, 2, 30, tzinfo=UTC)  # 22:30 Monday, Eastern
        sunday = file_report(s, "northside", 2.0, 1.0, title="Sunday night")
        sunday.created_at = datetime(2025, 3, 10, 3, 0, tzinfo=UTC)  # 23:00 Sunday, Eastern
        assert digests.compose_digests(s, date(2025, 3, 10)) == 1
    [mail] = digests_sent(db)
    assert mail.key == f"watch-digest:{watch_id}:2025-03-10"
    assert "Late on Monday" in mail.body_text and "Sunday night" not in mail.body_text


def test_the_worker_writes_a_portals_digest_once_its_day_has_ended_there(db, settings, eastern,
                                                                         monkeypatch):
    daily_watch(db, "northside", "east@example.org")
    daily_watch(db, "riverside", "utc@example.org")
    with db.session() as s:
        for portal in ("northside", "riverside"):
            issue = file_report(s, portal, 1.2, 1.0, title=f"Monday on {portal}")
            issue.created_at = datetime(2025, 3, 10, 15, 0, tzinfo=UTC)
    state: dict = {}
    clock = [datetime(2025, 3, 11, 0, 30, tzinfo=UTC)]  # Monday is over in UTC, not Eastern
    monkeypatch.setattr(worker, "utcnow", lambda: clock[0])
    worker.run_once(db, settings, state)
    assert [m.recipient for m in digests_sent(db)] == ["utc@example.org"]
    clock[0] = datetime(2025, 3, 11, 4, 5, tzinfo=UTC)  # midnight has passed in New Haven
    worker.run_once(db, settings, state)
    worker.run_once(db, settings, {})  # a restarted worker writes nothing twice
    sent = digests_sent(db)
    assert [m.recipient for m in sent] == ["utc@example.org", "east@example.org"]
    assert all(m.key.endswith(":2025-03-10") for m in sent)
    assert "Monday on northside" in sent[1].body_text


def test_a_follow_up_reaches_daily_watchers_and_the_feeds(app, db, world):
    with db.session() as s:
        tenant(s, "riverside").kind = "politician"
    daily_watch(db, "riverside")
    today = datetime.now(UTC).date()
    with db.session() as s:
        issue = file_report(s, "riverside", 0.5, 1.5, title="Broken bench")
        constituent_desk.follow_up(s, tenant(s, "riverside"), issue,
                                   "Our office has asked Parks to replace it.", None)
        issue_id = issue.id
        assert digests.compose_digests(s, today) == 1
    [mail] = digests_sent(db)
    assert "Riverside Portal followed up on Broken bench:" in mail.body_text
    assert "Our office has asked Parks to replace it." in mail.body_text
    assert mail.body_text.count("Broken bench") == 2  # reported, then followed up

    feed = ET.fromstring(client_for(app, "riverside.example.test").get("/feed.atom").content)
    titles = [e.findtext(f"{ATOM}title") for e in feed.iter(f"{ATOM}entry")]
    assert titles[0] == "Riverside Portal followed up on Broken bench"
    [entry] = [e for e in feed.iter(f"{ATOM}entry") if "followed up" in e.findtext(f"{ATOM}title")]
    assert "asked Parks" in entry.findtext(f"{ATOM}summary")
    assert entry.find(f"{ATOM}link").get("href").endswith(f"/issues/{issue_id}#history")
