"""Response templates: a body's staff write the replies they send most (per language, for a
request type, with a status change), use them from an issue's page with or without script,
and nobody else ever sees, uses, changes or deletes them."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest
from sqlalchemy import select

from portal.models import Body, ResponseTemplate, Update
from portal.tenancy import tenant_dump, tenant_files
from tests.conftest import client_for
from tests.factories import file_report
from tests.http_support import csrf
from tests.staff_support import grant, sign_in

HOST = "northside.reportal.test"


def _staff(app, db, email: str, body: str):  # noqa: ANN001, ANN202
    grant(db, email, "staff", body=body)
    client = client_for(app, HOST)
    sign_in(client, db, email)
    return client


@pytest.fixture
def works(app, db, world):
    return _staff(app, db, "crew@city.test", "city-works")


@pytest.fixture
def roads(app, db, world):
    return _staff(app, db, "roads@state.test", "state-roads")


def _create(client, **fields) -> object:  # noqa: ANN001, ANN003
    token = csrf(client.get("/staff/templates").text)
    return client.post("/staff/templates", data={"csrf_token": token, **fields})


def _template(db, title: str) -> ResponseTemplate:  # noqa: ANN001
    with db.session() as s:
        return s.scalars(select(ResponseTemplate).where(
            ResponseTemplate.title["en"].as_string() == title)).one()


def _report(db, **fields) -> int:  # noqa: ANN001, ANN003
    with db.session() as s:
        return file_report(s, "northside", 1.9, 1.0, **fields).id


def _reply_box(html: str) -> str:
    match = re.search(r'<textarea id="status-text"[^>]*>(.*?)</textarea>', html, re.S)
    assert match, html
    return unescape(match.group(1))


def test_staff_write_a_template_in_two_languages_and_see_it_listed(works, db):
    r = _create(works, title_en="Crew booked", text_en="A crew is booked for this week.",
                title_es="Cuadrilla", text_es="Una cuadrilla vendrá esta semana.",
                request_type="pothole", status="acknowledged")
    assert r.status_code == 303 and r.headers["location"].endswith("done=saved")
    page = works.get(r.headers["location"]).text
    assert "The template was saved." in page
    assert "Crew booked" in page and "A crew is booked for this week." in page
    assert "Pothole" in page and "with Acknowledged" in page
    row = _template(db, "Crew booked")
    assert row.text == {"en": "A crew is booked for this week.",
                        "es": "Una cuadrilla vendrá esta semana."}
    assert (row.request_type_code, row.status) == ("pothole", "acknowledged")


def test_a_template_needs_a_title_and_a_text_and_says_which_is_missing(works, db):
    r = _create(works, title_en="Only a title", text_en="")
    assert r.status_code == 400
    assert "Write the reply for this title." in r.text
    assert 'value="Only a title"' in r.text  # what was typed stays
    r = _create(works, title_en="", text_en="")
    assert r.status_code == 400
    assert "Write a title and a reply in at least one language." in r.text
    r = _create(works, title_en="Wrong type", text_en="Text", request_type="highway-sign")
    assert r.status_code == 400 and "Choose one of the request types of this body." in r.text
    with db.session() as s:
        assert s.scalars(select(ResponseTemplate)).all() == []


def test_using_a_template_without_script_fills_the_reply_in_the_reporters_language(works, db):
    _create(works, title_en="Fixed", text_en="We filled the hole.", title_es="Arreglado",
            text_es="Hemos tapado el bache.", status="closed")
    template = _template(db, "Fixed")
    issue_id = _report(db, locale="es", email="vecina@example.org")
    page = works.get(f"/staff/issues/{issue_id}").text
    assert "Use a template" in page and ">Fixed</option>" in page
    r = works.post(f"/staff/issues/{issue_id}/template", data={
        "csrf_token": csrf(page), "template": str(template.id), "status": "", "text": ""})
    assert r.status_code == 200
    assert _reply_box(r.text) == "Hemos tapado el bache."
    assert re.search(r'<input type="radio" name="status" value="closed" required checked>',
                     r.text)
    with db.session() as s:  # nothing is sent until staff press Save
        assert s.scalars(select(Update).where(Update.issue_id == issue_id,
                                              Update.kind != "created")).all() == []
    r = works.post(f"/staff/issues/{issue_id}/status", data={
        "csrf_token": csrf(r.text), "status": "closed", "text": _reply_box(r.text)})
    assert r.status_code == 303
    public = client_for(works.app, HOST).get(f"/issues/{issue_id}").text
    assert "Hemos tapado el bache." in public


def test_a_template_for_another_request_type_is_not_offered(works, db):
    _create(works, title_en="Lamp ordered", text_en="A new lamp is ordered.",
            request_type="streetlight")
    template = _template(db, "Lamp ordered")
    issue_id = _report(db)  # a pothole
    page = works.get(f"/staff/issues/{issue_id}").text
    assert "Lamp ordered" not in page
    r = works.post(f"/staff/issues/{issue_id}/template", data={
        "csrf_token": csrf(page), "template": str(template.id)})
    assert r.status_code == 400
    assert "Choose one of the templates offered for this issue." in r.text


def test_another_bodys_staff_cannot_see_use_change_or_delete_a_template(works, roads, db):
    _create(works, title_en="City only", text_en="Private wording of the city.")
    template = _template(db, "City only")
    listing = roads.get("/staff/templates").text
    assert "City only" not in listing and "Private wording" not in listing
    assert roads.get(f"/staff/templates/{template.id}").status_code == 404
    token = csrf(listing)
    r = roads.post(f"/staff/templates/{template.id}", data={
        "csrf_token": token, "title_en": "Taken", "text_en": "Over"})
    assert r.status_code == 404
    assert roads.post(f"/staff/templates/{template.id}/delete",
                      data={"csrf_token": token}).status_code == 404
    with db.session() as s:  # nor through another issue of their own
        state = s.scalars(select(Body).where(Body.slug == "state-roads")).one()
        own = file_report(s, "northside", 1.9, 1.0, request_type=f"{state.slug}/highway-sign").id
    r = roads.post(f"/staff/issues/{own}/template", data={
        "csrf_token": token, "template": str(template.id)})
    assert r.status_code == 400 and "Private wording" not in r.text
    assert _template(db, "City only").text == {"en": "Private wording of the city."}


def test_staff_change_and_delete_their_template(works, db):
    _create(works, title_en="Old", text_en="Old words.")
    template = _template(db, "Old")
    page = works.get(f"/staff/templates/{template.id}").text
    assert "Change the template" in page and "Old words." in page
    r = works.post(f"/staff/templates/{template.id}", data={
        "csrf_token": csrf(page), "title_en": "New", "text_en": "New words."})
    assert r.status_code == 303
    assert _template(db, "New").text == {"en": "New words."}
    r = works.post(f"/staff/templates/{template.id}/delete",
                   data={"csrf_token": csrf(page)})
    assert r.status_code == 303
    assert "The template was deleted." in works.get(r.headers["location"]).text
    with db.session() as s:
        assert s.scalars(select(ResponseTemplate)).all() == []


def test_templates_need_a_staff_role_and_a_valid_form(app, db, world, works):
    anonymous = client_for(app, HOST)
    assert anonymous.get("/staff/templates").status_code == 403
    grant(db, "admin@north.test", "admin", portal="northside")
    admin = client_for(app, HOST)
    sign_in(admin, db, "admin@north.test")
    assert admin.get("/staff/templates").status_code == 403
    assert "Response templates" not in admin.get("/staff").text
    assert "Response templates" in works.get("/staff").text
    r = works.post("/staff/templates", data={"csrf_token": "forged", "title_en": "X",
                                             "text_en": "Y"})
    assert r.status_code == 403 and "This form has expired" in r.text
    with db.session() as s:
        assert s.scalars(select(ResponseTemplate)).all() == []


def test_templates_in_body_json_are_loaded_and_staff_edits_survive_a_reload(
        works, db, tmp_path, settings):
    folder = tmp_path / "city-works"
    with db.session() as s:
        body = s.scalars(select(Body).where(Body.slug == "city-works")).one()
        tenant_dump.dump_body(body, folder)
    data = json.loads((folder / "body.json").read_text())
    data["response_templates"] = [{"title": {"en": "From the file"},
                                   "text": {"en": "Filed text."}, "request_type": "pothole"}]
    (folder / "body.json").write_text(json.dumps(data))
    for _ in range(2):  # loading twice keeps one copy
        with db.session() as s:
            tenant_files.load_body(s, folder)
    assert _template(db, "From the file").request_type_code == "pothole"
    _create(works, title_en="Typed", text_en="Typed by staff.")
    with db.session() as s:
        tenant_files.load_body(s, folder)
        titles = sorted(t.title["en"] for t in s.scalars(select(ResponseTemplate)))
    assert titles == ["From the file", "Typed"]
    data["response_templates"] = [{"title": {"en": "Bad"}, "text": {"en": "x"},
                                   "status": "mended"}]
    (folder / "body.json").write_text(json.dumps(data))
    with pytest.raises(Exception, match="mended"), db.session() as s:
        tenant_files.load_body(s, folder)


def test_the_staff_menu_offers_the_widgets_page_to_the_portals_admins_only(app, db, world,
                                                                           works):
    grant(db, "admin@north.test", "admin", portal="northside")
    admin = client_for(app, HOST)
    sign_in(admin, db, "admin@north.test")
    home = admin.get("/staff").text
    assert 'href="/t/northside/staff/widgets"' in home or 'href="/staff/widgets"' in home
    widgets = admin.get("/staff/widgets").text
    assert 'aria-current="page">Widgets</a>' in widgets  # the staff menu, on the page too
    assert ">Widgets</a>" not in works.get("/staff").text


def test_a_made_up_language_field_is_no_language(works, db):
    r = _create(works, title_xx="Sneaky", text_xx="Not a language")
    assert r.status_code == 400
    assert "Write a title and a reply in at least one language." in r.text
    with db.session() as s:
        assert s.scalars(select(ResponseTemplate)).all() == []
