"""`/operator` without JavaScript: who gets in, the create-portal form's round trips (upload,
pick, draw, preview, the offered shade, create), bodies from a layer, CSRF on every form, and
the bad-input rules for uploads, each with its own message."""

from __future__ import annotations

import dataclasses
import html
import io
import json
import re
import zipfile

import pytest
from sqlalchemy import select

from portal import cli
from portal.core import geo
from portal.models import Body, Tenant
from portal.staff import accounts
from tests.conftest import client_for
from tests.http_support import csrf, field_error
from tests.staff_support import confirm, grant, last_link, request_link, sign_in
from tests.worlds import box

OPERATOR = "ops@platform.test"
GETS = ("/operator", "/operator/new", "/operator/bodies", "/operator/portals/northside",
        "/operator/preview.css?theme=civic&colour=%23ffcc00")


@pytest.fixture
def settings(settings, tmp_path):  # noqa: ANN001,ANN201 - the world's own tenants folder
    return dataclasses.replace(settings, tenants_dir=tmp_path / "tenants")


@pytest.fixture
def operator(app, db, world):  # noqa: ANN001,ANN201
    with db.session() as s:
        accounts.grant_operator(s, OPERATOR)
    client = client_for(app, "northside.reportal.test")
    sign_in(client, db, OPERATOR)
    return client


def collection(*features: dict) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}).encode()


def named(name: str, area: dict) -> dict:
    return {**area, "properties": {"name": name, "ward": name.lower()}}


def form(client, **fields) -> dict:  # noqa: ANN001
    base = {"csrf_token": csrf(client.get("/operator/new").text), "kind": "city",
            "slug": "eastside", "languages": ["en", "es"], "default_language": "en",
            "name_en": "Eastside Reports", "name_es": "Reportes del Este", "theme": "civic",
            "allow_anonymous": "yes", "time_zone": "UTC"}
    return {**base, **fields}


def hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert match, name
    return html.unescape(match.group(1))


AREA = collection(named("East", box(10, 10, 11, 11)))


