"""Logos are made safe on the way in (portal.tenancy.logos): no script survives in an SVG,
a PNG is decoded within bounds and wrapped, and a logo file with a script is refused."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from portal.core.errors import ConfigError
from portal.tenancy import logos, tenant_files

HOSTILE = b"""<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"
  viewBox="0 0 100 40" role="img" onload="alert(1)">
  <title>Rivera</title>
  <script>alert(document.cookie)</script>
  <style>@import url(https://evil.example/x.css);</style>
  <foreignObject><iframe xmlns="http://www.w3.org/1999/xhtml" src="https://evil.example"/>
  </foreignObject>
  <a xlink:href="javascript:alert(2)"><rect width="10" height="10"/></a>
  <circle cx="20" cy="20" r="17" fill="url(#g)" onclick="alert(3)"/>
  <rect width="5" height="5" fill="url(https://evil.example/p.svg#x)"/>
  <use xlink:href="https://evil.example/sprite.svg#icon"/>
  <use href="#g"/>
  <set attributeName="href" to="javascript:alert(4)"/>
  <image href="https://evil.example/track.png" width="1" height="1"/>
  <linearGradient id="g"><stop offset="0" stop-color="#6a1b9a"/></linearGradient>
</svg>"""


def test_an_svg_keeps_its_drawing_and_loses_every_script_and_outside_reference():
    text, dropped = logos.clean_svg(HOSTILE)
    lowered = text.lower()
    for bad in ("<script", "onload", "onclick", "javascript:", "evil.example", "<style",
                "foreignobject", "<iframe", "<set", "<a "):
        assert bad not in lowered, bad
    assert "<title>Rivera</title>" in text and 'fill="url(#g)"' in text
    assert 'href="#g"' in text and "lineargradient" in lowered and 'role="img"' in text
    assert {"<script>", "<style>", "<foreignobject>", "<a>", "<set>", "onload", "onclick",
            "href", "fill"} <= set(dropped)
    again, nothing = logos.clean_svg(text.encode())
    assert nothing == [] and again == text  # what we store passes unchanged


def test_svg_entities_oversize_and_non_svg_are_refused():
    with pytest.raises(ConfigError, match="DOCTYPE or entities"):
        logos.clean_svg(b'<!DOCTYPE svg [<!ENTITY a "x">]><svg xmlns="http://www.w3.org/2000/'
                        b'svg">&a;</svg>')
    with pytest.raises(ConfigError, match="at most 200 KB"):
        logos.clean_svg(b"<svg>" + b" " * logos.MAX_BYTES + b"</svg>")
    with pytest.raises(ConfigError, match="not a valid SVG"):
        logos.clean_svg(b"<html><script>alert(1)</script></html>")
    with pytest.raises(ConfigError, match="not a valid SVG"):
        logos.clean_svg(b"<svg")


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), "#6a1b9a").save(out, "PNG")
    return out.getvalue()


def test_a_png_is_scaled_wrapped_in_svg_and_a_pixel_bomb_refused():
    text, dropped = logos.logo_from_upload("logo.png", png(1024, 512))
    assert dropped == [] and text.startswith("<svg") and 'height="256"' in text
    assert 'width="512"' in text and "data:image/png;base64," in text
    assert logos.clean_svg(text.encode()) == (text, [])  # a dump loads back
    with pytest.raises(ConfigError, match="at most 4 million pixels"):
        logos.png_logo(png(4000, 2000))
    with pytest.raises(ConfigError, match="SVG, PNG or JPEG"):
        logos.png_logo(b"GIF89a not really")


def test_a_portal_file_whose_logo_has_a_script_is_refused_naming_it(session, settings,
                                                                     tmp_path):
    folder = tmp_path / "portals" / "p"
    folder.mkdir(parents=True)
    (folder / "portal.json").write_text(json.dumps({"name": {"en": "P"}}))
    (folder / "area.geojson").write_text(json.dumps(
        {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}))
    (folder / "logo.svg").write_bytes(HOSTILE)
    with pytest.raises(ConfigError) as refused:
        tenant_files.load_portal(session, folder, settings.themes_dir)
    assert str(folder / "logo.svg") in refused.value.where
    assert "<script>" in str(refused.value) and "onload" in str(refused.value)
    clean, _ = logos.clean_svg(HOSTILE)
    (folder / "logo.svg").write_text(clean)
    assert tenant_files.load_portal(session, folder, settings.themes_dir).logo_svg == clean
