"""Response templates: the replies a body's staff send most, kept per language and reused
from the staff view of an issue ("Use a template").

Every read and write goes through `scoping.for_bodies` with the bodies whose staff the person
is, so one body's templates are never listed, used, changed or deleted by another's staff;
the caller passes `permissions.staff_body_ids(user)`. Titles and texts are per language: the
languages of the portals that show the body's issues (`body_languages`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.core import text_fields
from portal.core.errors import N_, Message, ValidationError
from portal.core.localized import localized
from portal.models import STATUSES, Body, Issue, RequestType, ResponseTemplate, Tenant, utcnow
from portal.reports.status import MAX_COMMENT
from portal.tenancy.scoping import for_bodies

MAX_TITLE = 200


@dataclass
class Draft:
    """A template as typed into the form (or read from body.json), before it is checked."""

    body_id: int | None = None
    titles: dict[str, str] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    request_type_code: str = ""
    status: str = ""

    @classmethod
    def of(cls, row: ResponseTemplate) -> Draft:
        return cls(row.body_id, dict(row.title), dict(row.text), row.request_type_code,
                   row.status)


def body_languages(session: Session, body: Body, first: str = "") -> list[str]:
    """The languages a body's templates are written in: those of every portal whose area
    meets the body's (a bounding-box test is enough here: a language too many is an empty
    field), `first` (this portal's default) leading, the body's own language if none."""
    portals = session.scalars(select(Tenant).where(
        Tenant.min_lon <= body.max_lon, Tenant.max_lon >= body.min_lon,
        Tenant.min_lat <= body.max_lat, Tenant.max_lat >= body.min_lat).order_by(Tenant.id))
    languages = [first] if first else []
    for portal in portals:
        languages += [portal.default_language, *portal.languages]
    languages.append(body.language or "en")
    return list(dict.fromkeys(code for code in languages if code))


def for_staff(session: Session, body_ids: set[int]) -> list[ResponseTemplate]:
    """Every template of the bodies whose staff someone is."""
    stmt = for_bodies(select(ResponseTemplate), ResponseTemplate, body_ids)
    return list(session.scalars(stmt.order_by(ResponseTemplate.body_id, ResponseTemplate.id)))


def get(session: Session, body_ids: set[int], template_id: int | None) -> ResponseTemplate | None:
    """One template, only if it belongs to one of `body_ids`; None otherwise (or for no id)."""
    if template_id is None:
        return None
    stmt = for_bodies(select(ResponseTemplate), ResponseTemplate, body_ids)
    return session.scalars(stmt.where(ResponseTemplate.id == template_id)).first()


def for_issue(session: Session, body_ids: set[int], issue: Issue) -> list[ResponseTemplate]:
    """The templates the staff view of `issue` offers: its body's, for every request type or
    for the issue's own, the type's own first."""
    if issue.body_id not in body_ids:
        return []
    code = session.get(RequestType, issue.request_type_id).code
    rows = [t for t in for_staff(session, {issue.body_id})
            if t.request_type_code in ("", code)]
    return sorted(rows, key=lambda t: (t.request_type_code == "", t.id))


def text_for(template: ResponseTemplate, issue: Issue, default_language: str) -> str:
    """The text to put in the reply box: in the reporter's language where the template has
    it (the reply is mailed to them), else the portal's default, else any."""
    return localized(template.text, issue.locale or default_language, default_language)


def _check(session: Session, draft: Draft, body_ids: set[int],
           languages: list[str]) -> tuple[dict, dict]:
    errors: dict[str, Message] = {}
    if draft.body_id not in body_ids:
        errors["body"] = Message(N_("Choose one of the bodies you work for."))
    titles: dict[str, str] = {}
    texts: dict[str, str] = {}
    for code in languages:
        values, problems = text_fields.clean(lines={"title": draft.titles.get(code, "")},
                                             texts={"text": draft.texts.get(code, "")})
        for name, problem in problems.items():
            errors[f"{name}_{code}"] = problem
        title, text = values["title"], values["text"]
        if len(title) > MAX_TITLE:
            errors[f"title_{code}"] = Message(N_("Keep this under %(max)s characters."),
                                              {"max": MAX_TITLE})
        if len(text) > MAX_COMMENT:
            errors[f"text_{code}"] = Message(N_("Keep this under %(max)s characters."),
                                             {"max": MAX_COMMENT})
        if title and not text:
            errors[f"text_{code}"] = Message(N_("Write the reply for this title."))
        if text and not title:
            errors[f"title_{code}"] = Message(N_("Give this reply a title staff will "
                                                 "recognise."))
        if title and text:
            titles[code], texts[code] = title, text
    if not titles and not any(k.startswith(("title_", "text_")) for k in errors):
        errors["title"] = Message(N_("Write a title and a reply in at least one language."))
    if draft.status and draft.status not in STATUSES:
        errors["status"] = Message(N_("Unknown status."))
    if draft.request_type_code and draft.body_id in body_ids:
        codes = set(session.scalars(select(RequestType.code).where(
            RequestType.body_id == draft.body_id)))
        if draft.request_type_code not in codes:
            errors["request_type"] = Message(N_("Choose one of the request types of this "
                                                "body."))
    if errors:
        raise ValidationError(errors)
    return titles, texts


def save(session: Session, body_ids: set[int], draft: Draft, languages: list[str],
         template_id: int | None = None) -> ResponseTemplate:
    """Create a template (no id) or change one of `body_ids`' templates; ValidationError with
    a message per field otherwise, and nothing written. Raises LookupError for an id that is
    not one of theirs (the caller answers 404)."""
    row = None
    if template_id is not None:
        row = get(session, body_ids, template_id)
        if row is None:
            raise LookupError(template_id)
        # Languages this page does not show are kept, not wiped by an edit from one portal.
        languages = list(dict.fromkeys([*languages, *row.title, *row.text]))
        draft = Draft(draft.body_id, {**row.title, **draft.titles}, {**row.text, **draft.texts},
                      draft.request_type_code, draft.status)
    titles, texts = _check(session, draft, body_ids, languages)
    if row is None:
        row = ResponseTemplate(body_id=draft.body_id)
        session.add(row)
    row.body_id, row.title, row.text = draft.body_id, titles, texts
    row.request_type_code, row.status, row.updated_at = (draft.request_type_code,
                                                         draft.status, utcnow())
    row.source = ""  # edited by staff: theirs now, the loader leaves it alone
    session.flush()
    return row


def delete(session: Session, body_ids: set[int], template_id: int) -> bool:
    """Delete one of `body_ids`' templates; False (nothing deleted) for anyone else's."""
    row = get(session, body_ids, template_id)
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True
