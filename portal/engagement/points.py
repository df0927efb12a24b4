"""Civic points and badges: a ledger where each (person, act) is written at most once.

People: a person is a stable, never-shown key. A reporter who gives an email is
`person_key(email)`; a signed-in visitor is the same key (through their account's email);
anyone else who votes, comments or posts "It's fixed" is a hash of their visitor key (a
random id in their session cookie), who can never appear on a leaderboard.

Acts and points (`POINTS`):
- `report` — filing a report with an email (10);
- `vote` — "I want this fixed too" (1);
- `fix` — posting "It's fixed" on an issue that staff then close (20): `award_fix_confirmed`;
- `comment` — a *helpful comment*: a public, visible comment on an issue that staff later
  close as fixed (5), awarded by `award_fix_confirmed` too. We chose this over "staff mark
  a comment helpful": it needs no extra staff work and rewards comments on problems that
  got solved. A comment posted after the close does not count.

The unique (person_key, act) constraint makes awards idempotent, even when two requests race.

The leaderboard never shows anonymous activity: it lists only people who chose to show their
name on a report visible in the portal, by that name, and it counts only `public` awards. A
report filed without a shown name is recorded with `public = False`: it never adds to anyone's
public score or badges, so nobody can link it to a name. Votes are never shown one by one.

Badges are computed from the public ledger (so they too are never awarded twice): first
report, ten reports, first fix, and neighbourhood regular (reports in three different weeks
in the same portal).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal import models
from portal.core.errors import N_
from portal.models import Contribution, Issue, PointAward, Tenant, Update
from portal.reports.activity import aware
from portal.tenancy.scoping import public_issues

POINTS = {"report": 10, "vote": 1, "fix": 20, "comment": 5}
BADGES = {
    "first_report": N_("First report"),
    "ten_reports": N_("Ten reports"),
    "first_fix": N_("First fix"),
    "regular": N_("Neighbourhood regular"),
}
REGULAR_WEEKS = 3


def person_key(email: str) -> str:
    """The stable key for an email address (a hash; the address is never stored here)."""
    digest = hashlib.sha256(("reportal-person:" + email.strip().lower()).encode())
    return "e:" + digest.hexdigest()[:40]


def person_for_visitor(session: Session, visitor_key: str) -> str:
    """The person behind a `request_context.visitor_key` ("u:<user id>", "v:...", "h:...")."""
    if visitor_key.startswith("u:"):
        user_model = getattr(models, "User", None)
        user_id = visitor_key[2:]
        if user_model is not None and user_id.isdigit():
            user = session.get(user_model, int(user_id))
            if user is not None and getattr(user, "email", ""):
                return person_key(user.email)
    return "k:" + hashlib.sha256(("reportal-visitor:" + visitor_key).encode()).hexdigest()[:40]


def award(session: Session, person: str, act: str, kind: str, issue_id: int, *,
          public: bool = True, display_name: str = "") -> bool:
    """Write one award; False (and nothing written) if this person already has this act."""
    exists = session.scalars(select(PointAward.id).where(
        PointAward.person_key == person, PointAward.act == act)).first()
    if exists is not None:
        return False
    try:
        with session.begin_nested():
            session.add(PointAward(person_key=person, act=act, kind=kind, points=POINTS[kind],
                                   issue_id=issue_id, public=public,
                                   display_name=display_name[:100]))
    except IntegrityError:
        return False
    return True


def award_report(session: Session, issue: Issue) -> bool:
    """Points for filing `issue`, if the reporter gave an email (else nobody to credit)."""
    if not issue.reporter_email:
        return False
    return award(session, person_key(issue.reporter_email), f"report:{issue.id}", "report",
                 issue.id, public=issue.show_name, display_name=issue.public_name)


def award_vote(session: Session, issue: Issue, voter_key: str) -> bool:
    return award(session, person_for_visitor(session, voter_key), f"vote:{issue.id}", "vote",
                 issue.id)


def record_contribution(session: Session, update: Update, visitor_key: str) -> None:
    """Remember who wrote a comment or "It's fixed" post, so a later close can credit them."""
    if session.get(Contribution, update.id) is None:
        session.add(Contribution(update_id=update.id,
                                 person_key=person_for_visitor(session, visitor_key)))
        session.flush()


def award_fix_confirmed(session: Session, issue: Issue) -> int:
    """Staff closed `issue`: credit who said it was fixed, and the helpful comments.

    Call it after the status change to `closed`; returns how many awards were written.
    """
    if issue.status != "closed":
        return 0
    rows = session.execute(
        select(Update.id, Update.kind, Contribution.person_key)
        .join(Contribution, Contribution.update_id == Update.id)
        .where(Update.issue_id == issue.id, Update.kind.in_(("fixed", "comment")),
               Update.hidden.is_(False), Update.internal.is_(False))
        .order_by(Update.id)
    ).all()
    written = 0
    for update_id, kind, person in rows:
        if kind == "fixed":
            written += award(session, person, f"fix:{issue.id}", "fix", issue.id)
        else:
            written += award(session, person, f"comment:{update_id}", "comment", issue.id)
    return written


# -- reading --------------------------------------------------------------------------------


@dataclass
class Standing:
    """One row of a leaderboard: a public name, points, counts and badges."""

    name: str
    points: int
    reports: int = 0
    fixes: int = 0
    badges: list[str] = field(default_factory=list)
    rank: int = 0
    person: str = field(default="", repr=False)


def _visible_ids(tenant: Tenant):  # noqa: ANN202 - a scalar subquery
    return public_issues(tenant).with_only_columns(Issue.id).scalar_subquery()


def badges_from(report_times: list[datetime], fixes: int) -> list[str]:
    """Badge codes (keys of BADGES) for a person's public reports and confirmed fixes."""
    earned = []
    if report_times:
        earned.append("first_report")
    if len(report_times) >= 10:
        earned.append("ten_reports")
    if fixes:
        earned.append("first_fix")
    weeks = {aware(t).isocalendar()[:2] for t in report_times}
    if len(weeks) >= REGULAR_WEEKS:
        earned.append("regular")
    return earned


