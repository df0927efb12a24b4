"""`POST requests`: a client's service request, checked in full and filed by `submit_report`.

The same path as the portal's form: area check, routing to the most local body, anonymity
(the reporter's name and email go to the body only; Open311 has no "show my name", so it is
never shown), the photo, the search index and the body's mail. Every wrong field is named at
once, in the spec's field names. The first photo is kept (`media` uploaded, else the first
`media_url`, fetched by `media_fetch`); an issue holds one photo.

A client that sends the same request again (FixMyStreet retries on a time-out) gets the
request it filed: the submission key is a digest of the API key and every field sent. The
key is also the request's `token`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from portal.core.errors import N_, Message, ValidationError
from portal.models import Issue, Open311Key, Tenant
from portal.open311 import media_fetch, services
from portal.open311.reading import OPEN311_KEY_PREFIX
from portal.reports.reporting import ReportForm, existing_submission, submit_report

MAX_DESCRIPTION = 4000  # the spec's limit
NOT_PINPOINTED = "#NOTPINPOINTED#"  # FixMyStreet's address_id when no address was chosen
FORM_FIELDS = {"lat": "lat", "lon": "long", "request_type": "service_code",
               "description": "description", "name": "first_name", "email": "email",
               "address": "address_string", "photo": "media", "answers": "attribute",
               "submission_key": "service_request", "title": "description"}
"""Our form's field -> the spec's, to name `submit_report`'s errors as the client sent them."""


@dataclass
class PostedRequest:
    """The fields of a `POST requests`, as text, exactly as received."""

    fields: list[tuple[str, str]]
    media: list[bytes] = field(default_factory=list)

    def get(self, name: str) -> str:
        return next((v for k, v in self.fields if k == name), "").strip()

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.fields if k == name and v.strip()]

    def attributes(self) -> dict[str, list[str]]:
        """`attribute[code]=v` (and `attribute[code][]=v`, repeated, for lists) by code."""
        found: dict[str, list[str]] = {}
        for key, value in self.fields:
            if key.startswith("attribute[") and "]" in key:
                code = key[len("attribute["):key.index("]")]
                found.setdefault(code, []).append(value)
        return found

    def submission_key(self, api_key: Open311Key) -> str:
        # Seeded with the key's stored digest, which only this server holds (see
        # `service_updates._update_key`), so no one else can make a request's key.
        digest = hashlib.sha256(api_key.key_hash.encode())
        for key, value in sorted(self.fields):
            if key != "api_key":
                digest.update(f"\x1f{key}\x1e{value}".encode())
        for data in self.media:
            digest.update(hashlib.sha256(data).digest())
        return OPEN311_KEY_PREFIX + digest.hexdigest()[: 64 - len(OPEN311_KEY_PREFIX)]


def _photo(posted: PostedRequest, fetch: Callable[[str], bytes],
           errors: dict[str, Message]) -> bytes | None:
    if posted.media:
        return posted.media[0]
    urls = posted.all("media_url")
    if not urls:
        return None
    try:
        return fetch(urls[0])
    except media_fetch.MediaRefused as exc:
        errors["media_url"] = exc.message
        return None


def file_request(session: Session, tenant: Tenant, api_key: Open311Key, posted: PostedRequest,
                 *, locale: str, media_dir: Path, max_photo_bytes: int,
                 fetch: Callable[[str], bytes]) -> Issue:
    """File the request, or raise ValidationError naming every wrong field."""
    key = posted.submission_key(api_key)
    previous = existing_submission(session, key)
    if previous is not None:
        return previous
    errors: dict[str, Message] = {}
    code = posted.get("service_code")
    service = services.find_service(session, tenant, code) if code else None
    answers: dict[str, str] = {}
    if not code:
        errors["service_code"] = Message(N_("Give the service_code of the service."))
    elif service is None:
        errors["service_code"] = Message(N_("There is no service %(code)r here."),
                                         {"code": code[:64]})
    else:
        answers, attribute_errors = services.check_attributes(service, posted.attributes())
        errors.update(attribute_errors)
    for name in ("lat", "long"):
        if not posted.get(name):
            errors[name] = Message(N_("Give the place as lat and long (WGS84): this portal "
                                      "puts every report on its map."))
    description = posted.get("description")
    if len(description) > MAX_DESCRIPTION:
        errors["description"] = Message(N_("Keep the description under %(max)s characters."),
                                        {"max": MAX_DESCRIPTION})
    photo = _photo(posted, fetch, errors)
    name = " ".join(p for p in (posted.get("first_name"), posted.get("last_name")) if p)
    address = posted.get("address_string")
    form = ReportForm(lat=posted.get("lat"), lon=posted.get("long"),
                      request_type=service.code if service else code, description=description,
                      name=name, email=posted.get("email"), show_name=False, address=address,
                      locale=locale, submission_key=key, photo=photo, answers=answers)
    if errors:
        raise ValidationError({**_trial_errors(session, tenant, form, media_dir,
                                               max_photo_bytes), **errors})
    try:
        return submit_report(session, tenant, form, media_dir, max_photo_bytes)
    except ValidationError as exc:
        raise ValidationError(_renamed(exc.errors)) from None


def _renamed(errors: dict[str, Message]) -> dict[str, Message]:
    return {FORM_FIELDS.get(name, name): message for name, message in errors.items()}


def _trial_errors(session: Session, tenant: Tenant, form: ReportForm, media_dir: Path,
                  max_photo_bytes: int) -> dict[str, Message]:
    """What `submit_report` finds wrong besides our own errors, so the client learns every
    wrong field at once: it runs inside a savepoint that is always rolled back, and without
    the photo, so nothing of it stays (no row, no mail, no file)."""
    trial = ReportForm(**{**form.__dict__, "photo": None, "submission_key": ""})
    savepoint = session.begin_nested()
    try:
        submit_report(session, tenant, trial, media_dir, max_photo_bytes)
    except ValidationError as exc:
        return {k: v for k, v in _renamed(exc.errors).items() if k != "service_code"}
    finally:
        savepoint.rollback()
    return {}
