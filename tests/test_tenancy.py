"""A request's portal comes from its Host, `{slug}.{base domain}`, or `/t/{slug}/`."""

from __future__ import annotations

from tests.conftest import client_for


def test_custom_host_subdomain_and_path_prefix_all_find_the_portal(app, world):
    for host, path in (("northside.example.test", "/"), ("northside.reportal.test", "/"),
                       ("127.0.0.1:8000", "/t/northside/")):
        r = client_for(app, host).get(path)
        assert r.status_code == 200, host
        assert "Northside Portal" in r.text


def test_path_prefix_is_kept_in_every_link(app, world):
    html = client_for(app, "127.0.0.1:8000").get("/t/northside/").text
    assert 'href="/t/northside/report"' in html and 'href="/t/northside/issues"' in html


def test_prefix_without_slash_redirects(app, world):
    r = client_for(app, "127.0.0.1:8000").get("/t/northside")
    assert r.status_code == 308 and r.headers["location"] == "/t/northside/"


def test_host_is_matched_case_insensitively(app, world):
    assert client_for(app, "NorthSide.Example.Test").get("/").status_code == 200


def test_unknown_host_is_a_plain_404_revealing_nothing(app, world):
    for host, path in (("evil.example", "/"), ("nobody.reportal.test", "/"),
                       ("127.0.0.1:8000", "/t/nobody/"), ("127.0.0.1:8000", "/")):
        r = client_for(app, host).get(path)
        assert r.status_code == 404
        assert r.text == "Not Found"


def test_static_files_need_no_portal(app, world):
    manifest = app.state.templates.manifest
    r = client_for(app, "anything.example").get("/static/" + manifest["css/portal.css"])
    assert r.status_code == 200
