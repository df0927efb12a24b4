"""body.json's `response_templates`: replies a body's staff start with, kept in its files.

    "response_templates": [{"title": {"en": "Crew scheduled"},
                            "text": {"en": "A crew is booked for this week."},
                            "request_type": "pothole", "status": "acknowledged"}]

`request_type` and `status` are optional. The loader replaces the file's templates by what
the file says now; templates staff wrote or edited in the staff area are never touched.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.core.errors import N_, ConfigError
from portal.models import STATUSES, Body, ResponseTemplate


def _texts(value: object, where: str, name: str) -> dict[str, str]:
    if not isinstance(value, dict) or not value or not all(
            isinstance(v, str) and v.strip() for v in value.values()):
        raise ConfigError(N_("response template %(field)s: expected texts per language, like "
                             "{\"en\": \"…\"}"), where=where, field=name)
    return {str(k): v.strip() for k, v in value.items()}


def check(raw: object, where: str, codes: set[str]) -> list[dict]:
    """The file's templates, checked; ConfigError naming the first problem."""
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        raise ConfigError(N_("response_templates must be a list of objects with title and "
                             "text"), where=where)
    entries = []
    for item in raw:
        title, text = _texts(item.get("title"), where, "title"), _texts(item.get("text"),
                                                                        where, "text")
        code, status = str(item.get("request_type", "")), str(item.get("status", ""))
        if code and code not in codes:
            raise ConfigError(N_("response template: %(code)r is not one of this body's request "
                                 "types"), where=where, code=code)
        if status and status not in STATUSES:
            raise ConfigError(N_("response template: status %(status)r is not one of "
                                 "%(choices)s"), where=where, status=status,
                              choices=", ".join(STATUSES))
        entries.append({"title": title, "text": text, "request_type": code, "status": status})
    return entries


def load(session: Session, body: Body, entries: list[dict]) -> None:
    """Replace the body's file templates (`source == "file"`) by `entries`."""
    for row in session.scalars(select(ResponseTemplate).where(
            ResponseTemplate.body_id == body.id, ResponseTemplate.source == "file")):
        session.delete(row)
    for entry in entries:
        session.add(ResponseTemplate(body_id=body.id, title=entry["title"], text=entry["text"],
                                     request_type_code=entry["request_type"],
                                     status=entry["status"], source="file"))
    session.flush()
