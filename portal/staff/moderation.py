"""Moderation: hide and show issues, comments and photos, redact text, and public flags.

Hiding is about public view: a hidden issue or update vanishes from every public page, the
API, search and feeds (they all read through `scoping.public_issues` and
`status.public_history`), and a hidden photo answers 404 at `/media`. Nothing is deleted:
every action writes a `ModerationAction` (who, when, why) and can be undone. Redaction
replaces a passage with "[redacted]" for good; its audit row names the field and the number
of passages, never the removed text.

Permission checks are the caller's, through `portal.staff.permissions`.
"""

from __future__ import annotations

import re

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.core import text_fields
from portal.core.errors import N_, Message, ValidationError
from portal.models import Flag, HiddenPhoto, Issue, ModerationAction, Tenant, Update, utcnow
from portal.reports import photos, search
from portal.tenancy.scoping import for_tenant, public_issues

REDACTED = "[redacted]"
MAX_REASON = 500
FLAG_REASONS = {
    "spam": N_("Spam or advertising"),
    "abuse": N_("Abusive or offensive"),
    "personal": N_("Shares someone's personal details"),
    "other": N_("Something else"),
}
ISSUE_FIELDS = ("title", "description", "address")
UPDATE_FIELDS = ("text", "author_name")


def _reason(text: str) -> str:
    text = text_fields.require(lines={"reason": text})["reason"]
    if not text:
        raise ValidationError({"reason": Message(N_("Say why, for the record."))})
    if len(text) > MAX_REASON:
        raise ValidationError({"reason": Message(N_("Keep this under %(max)s characters."),
                                                 {"max": MAX_REASON})})
    return text


def _audit(session: Session, tenant: Tenant, user_id: int | None, issue_id: int, action: str,
           reason: str = "", *, update_id: int | None = None, detail: str = "",
           photo: str | None = None) -> ModerationAction:
    row = ModerationAction(tenant_id=tenant.id, user_id=user_id, issue_id=issue_id,
                           update_id=update_id, action=action, reason=reason, detail=detail,
                           photo=photo)
    session.add(row)
    session.flush()
    return row


def resolve_flags(session: Session, issue_id: int, resolution: str,
                  tenant: Tenant | None = None) -> int:
    """Close open flags on an issue (on one portal, or on all when it was hidden)."""
    stmt = update(Flag).where(Flag.issue_id == issue_id, Flag.resolved_at.is_(None))
    if tenant is not None:
        stmt = stmt.where(Flag.tenant_id == tenant.id)
    result = session.execute(stmt.values(resolved_at=utcnow(), resolution=resolution)
                             .execution_options(synchronize_session=False))
    return result.rowcount or 0


def hide_issue(session: Session, issue: Issue, tenant: Tenant, user_id: int | None,
               reason: str) -> ModerationAction:
    reason = _reason(reason)
    issue.hidden = True
    resolve_flags(session, issue.id, "hidden")
    return _audit(session, tenant, user_id, issue.id, "hide", reason)


def unhide_issue(session: Session, issue: Issue, tenant: Tenant, user_id: int | None,
                 reason: str) -> ModerationAction:
    reason = _reason(reason)
    issue.hidden = False
    return _audit(session, tenant, user_id, issue.id, "unhide", reason)


def set_update_hidden(session: Session, row: Update, hidden: bool, tenant: Tenant,
                      user_id: int | None, reason: str) -> ModerationAction:
    """Hide (or show again) one comment, fix report or staff update."""
    reason = _reason(reason)
    row.hidden = hidden
    return _audit(session, tenant, user_id, row.issue_id, "hide" if hidden else "unhide",
                  reason, update_id=row.id)


def hide_photo(session: Session, issue: Issue, digest: str, tenant: Tenant,
               user_id: int | None, reason: str) -> ModerationAction:
    """Take a photo down from the issue and all its updates; `/media` then answers 404."""
    reason = _reason(reason)
    if not photos.is_digest(digest):  # only our own page sends this: refuse, never query it
        raise ValidationError({"photo": Message(N_("That photo is not on this issue."))})
    places = []
    if issue.photo == digest:
        issue.photo = None
        places.append("issue")
    for row in session.scalars(select(Update).where(Update.issue_id == issue.id,
                                                    Update.photo == digest)):
        row.photo = None
        places.append(f"update:{row.id}")
    if not places:
        raise ValidationError({"photo": Message(N_("That photo is not on this issue."))})
    if session.get(HiddenPhoto, digest) is None:
        session.add(HiddenPhoto(digest=digest))
    return _audit(session, tenant, user_id, issue.id, "hide_photo", reason,
                  detail=" ".join(places), photo=digest)


