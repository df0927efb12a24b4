"""Filing a report: validate everything, route it, write the issue, its history and its mail.

`submit_report` is the single path used by the portal form, the report widget and the
Open311 API. It either writes the whole issue (issue row, first history entry, portal
membership, search index) and publishes `IssueReported` — whose reactions write the outbox
message to the body, watchers' notices and points — in the caller's transaction, or raises
ValidationError and writes nothing. A repeated submission key returns the issue it created.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.core import geo
from portal.core.domain_events import publish
from portal.core.errors import N_, Message, ValidationError
from portal.core.localized import localized
from portal.models import Issue, Tenant, Update
from portal.reports import photos, search
from portal.reports.events import IssueReported
from portal.reports.routing import route
from portal.tenancy import membership

MAX_TITLE = 120
MAX_DESCRIPTION = 5000
MAX_NAME = 100
MAX_EMAIL = 254
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


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


def _check_text(form: ReportForm, tenant: Tenant) -> dict[str, Message]:
    errors: dict[str, Message] = {}
    description = form.description.strip()
    if not description:
        errors["description"] = Message(N_("Describe the problem in a few words."))
    elif len(description) > MAX_DESCRIPTION:
        errors["description"] = Message(
            N_("Keep the description under %(max)s characters."), {"max": MAX_DESCRIPTION}
        )
    for name, value, limit in (
        ("title", form.title, MAX_TITLE),
        ("name", form.name, MAX_NAME),
        ("email", form.email, MAX_EMAIL),
        ("address", form.address, 300),
    ):
        if len(value.strip()) > limit:
            errors[name] = Message(N_("Keep this under %(max)s characters."), {"max": limit})
    email = form.email.strip()
    if email and "email" not in errors and not EMAIL.match(email):
        errors["email"] = Message(N_("Enter an email address like name@example.org."))
    if not tenant.allow_anonymous:
        if not form.name.strip():
            errors.setdefault("name", Message(N_("This portal needs your name on reports.")))
        if not email:
            errors.setdefault("email", Message(N_("This portal needs your email on reports.")))
    if form.show_name and not form.name.strip():
        errors.setdefault("name", Message(N_("Enter the name you want shown.")))
    return errors


def existing_submission(session: Session, key: str) -> Issue | None:
    if not key:
        return None
    return session.scalars(select(Issue).where(Issue.submission_key == key)).first()


def submit_report(
    session: Session, tenant: Tenant, form: ReportForm, media_dir: Path, max_photo_bytes: int
) -> Issue:
    """Validate, route and write a report; see the module docstring for the guarantees."""
    key = form.submission_key.strip()[:64]
    previous = existing_submission(session, key)
    if previous is not None:
        return previous

    lat, lon, errors = parse_point(form.lat, form.lon)
    if not errors:
        errors.update(check_place(tenant, lat, lon, form.locale))
    request_type = None
    if not errors:
        try:
            request_type = route(session, tenant, lat, lon, form.request_type.strip())
        except ValidationError as exc:
            errors.update(exc.errors)
    errors.update(_check_text(form, tenant))
    prepared = None
    if form.photo:
        try:
            prepared = photos.prepare(form.photo, max_photo_bytes)
        except photos.PhotoError as exc:
            errors["photo"] = exc.message
    if errors:
        raise ValidationError(errors)
    assert request_type is not None

    digest = photos.save(prepared, media_dir) if prepared else None
    issue = Issue(
        body_id=request_type.body_id,
        request_type_id=request_type.id,
        origin_tenant_id=tenant.id,
        lat=round(lat, 7),
        lon=round(lon, 7),
        address=form.address.strip(),
        title=form.title.strip(),
        description=form.description.strip(),
        answers={k: v[:500] for k, v in form.answers.items()},
        reporter_name=form.name.strip(),
        reporter_email=form.email.strip().lower(),
        show_name=bool(form.show_name and form.name.strip()),
        locale=form.locale,
        photo=digest,
        submission_key=key or None,
    )
    session.add(issue)
    session.flush()
    session.add(
        Update(
            issue_id=issue.id,
            kind="created",
            new_status="open",
            author_name=issue.public_name,
            photo=digest,
        )
    )
    membership.record_issue(session, issue)
    search.index_issue(session, issue)
    publish(session, IssueReported(issue))  # the body's mail, watchers, points
    session.flush()
    return issue
