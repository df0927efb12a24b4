"""The small pieces behind issue 13's layout fixes, as plain functions and over HTTP: a logo's
size for its <img> (no shift when it arrives), direction isolation for values in translated
text, and a widget's frame-ancestors that names no partner to a refused site."""

from __future__ import annotations

import re

import pytest

from portal.web.bidi import bdi, ltr
from portal.web.image_size import size_attributes, svg_size
from tests.factories import tenant as tenant_row
from tests.test_widgets_http import EMBED_ORIGIN, dev, frame_ancestors  # noqa: F401


@pytest.mark.parametrize("svg, size", [
    ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 4" width="160" height="40">',
     (160, 40)),
    ("<svg viewBox='0 0 200 40'><title>x</title></svg>", (200, 40)),
    ('<svg width="120px" height="30px">', (120, 30)),
    ('<svg width="100%" height="40" viewBox="0,0,90,30">', (90, 30)),  # a percentage: the box
    ('<svg width="10em" height="2em">', None),
    ('<svg viewBox="0 0 0 40">', None),
    ("<p>no svg here</p>", None),
    ("", None),
])
def test_a_logo_gets_its_own_size_or_none(svg, size):
    assert svg_size(svg) == size


def test_the_size_is_written_as_img_attributes():
    assert size_attributes('<svg viewBox="0 0 160 40">') == ' width="160" height="40"'
    assert size_attributes("<svg>") == ""


def test_isolated_values_are_escaped_and_numbers_read_left_to_right():
    assert bdi("Main St <b>") == "<bdi>Main St &lt;b&gt;</bdi>"
    assert ltr("41.309, -72.921") == '<bdi dir="ltr">41.309, -72.921</bdi>'


def test_a_logo_portal_shows_its_name_once_and_reserves_the_logos_size(app, client, session):
    tenant_row(session, "northside").logo_svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 160 40"><text>Northside</text></svg>')
    session.commit()
    app.state.tenants.clear()
    header = client.get("/").text.split("</header>")[0]
    # The logo is the wordmark: the name is there once, for screen readers, not shown twice.
    assert re.search(r'class="brand-logo" src="/logo\.svg\?v=[0-9a-f]{12}" alt="" width="160" '
                     r'height="40"', header)
    assert header.count('class="brand-name') == 1
    assert 'class="brand-name visually-hidden"' in header
    # The Menu and language buttons are disclosures: they open without JavaScript.
    assert '<details class="menu site-menu">' in header
    assert '<details class="menu lang-menu">' in header


@pytest.mark.parametrize("referer, expected", [
    ("http://stranger.example/page.html", "'self'"),  # refused: partners not named
    (f"{EMBED_ORIGIN}/news/article.html", f"'self' {EMBED_ORIGIN}"),  # only the asking site
    ("", f"'self' {EMBED_ORIGIN}"),  # no referrer: the whole list (the trade-off)
    ("http://127.0.0.1:8000/w/northside/report", f"'self' {EMBED_ORIGIN}"),  # inside the frame
])
def test_a_widget_names_only_the_asking_site_in_frame_ancestors(dev, referer, expected):  # noqa: F811
    headers = {"referer": referer} if referer else {}
    response = dev.get("/w/northside/map", headers=headers)
    assert response.status_code == 200
    assert frame_ancestors(response) == expected
    assert "referer" in response.headers["vary"].lower()