def restore_photo(session: Session, action: ModerationAction, tenant: Tenant,
                  user_id: int | None, reason: str) -> ModerationAction:
    """Undo a `hide_photo`: put the photo back where it was."""
    reason = _reason(reason)
    if action.action != "hide_photo" or not action.photo:
        raise ValidationError({"photo": Message(N_("That photo is not on this issue."))})
    issue = session.get(Issue, action.issue_id)
    for place in action.detail.split():
        if place == "issue":
            issue.photo = action.photo
        elif place.startswith("update:"):
            row = session.get(Update, int(place.split(":", 1)[1]))
            if row is not None and row.issue_id == issue.id:
                row.photo = action.photo
    hidden = session.get(HiddenPhoto, action.photo)
    if hidden is not None:
        session.delete(hidden)
    return _audit(session, tenant, user_id, issue.id, "show_photo", reason, photo=action.photo)


def redact(session: Session, issue: Issue, field: str, passage: str, tenant: Tenant,
           user_id: int | None, row: Update | None = None) -> ModerationAction:
    """Replace every occurrence of `passage` (any case) in one text field with "[redacted]"."""
    target, fields = (row, UPDATE_FIELDS) if row is not None else (issue, ISSUE_FIELDS)
    if field not in fields:
        raise ValidationError({"field": Message(N_("Choose the text to redact."))})
    passage = text_fields.require(lines={"passage": passage})["passage"]
    if len(passage) < 2:
        raise ValidationError({"passage": Message(N_("Enter the exact words to redact."))})
    text = getattr(target, field) or ""
    new_text, count = re.subn(re.escape(passage), REDACTED, text, flags=re.IGNORECASE)
    if count == 0:
        raise ValidationError({"passage": Message(
            N_("Those words do not appear in that text."))})
    setattr(target, field, new_text)
    if row is None and field in ("title", "description"):
        session.flush()
        search.index_issue(session, issue)
    return _audit(session, tenant, user_id, issue.id, "redact", "",
                  update_id=row.id if row is not None else None,
                  detail=f"{field}: {count}")


def photo_visible(session: Session, tenant: Tenant, digest: str) -> bool:
    """Whether `tenant`'s portal may serve a stored photo: not taken down, and used by an issue
    (or a public update of one) that this portal shows. Another portal's photos are not ours
    to serve, even by their digest."""
    if session.get(HiddenPhoto, digest) is not None:
        return False
    shown = public_issues(tenant).with_only_columns(Issue.id)
    on_issue = session.scalar(shown.where(Issue.photo == digest).limit(1))
    if on_issue is not None:
        return True
    on_update = session.scalar(
        shown.join(Update, Update.issue_id == Issue.id).where(
            Update.photo == digest, Update.hidden.is_(False), Update.internal.is_(False))
        .limit(1))
    return on_update is not None


def flag(session: Session, tenant: Tenant, issue: Issue, reason: str, text: str,
         flagger_key: str) -> bool:
    """A resident flags an issue as inappropriate; once per person. True if it was new."""
    if reason not in FLAG_REASONS:
        raise ValidationError({"reason": Message(N_("Choose what is wrong."))})
    text = text_fields.require(texts={"flag_text": text})["flag_text"]
    if len(text) > MAX_REASON:
        raise ValidationError({"flag_text": Message(N_("Keep this under %(max)s characters."),
                                                    {"max": MAX_REASON})})
    exists = session.scalar(select(Flag.id).where(Flag.issue_id == issue.id,
                                                  Flag.flagger_key == flagger_key))
    if exists is not None:
        return False
    try:
        with session.begin_nested():
            session.add(Flag(tenant_id=tenant.id, issue_id=issue.id, reason=reason,
                             text=text, flagger_key=flagger_key[:64]))
    except IntegrityError:
        return False
    return True


def open_flags(session: Session, tenant: Tenant) -> list[dict]:
    """This portal's open flags, one entry per issue, most flagged first."""
    rows = session.execute(
        for_tenant(select(Flag.issue_id, func.count(Flag.id), func.max(Flag.created_at)),
                   Flag, tenant)
        .where(Flag.resolved_at.is_(None))
        .group_by(Flag.issue_id)
        .order_by(func.count(Flag.id).desc(), func.max(Flag.created_at).desc())
        .limit(200)
    ).all()
    result = []
    for issue_id, count, latest in rows:
        flags = list(session.scalars(for_tenant(select(Flag), Flag, tenant).where(
            Flag.issue_id == issue_id, Flag.resolved_at.is_(None)).order_by(Flag.id)))
        result.append({"issue": session.get(Issue, issue_id), "count": count,
                       "latest": latest, "flags": flags})
    return result


def recent_actions(session: Session, tenant: Tenant, limit: int = 50) -> list[ModerationAction]:
    return list(session.scalars(
        for_tenant(select(ModerationAction), ModerationAction, tenant)
        .order_by(ModerationAction.id.desc()).limit(limit)))


def issue_actions(session: Session, issue_id: int) -> list[ModerationAction]:
    return list(session.scalars(select(ModerationAction).where(
        ModerationAction.issue_id == issue_id).order_by(ModerationAction.id.desc())))
