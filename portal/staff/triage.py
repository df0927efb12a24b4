"""What body staff do to an issue: acknowledge, close, reopen, note, reassign, merge duplicates.

Each action writes history through `portal.reports.status` (so every change is an `Update`), records
which signed-in person did it (`UpdateAuthor`), and queues the reporter's notice through
`portal.mail.notifications.status_changed`. Permission checks are the caller's job, through
`portal.staff.permissions`; these functions assume the actor may act.

Public history names the body, not the staff member: `author_name` is the body's name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from portal.core import geo
from portal.core.domain_events import publish
from portal.core.errors import N_, Message, ValidationError
from portal.core.localized import localized
from portal.engagement import points, watch_notices, watching
from portal.mail import notifications
from portal.models import (
    Body,
    Issue,
    IssueDuplicate,
    RequestType,
    Tenant,
    Update,
    UpdateAuthor,
    Vote,
)
from portal.reports import photos, status
from portal.reports.events import IssueReassigned
from portal.tenancy import service_targets
from portal.tenancy.links import portal_base
from portal.tenancy.membership import bodies_containing

BULK_ACTIONS = {"acknowledge": "acknowledged", "close": "closed"}


@dataclass(frozen=True)
class Actor:
    """The signed-in staff member acting (None: the system), and the public URL that links in
    the mail they cause start from."""

    user_id: int | None
    public_url: str = ""


@dataclass
class BulkResult:
    done: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)


def _body(session: Session, issue: Issue) -> Body:
    return issue.body if issue.body is not None else session.get(Body, issue.body_id)


def author_for(session: Session, issue: Issue) -> str:
    """The name public history shows for staff of the issue's body."""
    body = _body(session, issue)
    return localized(body.name, body.language or "en")


def _record_author(session: Session, update_row: Update, actor: Actor) -> None:
    if actor.user_id is not None:
        session.add(UpdateAuthor(update_id=update_row.id, user_id=actor.user_id))


def _check_comment(text: str, required: bool = False) -> str:
    """A staff member's comment or note, cleaned (`status.check_text`); else ValidationError."""
    return status.check_text(text, "", required)[0]


def _issue_url(session: Session, issue: Issue, actor: Actor) -> str:
    if not actor.public_url or issue.origin_tenant_id is None:
        return ""
    origin = session.get(Tenant, issue.origin_tenant_id)
    return f"{portal_base(actor.public_url, origin)}/issues/{issue.id}" if origin else ""


def set_status(session: Session, issue: Issue, new_status: str, actor: Actor, *,
               text: str = "", photo: bytes | None = None, media_dir: Path | None = None,
               max_photo_bytes: int = 10 * 1024 * 1024) -> Update:
    """Acknowledge, close (fixed, optionally with a photo), reopen or archive an issue.

    Closing confirms residents' "It's fixed" posts; reopening ends a duplicate link.
    """
    text = _check_comment(text)
    prepared = None
    if photo is not None:  # a file was chosen: an empty one is an error, not "no photo"
        try:
            prepared = photos.prepare(photo, max_photo_bytes)
        except photos.PhotoError as exc:
            raise ValidationError({"photo": exc.message}) from None
    try:
        row = status.change_status(session, issue, new_status, author=author_for(session, issue),
                                   text=text, photo_digest=prepared.digest if prepared else None)
    except status.TransitionError as exc:
        raise ValidationError({"status": exc.message}) from None
    if prepared is not None:  # after the status row: a refused change writes no file
        photos.save(prepared, media_dir or Path("."), session)
    _record_author(session, row, actor)
    if new_status == "open":
        session.execute(delete(IssueDuplicate).where(IssueDuplicate.issue_id == issue.id))
    notifications.status_changed(session, issue, row, issue_url=_issue_url(session, issue, actor))
    watch_notices.notify_status_change(session, issue, row)
    if new_status == "closed":
        points.award_fix_confirmed(session, issue)
    session.flush()
    return row


