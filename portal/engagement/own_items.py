"""What a signed-in resident has on one portal: the reports they filed, their votes, their
watches. Read for their account page, and only ever for that person on that portal.

A report is theirs when it was filed with their account's address; a vote when it was cast
while signed in (an anonymous vote has no link to anyone); a watch when it mails their
address on this portal. Reports and votes are the issues this portal shows (public_issues):
a report moderators hid is not listed, as its page would not open either.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from portal.engagement.watching import active_watches
from portal.models import Issue, Tenant, Vote, Watch
from portal.reports.voting import account_voter
from portal.tenancy.scoping import for_tenant, public_issues

LIMIT = 200  # newest first; an account page is not an archive


@dataclass(frozen=True)
class OwnItems:
    reports: list[Issue]
    votes: list[Issue]
    watches: list[Watch]


def own_items(session: Session, tenant: Tenant, user_id: int, email: str) -> OwnItems:
    """The person's reports, votes and active watches on `tenant`, newest first."""
    email = email.strip().lower()
    reports = session.scalars(
        public_issues(tenant).where(Issue.reporter_email == email)
        .options(selectinload(Issue.request_type))
        .order_by(Issue.created_at.desc(), Issue.id.desc()).limit(LIMIT)).all() if email else []
    votes = session.scalars(
        public_issues(tenant).join(Vote, Vote.issue_id == Issue.id)
        .where(Vote.voter_key == account_voter(user_id))
        .options(selectinload(Issue.request_type))
        .order_by(Vote.created_at.desc(), Vote.id.desc()).limit(LIMIT)).all()
    watches = session.scalars(
        for_tenant(select(Watch), Watch, tenant).where(Watch.email == email, active_watches())
        .order_by(Watch.id.desc()).limit(LIMIT)).all() if email else []
    return OwnItems(list(reports), list(votes), list(watches))
