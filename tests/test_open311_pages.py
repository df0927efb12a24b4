"""The people's side of Open311: the developers' page every portal links from its footer, and
the admins' page where keys are created (shown once), listed and revoked."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from portal.models import Open311Key
from tests.conftest import client_for
from tests.http_support import csrf
from tests.staff_support import grant, sign_in


def test_the_developers_page_gives_the_base_url_services_and_examples(client):
    home = client.get("/")
    assert 'href="/open311"' in home.text
    page = client.get("/open311")
    assert page.status_code == 200
    assert "<code>http://northside.reportal.test/open311/v2</code>" in page.text
    assert "<code>pothole</code>" in page.text and "Streetlight out" in page.text
    shown = html.unescape(page.text)  # what the reader sees and copies
    assert "curl 'http://northside.reportal.test/open311/v2/services.json'" in shown
    assert "curl 'http://northside.reportal.test/open311/v2/services/highway-sign.xml'" in shown
    assert "  --data-urlencode 'service_code=highway-sign' \\\n" in shown
    assert "servicerequestupdates.xml?start_date=" in shown
    spanish = client.get("/open311?lang=es")
    assert spanish.status_code == 200 and "Bache" in spanish.text


def test_discovery_links_the_developers_page_under_the_prefix(app, world):
    local = client_for(app, "localhost")
    page = local.get("/t/northside/open311")
    assert "/t/northside/open311/v2" in page.text
    assert local.get("/t/northside/open311/v2/discovery.json").json()["key_service"].endswith(
        "/t/northside/open311")


@pytest.fixture
def admin(app, db, world):  # noqa: ANN001, ANN201
    grant(db, "admin@north.test", "admin", portal="northside")
    client = client_for(app, "northside.reportal.test")
    sign_in(client, db, "admin@north.test")
    return client


def _create(client, application: str, body: str = ""):  # noqa: ANN001, ANN202
    token = csrf(client.get("/staff/open311").text)
    return client.post("/staff/open311", data={"csrf_token": token, "application": application,
                                               "body": body})


def test_an_admin_creates_a_key_that_is_shown_once_and_works(admin, db):
    created = _create(admin, "Neighbourhood app")
    assert created.status_code == 200
    key = re.search(r'<code class="api-key">(o311_[^<]+)</code>', created.text).group(1)
    assert "Copy it now: it is not shown again." in created.text
    again = admin.get("/staff/open311")
    assert key not in again.text
    assert f"o311_{key.split('_')[1]}_…" in again.text and "Neighbourhood app" in again.text
    with db.session() as session:
        row = session.scalars(select(Open311Key)).one()
        assert key not in (row.key_hash, row.prefix)  # only a digest is kept
    filed = admin.post("/open311/v2/requests.json", data={
        "api_key": key, "service_code": "highway-sign", "lat": "2.0", "long": "1.0",
        "description": "Sign down"})
    assert filed.status_code == 201
    token = csrf(again.text)
    revoked = admin.post(f"/staff/open311/{row.id}/revoke", data={"csrf_token": token})
    assert revoked.status_code == 303
    assert "The key was revoked" in admin.get(revoked.headers["location"]).text
    refused = admin.post("/open311/v2/requests.json", data={
        "api_key": key, "service_code": "highway-sign", "lat": "2.0", "long": "1.0",
        "description": "Sign down again"})
    assert refused.status_code == 403


def test_a_key_for_a_body_only_from_that_bodys_own_staff(admin, db):
    # Admin of a portal the body serves, but not its staff: a key tied to the body would
    # change its issues' statuses everywhere, and mail its reporters, in its name.
    assert 'value="city-works"' not in admin.get("/staff/open311").text
    refused = _create(admin, "City Works CRM", body="city-works")
    assert refused.status_code == 400
    assert "Choose a body of this portal whose staff you are." in refused.text
    with db.session() as session:
        assert session.scalars(select(Open311Key)).all() == []
    grant(db, "admin@north.test", "staff", body="city-works")
    created = _create(admin, "City Works CRM", body="city-works")
    assert created.status_code == 200
    with db.session() as session:
        assert session.scalars(select(Open311Key)).one().body_id is not None
    refused = _create(admin, "Faraway CRM", body="no-such-body")
    assert refused.status_code == 400
    assert "Choose a body of this portal whose staff you are." in refused.text
    empty = _create(admin, "  ")
    assert empty.status_code == 400
    assert "Name the application that will use the key." in empty.text


def test_only_the_portals_admins_manage_keys(app, db, world):
    grant(db, "crew@city.test", "staff", body="city-works")
    crew = client_for(app, "northside.reportal.test")
    sign_in(crew, db, "crew@city.test")
    assert crew.get("/staff/open311").status_code == 403
    assert "/staff/open311" not in crew.get("/staff").text
    anonymous = client_for(app, "northside.reportal.test")
    assert anonymous.get("/staff/open311").status_code == 403
    grant(db, "admin@river.test", "admin", portal="riverside")
    other = client_for(app, "northside.reportal.test")
    sign_in(other, db, "admin@river.test")
    assert other.get("/staff/open311").status_code == 403
