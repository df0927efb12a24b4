"""Mail that domain events cause, written to the outbox in the same transaction.

Each message has an idempotency key naming the event and recipient, so writing the same
notice twice is impossible and a sender that crashes mid-batch never doubles a message.
Messages are composed in the recipient's language.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from portal.core import time_text
from portal.core.errors import N_
from portal.core.i18n import gettext as _
from portal.core.i18n import use_locale
from portal.core.localized import localized
from portal.mail.compose import PORTAL_URL
from portal.mail.outbox import enqueue
from portal.models import Body, Issue, OutboxMessage, Tenant, Update
from portal.tenancy import service_targets


def portal_zone(session: Session, issue: Issue) -> str:
    """The zone of the portal the issue was reported on: its mail's times are in it."""
    origin = session.get(Tenant, issue.origin_tenant_id) if issue.origin_tenant_id else None
    return origin.time_zone if origin else "UTC"


def new_report(session: Session, issue: Issue) -> OutboxMessage | None:
    """The responsible body's copy of a new report, with the reporter's contact when given."""
    body: Body = issue.body if issue.body is not None else session.get(Body, issue.body_id)
    if not body.contact_email:
        return None
    if body.open311 and not body.open311.get("email"):
        return None  # the report goes to the body's Open311 endpoint instead
    locale = body.language or "en"
    # The body reads times in the zone it works in (its service hours), else the portal's.
    zone = service_targets.time_zone(body, portal_zone(session, issue))
    with use_locale(locale):
        type_name = localized(issue.request_type.name, locale)
        lines = [
            _("A new report was sent to %(body)s.", body=localized(body.name, locale)),
            "",
            _("Reported: %(when)s", when=time_text.written(issue.created_at, zone)),
        ]
        if issue.acknowledge_due_at:
            lines.append(_("Acknowledgement due: %(when)s",
                           when=time_text.written(issue.acknowledge_due_at, zone)))
        if issue.close_due_at:
            lines.append(_("Fix due: %(when)s", when=time_text.written(issue.close_due_at, zone)))
        lines += [
            _("Request type: %(type)s", type=type_name),
            _("Title: %(title)s", title=issue.title or "-"),
            _("Place: %(lat)s, %(lon)s", lat=issue.lat, lon=issue.lon),
        ]
        if issue.place_name:
            lines.append(_("Near: %(place)s", place=issue.place_name))
        if issue.address:
            lines.append(_("Address: %(address)s", address=issue.address))
        lines += ["", issue.description, ""]
        if issue.reporter_name or issue.reporter_email:
            lines.append(_("Reporter (private): %(name)s <%(email)s>",
                           name=issue.reporter_name or "-", email=issue.reporter_email or "-"))
        else:
            lines.append(_("The reporter chose to stay anonymous."))
        if issue.photo:
            lines.append(_("A photo is attached on the issue page."))
        lines.append(_("Issue number: %(id)s", id=issue.id))
        # PORTAL_URL becomes the portal's address when the outbox sends the mail.
        staff_link = f"{PORTAL_URL}/staff/issues/{issue.id}"
        lines += ["", _("Open it in the staff area (sign in with this address): %(url)s",
                        url=staff_link)]
        subject = _("New report #%(id)s: %(type)s", id=issue.id, type=type_name)
    return enqueue(session, key=f"new-report:{issue.id}:{body.id}", kind="new_report",
                   recipient=body.contact_email, locale=locale, subject=subject,
                   body_text="\n".join(lines), tenant_id=issue.origin_tenant_id)


STATUS_LABELS = {
    "open": N_("Open"),
    "acknowledged": N_("Acknowledged"),
    "closed": N_("Closed (fixed)"),
    "archived": N_("Archived"),
}


def status_changed(session: Session, issue: Issue, update: Update,
                   issue_url: str = "") -> OutboxMessage | None:
    """Tell the reporter (in the language they reported in) that their issue changed.

    Internal updates and hidden issues send nothing; neither do anonymous reports without an
    email. Watchers' copies are added next to this one, keyed per recipient.
    """
    if update.internal or update.kind != "status" or issue.hidden or not issue.reporter_email:
        return None
    locale = issue.locale or "en"
    with use_locale(locale):
        status = _(STATUS_LABELS.get(update.new_status or "", update.new_status or ""))
        name = issue.title or localized(issue.request_type.name, locale)
        subject = _("Your report #%(id)s is now: %(status)s", id=issue.id, status=status)
        lines = [_("Your report \"%(name)s\" (#%(id)s) changed.", name=name, id=issue.id),
                 _("New status: %(status)s", status=status),
                 _("Changed: %(when)s", when=time_text.written(
                     update.created_at, portal_zone(session, issue)))]
        if issue.place_name:
            lines.append(_("Near: %(place)s", place=issue.place_name))
        if update.text:
            lines += ["", _("Comment from %(author)s:", author=update.author_name or _("Staff")),
                      update.text]
        if issue_url:
            lines += ["", _("Follow it here: %(url)s", url=issue_url)]
    return enqueue(session, key=f"status:{update.id}:reporter", kind="status_changed",
                   recipient=issue.reporter_email, locale=locale, subject=subject,
                   body_text="\n".join(lines), tenant_id=issue.origin_tenant_id)


def staff_replied(session: Session, issue: Issue, update: Update,
                  issue_url: str = "") -> OutboxMessage | None:
    """Tell the reporter that the body replied about their issue without changing its status.

    Sent as a status notice (one "news of my report" list to unsubscribe from), and only when
    `status_changed` would send one."""
    if update.internal or issue.hidden or not issue.reporter_email:
        return None
    locale = issue.locale or "en"
    with use_locale(locale):
        name = issue.title or localized(issue.request_type.name, locale)
        author = update.author_name or _("Staff")
        subject = _("Reply about your report #%(id)s", id=issue.id)
        lines = [_("%(author)s replied about your report \"%(name)s\" (#%(id)s):",
                   author=author, name=name, id=issue.id), "", update.text, "",
                 _("Replied: %(when)s", when=time_text.written(
                     update.created_at, portal_zone(session, issue)))]
        if issue_url:
            lines += ["", _("Follow it here: %(url)s", url=issue_url)]
    return enqueue(session, key=f"reply:{update.id}:reporter", kind="status_changed",
                   recipient=issue.reporter_email, locale=locale, subject=subject,
                   body_text="\n".join(lines), tenant_id=issue.origin_tenant_id)
