"""A report by text message, one step per text: place, request type, description, photo.

The state is held per sender and portal (`SmsConversation`) and lapses after `TIMEOUT`;
a text after that starts a new report. Each step's answer is checked as the web form checks
it, and the report is filed through `submit_report`, the one path every report takes:

1. **Place.** Coordinates or a map link, else the portal's place search (an address, a
   crossing, a neighbourhood). One match is taken; several are offered by number ("did you
   mean 1) … 2) …?"); none asks again. A place outside the portal's area is refused by the
   area's name. The first text may instead be the description (four words or more that name
   no place): it is kept and offered at the description step.
2. **Request type**, by number, among those offered at that place.
3. **Description.**
4. **Photo**, optional: the first image sent by MMS at any step, fetched safely when the
   report is filed (`media_fetch`); 0 files without one.

The language is the one the first text is written in (among the portal's), and can be chosen
on the first reply ("2 Español"). Every text we send is in the catalogs.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from portal.core.errors import N_, ValidationError
from portal.core.i18n import gettext as _
from portal.core.i18n import language_name, translate, use_locale
from portal.core.localized import localized
from portal.mail.compose import PORTAL_URL
from portal.models import Issue, SmsContact, SmsConversation, SmsReport, Tenant
from portal.reports.reporting import ReportForm, check_place, submit_report
from portal.reports.routing import request_types_at
from portal.sms import keywords, locating
from portal.sms.gateways import Inbound

TIMEOUT = timedelta(hours=1)
DESCRIPTION_WORDS = 4  # a first text this long that names no place is taken as the description
MAX_LABEL = 60  # characters of a place's name in a text

PLACE_ASK = N_("Where is the problem? Send an address, a crossing like \"Main St & Oak Ave\", "
               "a neighbourhood, or a map link.")
OTHER_LANGUAGES = N_("Other languages: %(choices)s")
NOT_FOUND = N_("No place was found for \"%(text)s\". Send an address, a crossing, a "
               "neighbourhood or a map link.")
DID_YOU_MEAN = N_("Did you mean %(choices)s? Reply with the number, or send the place again.")
NOTHING_HERE = N_("No report can be made at %(place)s. Send another place.")
TYPE_ASK = N_("%(place)s. What is the problem? %(choices)s Reply with the number.")
TYPE_AGAIN = N_("Reply with one of the numbers: %(choices)s")
DESCRIBE = N_("Describe the problem in a few words.")
DESCRIBE_OR_KEEP = N_("Describe the problem in a few words, or reply 1 to use: \"%(text)s\"")
PHOTO_ASK = N_("Send a photo of it now if you can, or reply 0 to send the report without one.")
PHOTO_FAILED = N_("The photo could not be received; the report was sent without it.")
LAPSED = N_("Your unfinished report had lapsed, so we start again.")
FILED = N_("Thank you. Your report is #%(id)s: %(url)s We will text you when it changes; "
           "reply %(stop)s to stop.")


@dataclass
class Outcome:
    """The texts to send back, and the issue if this text filed one."""

    replies: list[str] = field(default_factory=list)
    issue: Issue | None = None


@dataclass
class Filing:
    """What filing a report needs besides the conversation."""

    media_dir: Path
    max_photo_bytes: int
    fetch: Callable[[str], bytes]  # a media URL's bytes, or raises a DomainError


def _numbered(items: list[str]) -> str:
    return " ".join(f"{n}) {item}" for n, item in enumerate(items, 1))


def _choice(text: str, count: int) -> int | None:
    text = text.strip().rstrip(".)")
    if text.isascii() and text.isdigit() and 1 <= int(text) <= count:
        return int(text) - 1
    return None


def _short(text: str, limit: int = MAX_LABEL) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def start(session: Session, tenant: Tenant, contact: SmsContact, number: str, text: str,
          now: datetime) -> SmsConversation:
    """A new conversation, in the language of its first text (or the one this number chose
    before, when the text does not tell)."""
    languages = list(tenant.languages) or [tenant.default_language]
    locale = keywords.detect(text, languages, tenant.default_language)
    if locale == tenant.default_language and contact.locale in languages:
        locale = contact.locale
    contact.locale = locale
    conversation = session.get(SmsConversation, contact.id)
    data = {"key": secrets.token_hex(12), "locale": locale,
            "languages": [locale, *[lang for lang in languages if lang != locale]]}
    if conversation is None:
        conversation = SmsConversation(contact_id=contact.id)
        session.add(conversation)
    conversation.number, conversation.state, conversation.data = number, "place", data
    conversation.expires_at = now + TIMEOUT
    return conversation


def current(session: Session, contact: SmsContact, now: datetime) -> tuple[
        SmsConversation | None, bool]:
    """(the live conversation or None, whether one lapsed)."""
    conversation = session.get(SmsConversation, contact.id)
    if conversation is None:
        return None, False
    expires = conversation.expires_at
    if expires.tzinfo is None:  # SQLite returns naive UTC
        expires = expires.replace(tzinfo=now.tzinfo)
    if expires <= now or conversation.state == "done":
        return None, conversation.state != "done"
    return conversation, False


def _place_ask(data: dict) -> str:
    text = _(PLACE_ASK)
    others = data["languages"][1:]
    if others:
        choices = ", ".join(f"{n} {language_name(lang)}" for n, lang in enumerate(others, 2))
        text += " " + _(OTHER_LANGUAGES, choices=choices)
    return text


def step(session: Session, tenant: Tenant, contact: SmsContact, conversation: SmsConversation,
         inbound: Inbound, filing: Filing, *, first: bool = False) -> Outcome:
    """Take one text into the conversation; returns what to answer (in its language)."""
    data = dict(conversation.data)
    text = inbound.text.strip()
    if inbound.media_urls and not data.get("media"):
        data["media"] = inbound.media_urls[0]
    outcome = Outcome()
    state = conversation.state
    with use_locale(data["locale"]):
        if state == "place" and not first and (
                pick := _choice(text, len(data["languages"]))) is not None and pick > 0:
            data["locale"] = contact.locale = data["languages"][pick]
            data["languages"] = [data["locale"], *[lang for lang in data["languages"]
                                                  if lang != data["locale"]]]
            with use_locale(data["locale"]):
                outcome.replies.append(_place_ask(data))
        elif state == "place_choice" and (pick := _choice(text, len(data["choices"]))) is not None:
            label, lat, lon = data["choices"][pick]
            state = _accept_place(session, tenant, data, label, lat, lon, outcome)
        elif state in ("place", "place_choice"):
            state = _find_place(session, tenant, data, text, outcome, first)
        elif state == "type":
            pick = _choice(text, len(data["types"]))
            if pick is None:
                outcome.replies.append(_(TYPE_AGAIN, choices=_numbered(data["type_names"])))
            else:
                data["type"] = data["types"][pick]
                state = "description"
                outcome.replies.append(_(DESCRIBE_OR_KEEP, text=_short(data["first_text"]))
                                       if data.get("first_text") else _(DESCRIBE))
        elif state == "description":
            if data.get("first_text") and _choice(text, 1) == 0:
                data["description"] = data["first_text"]
            elif text:
                data["description"] = text
            if not data.get("description"):
                outcome.replies.append(_(DESCRIBE))
            elif data.get("media"):
                state = _file(session, tenant, contact, conversation, data, filing, outcome)
            else:
                state = "photo"
                outcome.replies.append(_(PHOTO_ASK))
        elif state == "photo":
            if data.get("media") or text == "0":
                state = _file(session, tenant, contact, conversation, data, filing, outcome)
            else:
                outcome.replies.append(_(PHOTO_ASK))
    conversation.state, conversation.data = state, data
    return outcome


def _find_place(session: Session, tenant: Tenant, data: dict, text: str, outcome: Outcome,
                first: bool) -> str:
    found = locating.candidates(session, tenant, text, data["locale"]) if text else []
    if len(found) == 1:
        return _accept_place(session, tenant, data, found[0].label, found[0].lat, found[0].lon,
                             outcome)
    if found:
        data["choices"] = [[_short(c.label), c.lat, c.lon] for c in found]
        outcome.replies.append(_(DID_YOU_MEAN,
                                 choices=_numbered([c[0] for c in data["choices"]])))
        return "place_choice"
    if first:
        if len(text.split()) >= DESCRIPTION_WORDS:
            data["first_text"] = text
        outcome.replies.append(_place_ask(data))
    else:
        outcome.replies.append(_(NOT_FOUND, text=_short(text, 40)))
    return "place"


def _accept_place(session: Session, tenant: Tenant, data: dict, label: str, lat: float,
                  lon: float, outcome: Outcome) -> str:
    outside = check_place(tenant, lat, lon, data["locale"])
    if outside:
        outcome.replies.append(translate(outside["lat"]))
        return "place"
    offered = request_types_at(session, tenant, lat, lon)
    if not offered:
        outcome.replies.append(_(NOTHING_HERE, place=label))
        return "place"
    data.update(lat=lat, lon=lon, place=label, types=[rt.key for rt in offered],
                type_names=[_short(localized(rt.name, data["locale"]), 30) for rt in offered])
    data.pop("choices", None)
    outcome.replies.append(_(TYPE_ASK, place=label, choices=_numbered(data["type_names"])))
    return "type"


def _file(session: Session, tenant: Tenant, contact: SmsContact, conversation: SmsConversation,
          data: dict, filing: Filing, outcome: Outcome) -> str:
    photo, notes = None, []
    if data.get("media"):
        try:
            photo = filing.fetch(data["media"])
        except Exception:  # noqa: BLE001 - a photo we cannot get must not lose the report
            notes.append(_(PHOTO_FAILED))
    form = ReportForm(lat=repr(data["lat"]), lon=repr(data["lon"]), request_type=data["type"],
                      description=data["description"], locale=data["locale"],
                      submission_key=f"sms-{data['key']}", photo=photo)
    try:
        with session.begin_nested():
            issue = submit_report(session, tenant, form, filing.media_dir, filing.max_photo_bytes)
    except ValidationError as exc:
        if "photo" in exc.errors and photo is not None:
            form.photo = None
            notes = [_(PHOTO_FAILED)]
            try:
                with session.begin_nested():
                    issue = submit_report(session, tenant, form, filing.media_dir,
                                          filing.max_photo_bytes)
            except ValidationError as again:
                return _refused(again, data, outcome)
        else:
            return _refused(exc, data, outcome)
    session.add(SmsReport(issue_id=issue.id, contact_id=contact.id, number=conversation.number))
    session.flush()
    outcome.issue = issue
    link = f"{PORTAL_URL}/issues/{issue.id}"  # the portal's address when the text is sent
    stop = keywords.word("stop", data["locale"])
    outcome.replies.append(" ".join([_(FILED, id=issue.id, url=link, stop=stop), *notes]))
    return "done"


def _refused(exc: ValidationError, data: dict, outcome: Outcome) -> str:
    """Say what is wrong and go back to the step that can mend it."""
    name, message = next(iter(exc.errors.items()))
    outcome.replies.append(translate(message))
    if name in ("lat", "lon", "request_type"):
        return "place"
    data.pop("description", None)
    return "description"
