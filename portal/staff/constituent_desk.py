"""A politician's constituent desk: the district's issues, follow-ups and escalations.

The office of a politician portal (`permissions.is_office`) sees every public issue in the
portal's area, filtered like the body staff's queue (`queue.narrow`), and the reporter's
name and email only where the reporter ticked "Let {portal}'s office contact me about this"
on *this* portal's form (`OfficeContact`, read through `scoping.for_tenant`).

A follow-up is a public note in the issue's history, shown on every portal that shows the
issue under the office's name (the portal's name) and mailed to the issue's watchers. An
escalation mails the responsible body's contact through the outbox and records "escalated by
the office to the body" in the public history; the office's own words go to the body only.
Permission checks are the caller's job; these functions assume the actor may act.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from portal.core.errors import N_, Message, ValidationError
from portal.core.i18n import gettext as _
from portal.core.i18n import use_locale
from portal.core.localized import localized
from portal.core.time_text import day_written
from portal.engagement.watch_notices import issue_name, status_label
from portal.engagement.watching import issue_link, one_per_address, watches_for_issue
from portal.mail.outbox import enqueue
from portal.models import (
    DashboardCount,
    Issue,
    OfficeContact,
    RequestType,
    Tenant,
    Update,
    UpdateAuthor,
    User,
    utcnow,
)
from portal.reports import activity, status
from portal.reports.activity import aware
from portal.staff.queue import SORTS, QueueFilters, narrow
from portal.tenancy.scoping import for_tenant, public_issues

OFFICE_NOTE = activity.OFFICE_NOTE
ESCALATED = "escalated"
# A body hears from one office about one issue once a week at most: a second press, a second
# tab or an impatient aide would otherwise fill a works department's inbox with the same ask.
ESCALATE_AGAIN_AFTER = timedelta(days=7)
OFFICE_ROLE = "office"  # `Update.author_role` of the office's entries


@dataclass(frozen=True)
class Contact:
    """A reporter who let this office contact them."""

    name: str
    email: str


def office_name(tenant: Tenant) -> str:
    """How history and mail name the office: the portal's name in its default language."""
    return localized(tenant.name, tenant.default_language, tenant.default_language)


def fetch(session: Session, tenant: Tenant,
          f: QueueFilters) -> tuple[list[Issue], int, dict[int, Contact]]:
    """One page of the district's public issues, the total, and the contacts the office may
    see among them."""
    stmt = narrow(session, tenant, public_issues(tenant), f)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    issues = list(session.scalars(
        stmt.options(selectinload(Issue.request_type), selectinload(Issue.body))
        .order_by(*SORTS[f.sort]).limit(f.per_page).offset((f.page - 1) * f.per_page)))
    return issues, total, contacts_for(session, tenant, issues)


def contacts_for(session: Session, tenant: Tenant, issues: list[Issue]) -> dict[int, Contact]:
    """The reporters of `issues` who ticked this portal's box (and gave an email)."""
    ids = [i.id for i in issues]
    if not ids:
        return {}
    consented = set(session.scalars(for_tenant(
        select(OfficeContact.issue_id), OfficeContact, tenant).where(
        OfficeContact.issue_id.in_(ids))))
    return {i.id: Contact(i.reporter_name, i.reporter_email) for i in issues
            if i.id in consented and i.reporter_email}


def request_types(session: Session, tenant: Tenant) -> list[RequestType]:
    """The request types of the district's issues, one per code, for the type filter (read
    from the dashboard's maintained counts, never from the issues)."""
    type_ids = select(DashboardCount.request_type_id).where(
        DashboardCount.tenant_id == tenant.id, DashboardCount.n > 0).distinct()
    seen: dict[str, RequestType] = {}
    for rt in session.scalars(select(RequestType).where(RequestType.id.in_(type_ids))
                              .order_by(RequestType.code, RequestType.id)):
        seen.setdefault(rt.code, rt)
    return list(seen.values())


def _office_update(session: Session, tenant: Tenant, issue: Issue, kind: str, text: str,
                   user_id: int | None) -> Update:
    row = Update(issue_id=issue.id, kind=kind, author_name=office_name(tenant),
                 author_role=OFFICE_ROLE, text=text)
    session.add(row)
    issue.updated_at = utcnow()
    session.flush()
    if user_id is not None:
        session.add(UpdateAuthor(update_id=row.id, user_id=user_id))
    return row


