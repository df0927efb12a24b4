"""The receipt a reporter gets when they file a report with an email address.

In the language they reported in, naming the place, with a link that shows the report's
status at any time without signing in (`portal.mail.status_links`). The link is the same
for a report filed under a name or anonymously; the page it opens shows what the public
issue page shows, never the reporter's contact.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from portal.core.i18n import gettext as _
from portal.core.i18n import use_locale
from portal.core.localized import localized
from portal.mail import status_links
from portal.mail.outbox import enqueue
from portal.models import Body, Issue, OutboxMessage

KIND = "receipt"


def place_of(issue: Issue) -> str:
    """The place in words: the stored name, else the address typed, else the coordinates."""
    return issue.place_name or issue.address or f"{issue.lat:.5f}, {issue.lon:.5f}"


def report_received(session: Session, issue: Issue) -> OutboxMessage | None:
    """Queue the receipt (once per issue); None when the reporter gave no email."""
    if not issue.reporter_email or issue.origin_tenant_id is None:
        return None
    body: Body = issue.body if issue.body is not None else session.get(Body, issue.body_id)
    locale = issue.locale or "en"
    with use_locale(locale):
        type_name = localized(issue.request_type.name, locale)
        name = issue.title or type_name
        subject = _("We received your report #%(id)s: %(name)s", id=issue.id, name=name)
        lines = [
            _("Thank you. Your report \"%(name)s\" (#%(id)s) was sent to %(body)s.",
              name=name, id=issue.id, body=localized(body.name, locale)),
            "",
            _("Request type: %(type)s", type=type_name),
            _("Place: %(place)s", place=place_of(issue)),
            "",
            _("See its status at any time, without signing in: %(url)s",
              url=status_links.link_placeholder(issue.id)),
            _("We will also email you when its status changes."),
        ]
    return enqueue(session, key=f"receipt:{issue.id}", kind=KIND,
                   recipient=issue.reporter_email, locale=locale, subject=subject,
                   body_text="\n".join(lines), tenant_id=issue.origin_tenant_id)
