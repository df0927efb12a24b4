"""Turning an outbox row into an email: headers, links, the unsubscribe footer.

Messages composed without a request (watch notices, digests, a body's copy of a report)
write their links as `PORTAL_URL + "/issues/12"`; `compose` puts the portal's absolute
address there when the message is sent, from `PUBLIC_URL` and the row's `tenant_id` (see
`portal.tenancy.links`). The placeholder lives here because this is the code that expands it.
"""

from __future__ import annotations

import hashlib
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.core.i18n import gettext as _
from portal.core.i18n import use_locale
from portal.core.settings import Settings
from portal.core.text_fields import as_one_line
from portal.mail import status_links, unsubscribe
from portal.models import OutboxMessage, Tenant, utcnow
from portal.tenancy.links import portal_base

PORTAL_URL = "{portal_url}"
# RFC 5322's own limit on a header line. Python's default (78) makes it fold a header with a
# long unbreakable word, such as the unsubscribe link, into RFC 2047 encoded words, which
# RFC 2369 and RFC 8058 do not allow: mail programs then offer no one-click unsubscribe.
MAIL_POLICY = policy.default.clone(max_line_length=998)


def message_id(key: str, mail_from: str) -> str:
    """The stable Message-ID for an idempotency key: the same on every resend."""
    domain = parseaddr(mail_from)[1].rpartition("@")[2] or "reportal.invalid"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:40]}@{domain}>"


def _portal_address(session: Session, settings: Settings, tenant_id: int | None) -> str:
    tenant = session.get(Tenant, tenant_id) if tenant_id is not None else None
    if tenant is None:
        # Mail about no portal in particular: any portal serves the unsubscribe page.
        tenant = session.scalars(select(Tenant).order_by(Tenant.id)).first()
    return portal_base(settings.public_url, tenant) if tenant else settings.public_url


def compose(session: Session, settings: Settings, message: OutboxMessage) -> EmailMessage:
    """The email for an outbox row, with its headers, links and unsubscribe footer."""
    base = _portal_address(session, settings, message.tenant_id)
    scope = unsubscribe.scope_for(message.kind, message.key)
    token = unsubscribe.make_token(settings.secret_key, message.recipient, scope)
    unsubscribe_url = f"{base}/unsubscribe/{token}"
    with use_locale(message.locale or "en"):
        footer = "\n".join([
            "", "-- ",
            _("You get this email from Reportal because of a report, a watch or a sign-in "
              "you asked for."),
            _("Unsubscribe with one click: %(url)s", url=unsubscribe_url),
        ])
    mail = EmailMessage(policy=MAIL_POLICY)
    mail["From"] = settings.mail_from
    mail["To"] = message.recipient
    mail["Subject"] = as_one_line(message.subject)  # a line break in a header raises
    mail["Date"] = format_datetime(utcnow())
    mail["Message-ID"] = message_id(message.key, settings.mail_from)
    mail["X-Reportal-Key"] = message.key
    mail["Auto-Submitted"] = "auto-generated"
    mail["List-Unsubscribe"] = f"<{unsubscribe_url}>"
    mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    text = message.body_text.replace(PORTAL_URL, base)
    if message.tenant_id is not None and (portal := session.get(Tenant, message.tenant_id)):
        text = status_links.expand(text, base, settings.secret_key, portal.slug)
    mail.set_content(text + "\n" + footer + "\n")
    mail["Content-Language"] = (message.locale or "en").replace("_", "-")  # after set_content
    return mail
