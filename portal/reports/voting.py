"""'I want this fixed too': one vote per person per issue, counted once."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.core.domain_events import publish
from portal.models import Issue, Vote
from portal.reports.events import VoteCast


def has_voted(session: Session, issue: Issue, voter_key: str) -> bool:
    return session.scalars(
        select(Vote.id).where(Vote.issue_id == issue.id, Vote.voter_key == voter_key)
    ).first() is not None


def vote(session: Session, issue: Issue, voter_key: str) -> bool:
    """Record a vote; returns False (and changes nothing) if this voter already voted.

    The unique (issue, voter) constraint is what guarantees it under concurrency; the count
    on the issue is incremented in SQL so two votes at once both count.
    """
    if has_voted(session, issue, voter_key):
        return False
    try:
        with session.begin_nested():
            session.add(Vote(issue_id=issue.id, voter_key=voter_key))
    except IntegrityError:
        return False
    session.execute(
        update(Issue).where(Issue.id == issue.id).values(vote_count=Issue.vote_count + 1)
    )
    session.refresh(issue, ["vote_count"])
    publish(session, VoteCast(issue, voter_key))
    return True
