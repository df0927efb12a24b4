"""An SVG's intrinsic size as `width`/`height` attributes for its `<img>`.

Without them the browser learns the logo's width only when the file arrives, and the header
beside it moves (layout shift). The size comes from the root element's width and height, or
else its viewBox; a logo that states neither gets no attributes (the CSS height still holds).
"""

from __future__ import annotations

import re
from functools import lru_cache

from markupsafe import Markup

ROOT = re.compile(r"<svg\b[^>]*>", re.S)
LENGTH = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(?:px)?\s*$")


def _attr(tag: str, name: str) -> str:
    found = re.search(rf'\s{name}\s*=\s*["\']([^"\']*)["\']', tag)
    return found.group(1) if found else ""


@lru_cache(maxsize=64)
def svg_size(svg: str) -> tuple[int, int] | None:
    """(width, height) in CSS pixels, rounded, or None when the SVG does not say."""
    root = ROOT.search(svg or "")
    if not root:
        return None
    tag = root.group(0)
    width, height = LENGTH.match(_attr(tag, "width")), LENGTH.match(_attr(tag, "height"))
    if width and height:
        w, h = float(width.group(1)), float(height.group(1))
    else:
        box = _attr(tag, "viewBox").replace(",", " ").split()
        try:
            w, h = float(box[2]), float(box[3])
        except (IndexError, ValueError):
            return None
    if w <= 0 or h <= 0:
        return None
    return round(w), round(h)


def size_attributes(svg: str) -> Markup:
    """' width="160" height="40"' for the template, or nothing."""
    size = svg_size(svg)
    return Markup(' width="%d" height="%d"') % size if size else Markup("")
