"""A portal's logo, made safe: an SVG rebuilt from what a drawing needs, or a PNG wrapped in one.

A logo is served from the portal's own origin (`/logo.svg`), so an SVG with a script, an
event attribute or a `javascript:` link would run as the portal if opened directly. Rather
than look for what is dangerous, `clean_svg` keeps only what is known to draw: shapes,
paths, text, gradients, clips and masks, with their presentation attributes, and references
only within the file (`#id`). Everything else (scripts, `foreignObject`, animation that can
rewrite links, `<style>` sheets, external images and fonts) is dropped, and what was dropped
is said. A DOCTYPE or entity is refused outright (entity expansion).

A PNG is decoded within a pixel bound (a decompression bomb is refused), re-encoded (no
metadata kept), scaled to at most `MAX_HEIGHT` pixels high and wrapped in a small SVG, so
every logo is one stored text (`Tenant.logo_svg`) served one way.
"""

from __future__ import annotations

import base64
import io
import re
from xml.etree import ElementTree

from portal.core.errors import N_, ConfigError

MAX_BYTES = 200 * 1024
MAX_PIXELS = 4_000_000
MAX_HEIGHT = 256
SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
# The default namespace is given per serialisation (`_svg_text`), never registered: the
# registry is global, and the Atom feed registers its own default namespace in it.
ElementTree.register_namespace("xlink", XLINK_NS)

ELEMENTS = {
    "svg", "g", "path", "rect", "circle", "ellipse", "line", "polyline", "polygon", "text",
    "tspan", "title", "desc", "defs", "lineargradient", "radialgradient", "stop",
    "clippath", "mask", "use", "symbol", "image",
}
ATTRIBUTES = {
    "id", "class", "role", "viewbox", "width", "height", "x", "y", "x1", "y1", "x2", "y2",
    "cx", "cy", "r", "rx", "ry", "d", "points", "fill", "fill-opacity", "fill-rule",
    "stroke", "stroke-width", "stroke-opacity", "stroke-linecap", "stroke-linejoin",
    "stroke-dasharray", "stroke-miterlimit", "opacity", "transform", "offset",
    "stop-color", "stop-opacity", "gradientunits", "gradienttransform", "clip-path",
    "clip-rule", "mask", "font-family", "font-size", "font-weight", "text-anchor",
    "dominant-baseline", "preserveaspectratio", "aria-label", "aria-hidden", "lang",
    "aria-labelledby", "aria-describedby",
    "xml:space", "version", "href", "fx", "fy", "spreadmethod", "letter-spacing",
}
URL = re.compile(r"url\(\s*([^)]*)\)", re.IGNORECASE)


def clean_svg(data: bytes, where: str = "logo") -> tuple[str, list[str]]:
    """The SVG rebuilt from its drawing parts, and what was dropped (element/attribute names).

    Raises ConfigError for what is not an SVG at all, too large, or declares entities."""
    if len(data) > MAX_BYTES:
        raise ConfigError(N_("the logo is %(size)s KB; at most %(limit)s KB"), where=where,
                          size=len(data) // 1024, limit=MAX_BYTES // 1024)
    if b"<!DOCTYPE" in data.upper() or b"<!ENTITY" in data.upper():
        raise ConfigError(N_("an SVG logo with a DOCTYPE or entities is not accepted"),
                          where=where)
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        raise ConfigError(N_("the logo is not a valid SVG (%(problem)s)"), where=where,
                          problem=str(exc)) from None
    if _local(root.tag) != "svg":
        raise ConfigError(N_("the logo is not a valid SVG (%(problem)s)"), where=where,
                          problem="the root element is not <svg>")
    dropped: list[str] = []
    _clean(root, dropped)
    return _svg_text(root), sorted(set(dropped))


def _svg_text(root: ElementTree.Element) -> str:
    """`<svg xmlns="…">` with plain element names, whatever else registered a default
    namespace (ElementTree's registry is global: without this, `ns0:` prefixes)."""
    prefix = f"{{{SVG_NS}}}"
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.startswith(prefix):
            element.tag = element.tag[len(prefix):]
    root.set("xmlns", SVG_NS)
    return ElementTree.tostring(root, encoding="unicode")


def _local(name: str) -> str:
    return name.rpartition("}")[2].lower() if isinstance(name, str) else ""


def _clean(element: ElementTree.Element, dropped: list[str]) -> None:
    for child in list(element):
        if _local(child.tag) not in ELEMENTS:
            dropped.append(f"<{_local(child.tag) or 'comment'}>")
            element.remove(child)
            continue
        _clean(child, dropped)
    for name, value in list(element.attrib.items()):
        local = _local(name) if name.startswith("{") else name.lower()
        if name == f"{{{XLINK_NS}}}href":
            local = "href"
        if local not in ATTRIBUTES or not _safe_value(_local(element.tag), local, value):
            dropped.append(local)
            del element.attrib[name]


def _safe_value(tag: str, name: str, value: str) -> bool:
    if name == "href":
        if tag == "image":  # a raster only as inline PNG, as `png_logo` writes it
            return value.strip().startswith("data:image/png;base64,")
        return value.strip().startswith("#")  # only within the file
    return all(ref.strip(" '\"").startswith("#") for ref in URL.findall(value)) \
        and "javascript:" not in value.lower()


def png_logo(data: bytes, where: str = "logo") -> str:
    """A PNG (or JPEG) decoded safely, re-encoded and wrapped in an SVG of its size."""
    from PIL import Image

    if len(data) > MAX_BYTES * 10:
        raise ConfigError(N_("the logo is %(size)s KB; at most %(limit)s KB"), where=where,
                          size=len(data) // 1024, limit=MAX_BYTES * 10 // 1024)
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in ("PNG", "JPEG"):
                raise ConfigError(N_("a logo is an SVG, PNG or JPEG image"), where=where)
            if probe.width * probe.height > MAX_PIXELS:
                raise ConfigError(N_("the logo is %(width)s × %(height)s pixels; at most "
                                     "%(limit)s million pixels are decoded"), where=where,
                                  width=probe.width, height=probe.height,
                                  limit=MAX_PIXELS // 1_000_000)
            image = probe.convert("RGBA")
    except ConfigError:
        raise
    except Exception:  # noqa: BLE001 - Pillow raises many kinds for a broken file
        raise ConfigError(N_("a logo is an SVG, PNG or JPEG image"), where=where) from None
    if image.height > MAX_HEIGHT:
        image = image.resize((max(1, round(image.width * MAX_HEIGHT / image.height)),
                              MAX_HEIGHT))
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    encoded = base64.b64encode(out.getvalue()).decode("ascii")
    wrapper = (f'<svg xmlns="{SVG_NS}" role="img" width="{image.width}" '
               f'height="{image.height}" viewBox="0 0 {image.width} {image.height}">'
               f'<image width="{image.width}" height="{image.height}" '
               f'href="data:image/png;base64,{encoded}"/></svg>')
    if len(wrapper) > MAX_BYTES:
        raise ConfigError(N_("the logo is %(size)s KB; at most %(limit)s KB"), where=where,
                          size=len(wrapper) // 1024, limit=MAX_BYTES // 1024)
    # Written as `clean_svg` writes, so the stored text passes it unchanged when loaded back.
    return _svg_text(ElementTree.fromstring(wrapper))


def logo_from_upload(name: str, data: bytes) -> tuple[str, list[str]]:
    """An uploaded logo by its name's ending: the stored SVG text and what was dropped."""
    if name.lower().endswith(".svg"):
        return clean_svg(data, name)
    return png_logo(data, name), []
