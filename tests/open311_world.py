"""The test world with Open311 keys, and a pothole type that asks two questions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from portal.models import Body, Tenant
from portal.open311 import api_keys
from portal.tenancy import tenant_files

QUESTIONS = [
    {"code": "depth", "datatype": "number", "required": True, "order": 1,
     "description": {"en": "How deep is it?", "es": "¿Qué profundidad tiene?"},
     "datatype_description": {"en": "centimetres"}},
    {"code": "lane", "datatype": "singlevaluelist", "required": False, "order": 2,
     "description": {"en": "Which lane?"},
     "values": [{"key": "left", "name": {"en": "Left lane"}},
                {"key": "right", "name": {"en": "Right lane"}}]},
]


@dataclass
class Keys:
    app: str  # files reports on northside
    back_office: str  # city-works' back office: may also post its status changes
    other_portal: str  # a key of riverside


def add_questions(db, tenants_dir: Path, themes_dir: Path) -> None:  # noqa: ANN001
    """Give city-works' pothole its questions, through the loader, as an operator would."""
    path = tenants_dir / "bodies" / "city-works" / "body.json"
    data = json.loads(path.read_text())
    for item in data["request_types"]:
        if item["code"] == "pothole":
            item["questions"] = QUESTIONS
    path.write_text(json.dumps(data))
    with db.session() as session:
        tenant_files.load_body(session, path.parent)


def make_keys(db) -> Keys:  # noqa: ANN001
    with db.session() as session:
        north = session.scalars(select(Tenant).where(Tenant.slug == "northside")).one()
        river = session.scalars(select(Tenant).where(Tenant.slug == "riverside")).one()
        works = session.scalars(select(Body).where(Body.slug == "city-works")).one()
        _, app = api_keys.create(session, north, "Neighbourhood app")
        _, office = api_keys.create(session, north, "City Works CRM", works)
        _, other = api_keys.create(session, river, "River app")
    return Keys(app, office, other)
