"""Votes count once per person; every status change is a row in the public history."""

from __future__ import annotations

import pytest

from portal.reports import status, voting
from portal.reports.status import TransitionError
from tests.factories import file_report


def test_one_vote_per_person(world, session):
    issue = file_report(session, "northside", lat=1.2, lon=1.0)
    assert voting.vote(session, issue, "v:alice") is True
    assert voting.vote(session, issue, "v:alice") is False
    assert voting.vote(session, issue, "v:bob") is True
    assert issue.vote_count == 2


def test_status_history_records_who_when_what(world, session):
    issue = file_report(session, "northside", lat=1.2, lon=1.0)
    status.change_status(session, issue, "acknowledged", author="Parks desk", text="On it")
    status.change_status(session, issue, "closed", author="Parks desk", text="Filled")
    kinds = [(u.kind, u.old_status, u.new_status, u.author_name) for u in issue.updates]
    assert kinds == [("created", None, "open", ""),
                     ("status", "open", "acknowledged", "Parks desk"),
                     ("status", "acknowledged", "closed", "Parks desk")]
    assert issue.status == "closed"


def test_closed_cannot_jump_back_to_acknowledged(world, session):
    issue = file_report(session, "northside", lat=1.2, lon=1.0)
    status.change_status(session, issue, "closed", author="x")
    with pytest.raises(TransitionError):
        status.change_status(session, issue, "acknowledged", author="x")


def test_internal_notes_stay_out_of_the_public_history(world, session):
    issue = file_report(session, "northside", lat=1.2, lon=1.0)
    status.change_status(session, issue, "acknowledged", author="x", text="crew", internal=True)
    assert [u.kind for u in status.public_history(issue)] == ["created"]


def test_resident_fixed_post_leaves_status_until_staff_confirm(world, session, tmp_path):
    issue = file_report(session, "northside", lat=1.2, lon=1.0)
    status.report_fixed(session, issue, "Looks patched", "Neighbour", None, tmp_path, 10**7)
    assert issue.status == "open"
    assert issue.updates[-1].kind == "fixed"


def test_comments_are_idempotent_by_key(world, session):
    issue = file_report(session, "northside", lat=1.2, lon=1.0)
    a = status.add_comment(session, issue, "Me too", submission_key="c1")
    b = status.add_comment(session, issue, "Me too", submission_key="c1")
    assert a.id == b.id