def leaderboard(session: Session, tenant: Tenant, limit: int = 50) -> list[Standing]:
    """Named people by public points on issues visible in this portal, best first."""
    visible = _visible_ids(tenant)
    public = (PointAward.issue_id.in_(visible), PointAward.public.is_(True))
    names: dict[str, tuple[datetime, str]] = {}
    for person, name, at in session.execute(
        select(PointAward.person_key, PointAward.display_name, PointAward.created_at)
        .where(*public, PointAward.kind == "report", PointAward.display_name != "")
    ):
        if person not in names or aware(at) > names[person][0]:
            names[person] = (aware(at), name)
    if not names:
        return []
    totals = session.execute(
        select(PointAward.person_key, func.sum(PointAward.points))
        .where(*public, PointAward.person_key.in_(list(names)))
        .group_by(PointAward.person_key)
    ).all()
    standings = sorted(
        (Standing(name=names[p][1], points=int(total or 0), person=p) for p, total in totals),
        key=lambda s: (-s.points, s.name.lower()))[:limit]
    chosen = {s.person: s for s in standings}
    reports: dict[str, list[datetime]] = {p: [] for p in chosen}
    for person, kind, at in session.execute(
        select(PointAward.person_key, PointAward.kind, PointAward.created_at)
        .where(*public, PointAward.person_key.in_(list(chosen)),
               PointAward.kind.in_(("report", "fix")))
    ):
        if kind == "report":
            reports[person].append(at)
        else:
            chosen[person].fixes += 1
    rank, previous = 0, None
    for index, standing in enumerate(standings, start=1):
        standing.reports = len(reports[standing.person])
        standing.badges = badges_from(reports[standing.person], standing.fixes)
        if standing.points != previous:
            rank, previous = index, standing.points
        standing.rank = rank
    return standings


def person_points(session: Session, person: str, public_only: bool = False) -> int:
    stmt = select(func.coalesce(func.sum(PointAward.points), 0)).where(
        PointAward.person_key == person)
    if public_only:
        stmt = stmt.where(PointAward.public.is_(True))
    return int(session.scalar(stmt) or 0)
