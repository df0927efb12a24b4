"""Status changes texted to the resident who reported by text (unless they texted STOP).

The text is an outbox row keyed by the status update, written in the transaction of the
change, in the language the resident reported in; internal changes and hidden issues send
nothing, as for mail.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from portal.core.errors import N_
from portal.core.i18n import gettext as _
from portal.core.i18n import use_locale
from portal.mail.compose import PORTAL_URL
from portal.mail.notifications import STATUS_LABELS
from portal.models import Issue, OutboxMessage, SmsContact, SmsReport, Tenant, Update
from portal.sms import outbound

STATUS_TEXT = N_("Your report #%(id)s is now: %(status)s. %(url)s")


def status_changed(session: Session, issue: Issue, update: Update) -> OutboxMessage | None:
    if update.internal or update.kind != "status" or issue.hidden:
        return None
    link = session.get(SmsReport, issue.id)
    contact = session.get(SmsContact, link.contact_id) if link is not None else None
    if contact is None or contact.opted_out or contact.blocked:
        return None
    tenant = session.get(Tenant, contact.tenant_id)
    config = outbound.number_config(tenant, link.number)
    if config is None:
        return None
    with use_locale(contact.locale):
        status = _(STATUS_LABELS.get(update.new_status or "", update.new_status or ""))
        link = f"{PORTAL_URL}/issues/{issue.id}"
        text = _(STATUS_TEXT, id=issue.id, status=status, url=link)
    return outbound.queue(session, contact, config, text, f"sms-status:{update.id}", tenant.id)
