"""A portal's admins run it at /staff/portal: branding, logo, languages, embedding origins,
request types, staff and keys; every change is in the audit and can be undone from there."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.models import Open311Key, PortalChange, Role, Tenant, User
from portal.open311 import api_keys
from portal.staff import portal_audit, portal_settings
from portal.tenancy import data_version
from tests.conftest import client_for
from tests.factories import png_bytes
from tests.http_support import csrf
from tests.staff_support import confirm, grant, last_link, sign_in

NORTH = "northside.reportal.test"
RIVER = "riverside.reportal.test"


def person(app, db, email: str, role: str | None = None, host: str = NORTH,  # noqa: ANN001
           **where: str):  # noqa: ANN201 - a TestClient
    if role:
        grant(db, email, role, **where)
    client = client_for(app, host)
    sign_in(client, db, email)
    return client


@pytest.fixture
def admin(app, db, world):  # noqa: ANN001, ANN201
    return person(app, db, "boss@north.test", "admin", portal="northside")


def portal_row(db, slug: str = "northside") -> Tenant:  # noqa: ANN001
    with db.session() as s:
        row = s.scalars(select(Tenant).where(Tenant.slug == slug)).one()
        s.expunge(row)
        return row


def post(client, path: str, data: dict, page: str = "/staff/portal", **kw):  # noqa: ANN001, ANN201
    return client.post(path, data={"csrf_token": csrf(client.get(page).text), **data}, **kw)


def audit(db) -> list[PortalChange]:  # noqa: ANN001
    with db.session() as s:
        rows = list(s.scalars(select(PortalChange).order_by(PortalChange.id)))
        s.expunge_all()
        return rows


def undo(client, change_id: int):  # noqa: ANN001, ANN201
    return post(client, f"/staff/portal/audit/{change_id}/undo", {}, "/signin")


# -- the page and who may open it ---------------------------------------------------------

def test_the_admin_finds_every_section_from_the_staff_menu(admin):
    home = admin.get("/staff").text
    assert 'href="/staff/portal"' in home
    page = admin.get("/staff/portal")
    assert page.status_code == 200
    for heading in ("Branding", "Logo", "Languages", "Embedding", "Request types"):
        assert f">{heading}</h2>" in page.text
    for link in ("/staff/portal/staff", "/staff/open311", "/staff/announcements",
                 "/staff/portal/audit"):
        assert f'href="{link}"' in page.text


def test_nobody_else_opens_or_changes_the_portal(app, db, world, admin):
    anonymous = client_for(app, NORTH)
    staff = person(app, db, "crew@city.test", "staff", body="city-works")
    moderator = person(app, db, "mod@north.test", "moderator", portal="northside")
    river_admin = person(app, db, "boss@river.test", "admin", portal="riverside")
    resident = person(app, db, "someone@home.test")
    assert 'href="/staff/portal"' not in moderator.get("/staff").text
    paths = ["/staff/portal", "/staff/portal/staff", "/staff/portal/audit"]
    before = portal_row(db)
    for who in (anonymous, staff, moderator, river_admin, resident):
        for path in paths:
            response = who.get(path)
            assert response.status_code == 403, (path, response.status_code)
        token = csrf(who.get("/signin").text)
        for path, form in [("/staff/portal/languages", {"languages": "en",
                                                         "default_language": "en"}),
                           ("/staff/portal/origins", {"origins": "https://evil.test"}),
                           ("/staff/portal/staff", {"email": "x@evil.test", "role": "admin",
                                                    "place": ""})]:
            assert who.post(path, data={"csrf_token": token, **form}).status_code == 403
    assert "Sign in" in anonymous.get("/staff/portal").text
    after = portal_row(db)
    assert (after.languages, after.embed_origins) == (before.languages, before.embed_origins)
    assert audit(db) == []


def test_an_admin_of_one_portal_cannot_touch_another(app, db, world, admin):
    # The same person signed in on riverside holds no role there: its settings stay put.
    river = client_for(app, RIVER)
    sign_in(river, db, "boss@north.test")
    assert river.get("/staff/portal").status_code == 403
    token = csrf(river.get("/signin").text)
    response = river.post("/staff/portal/origins", data={"csrf_token": token,
                                                         "origins": "https://north.test"})
    assert response.status_code == 403
    assert portal_row(db, "riverside").embed_origins == ["http://127.0.0.2:8766"]
    # Nor can northside's audit entries be undone from riverside.
    post(admin, "/staff/portal/origins", {"origins": "https://north.test"})
    (entry,) = audit(db)
    grant(db, "boss@north.test", "admin", portal="riverside")
    river = client_for(app, RIVER)
    sign_in(river, db, "boss@north.test")
    assert entry.id not in [int(n) for n in re.findall(
        r'id="change-(\d+)"', river.get("/staff/portal/audit").text)]
    assert undo(river, entry.id).status_code == 404
    assert portal_row(db).embed_origins == ["https://north.test"]


def test_every_form_needs_its_own_csrf_token(app, db, world, admin):
    stranger = csrf(client_for(app, NORTH).get("/signin").text)
    forms = {"/staff/portal/branding": {"theme": "civic", "colour": ""},
             "/staff/portal/logo": {"remove": "1"},
             "/staff/portal/languages": {"languages": "en", "default_language": "en"},
             "/staff/portal/origins": {"origins": ""},
             "/staff/portal/request-types": {"request_types": "city-works/pothole"},
             "/staff/portal/staff": {"email": "new@x.test", "role": "admin", "place": ""},
             "/staff/portal/staff/role": {"email": "boss@north.test", "place": "",
                                          "old": "admin", "role": "moderator"},
             "/staff/portal/staff/remove": {"email": "boss@north.test", "place": "",
                                            "role": "admin"}}
    for path, form in forms.items():
        for token in (None, "forged", stranger):
            data = dict(form) if token is None else {**form, "csrf_token": token}
            assert admin.post(path, data=data).status_code == 403, (path, token)
    assert audit(db) == []


# -- the sections -------------------------------------------------------------------------

def test_a_failing_brand_colour_is_refused_with_the_nearest_passing_shade(admin, db):
    response = post(admin, "/staff/portal/branding", {"theme": "civic", "colour": "#7fb3ff"})
    assert response.status_code == 400
    assert "below the 4.5:1 that WCAG AA needs" in response.text
    shade = re.search(r'name="colour" value="(#[0-9a-f]{6})" formnovalidate', response.text)[1]
    assert portal_row(db).tokens.get("color-primary") is None  # nothing written
    response = post(admin, "/staff/portal/branding", {"theme": "civic", "colour": shade})
    assert response.status_code == 303
    assert portal_row(db).tokens["color-primary"] == shade
    assert shade in admin.get("/theme.css").text or shade in admin.get("/").text
    bad = post(admin, "/staff/portal/branding", {"theme": "civic", "colour": "blue"})
    assert bad.status_code == 400 and "six hexadecimal digits" in bad.text
    assert post(admin, "/staff/portal/branding", {"theme": "nope", "colour": ""}
                ).status_code == 400


def test_a_logo_upload_is_made_safe(admin, app):
    svg = (b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10" onload="alert(1)">'
           b'<script>alert(2)</script><rect width="10" height="10" fill="#036"/></svg>')
    token = csrf(admin.get("/staff/portal").text)
    response = admin.post("/staff/portal/logo", data={"csrf_token": token},
                          files={"logo": ("logo.svg", svg, "image/svg+xml")})
    assert response.status_code == 303
    page = admin.get(response.headers["location"]).text
    assert "The logo was saved." in page and "&lt;script&gt;" in page and "onload" in page
    served = client_for(app, NORTH).get("/logo.svg").text
    assert "<rect" in served and "script" not in served and "onload" not in served
    response = admin.post("/staff/portal/logo", data={"csrf_token": token},
                          files={"logo": ("logo.png", png_bytes((40, 20)), "image/png")})
    assert response.status_code == 303
    for name, data in [("logo.svg", b"<svg><!ENTITY x 'y'></svg>"), ("logo.png", b"not png"),
                       ("logo.svg", b"")]:
        response = admin.post("/staff/portal/logo", data={"csrf_token": token},
                              files={"logo": (name, data, "application/octet-stream")})
        assert response.status_code == 400, name
        assert 'class="field-error"' in response.text
    nothing = admin.post("/staff/portal/logo", data={"csrf_token": token})
    assert nothing.status_code == 400 and "Choose a logo file to upload." in nothing.text
    assert admin.post("/staff/portal/logo", data={"csrf_token": token, "remove": "1"}
                      ).status_code == 303
    assert client_for(app, NORTH).get("/logo.svg").status_code == 404


def test_languages_and_their_default(admin, app, db):
    response = post(admin, "/staff/portal/languages", {"languages": ["en", "es", "fr"],
                                                        "default_language": "fr"})
    assert response.status_code == 303
    row = portal_row(db)
    assert (row.languages, row.default_language) == (["en", "es", "fr"], "fr")
    home = client_for(app, NORTH).get("/", headers={"accept-language": "ko"})
    assert 'lang="fr"' in home.text  # the default now, live at once
    bad = post(admin, "/staff/portal/languages?lang=en", {"languages": ["en"],
                                                           "default_language": "es"})
    assert bad.status_code == 400 and "must be one of the languages chosen" in bad.text
    assert post(admin, "/staff/portal/languages", {"default_language": "en"}
                ).status_code == 400
    assert post(admin, "/staff/portal/languages", {"languages": ["xx"],
                                                   "default_language": "xx"}
                ).status_code == 400
    assert portal_row(db).languages == ["en", "es", "fr"]


def test_a_bad_value_is_refused_in_the_visitors_language(admin):
    response = post(admin, "/staff/portal/languages?lang=es", {"languages": ["en"],
                                                                "default_language": "es"})
    assert response.status_code == 400
    assert 'lang="es"' in response.text
    assert "must be one of the languages chosen" not in response.text


def test_embedding_origins_are_checked_and_used_by_the_widgets(admin, app, db):
    bad = post(admin, "/staff/portal/origins",
               {"origins": "https://ok.test\njavascript:alert(1)\nhttps://x.test/path?q"})
    assert bad.status_code == 400 and "javascript:alert(1)" in bad.text
    assert portal_row(db).embed_origins == ["http://127.0.0.2:8766"]
    response = post(admin, "/staff/portal/origins",
                    {"origins": "https://News.Example.org/\nhttps://news.example.org\n"
                                "http://localhost:8080"})
    assert response.status_code == 303
    assert portal_row(db).embed_origins == ["http://localhost:8080",
                                            "https://news.example.org"]
    csp = client_for(app, NORTH).get("/w/northside/map").headers["content-security-policy"]
    assert "https://news.example.org" in csp and "127.0.0.2" not in csp


def test_the_request_types_offered(admin, app, db):
    page = admin.get("/staff/portal").text
    keys = re.findall(r'name="request_types" value="([^"]+)"', page)
    assert {"city-works/pothole", "city-works/streetlight", "state-roads/highway-sign"
            } <= set(keys)
    assert "campus-fac/streetlight" not in keys  # its area only touches the portal's edge
    keep = [k for k in keys if k != "state-roads/highway-sign"]
    assert post(admin, "/staff/portal/request-types", {"request_types": keep}
                ).status_code == 303
    assert portal_row(db).request_type_keys == keep
    services = client_for(app, NORTH).get("/open311/v2/services.json").json()
    assert "highway-sign" not in {s["service_code"] for s in services}
    assert post(admin, "/staff/portal/request-types", {"request_types": keys}
                ).status_code == 303
    assert portal_row(db).request_type_keys is None  # all: new types are offered too
    assert post(admin, "/staff/portal/request-types", {}).status_code == 400
    assert post(admin, "/staff/portal/request-types", {"request_types": ["faraway/x"]}
                ).status_code == 400


# -- the audit and undo -------------------------------------------------------------------

def test_changes_are_audited_newest_first_and_undone(admin, db):
    post(admin, "/staff/portal/origins", {"origins": "https://one.test"})
    post(admin, "/staff/portal/languages", {"languages": ["en"], "default_language": "en"})
    first, second = audit(db)
    assert (first.what, first.before, first.after) == (
        "embed_origins", {"embed_origins": ["http://127.0.0.2:8766"]},
        {"embed_origins": ["https://one.test"]})
    with db.session() as s:
        assert s.get(User, first.user_id).email == "boss@north.test"
    page = admin.get("/staff/portal/audit").text
    assert page.index(f'id="change-{second.id}"') < page.index(f'id="change-{first.id}"')
    assert "boss@north.test" in page and "https://one.test" in page

    assert undo(admin, first.id).status_code == 303
    assert portal_row(db).embed_origins == ["http://127.0.0.2:8766"]
    undo_row = audit(db)[-1]
    assert (undo_row.undoes_id, undo_row.after) == (first.id, first.before)
    assert f"Undone by #{undo_row.id}" in admin.get("/staff/portal/audit").text
    # Undoing the undo puts the change back, itself audited.
    assert undo(admin, undo_row.id).status_code == 303
    assert portal_row(db).embed_origins == ["https://one.test"]
    assert audit(db)[-1].undoes_id == undo_row.id


def test_undo_is_refused_when_the_setting_changed_since(admin, db):
    post(admin, "/staff/portal/origins", {"origins": "https://one.test"})
    post(admin, "/staff/portal/origins", {"origins": "https://two.test"})
    first, second = audit(db)
    response = undo(admin, first.id)
    assert response.status_code == 409
    assert "changed again since" in response.text
    assert portal_row(db).embed_origins == ["https://two.test"]
    assert len(audit(db)) == 2
    assert undo(admin, second.id).status_code == 303  # the later one first
    assert undo(admin, first.id).status_code == 303
    assert portal_row(db).embed_origins == ["http://127.0.0.2:8766"]
    assert undo(admin, 999999).status_code == 404


def test_nothing_changed_writes_no_audit(admin, db):
    row = portal_row(db)
    response = post(admin, "/staff/portal/languages", {"languages": row.languages,
                                                        "default_language": "en"})
    assert "Nothing changed" in admin.get(response.headers["location"]).text
    assert audit(db) == []


def test_the_undo_of_a_branding_change_is_live(admin, db, settings):
    post(admin, "/staff/portal/branding", {"theme": "press", "colour": "#1a4d80"})
    (entry,) = audit(db)
    assert portal_row(db).theme == "press"
    undo(admin, entry.id)
    assert portal_row(db).theme == "civic"
    with db.session() as s:  # the domain reads what the page shows
        assert portal_settings.brand_colour(portal_settings.row(s, portal_row(db)),
                                            settings.themes_dir)


# -- staff --------------------------------------------------------------------------------

def test_an_invitee_signs_in_by_the_mailed_link(app, db, admin):
    response = post(admin, "/staff/portal/staff",
                    {"email": "New.Mod@North.test", "role": "moderator", "place": ""},
                    "/staff/portal/staff")
    assert response.status_code == 303
    assert "sign-in link was emailed" in admin.get(response.headers["location"]).text
    link, token = last_link(db, "new.mod@north.test")
    assert link.startswith("http://northside.reportal.test/signin/confirm?token=")
    invitee = client_for(app, NORTH)
    assert confirm(invitee, token).headers["location"] == "/staff"
    assert invitee.get("/staff/moderation").status_code == 200
    assert invitee.get("/staff/portal").status_code == 403  # moderator, not admin
    listing = admin.get("/staff/portal/staff").text
    assert "new.mod@north.test" in listing and "Moderator" in listing
    (entry,) = audit(db)
    assert (entry.what, entry.subject, entry.before, entry.after) == (
        "staff", {"email": "new.mod@north.test", "body": None}, [], ["moderator"])


def test_roles_are_changed_removed_and_never_leave_no_admin(app, db, admin):
    grant(db, "mod@north.test", "moderator", portal="northside")
    page = "/staff/portal/staff"
    response = post(admin, "/staff/portal/staff/role", {
        "email": "mod@north.test", "place": "", "old": "moderator", "role": "admin"}, page)
    assert response.status_code == 303
    response = post(admin, "/staff/portal/staff/remove",
                    {"email": "mod@north.test", "place": "", "role": "admin"}, page)
    assert response.status_code == 303
    # boss is the last admin now: refused, with a clear message, nothing changed.
    for path, form in [("/staff/portal/staff/remove", {"role": "admin"}),
                       ("/staff/portal/staff/role", {"old": "admin", "role": "moderator"})]:
        response = post(admin, path, {"email": "boss@north.test", "place": "", **form}, page)
        assert response.status_code == 409
        assert "no administrator left" in response.text
    with db.session() as s:
        assert s.scalars(select(Role).where(Role.role == "admin")).all()
    # Undoing boss's own invitation-to-admin of mod would be fine; undoing the removal of mod
    # gives the role back.
    removal = audit(db)[-1]
    assert undo(admin, removal.id).status_code == 303
    assert "mod@north.test" in admin.get(page).text


def test_undo_that_would_leave_no_admin_is_refused(app, db, admin):
    page = "/staff/portal/staff"
    post(admin, page, {"email": "second@north.test", "role": "admin", "place": ""}, page)
    post(admin, "/staff/portal/staff/remove",
         {"email": "boss@north.test", "place": "", "role": "admin"}, page)
    invited, removed = audit(db)
    second = client_for(app, NORTH)
    sign_in(second, db, "second@north.test")
    response = undo(second, invited.id)
    assert response.status_code == 409 and "no administrator left" in response.text
    assert undo(second, removed.id).status_code == 303  # boss is back


def test_body_roles_only_in_bodies_the_admin_staffs(app, db, admin):
    page = "/staff/portal/staff"
    response = post(admin, page, {"email": "x@crew.test", "role": "staff",
                                  "place": "city-works"}, page)
    assert response.status_code == 400 and "whose staff you are" in response.text
    grant(db, "boss@north.test", "staff", body="city-works")
    boss = client_for(app, NORTH)
    sign_in(boss, db, "boss@north.test")
    assert post(boss, page, {"email": "x@crew.test", "role": "admin",
                             "place": "city-works"}, page).status_code == 400
    assert post(boss, page, {"email": "x@crew.test", "role": "staff",
                             "place": "city-works"}, page).status_code == 303
    assert "x@crew.test" in boss.get(page).text
    assert post(boss, page, {"email": "not an address", "role": "staff",
                             "place": "city-works"}, page).status_code == 400
    # Another admin of the portal, not staff of city-works, cannot undo that either.
    other = person(app, db, "other@north.test", "admin", portal="northside")
    response = undo(other, audit(db)[-1].id)
    assert response.status_code == 409 and "Only staff of that body" in response.text
    assert undo(boss, audit(db)[-1].id).status_code == 303
    assert "x@crew.test" not in boss.get(page).text


# -- Open311 keys -------------------------------------------------------------------------

def test_keys_created_and_revoked_are_audited_and_undone(admin, db):
    response = post(admin, "/staff/open311", {"application": "City CRM"}, "/staff/open311")
    key = re.search(r'<code class="api-key">([^<]+)</code>', response.text)[1]
    (created,) = audit(db)
    assert (created.what, created.after) == ("open311_key", {"live": True})
    assert "City CRM" in admin.get("/staff/portal/audit").text
    assert undo(admin, created.id).status_code == 303  # undoing a creation revokes
    with db.session() as s:
        north = s.scalars(select(Tenant).where(Tenant.slug == "northside")).one()
        assert api_keys.verify(s, north, key) is None
        key_id = s.scalars(select(Open311Key.id)).one()
    assert undo(admin, audit(db)[-1].id).status_code == 303  # and back
    with db.session() as s:
        assert api_keys.verify(s, portal_row(db), key) is not None
    post(admin, f"/staff/open311/{key_id}/revoke", {}, "/staff/open311")
    assert audit(db)[-1].after == {"live": False}


def test_audit_rows_are_scoped_to_their_portal(db, admin):
    post(admin, "/staff/portal/origins", {"origins": "https://one.test"})
    with db.session() as s:
        river = s.scalars(select(Tenant).where(Tenant.slug == "riverside")).one()
        north = s.scalars(select(Tenant).where(Tenant.slug == "northside")).one()
        assert portal_audit.changes(s, river) == []
        assert len(portal_audit.changes(s, north)) == 1


def test_a_change_and_its_undo_move_the_portals_data_version(admin, db):
    """Every process's cached public pages are keyed by it: they drop with the change."""
    north = portal_row(db)

    def version() -> int:
        with db.session() as s:
            return data_version.current(s, north.id)

    start = version()
    post(admin, "/staff/portal/languages", {"languages": ["en"], "default_language": "en"})
    changed = version()
    assert changed > start
    undo(admin, audit(db)[-1].id)
    assert version() > changed
