"""The staff queue narrowed to one of the portal's named areas, picked by name."""

from __future__ import annotations

import json

from sqlalchemy import select

from portal.models import Place, Tenant
from portal.places import gazetteer
from tests.conftest import client_for
from tests.factories import file_report
from tests.staff_support import grant, sign_in

# A triangle in northside (lat 1..3): its box holds both issues, the outline only one.
TRIANGLE = json.dumps({"type": "Polygon", "coordinates": [[[0, 1], [2, 1], [0, 3], [0, 1]]]})


def test_staff_pick_an_area_by_name_and_see_only_its_issues(app, db, world):
    with db.session() as s:
        portal = s.scalars(select(Tenant).where(Tenant.slug == "northside")).one()
        gazetteer.add_places(s, portal.id, [gazetteer.NewPlace(
            "area", {"en": "West Triangle", "es": "Triángulo oeste"}, 1.5, 0.5,
            area_geojson=TRIANGLE)], "test")
        inside = file_report(s, "northside", 1.5, 0.5, description="Inside the triangle").id
        outside = file_report(s, "northside", 2.8, 1.8, description="Outside the outline").id
    with db.session() as s:
        area_id = s.scalars(select(Place.id).where(Place.kind == "area")).one()
    grant(db, "crew@city.test", "staff", body="city-works")
    crew = client_for(app, "northside.reportal.test")
    sign_in(crew, db, "crew@city.test")
    queue = crew.get("/staff/queue").text
    assert "West Triangle" in queue and "min lon" not in queue
    picked = crew.get("/staff/queue", params={"area": str(area_id)}).text
    rows = picked.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert rows.count("<tr") == 1
    assert f"/staff/issues/{inside}" in rows and f"/staff/issues/{outside}" not in rows
    assert f'<option value="{area_id}" selected>' in picked
    bad = crew.get("/staff/queue", params={"area": "999999"})
    assert bad.status_code == 400 and "Choose one of the portal" in bad.text