def test_operators_are_granted_listed_and_revoked_from_the_command_line(db, world, settings,
                                                                        monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("LANG", "C")
    assert cli.main(["operators", "grant", "Ops@Platform.test"]) == 0
    assert cli.main(["operators", "list"]) == 0
    assert OPERATOR in capsys.readouterr().out
    assert cli.main(["operators", "revoke", OPERATOR]) == 0
    capsys.readouterr()
    cli.main(["operators", "list"])
    assert OPERATOR not in capsys.readouterr().out


def test_only_operators_get_the_operator_pages(app, db, world, operator):
    anonymous = client_for(app, "northside.reportal.test")
    admin = client_for(app, "northside.reportal.test")
    grant(db, "admin@north.test", "admin", portal="northside")
    sign_in(admin, db, "admin@north.test")
    for path in GETS:
        refused = anonymous.get(path)
        assert refused.status_code == 403 and 'href="/signin"' in refused.text, path
        as_admin = admin.get(path)
        assert as_admin.status_code == 403, path
        assert "Riverside Portal" not in as_admin.text and "faraway" not in as_admin.text
        assert operator.get(path).status_code == 200, path
    listing = operator.get("/operator").text
    assert "Riverside Portal" in listing and "New portal" in listing
    # The same person signed in on another portal's address is an operator there, and
    # signing in leads there (they hold no role in any portal).
    river = client_for(app, "riverside.reportal.test")
    request_link(river, OPERATOR)
    assert confirm(river, last_link(db, OPERATOR)[1]).headers["location"] == "/operator"
    assert river.get("/operator/new").status_code == 200


def test_every_operator_form_needs_its_csrf_token(app, db, world, operator, settings):
    for path in ("/operator/new", "/operator/bodies"):
        refused = operator.post(path, data={"slug": "eastside", "action": "create"},
                                files={"area_file": ("east.geojson", AREA)})
        assert refused.status_code == 403, path
        assert "This form has expired" in refused.text
    other = client_for(app, "northside.reportal.test")  # someone else's token
    stolen = {"csrf_token": csrf(other.get("/signin").text)}
    assert operator.post("/operator/new", data={**stolen, "action": "create"}).status_code == 403
    with db.session() as s:
        assert s.scalars(select(Tenant).where(Tenant.slug == "eastside")).first() is None
    assert not (settings.tenants_dir / "portals" / "eastside").exists()


def test_a_portal_made_through_the_form_with_a_preview_and_the_offered_shade(app, db, world,
                                                                           operator, settings):
    fields = form(operator, colour="#ffcc00", action="preview")
    preview = operator.post("/operator/new", data=fields,
                            files={"area_file": ("east.geojson", AREA)})
    assert preview.status_code == 200, preview.text
    page = preview.text
    assert "The uploaded layer has 1 feature." in page
    assert page.count('class="portal-preview"') == 2  # English and Spanish
    assert "Reportes del Este" in page and "Reportar un problema" in page
    assert "color-on-primary" in page and "Fails" in page
    shade = re.search(r'name="use_colour" value="(#[0-9a-f]{6})"', page).group(1)
    layer = hidden(page, "layer_geojson")
    assert json.loads(layer)["features"][0]["properties"]["name"] == "East"
    refused = operator.post("/operator/new", data={**fields, "layer_geojson": layer,
                                                   "action": "create"})
    assert refused.status_code == 400
    assert f"nearest passing shade is {shade}" in field_error(refused.text, "colour")
    # One click on the offered shade: the same form again, the layer carried, no new upload.
    fixed = operator.post("/operator/new", data={**fields, "layer_geojson": layer,
                                                 "use_colour": shade})
    assert fixed.status_code == 200 and "Fails" not in fixed.text
    assert f'name="colour" value="{shade}"' in fixed.text
    # Asked for before it exists: the "no such portal" is cached, and forgotten on creation.
    assert client_for(app, "eastside.reportal.test").get("/").status_code == 404
    made = operator.post("/operator/new", data={**fields, "colour": shade, "layer_geojson": layer,
                                                "action": "create"})
    assert made.status_code == 303, made.text
    assert made.headers["location"] == "/operator/portals/eastside"
    result = html.unescape(operator.get(made.headers["location"]).text)
    assert "https://eastside.reportal.test/" in result
    assert "http://reportal.test/t/eastside/" in result
    # The map, the report form, the announcements and the portal's stats card.
    assert result.count("data-snippet=") == 4 and 'data-reportal="report"' in result
    assert "No staff yet" in result and "no body covers this portal's area" in result
    # Live at once, on its host and under /t/.
    home = client_for(app, "eastside.reportal.test").get("/")
    assert home.status_code == 200 and "Eastside Reports" in home.text
    assert client_for(app, "reportal.test").get("/t/eastside/").status_code == 200
    portal_json = json.loads((settings.tenants_dir / "portals" / "eastside" / "portal.json")
                             .read_text())
    assert portal_json["tokens"] == {"color-primary": shade}
    assert portal_json["languages"] == ["en", "es"]


def test_features_picked_from_a_layer_make_the_area(db, world, operator):
    layer = collection(named("North", box(10, 12, 11, 13)), named("Middle", box(10, 11, 11, 12)),
                       named("South", box(10, 10, 11, 11)))
    page = operator.post("/operator/new", data=form(operator, action="preview"),
                         files={"area_file": ("wards.geojson", layer)}).text
    assert "The uploaded layer has 3 features." in page
    assert 'name="pick" value="Middle"' in page
    carried = hidden(page, "layer_geojson")
    made = operator.post("/operator/new", data=form(
        operator, layer_geojson=carried, pick_property="name", pick=["North", "Middle"],
        action="create"))
    assert made.status_code == 303, made.text
    with db.session() as s:
        area = geo.area(s.scalars(select(Tenant).where(Tenant.slug == "eastside")).one()
                        .area_geojson)
    assert area.bounds == (10.0, 11.0, 11.0, 13.0)


def test_an_area_drawn_on_the_map_is_the_portals_area(db, world, operator):
    drawn = json.dumps(box(20, 20, 21, 21)["geometry"])
    made = operator.post("/operator/new", data=form(operator, drawn_geojson=drawn,
                                                    action="create"))
    assert made.status_code == 303, made.text
    nothing = operator.post("/operator/new", data=form(operator, slug="nowhere",
                                                       action="create"))
    assert nothing.status_code == 400
    assert "Give the portal an area" in nothing.text


def test_the_form_names_the_field_at_fault_and_keeps_what_was_typed(operator):
    taken = operator.post("/operator/new", data=form(operator, hosts="northside.example.test",
                                                     action="create"),
                          files={"area_file": ("east.geojson", AREA)})
    assert taken.status_code == 400
    assert "already belongs to another portal" in field_error(taken.text, "hosts")
    assert 'value="Reportes del Este"' in taken.text
    bad_slug = operator.post("/operator/new", data=form(operator, slug="East Side!",
                                                        action="create"),
                             files={"area_file": ("east.geojson", AREA)})
    assert "lower-case letters" in field_error(bad_slug.text, "slug")
    origin = operator.post("/operator/new", data=form(operator, embed_origins="ftp://news.example.org",
                                                      action="create"),
                           files={"area_file": ("east.geojson", AREA)})
    assert origin.status_code == 400 and field_error(origin.text, "embed_origins")


def _bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("wards.shp", b"\0" * 5_000_000)
    return out.getvalue()


@pytest.mark.parametrize(("name", "data", "expected"), [
    ("wards.zip", _bomb(), "possible zip bomb"),
    ("huge.geojson", b" " * (20 * 1024 * 1024 + 10), "at most 20 MB"),
    ("bow.geojson", None, None),
    ("area.txt", b"hello", "a boundary file is GeoJSON"),
    ("feet.geojson", json.dumps({"type": "FeatureCollection", "crs": {
        "type": "name", "properties": {"name": "EPSG:999999"}},
        "features": [box(10, 10, 11, 11)]}).encode(), "EPSG:999999"),
])
def test_bad_uploads_get_their_own_message_and_nothing_is_made(operator, db, name, data,
                                                               expected):
    if data is None:  # a bow tie is repaired, and the repair said
        bow = {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [
            [[10, 10], [11, 11], [11, 10], [10, 11], [10, 10]]]}}
        page = operator.post("/operator/new", data=form(operator, action="preview"),
                             files={"area_file": (name, collection(bow))})
        assert page.status_code == 200 and "repaired" in page.text
        return
    page = operator.post("/operator/new", data=form(operator, action="create"),
                         files={"area_file": (name, data)})
    assert page.status_code == 400
    assert expected in page.text
    with db.session() as s:
        assert s.scalars(select(Tenant).where(Tenant.slug == "eastside")).first() is None


