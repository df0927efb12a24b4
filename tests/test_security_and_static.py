"""Security headers on every page; static files hashed, compressed and immutable."""

from __future__ import annotations

from tests.conftest import client_for


def test_pages_carry_a_strict_csp_and_refuse_framing(client):
    r = client.get("/")
    csp = r.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp
    assert "frame-ancestors 'self'" in csp and "unsafe-inline" not in csp
    assert r.headers["x-content-type-options"] == "nosniff"


def test_user_text_is_escaped(client, db):
    from tests.factories import file_report

    with db.session() as s:
        issue = file_report(s, "northside", 1.5, 1.0, title="<script>alert(1)</script>",
                            description="<img src=x onerror=alert(1)>")
    html = client.get(f"/issues/{issue.id}").text
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in html


def test_static_files_are_hashed_immutable_and_precompressed(app, world):
    name = app.state.templates.manifest["js/map.js"]
    assert name != "js/map.js"
    client = client_for(app, "northside.reportal.test")
    r = client.get(f"/static/{name}", headers={"accept-encoding": "br"})
    assert r.status_code == 200
    assert "immutable" in r.headers["cache-control"]
    assert r.headers.get("content-encoding") == "br"
    assert r.headers["cross-origin-resource-policy"] == "cross-origin"


def test_leaflet_comes_from_the_package_not_a_cdn(client):
    html = client.get("/").text
    assert "/static/vendor/leaflet/leaflet." in html
    assert "unpkg" not in html and "cdn" not in html.lower()


def test_theme_tokens_are_served_as_css_custom_properties(client):
    r = client.get("/theme.css")
    assert r.headers["content-type"].startswith("text/css")
    assert "--rp-color-primary:#" in r.text


def test_a_theme_override_extends_the_base_template(app, db, settings):
    from portal.tenancy import tenant_files

    with db.session() as s:
        tenant_files.load_all(s, settings.tenants_dir, settings.themes_dir)
    html = client_for(app, "register.reportal.test").get("/").text
    assert "brand-masthead" in html and "Community desk" in html
    assert 'href="/report"' in html  # the rest of the page is the shipped base
    other = client_for(app, "new-haven.reportal.test").get("/").text
    assert "brand-masthead" not in other
