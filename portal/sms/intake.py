"""One text, from the webhook to the replies waiting in the outbox.

`receive` runs in the webhook's transaction: it refuses a replayed gateway message id,
ignores blocked numbers, answers STOP/START/HELP (in any of the portal's languages), and
otherwise moves the sender's conversation one step (`conversation`). Replies are outbox rows
(`outbound.queue`), keyed by the inbound message, so a retried webhook never texts twice and
nothing is sent while the gateway waits for our answer. A report whose text holds a web link
(not a map link) is filed and flagged for the portal's moderators.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.core.errors import N_
from portal.core.i18n import gettext as _
from portal.core.i18n import use_locale
from portal.core.localized import localized
from portal.models import SmsInbound, Tenant, utcnow
from portal.sms import conversation, keywords, locating, outbound, phones
from portal.sms.gateways import Inbound
from portal.staff import moderation

HELP = N_("%(portal)s: report a problem by text. Send the place to begin. Reply %(stop)s to "
          "stop our texts, %(start)s to get them again.")
STOPPED = N_("You will get no more texts from %(portal)s. Reply %(start)s to get them again.")
STARTED = N_("Texts from %(portal)s are on again. Send a place to report a problem.")
FLAG_TEXT = N_("Flagged automatically: this report came by text message with a web link in it.")
FLAGGER = "sms-filter"


@dataclass
class Received:
    """What one text did: `replayed` (refused, nothing done), `ignored` (blocked or opted out,
    no answer), or the texts queued and the issue it filed."""

    replayed: bool = False
    ignored: bool = False
    replies: int = 0
    issue_id: int | None = None


def first_seen(session: Session, gateway: str, number: str, message_id: str) -> bool:
    """Record the gateway's message id; False if it was already taken (a replay)."""
    if not message_id:
        return True  # a gateway that sends no id cannot be replay-checked; its secret still is
    if session.scalars(select(SmsInbound.id).where(
            SmsInbound.gateway == gateway, SmsInbound.number == number,
            SmsInbound.message_id == message_id[:100])).first() is not None:
        return False
    try:
        with session.begin_nested():
            session.add(SmsInbound(gateway=gateway, number=number, message_id=message_id[:100]))
    except IntegrityError:
        return False
    return True


def receive(session: Session, tenant: Tenant, config: dict, inbound: Inbound,
            vault: phones.PhoneVault, filing: conversation.Filing,
            now: datetime | None = None) -> Received:
    now = now or utcnow()
    number = config["number"]
    if not first_seen(session, config["gateway"], number, inbound.message_id):
        return Received(replayed=True)
    languages = list(tenant.languages) or [tenant.default_language]
    contact = phones.contact(session, vault, tenant.id, inbound.sender,
                             keywords.detect(inbound.text, languages, tenant.default_language))
    if contact.blocked:
        return Received(ignored=True)
    key = f"sms-in:{config['gateway']}:{number}:{inbound.message_id or now.timestamp()}"
    said = keywords.keyword(inbound.text, languages)
    if said is not None:
        action, language = said
        contact.locale = language
        if action == "stop":
            contact.opted_out = True
            session.execute(  # an unfinished report ends with the texts
                conversation.SmsConversation.__table__.delete().where(
                    conversation.SmsConversation.contact_id == contact.id))
        elif action == "start":
            contact.opted_out = False
        portal_name = localized(tenant.name, language, tenant.default_language)
        answer = {"stop": STOPPED, "start": STARTED, "help": HELP}[action]
        with use_locale(language):
            text = _(answer, portal=portal_name, stop=keywords.word("stop", language),
                     start=keywords.word("start", language))
        # The one text a STOP gets is the carrier-required confirmation.
        outbound.queue(session, contact, config, text, f"{key}:0", tenant.id, force=True)
        return Received(replies=1)
    if contact.opted_out:
        return Received(ignored=True)
    live, lapsed = conversation.current(session, contact, now)
    replies: list[str] = []
    first = live is None
    if live is None:
        live = conversation.start(session, tenant, contact, number, inbound.text, now)
        if lapsed:
            with use_locale(live.data["locale"]):
                replies.append(_(conversation.LAPSED))
    outcome = conversation.step(session, tenant, contact, live, inbound, filing, first=first)
    live.expires_at = now + conversation.TIMEOUT
    replies += outcome.replies
    if outcome.issue is not None and locating.has_link(outcome.issue.description):
        with use_locale(tenant.default_language):
            moderation.flag(session, tenant, outcome.issue, "spam", _(FLAG_TEXT), FLAGGER)
    for index, text in enumerate(replies):
        outbound.queue(session, contact, config, text, f"{key}:{index}", tenant.id)
    session.flush()
    return Received(replies=len(replies),
                    issue_id=outcome.issue.id if outcome.issue is not None else None)