def follow_up(session: Session, tenant: Tenant, issue: Issue, text: str,
              user_id: int | None) -> Update:
    """The office's public note ("Our office has asked Public Works about this"), mailed to
    the issue's watchers."""
    try:
        text = status.check_text(text, "", required=True)[0]
    except ValidationError as exc:
        raise ValidationError({"follow_up": exc.errors["text"]}) from None
    row = _office_update(session, tenant, issue, OFFICE_NOTE, text, user_id)
    notify_watchers(session, issue, row)
    session.flush()
    return row


def notify_watchers(session: Session, issue: Issue, row: Update) -> int:
    """Mail instant watchers (of the area, on any portal, or of the issue) about the note,
    each in their language; the key names the watch, so unsubscribing ends that watch."""
    if issue.hidden:
        return 0
    count = 0
    for watch in one_per_address(watches_for_issue(session, issue)):
        with use_locale(watch.locale):
            name = issue_name(issue, watch.locale)
            subject = _("%(office)s followed up on %(name)s", office=row.author_name,
                        name=name)
            lines = [_("The office of %(office)s wrote about an issue you watch:",
                       office=row.author_name), "", name, "", row.text, "",
                     _("See it on the map: %(url)s", url=issue_link(issue.id))]
        if enqueue(session, key=f"watch-office:{watch.id}:{row.id}", kind="watch_office",
                   recipient=watch.email, locale=watch.locale, subject=subject,
                   body_text="\n".join(lines), tenant_id=watch.tenant_id):
            count += 1
    return count


def _last_escalation(session: Session, tenant: Tenant, issue: Issue) -> datetime | None:
    return session.scalar(select(func.max(Update.created_at)).where(
        Update.issue_id == issue.id, Update.kind == ESCALATED,
        Update.author_role == OFFICE_ROLE, Update.author_name == office_name(tenant)))


def escalate(session: Session, tenant: Tenant, issue: Issue, text: str,
             user: User | None) -> Update:
    """Mail the responsible body's contact about the issue, from the outbox, and record it in
    the public history. `text` (optional) is the office's message, for the body only."""
    try:
        text = status.check_text(text, "", required=False)[0]
    except ValidationError as exc:
        raise ValidationError({"escalate": exc.errors["text"]}) from None
    last = _last_escalation(session, tenant, issue)
    if last is not None and utcnow() - aware(last) < ESCALATE_AGAIN_AFTER:
        raise ValidationError({"escalate": Message(
            N_("Your office escalated this issue on %(day)s. It can be escalated again from "
               "%(again)s."), {"day": day_written(last, tenant.time_zone),
                               "again": day_written(aware(last) + ESCALATE_AGAIN_AFTER,
                                                    tenant.time_zone)})})
    body = issue.body
    body_name = localized(body.name, body.language or "en")
    if not body.contact_email:
        raise ValidationError({"escalate": Message(
            N_("%(body)s has no contact address to escalate to."), {"body": body_name})})
    # The history names the body as it was called when the office wrote to it.
    row = _office_update(session, tenant, issue, ESCALATED, body_name,
                         user.id if user else None)
    office = row.author_name
    locale = body.language or "en"
    with use_locale(locale):
        name = issue_name(issue, locale)
        subject = _("%(office)s asks about issue #%(id)s: %(name)s", office=office,
                    id=issue.id, name=name)
        lines = [_("The office of %(office)s asks %(body)s to look at this issue:",
                   office=office, body=body_name), ""]
        if text:
            lines += [text, ""]
        lines += [name,
                  _("Request type: %(type)s", type=localized(issue.request_type.name, locale)),
                  _("Status: %(status)s", status=status_label(issue.status)),
                  _("Reported: %(date)s", date=issue.created_at.date().isoformat()),
                  _("Votes: %(count)s", count=issue.vote_count)]
        if issue.address:
            lines.append(_("Address: %(address)s", address=issue.address))
        lines += ["", issue.description, "",
                  _("See it on the map: %(url)s", url=issue_link(issue.id))]
        if user is not None:
            lines += ["", _("Write back to the office: %(email)s", email=user.email)]
    enqueue(session, key=f"office-escalation:{row.id}", kind="office_escalation",
            recipient=body.contact_email, locale=locale, subject=subject,
            body_text="\n".join(lines), tenant_id=tenant.id)
    session.flush()
    return row
