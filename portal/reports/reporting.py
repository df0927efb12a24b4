"""Filing a report: validate everything, route it, write the issue, its history and its mail.

`submit_report` is the single path used by the portal form, the report widget and the
Open311 API. It either writes the whole issue (issue row with its place name, first history
entry, portal membership, search index, its typed address as a place) and publishes
`IssueReported` — whose reactions write the outbox message to the body, watchers' notices
and points — in the caller's transaction, or raises ValidationError and writes nothing. A
repeated submission key returns the issue it created.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.core import geo, text_fields
from portal.core.domain_events import publish
from portal.core.errors import N_, Message, ValidationError
from portal.core.localized import localized
from portal.models import Issue, OfficeContact, Tenant, Update
from portal.places import naming
from portal.reports import photos, search
from portal.reports.events import IssueReported
from portal.reports.routing import route
from portal.tenancy import membership, service_targets

MAX_TITLE = 120
MAX_DESCRIPTION = 5000
MAX_NAME = 100
MAX_ADDRESS = 300
MAX_ANSWER = 500
POLITICIAN = "politician"  # the kind of portal whose form offers the office's contact box


@dataclass
class ReportForm:
    """What a resident typed, as text, exactly as received (kept to re-show on errors)."""

    lat: str = ""
    lon: str = ""
    request_type: str = ""
    description: str = ""
    title: str = ""
    name: str = ""
    email: str = ""
    show_name: bool = False
    address: str = ""
    locale: str = "en"
    submission_key: str = ""
    photo: bytes | None = None
    answers: dict[str, str] = field(default_factory=dict)
    nearby_seen: str = ""  # the nearby issues' numbers the form already showed ("3,17")
    kept_photo: str | None = None  # a stored photo's digest, checked by the caller
    kept_photo_token: str = ""  # its signed token, as the form carries it
    photo_place: str = ""  # "use" or "keep": the answer to the photo's place, once asked
    # "Let {portal}'s office contact me about this": politician portals only (`OfficeContact`)
    office_contact: bool = False


def parse_point(lat_text: str, lon_text: str) -> tuple[float, float, dict[str, Message]]:
    """Parse coordinates; returns (lat, lon, errors)."""
    errors: dict[str, Message] = {}
    values: list[float] = []
    for name, raw, limit in (("lat", lat_text, 90), ("lon", lon_text, 180)):
        raw = (raw or "").strip()
        if not raw:
            errors[name] = Message(N_("Set the place: click the map or enter coordinates."))
            values.append(0.0)
            continue
        try:
            value = float(raw)
        except ValueError:
            errors[name] = Message(N_("Enter a number, like 41.3083."))
            values.append(0.0)
            continue
        if not geo.valid_coordinates(value if name == "lat" else 0, value if name == "lon" else 0):
            errors[name] = Message(
                N_("Enter a number between -%(limit)s and %(limit)s."), {"limit": limit}
            )
        values.append(value)
    return values[0], values[1], errors


def area_label(tenant: Tenant, locale: str) -> str:
    return localized(tenant.area_name, locale, tenant.default_language) or localized(
        tenant.name, locale, tenant.default_language
    )


def check_place(tenant: Tenant, lat: float, lon: float, locale: str) -> dict[str, Message]:
    if not geo.contains(tenant.area_geojson, lat, lon):
        return {
            "lat": Message(
                N_("This place is outside %(area)s. Choose a place inside the area."),
                {"area": area_label(tenant, locale)},
            )
        }
    return {}


def _check_text(form: ReportForm, tenant: Tenant) -> tuple[dict[str, str], dict[str, Message]]:
    """The form's text, cleaned (`text_fields`), and the errors of each field."""
    values, errors = text_fields.clean(
        lines={"title": form.title, "name": form.name, "email": form.email,
               "address": form.address},
        texts={"description": form.description})
    description = values["description"]
    if not description:
        errors.setdefault("description", Message(N_("Describe the problem in a few words.")))
    elif len(description) > MAX_DESCRIPTION:
        errors.setdefault("description", Message(
            N_("Keep the description under %(max)s characters."), {"max": MAX_DESCRIPTION}))
    for name, limit in (("title", MAX_TITLE), ("name", MAX_NAME),
                        ("email", text_fields.MAX_EMAIL), ("address", MAX_ADDRESS)):
        if name not in errors and len(values[name]) > limit:
            errors[name] = Message(N_("Keep this under %(max)s characters."), {"max": limit})
    email = values["email"].lower()
    values["email"] = email
    if email and "email" not in errors and (problem := text_fields.email_problem(email)):
        errors["email"] = problem
    name = values["name"]
    if not tenant.allow_anonymous:
        if not name:
            errors.setdefault("name", Message(N_("This portal needs your name on reports.")))
        if not email:
            errors.setdefault("email", Message(N_("This portal needs your email on reports.")))
    if form.show_name and not name:
        errors.setdefault("name", Message(N_("Enter the name you want shown.")))
    return values, errors