def test_swapped_axes_are_offered_to_fix_in_one_click(operator, db):
    swapped = {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [
        [[40.7, -73.9], [40.8, -73.9], [40.8, -73.8], [40.7, -73.8], [40.7, -73.9]]]}}
    page = operator.post("/operator/new", data=form(operator, action="preview"),
                         files={"area_file": ("nyc.geojson", collection(swapped))})
    assert page.status_code == 400 and "look swapped" in page.text
    assert 'name="action" value="use_swapped"' in page.text
    fixed = operator.post("/operator/new", data=form(
        operator, swapped_geojson=hidden(page.text, "swapped_geojson"), action="use_swapped"))
    assert fixed.status_code == 200 and "The uploaded layer has 1 feature." in fixed.text
    layer = json.loads(hidden(fixed.text, "layer_geojson"))
    assert layer["features"][0]["geometry"]["coordinates"][0][0] == [-73.9, 40.7]


def test_an_svg_logo_loses_its_script_and_a_broken_image_is_refused(operator):
    svg = (b'<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20">'
           b'<script>alert(1)</script><rect width="40" height="20" onclick="x()"/></svg>')
    page = operator.post("/operator/new", data=form(operator, action="preview"),
                         files={"area_file": ("east.geojson", AREA),
                                "logo_file": ("logo.svg", svg)})
    assert page.status_code == 200 and "removed from the logo" in page.text
    kept = hidden(page.text, "logo_svg")
    assert "rect" in kept and "script" not in kept and "onclick" not in kept
    broken = operator.post("/operator/new", data=form(operator, action="preview"),
                           files={"logo_file": ("logo.png", b"not a png")})
    assert "a logo is an SVG, PNG or JPEG image" in field_error(broken.text, "logo")


def test_bodies_are_made_from_a_layer_through_the_form(operator, db, settings):
    layer = collection(named("One", box(10, 10, 11, 11)), named("Two", box(11, 10, 12, 11)))
    page = operator.get("/operator/bodies")
    made = operator.post("/operator/bodies", data={
        "csrf_token": csrf(page.text), "name_property": "name",
        "name_template": "Ward {value} works", "slug_template": "ward-{ward}",
        "contact_email_template": "ward-{ward}@example.org", "language": "en",
        "request_types": "pothole: Pothole\nlight: Streetlight out"},
        files={"layer_file": ("wards.geojson", layer)})
    assert made.status_code == 200, made.text
    assert "Made 2 bodies" in made.text and "ward-one" in made.text
    with db.session() as s:
        body = s.scalars(select(Body).where(Body.slug == "ward-two")).one()
        assert body.contact_email == "ward-two@example.org"
        assert sorted(rt.code for rt in body.request_types) == ["light", "pothole"]
    assert (settings.tenants_dir / "bodies" / "ward-one" / "body.json").is_file()
    bad = operator.post("/operator/bodies", data={
        "csrf_token": csrf(page.text), "name_property": "name", "slug_template": "w-{nope}",
        "request_types": "pothole"}, files={"layer_file": ("wards.geojson", layer)})
    assert bad.status_code == 400
    assert "code: Name" in field_error(bad.text, "request_types")


def test_a_theme_is_a_name_never_a_path(operator):
    for theme in ("../tenants", "civic/../civic"):
        page = operator.post("/operator/new", data=form(operator, theme=theme, action="create"),
                             files={"area_file": ("east.geojson", AREA)})
        assert page.status_code == 400 and "unknown theme" in field_error(page.text, "theme")
        css = operator.get(f"/operator/preview.css?theme={theme}")
        assert css.status_code == 200 and "--rp-color-primary:#" in css.text  # civic's
