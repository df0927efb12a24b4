"""Civic points: each act is credited once; badges; a leaderboard with no anonymous activity."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from portal.engagement import points
from portal.models import PointAward, User
from portal.reports import status, voting
from tests.factories import file_report
from tests.http_support import csrf

HERE = (1.2, 1.0)  # northside


def awards(db, person: str | None = None) -> list[tuple[str, str, int, bool]]:
    with db.session() as s:
        stmt = select(PointAward).order_by(PointAward.id)
        if person:
            stmt = stmt.where(PointAward.person_key == person)
        return [(a.act.split(":")[0], a.kind, a.points, a.public) for a in s.scalars(stmt)]


def test_a_report_is_credited_once_even_when_submitted_twice(db, world):
    with db.session() as s:
        a = file_report(s, "northside", *HERE, email="Ann@Example.org", name="Ann",
                        show_name=True, submission_key="k1")
        b = file_report(s, "northside", *HERE, email="ann@example.org", name="Ann",
                        show_name=True, submission_key="k1")
        assert a.id == b.id
        assert points.award_report(s, a) is False
    ann = points.person_key("ann@example.org")
    assert awards(db, ann) == [("report", "report", 10, True)]


def test_anonymous_and_emailless_reports(db, world):
    with db.session() as s:
        file_report(s, "northside", *HERE)  # no email: nobody to credit
        file_report(s, "northside", *HERE, email="bo@example.org", name="Bo")  # name hidden
    assert awards(db) == [("report", "report", 10, False)]


def test_votes_are_credited_once_per_person_and_issue(db, world):
    with db.session() as s:
        issue = file_report(s, "northside", *HERE)
        assert voting.vote(s, issue, "v:abc")
        assert not voting.vote(s, issue, "v:abc")
        assert points.award_vote(s, issue, "v:abc") is False
        voting.vote(s, issue, "v:def")
    assert [a[0] for a in awards(db)] == ["vote", "vote"]


def test_signed_in_voter_is_the_same_person_as_their_reports(db, world):
    with db.session() as s:
        user = User(email="cy@example.org")
        s.add(user)
        s.flush()
        issue = file_report(s, "northside", *HERE, email="cy@example.org", name="Cy",
                            show_name=True)
        voting.vote(s, issue, f"u:{user.id}")
    assert [a[0] for a in awards(db, points.person_key("cy@example.org"))] == ["report", "vote"]


def test_fix_confirmed_and_helpful_comments_are_credited_at_close_once(db, world, tmp_path):
    with db.session() as s:
        issue = file_report(s, "northside", *HERE)
        fixer, commenter = "v:fixer", "v:commenter"
        fixed = status.report_fixed(s, issue, "Patched", "Dee", None, tmp_path, 10**7)
        points.record_contribution(s, fixed, fixer)
        comment = status.add_comment(s, issue, "It was near the school")
        points.record_contribution(s, comment, commenter)
        points.record_contribution(s, comment, commenter)  # a retried request
        assert points.award_fix_confirmed(s, issue) == 0  # not closed yet
        status.change_status(s, issue, "closed", author="Desk")
        assert points.award_fix_confirmed(s, issue) == 2
        assert points.award_fix_confirmed(s, issue) == 0
        fixer_key = points.person_for_visitor(s, fixer)
    assert awards(db, fixer_key) == [("fix", "fix", 20, True)]
    kinds = sorted(a[1] for a in awards(db))
    assert kinds == ["comment", "fix"]


def test_comment_route_records_who_wrote_it(client, db, world):
    with db.session() as s:
        issue_id = file_report(s, "northside", *HERE).id
    page = client.get(f"/issues/{issue_id}")
    key = re.search(r'name="submission_key" value="([^"]+)"', page.text).group(1)
    client.post(f"/issues/{issue_id}/comments",
                data={"csrf_token": csrf(page.text), "text": "Still there", "author": "",
                      "submission_key": key})
    from portal.models import Contribution

    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Contribution)) == 1


def test_badges():
    week = timedelta(days=7)
    start = datetime(2025, 1, 6, tzinfo=UTC)
    assert points.badges_from([], 0) == []
    assert points.badges_from([start], 0) == ["first_report"]
    assert points.badges_from([start, start + timedelta(days=1)], 1) == ["first_report",
                                                                          "first_fix"]
    three_weeks = [start, start + week, start + 2 * week]
    assert "regular" in points.badges_from(three_weeks, 0)
    assert "regular" not in points.badges_from([start] * 5, 0)
    assert "ten_reports" in points.badges_from([start] * 10, 0)


def test_leaderboard_shows_only_named_people_and_only_their_named_acts(db, world, client):
    with db.session() as s:
        for n in range(3):
            issue = file_report(s, "northside", *HERE, email="ann@example.org", name="Ann Lee",
                                show_name=True)
            issue.created_at = datetime(2025, 1, 6, tzinfo=UTC) + timedelta(weeks=n)
        s.flush()
        for award in s.scalars(select(PointAward)):
            award.created_at = s.get(type(issue), award.issue_id).created_at
        # Ann's anonymous report never counts, nor shows.
        file_report(s, "northside", *HERE, email="ann@example.org", name="Ann Lee")
        # Bo never showed a name: Bo is not on the board at all.
        for _n in range(5):
            file_report(s, "northside", *HERE, email="bo@example.org", name="Bo Secret")
        # A report on another portal does not count here.
        file_report(s, "riverside", 0.5, 1.0, email="ann@example.org", name="Ann Lee",
                    show_name=True)
        board = points.leaderboard(s, world.portals["northside"])
    assert [(b.name, b.points, b.reports) for b in board] == [("Ann Lee", 30, 3)]
    assert board[0].badges == ["first_report", "regular"]
    page = client.get("/leaderboard")
    assert page.status_code == 200
    assert "Ann Lee" in page.text and "Neighbourhood regular" in page.text
    assert "Bo Secret" not in page.text and "@example.org" not in page.text


def test_empty_leaderboard_page(client, world):
    page = client.get("/leaderboard")
    assert page.status_code == 200 and "Nobody is on the leaderboard yet" in page.text


def test_the_ledger_refuses_a_second_row_for_the_same_act(db, world):
    import pytest
    from sqlalchemy.exc import IntegrityError

    with db.session() as s:
        issue = file_report(s, "northside", *HERE)
        s.add(PointAward(person_key="k:x", act=f"vote:{issue.id}", kind="vote", points=1,
                         issue_id=issue.id))
        s.flush()
        with pytest.raises(IntegrityError), s.begin_nested():
            s.add(PointAward(person_key="k:x", act=f"vote:{issue.id}", kind="vote", points=1,
                             issue_id=issue.id))
            s.flush()