def _check_answers(answers: dict[str, str]) -> tuple[dict[str, str], dict[str, Message]]:
    """Answers to a request type's extra questions: each a multi-line text of its own."""
    cleaned: dict[str, str] = {}
    for key, answer in answers.items():
        if (problem := text_fields.form_key_problem(key)) is not None:
            return {}, {"answers": problem}
        if (problem := text_fields.text_problem(answer)) is not None:
            return {}, {"answers": problem}
        cleaned[key] = text_fields.text(answer)
        if len(cleaned[key]) > MAX_ANSWER:
            return {}, {"answers": Message(N_("Keep this under %(max)s characters."),
                                           {"max": MAX_ANSWER})}
    return cleaned, {}


def existing_submission(session: Session, key: str) -> Issue | None:
    """The issue a submission key already filed; None for no key, or one we would refuse."""
    key = key.strip()
    if not key or text_fields.form_key_problem(key) is not None:
        return None
    return session.scalars(select(Issue).where(Issue.submission_key == key)).first()


def submit_report(
    session: Session, tenant: Tenant, form: ReportForm, media_dir: Path, max_photo_bytes: int
) -> Issue:
    """Validate, route and write a report; see the module docstring for the guarantees."""
    key = form.submission_key.strip()
    previous = existing_submission(session, key)
    if previous is not None:
        return previous

    lat, lon, errors = parse_point(form.lat, form.lon)
    if (problem := text_fields.form_key_problem(key)) is not None:
        errors["submission_key"] = problem
    if not errors:
        errors.update(check_place(tenant, lat, lon, form.locale))
    request_type = None
    if not errors:
        try:
            request_type = route(session, tenant, lat, lon, form.request_type.strip())
        except ValidationError as exc:
            errors.update(exc.errors)
    text, text_errors = _check_text(form, tenant)
    errors.update(text_errors)
    answers, answer_errors = _check_answers(form.answers)
    errors.update(answer_errors)
    prepared = None
    if form.photo is not None:  # a file was chosen; an empty one is an error, not "no photo"
        try:
            prepared = photos.prepare(form.photo, max_photo_bytes)
        except photos.PhotoError as exc:
            errors["photo"] = exc.message
    office_contact = form.office_contact and tenant.kind == POLITICIAN
    if office_contact and not text.get("email") and "email" not in errors:
        errors["office_contact"] = Message(N_(
            "Give your email so the office can contact you, or untick the box."))
    if errors:
        raise ValidationError(errors)
    assert request_type is not None

    # A photo kept at an earlier step of this form (`photo_place.keep`) is already stored.
    digest = (photos.save(prepared, media_dir, session) if prepared
              else form.kept_photo if form.kept_photo and photos.is_digest(form.kept_photo)
              else None)
    issue = Issue(
        body_id=request_type.body_id,
        request_type_id=request_type.id,
        origin_tenant_id=tenant.id,
        lat=round(lat, 7),
        lon=round(lon, 7),
        address=text["address"],
        place_name=naming.place_name(session, tenant, lat, lon),
        title=text["title"],
        description=text["description"],
        answers=answers,
        reporter_name=text["name"],
        reporter_email=text["email"],
        show_name=bool(form.show_name and text["name"]),
        locale=form.locale,
        photo=digest,
        submission_key=key or None,
    )
    session.add(issue)
    session.flush()
    service_targets.set_due_times(session, issue)
    session.add(
        Update(
            issue_id=issue.id,
            kind="created",
            new_status="open",
            author_name=issue.public_name,
            photo=digest,
        )
    )
    if office_contact:  # private to this portal, never on any public reader
        session.add(OfficeContact(issue_id=issue.id, tenant_id=tenant.id))
    membership.record_issue(session, issue)
    naming.offer_address(session, issue)
    search.index_issue(session, issue)
    publish(session, IssueReported(issue))  # the body's mail, watchers, points
    session.flush()
    return issue