def reply(session: Session, issue: Issue, text: str, actor: Actor) -> Update:
    """A public reply that keeps the status (after acknowledging, "we have ordered the part"):
    in the issue's history under the body's name, and mailed to the reporter."""
    if not text.strip():
        raise ValidationError({"text": Message(N_("Write a public reply, or choose a new "
                                                  "status."))})
    text = _check_comment(text, required=True)
    row = status.add_staff_update(session, issue, "comment", author=author_for(session, issue),
                                  text=text)
    _record_author(session, row, actor)
    notifications.staff_replied(session, issue, row, issue_url=_issue_url(session, issue, actor))
    session.flush()
    return row


def review_reopen(session: Session, issue: Issue, accept: bool, actor: Actor,
                  text: str = "") -> Update:
    """Staff's answer to a resident's "still broken": accepting reopens the issue (a status
    change, with its mail and watch notices); declining keeps it closed and says so in the
    public history, with the reason given."""
    if status.reopen_pending(issue.updates) is None:
        raise ValidationError({"reopen": Message(N_(
            "There is no request to reopen this issue (someone may have answered it)."))})
    if accept:
        return set_status(session, issue, "open", actor, text=text)
    text = _check_comment(text)
    row = status.add_staff_update(session, issue, "reopen_declined",
                                  author=author_for(session, issue), text=text)
    _record_author(session, row, actor)
    return row


def add_note(session: Session, issue: Issue, text: str, actor: Actor) -> Update:
    """An internal note: staff only, never in public history, pages, feeds or mail."""
    text = _check_comment(text, required=True)
    row = status.add_staff_update(session, issue, "note", author=author_for(session, issue),
                                  text=text, internal=True)
    _record_author(session, row, actor)
    session.flush()
    return row


def bulk(session: Session, issues: list[Issue], action: str, actor: Actor,
         text: str = "") -> BulkResult:
    """Apply one action to many issues; those it cannot apply to are skipped, not failed."""
    if action not in BULK_ACTIONS:
        raise ValidationError({"action": Message(N_("Choose what to do with the issues."))})
    text = _check_comment(text)
    result = BulkResult()
    target = BULK_ACTIONS[action]
    for issue in issues:
        if target not in status.ALLOWED[issue.status]:
            result.skipped.append(issue.id)
            continue
        set_status(session, issue, target, actor, text=text)
        result.done.append(issue.id)
    return result


def reassign_targets(session: Session, issue: Issue) -> list[Body]:
    """Bodies whose area holds the issue's place, other than the one it is with now."""
    bodies = bodies_containing(session, issue.lat, issue.lon)
    return sorted((b for b in bodies if b.id != issue.body_id), key=lambda b: (b.area_size, b.id))


def reassign(session: Session, issue: Issue, target: Body | None, actor: Actor, *,
             request_type_id: int | None = None, text: str = "") -> Update:
    """Send an issue to another body, mapping its request type.

    The target's request type is the one staff chose, or else the target's active type with
    the same code. The new body gets the report by mail like a new report, and through its
    Open311 endpoint if it has one (`IssueReassigned`, answered in `portal.reactions`).
    """
    text = _check_comment(text)
    if target is None or target.id == issue.body_id:
        raise ValidationError({"body": Message(N_("Choose another body."))})
    if not geo.contains(target.area_geojson, issue.lat, issue.lon):
        raise ValidationError({"body": Message(
            N_("This place is outside the area of %(body)s."),
            {"body": localized(target.name, target.language or "en")})})
    types = list(session.scalars(select(RequestType).where(
        RequestType.body_id == target.id, RequestType.active.is_(True))))
    chosen = None
    if request_type_id:
        chosen = next((rt for rt in types if rt.id == request_type_id), None)
    else:
        code = session.get(RequestType, issue.request_type_id).code
        chosen = next((rt for rt in types if rt.code == code), None)
    if chosen is None:
        raise ValidationError({"request_type": Message(
            N_("Choose one of the request types of %(body)s."),
            {"body": localized(target.name, target.language or "en")})})
    author = author_for(session, issue)
    issue.body_id, issue.request_type_id = target.id, chosen.id
    session.flush()
    service_targets.set_due_times(session, issue)  # the new body's promises, from the report
    session.expire(issue, ["body", "request_type"])
    row = status.add_staff_update(session, issue, "reassigned", author=author, text=text)
    _record_author(session, row, actor)
    notifications.new_report(session, issue)
    publish(session, IssueReassigned(issue))
    session.flush()
    return row


