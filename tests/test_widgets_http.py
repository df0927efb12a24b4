"""Embeddable widgets over HTTP: the loader, the iframe pages, the report widget, the snippet
generator. The browser side (host pages on another origin) is in tests/browser."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from portal.core.errors import ConfigError
from portal.core.i18n import use_locale
from portal.core.settings import REPO_ROOT
from portal.models import Issue, Tenant
from portal.staff import announcements
from portal.tenancy import tenant_files, tenant_settings
from tests.conftest import client_for
from tests.factories import tenant as tenant_row
from tests.http_support import csrf, form_tokens
from widgets import loader, snippets

EMBED_ORIGIN = "http://127.0.0.2:8766"
KINDS = ("map", "report", "announcements")


@pytest.fixture
def dev(app, world):  # noqa: ANN001, ANN201
    """A browser on the generic development host, where widgets live at /w/{slug}/…"""
    return client_for(app, "127.0.0.1:8000")


def frame_ancestors(response) -> str:  # noqa: ANN001
    csp = response.headers["content-security-policy"]
    return re.search(r"frame-ancestors ([^;]*)", csp).group(1).strip()


def html_lang(html: str) -> tuple[str, str]:
    match = re.search(r'<html lang="([^"]+)" dir="([^"]+)"', html)
    return match.group(1), match.group(2)


# --- the loader ---------------------------------------------------------------------------

def test_loader_is_under_a_kilobyte_gzipped_cached_briefly_and_cross_origin(dev):
    build = loader.current()
    assert len(build.gzip) <= 1024, f"embed.js is {len(build.gzip)} B gzipped"
    response = dev.get("/embed.js", headers={"accept-encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert response.content == build.body  # decoded by the client
    assert response.headers["content-type"].startswith("text/javascript")
    assert "max-age=300" in response.headers["cache-control"]
    assert response.headers["cross-origin-resource-policy"] == "cross-origin"
    assert response.headers["access-control-allow-origin"] == "*"
    assert "cookie" not in response.headers.get("vary", "").lower()
    assert "set-cookie" not in response.headers
    again = dev.get("/embed.js", headers={"if-none-match": response.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


def test_loader_source_keeps_to_the_rules_of_a_strict_host_page():
    body = loader.current().body.decode()  # comments stripped
    for forbidden in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(",
                      "setAttribute", "cssText", "Function("):
        assert forbidden not in body
    assert "postMessage(m,o)" in body  # only ever to the portal's origin, never "*"
    assert body.count("w.Reportal=") == 1  # the one global


def test_versioned_loader_is_immutable_and_the_readme_publishes_its_sri(dev):
    build = loader.current()
    response = dev.get(f"/embed/{build.versioned_name}")
    assert response.status_code == 200 and response.content == build.body
    assert "immutable" in response.headers["cache-control"]
    assert response.headers["access-control-allow-origin"] == "*"  # SRI needs CORS
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert f"/embed/{build.versioned_name}" in readme, "README's pinned loader is stale"
    assert build.sri in readme, "README's SRI hash is stale: run python -m widgets.loader"
    for name in ("v1.000000000000.js", "v1.js", "..%2fREADME.md", "v2." + build.digest + ".js"):
        assert dev.get(f"/embed/{name}").status_code == 404


# --- the widget pages ---------------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_widget_pages_may_be_framed_only_by_the_portals_embed_origins(dev, kind):
    response = dev.get(f"/w/northside/{kind}")
    assert response.status_code == 200
    assert frame_ancestors(response) == f"'self' {EMBED_ORIGIN}"
    assert response.headers["cross-origin-resource-policy"] == "cross-origin"
    assert "x-frame-options" not in response.headers
    assert f'data-origins="{EMBED_ORIGIN}"' in response.text


def test_portal_pages_keep_frame_ancestors_self(dev):
    for path in ("/t/northside/", "/t/northside/report", "/t/northside/issues"):
        assert frame_ancestors(dev.get(path)) == "'self'"


@pytest.mark.parametrize("kind", KINDS)
def test_widget_title_is_the_snippets_title(dev, kind):
    html = dev.get(f"/w/northside/{kind}?lang=en").text
    with use_locale("en"):
        expected = snippets.title(kind, "Northside Portal")
    assert f"<title>{expected}</title>" in html


def test_unknown_portal_or_a_portal_on_another_portals_host_is_a_plain_404(app, world, dev):
    assert dev.get("/w/nowhere/map").status_code == 404
    assert dev.get("/w/northside/nothing").status_code == 404
    riverside_host = client_for(app, "riverside.example.test")
    response = riverside_host.get("/w/northside/map")
    assert response.status_code == 404 and "Northside" not in response.text


def test_widget_on_the_portals_own_host_links_without_a_prefix(app, world):
    html = client_for(app, "northside.example.test").get("/w/northside/map").text
    assert 'data-issues-url="/api/issues.geojson"' in html


@pytest.mark.parametrize("kind", KINDS)
def test_widget_speaks_the_language_asked_for_and_right_to_left(dev, kind):
    assert html_lang(dev.get(f"/w/northside/{kind}?lang=es").text) == ("es", "ltr")
    assert html_lang(dev.get(f"/w/riverside/{kind}?lang=ar").text) == ("ar", "rtl")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("lang", ["xx", "de", "../../etc/passwd", "es'\"><script>", "zh-Hant",
                                  "a" * 500, "%00", "", "ar"])
def test_a_bad_language_value_falls_back_never_an_error(dev, kind, lang):
    response = dev.get(f"/w/northside/{kind}", params={"lang": lang})
    assert response.status_code == 200
    assert html_lang(response.text) == ("en", "ltr")  # northside offers en, es
    assert "<script>" not in response.text.split("</title>")[0]


def test_widget_pages_set_no_cookie(dev):
    for kind in KINDS:
        response = dev.get(f"/w/northside/{kind}?lang=es")
        assert "set-cookie" not in response.headers, kind


def test_map_widget_passes_its_view_and_filters_to_the_map(dev):
    html = dev.get("/w/northside/map", params={
        "center": "2.1,1.2", "zoom": "15", "status": "open,closed", "type": "pothole"}).text
    assert 'data-center="2.1,1.2"' in html and 'data-zoom="15"' in html
    assert 'data-query="status=open&amp;status=closed&amp;type=pothole"' in html
    # Nonsense options are dropped, not an error page.
    bad = dev.get("/w/northside/map", params={"center": "north", "zoom": "99", "status": "x"})
    assert bad.status_code == 200 and "data-center" not in bad.text


def test_map_widget_links_open_on_the_portal_in_a_new_tab(dev):
    html = dev.get("/w/northside/map").text
    assert '<base target="_blank">' in html
    assert 'data-issues-url="/t/northside/api/issues.geojson"' in html


def test_announcements_widget_lists_current_announcements(dev, session):
    announcements.publish(session, title={"en": "Leaf collection starts"},
                          body_md={"en": "Bags **out** by Monday."},
                          tenant=tenant_row(session, "northside"))
    session.commit()
    html = dev.get("/w/northside/announcements").text
    assert "Leaf collection starts" in html and "<strong>out</strong>" in html


# --- the report widget --------------------------------------------------------------------

def _report_fields(tokens: dict[str, str], **extra: str) -> dict[str, str]:
    return {**tokens, "lat": "2.0", "lon": "1.0", "request_type": "city-works/pothole",
            "description": "Hole by the bakery", **extra}


def test_report_through_the_widget_files_one_issue_and_links_to_it(dev, session):
    tokens = form_tokens(dev, "/w/northside/report?lang=en")
    first = dev.post("/w/northside/report?lang=en", data=_report_fields(tokens))
    again = dev.post("/w/northside/report?lang=en", data=_report_fields(tokens))  # double click
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    issue = session.scalars(select(Issue)).one()
    assert issue.description == "Hole by the bakery"
    assert first.headers["location"] == f"/w/northside/report/sent/{issue.id}?lang=en"
    sent = dev.get(first.headers["location"])
    assert sent.status_code == 200
    assert frame_ancestors(sent) == f"'self' {EMBED_ORIGIN}"
    link = re.search(r'<a href="([^"]+)" target="_blank"[^>]*id="issue-link"', sent.text)
    assert link and link.group(1) == f"/t/northside/issues/{issue.id}"
    assert dev.get(link.group(1)).status_code == 200


def test_report_widget_works_with_no_cookie_at_all(dev, session):
    html = dev.get("/w/northside/report?lang=es").text
    assert not dev.cookies
    tokens = {"csrf_token": csrf(html),
              "submission_key": re.search(r'name="submission_key" value="([^"]+)"', html)[1]}
    response = dev.post("/w/northside/report?lang=es", data=_report_fields(tokens))
    assert response.status_code == 303 and "set-cookie" not in response.headers
    assert session.scalar(select(func.count()).select_from(Issue)) == 1
    sent = dev.get(response.headers["location"])
    assert "set-cookie" not in sent.headers and html_lang(sent.text)[0] == "es"


def test_report_widget_shows_errors_inside_the_widget(dev, session):
    tokens = form_tokens(dev, "/w/northside/report")
    response = dev.post("/w/northside/report", data=_report_fields(tokens, description=""))
    assert response.status_code == 400
    assert 'data-widget="report"' in response.text and 'id="description-error"' in response.text
    assert frame_ancestors(response) == f"'self' {EMBED_ORIGIN}"
    assert session.scalar(select(func.count()).select_from(Issue)) == 0


def test_report_widget_refuses_a_forged_form(dev, session):
    tokens = form_tokens(dev, "/w/northside/report")
    response = dev.post("/w/northside/report",
                        data=_report_fields({**tokens, "csrf_token": "forged"}))
    assert response.status_code == 400
    assert session.scalar(select(func.count()).select_from(Issue)) == 0


def test_report_widget_loads_no_map_until_asked(dev):
    html = dev.get("/w/northside/report").text
    assert "leaflet" not in html.split('id="show-map"')[0].lower()
    assert re.search(r'<script[^>]+leaflet', html) is None
    assert 'data-leaflet-js="/static/vendor/leaflet/leaflet.' in html


# --- who may embed: origins normalised when saved ------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("https://News.Example.ORG/metro/", "https://news.example.org"),
    ("http://127.0.0.2:8766/", "http://127.0.0.2:8766"),
    ("HTTPS://example.org:443", "https://example.org"),
    ("http://example.org:80/a?b#c", "http://example.org"),
    ("example.org", "https://example.org"),
    ("  https://example.org:8443  ", "https://example.org:8443"),
])
def test_embedding_origins_are_normalised(raw, expected):
    assert tenant_settings.normalise_origin(raw) == expected


@pytest.mark.parametrize("raw", ["ftp://example.org", "https://", "https://exa mple.org",
                                 "https://example.org:99999", "https://a;b.org",
                                 "javascript:alert(1)", "https://[::1]"])
def test_an_origin_that_cannot_go_into_a_csp_header_is_refused(raw):
    with pytest.raises(ConfigError):
        tenant_settings.normalise_origin(raw)


def test_messy_origins_in_a_portal_file_become_the_widgets_frame_ancestors(app, world, dev,
                                                                           session, tmp_path):
    folder = tmp_path / "tenants" / "portals" / "northside"
    data = (folder / "portal.json").read_text()
    (folder / "portal.json").write_text(data.replace(
        '["http://127.0.0.2:8766/"]',
        '["https://News.Example.org/metro/", "news.example.org", "http://localhost:3000/x"]'))
    tenant_files.load_portal(session, folder, REPO_ROOT / "themes")
    session.commit()
    assert tenant_row(session, "northside").embed_origins == [
        "http://localhost:3000", "https://news.example.org"]
    app.state.tenants.clear()
    response = dev.get("/w/northside/map")
    assert frame_ancestors(response) == "'self' http://localhost:3000 https://news.example.org"


# --- the snippet generator ----------------------------------------------------------------

def test_snippet_has_the_loader_the_element_a_link_an_iframe_and_the_csp_lines():
    options, errors = snippets.parse_options("northside", {
        "kind": "map", "lang": "es", "height": "500", "center": "2,1", "zoom": "14",
        "status": ["open", "closed"]}, ["en", "es"])
    assert errors == {}
    with use_locale("es"):
        s = snippets.build_snippet(options, "https://portal.example/", "https://portal.example/t/northside",
                                   "Portal Northside", loader.current())
    assert s.loader == '<script async src="https://portal.example/embed.js"></script>'
    assert s.element.startswith(
        '<div data-reportal="map" data-tenant="northside" data-lang="es" data-center="2,1" '
        'data-zoom="14" data-status="open,closed" data-height="500"><iframe ')
    # The frame is in the snippet, sized by attributes: its space is kept before any script
    # or stylesheet (a strict host CSP forbids ours and inline styles), and it works without
    # JavaScript. The link, hidden, is for the loader to show if the frame is refused.
    assert s.element.endswith(
        '<a href="https://portal.example/t/northside/?lang=es" hidden>'
        'Mapa de casos de Portal Northside</a></div>')
    assert s.iframe in s.element
    assert 'src="https://portal.example/w/northside/map?lang=es&amp;center=2%2C1' in s.iframe
    assert ' width="100%" height="500" frameborder="0" loading="lazy"' in s.iframe
    assert "allow=" not in s.iframe and "style=" not in s.full
    assert s.csp == ["script-src https://portal.example", "frame-src https://portal.example"]
    assert loader.current().sri in s.pinned and 'crossorigin="anonymous"' in s.pinned


def test_report_snippet_allows_geolocation_and_escapes_what_it_writes():
    options, _ = snippets.parse_options("northside", {"kind": "report"}, ["en"])
    s = snippets.build_snippet(options, "https://p.example", "https://p.example/t/northside",
                               'A "quoted" <b>portal</b>', loader.current())
    assert 'allow="geolocation"' in s.iframe
    assert "<b>" not in s.element and "&lt;b&gt;portal&lt;/b&gt;" in s.element
    assert 'title="Report a problem to A &quot;quoted&quot;' in s.iframe


def test_snippet_options_are_checked():
    _, errors = snippets.parse_options("northside", {
        "kind": "poll", "lang": "de", "height": "9000", "center": "95,1", "zoom": "30",
        "status": ["open", "lost"]}, ["en", "es"])
    assert set(errors) == {"kind", "lang", "height", "center", "zoom", "status"}


def test_cli_prints_the_snippet(settings, world, monkeypatch, capsys):
    from portal import cli

    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("PUBLIC_URL", "https://reportal.example")
    code = cli.main(["widgets", "snippet", "northside", "--kind", "report", "--lang", "es",
                     "--height", "700"])
    out = capsys.readouterr().out
    assert code == 0
    assert '<script async src="https://reportal.example/embed.js"></script>' in out
    assert 'data-reportal="report" data-tenant="northside" data-lang="es"' in out
    assert "script-src https://reportal.example\nframe-src https://reportal.example" in out
    assert 'allow="geolocation"' in out and "http://127.0.0.2:8766" in out


def test_cli_refuses_a_language_the_portal_does_not_offer(settings, world, monkeypatch,
                                                          capsys):
    from portal import cli

    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    assert cli.main(["widgets", "snippet", "northside", "--lang", "ko"]) == 1
    assert "en, es" in capsys.readouterr().err


def test_admin_token_opens_the_snippet_generator(app, world, settings, monkeypatch, capsys,
                                                 session):
    from portal import cli

    staff = client_for(app, "northside.example.test")
    page = staff.get("/staff/widgets")
    assert "portal tenants admin-token northside" in page.text  # no token yet
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    assert cli.main(["tenants", "admin-token", "northside"]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    stored = session.scalars(select(Tenant).where(Tenant.slug == "northside")).one()
    assert stored.admin_token_hash and token not in stored.admin_token_hash
    app.state.tenants.clear()

    page = staff.get("/staff/widgets")
    wrong = staff.post("/staff/widgets", data={"csrf_token": csrf(page.text), "token": "nope"})
    assert wrong.status_code == 400 and 'id="token-error"' in wrong.text
    right = staff.post("/staff/widgets", data={"csrf_token": csrf(page.text), "token": token})
    assert right.status_code == 303
    generator = staff.get("/staff/widgets?kind=announcements&lang=es&height=400")
    assert generator.status_code == 200
    html = generator.text
    assert "data-reportal=&#34;announcements&#34;" in html or \
        'data-reportal="announcements"' in html
    assert "script-src http://northside.example.test" in html
    assert ("&lt;script async src=&#34;http://northside.example.test/embed.js&#34;&gt;"
            "&lt;/script&gt;") in html  # the snippet to paste names the portal's own host
    assert '<script async src="/embed.js"></script>' in html  # the preview runs from here
    assert "frame-src 'self'" in generator.headers["content-security-policy"]  # live preview

    # A new token signs the old session out.
    assert cli.main(["tenants", "admin-token", "northside"]) == 0
    app.state.tenants.clear()
    assert 'name="token"' in staff.get("/staff/widgets").text


def test_every_released_loader_stays_servable_with_its_readme_sri(dev):
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    releases = sorted(loader.RELEASES.glob("embed.v1.*.js"))
    assert any(r.name == f"embed.{loader.current().versioned_name}" for r in releases), \
        "keep the published loader: python -m widgets.loader --release"
    for kept in releases:
        name = kept.name.removeprefix("embed.")
        response = dev.get(f"/embed/{name}")
        assert response.status_code == 200 and response.content == kept.read_bytes()
        assert loader.build_bytes(kept.read_bytes()).sri in readme, name


def test_a_signed_in_portal_admin_opens_the_generator_without_a_token(app, world, db):
    from tests.conftest import client_for
    from tests.staff_support import grant, sign_in

    grant(db, "admin@northside.test", "admin", portal="northside")
    grant(db, "mod@northside.test", "moderator", portal="northside")
    admin = client_for(app, "northside.reportal.test")
    sign_in(admin, db, "admin@northside.test")
    page = admin.get("/staff/widgets")
    assert page.status_code == 200 and "data-reportal" in page.text
    moderator = client_for(app, "northside.reportal.test")
    sign_in(moderator, db, "mod@northside.test")
    assert "data-reportal" not in moderator.get("/staff/widgets").text
