"""Status changes and public updates; every change is an `Update` row in the history.

`open` -> `acknowledged` -> `closed` (fixed) -> `archived`; staff may reopen. Residents may
comment and post that something is fixed ("It's fixed"), which shows as theirs until staff
confirm by closing the issue.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.core import text_fields
from portal.core.domain_events import publish
from portal.core.errors import N_, DomainError, Message, ValidationError
from portal.models import STATUSES, Issue, Update, utcnow
from portal.reports import photos
from portal.reports.events import StatusChanged

MAX_COMMENT = 2000
MAX_AUTHOR = 100

ALLOWED = {
    "open": {"acknowledged", "closed"},
    "acknowledged": {"open", "closed"},
    "closed": {"open", "archived"},
    "archived": {"open"},
}


class TransitionError(DomainError):
    pass


def _existing(session: Session, key: str) -> Update | None:
    if not key or text_fields.form_key_problem(key) is not None:
        return None
    return session.scalars(select(Update).where(Update.submission_key == key)).first()


def _photo(data: bytes | None, media_dir: Path, max_bytes: int) -> photos.PreparedPhoto | None:
    """None when no file was chosen; a chosen file, even an empty one, must be a photo."""
    if data is None:
        return None
    try:
        return photos.prepare(data, max_bytes)
    except photos.PhotoError as exc:
        raise ValidationError({"photo": exc.message}) from None


def check_text(text: str, author: str, required: bool,
               submission_key: str = "") -> tuple[str, str]:
    """A comment's text (multi-line) and author (one line), cleaned; else ValidationError."""
    values, errors = text_fields.clean(lines={"author": author}, texts={"text": text})
    if (problem := text_fields.form_key_problem(submission_key)) is not None:
        errors["submission_key"] = problem
    if "text" not in errors:
        if required and not values["text"]:
            errors["text"] = Message(N_("Write a comment first."))
        elif len(values["text"]) > MAX_COMMENT:
            errors["text"] = Message(N_("Keep this under %(max)s characters."),
                                     {"max": MAX_COMMENT})
    if "author" not in errors and len(values["author"]) > MAX_AUTHOR:
        errors["author"] = Message(N_("Keep this under %(max)s characters."), {"max": MAX_AUTHOR})
    if errors:
        raise ValidationError(errors)
    return values["text"], values["author"]


def add_comment(session: Session, issue: Issue, text: str, author: str = "",
                submission_key: str = "") -> Update:
    """A public comment by anyone; `author` empty means anonymous."""
    if (found := _existing(session, submission_key)) is not None:
        return found
    text, author = check_text(text, author, required=True, submission_key=submission_key)
    update = Update(issue_id=issue.id, kind="comment", author_name=author,
                    text=text, submission_key=submission_key.strip() or None)
    session.add(update)
    issue.updated_at = utcnow()
    session.flush()
    return update


def report_fixed(session: Session, issue: Issue, text: str, author: str, photo: bytes | None,
                 media_dir: Path, max_bytes: int, submission_key: str = "") -> Update:
    """Anyone may say it is fixed; the status stays until staff confirm."""
    if (found := _existing(session, submission_key)) is not None:
        return found
    text, author = check_text(text, author, required=False, submission_key=submission_key)
    prepared = _photo(photo, media_dir, max_bytes)
    digest = photos.save(prepared, media_dir, session) if prepared else None
    update = Update(issue_id=issue.id, kind="fixed", author_name=author,
                    text=text, photo=digest, submission_key=submission_key.strip() or None)
    session.add(update)
    issue.updated_at = utcnow()
    session.flush()
    return update


CLOSED = ("closed", "archived")


def request_reopen(session: Session, issue: Issue, text: str, author: str = "",
                   submission_key: str = "") -> Update:
    """A resident says a closed issue is still broken: a public `reopen_request` that staff
    accept (the issue reopens) or decline (it stays closed), both in the history. The
    status does not change until they do."""
    if (found := _existing(session, submission_key)) is not None:
        return found
    if issue.status not in CLOSED:
        raise ValidationError({"form": Message(N_(
            "This issue is not closed, so there is nothing to reopen."))})
    if reopen_pending(issue.updates):
        raise ValidationError({"form": Message(N_(
            "Someone has already asked to reopen this issue; staff will review it."))})
    text, author = check_text(text, author, required=False, submission_key=submission_key)
    if not text:
        raise ValidationError({"reopen_text": Message(N_("Say what is still broken."))})
    update = Update(issue_id=issue.id, kind="reopen_request", author_name=author,
                    text=text, submission_key=submission_key.strip() or None)
    session.add(update)
    issue.updated_at = utcnow()
    session.flush()
    return update


def reopen_pending(updates: list[Update]) -> Update | None:
    """The resident's request to reopen still awaiting staff (none since the last status
    change or refusal), or None."""
    for update in sorted(updates, key=lambda u: u.id, reverse=True):
        if update.hidden:
            continue
        if update.kind in ("status", "reopen_declined"):
            return None
        if update.kind == "reopen_request":
            return update
    return None


def change_status(session: Session, issue: Issue, new_status: str, *, author: str,
                  text: str = "", photo_digest: str | None = None, internal: bool = False,
                  author_role: str = "staff") -> Update:
    """Move an issue to `new_status`, recording who, when, what and why."""
    if new_status not in STATUSES:
        raise TransitionError(N_("Unknown status."))
    if new_status not in ALLOWED[issue.status]:
        raise TransitionError(
            N_("An issue that is %(old)s cannot become %(new)s."),
            old=issue.status, new=new_status,
        )
    text, _ = check_text(text, "", required=False)  # the author is ours: a body's name
    update = Update(issue_id=issue.id, kind="status", old_status=issue.status,
                    new_status=new_status, author_name=author, author_role=author_role,
                    text=text, photo=photo_digest, internal=internal)
    issue.status = new_status
    issue.updated_at = utcnow()
    session.add(update)
    session.flush()
    publish(session, StatusChanged(issue, update))
    return update


STAFF_KINDS = ("note", "reassigned", "duplicate", "comment", "reopen_declined")


def add_staff_update(session: Session, issue: Issue, kind: str, *, author: str, text: str = "",
                     internal: bool = False) -> Update:
    """A staff entry that is not a status change: an internal `note`, a public `comment` (a
    reply that keeps the status), a `reassigned` or a `duplicate` marker. Notes are always
    internal; the others are public history."""
    if kind not in STAFF_KINDS:
        raise TransitionError(N_("Unknown kind of update."))
    text, author = check_text(text, author, required=kind in ("note", "comment"))
    update = Update(issue_id=issue.id, kind=kind, author_name=author, author_role="staff",
                    text=text, internal=internal or kind == "note")
    session.add(update)
    issue.updated_at = utcnow()
    session.flush()
    return update


def public_history(issue: Issue) -> list[Update]:
    return [u for u in issue.updates if not u.internal and not u.hidden]


def fix_reported(history: list[Update]) -> bool:
    """Whether a resident has said "it's fixed" since the last status change (staff have yet
    to confirm it): the page then says so instead of asking again."""
    for update in reversed(history):
        if update.kind == "status":
            return False
        if update.kind == "fixed":
            return True
    return False