def original_of(session: Session, issue_id: int) -> int | None:
    """The issue this one was merged into, if it was marked a duplicate."""
    return session.scalar(
        select(IssueDuplicate.original_id).where(IssueDuplicate.issue_id == issue_id))


def merge_root(session: Session, original: Issue) -> Issue:
    """The issue a merge into `original` really lands on: the end of its duplicate chain."""
    root_id = original_of(session, original.id)
    return session.get(Issue, root_id) if root_id and root_id != original.id else original


def _recount(session: Session, issue: Issue) -> None:
    count = session.scalar(select(func.count()).select_from(Vote).where(
        Vote.issue_id == issue.id)) or 0
    session.execute(update(Issue).where(Issue.id == issue.id).values(vote_count=count))
    session.refresh(issue, ["vote_count"])


def move_votes(session: Session, duplicate: Issue, original: Issue) -> None:
    """Votes on the duplicate count for the original; a person (or, anonymously, a network)
    who voted on both counts once."""
    already = select(Vote.voter_key).where(Vote.issue_id == original.id).scalar_subquery()
    networks = select(Vote.network_key).where(
        Vote.issue_id == original.id, Vote.network_key.is_not(None)).scalar_subquery()
    session.execute(
        update(Vote)
        .where(Vote.issue_id == duplicate.id, Vote.voter_key.not_in(already),
               or_(Vote.network_key.is_(None), Vote.network_key.not_in(networks)))
        .values(issue_id=original.id)
        .execution_options(synchronize_session=False)
    )
    session.execute(delete(Vote).where(Vote.issue_id == duplicate.id))
    _recount(session, duplicate)
    _recount(session, original)


def mark_duplicate(session: Session, duplicate: Issue, original: Issue, actor: Actor, *,
                   text: str = "") -> Update:
    """Merge `duplicate` into `original` (or the issue `original` was itself merged into):
    link it, move votes and watchers, close it. The caller checks `permissions.can_merge`
    against both `original` and `merge_root(original)`."""
    text = _check_comment(text)
    original = merge_root(session, original)
    if original.id == duplicate.id:
        raise ValidationError({"original": Message(
            N_("An issue cannot be a duplicate of itself."))})
    if original.hidden:
        raise ValidationError({"original": Message(
            N_("There is no such issue on this portal."))})
    session.execute(delete(IssueDuplicate).where(IssueDuplicate.issue_id == duplicate.id))
    session.execute(update(IssueDuplicate).where(IssueDuplicate.original_id == duplicate.id)
                    .values(original_id=original.id))
    session.add(IssueDuplicate(issue_id=duplicate.id, original_id=original.id))
    closing_needed = "closed" in status.ALLOWED[duplicate.status]
    row = status.add_staff_update(session, duplicate, "duplicate",
                                  author=author_for(session, duplicate),
                                  text="" if closing_needed else text)
    _record_author(session, row, actor)
    move_votes(session, duplicate, original)
    watching.move_watchers(session, duplicate, original)
    if closing_needed:
        closing = status.change_status(session, duplicate, "closed",
                                       author=author_for(session, duplicate), text=text)
        _record_author(session, closing, actor)
        notifications.status_changed(session, duplicate, closing,
                                     issue_url=_issue_url(session, original, actor))
        watch_notices.notify_status_change(session, duplicate, closing)
    session.flush()
    return row
