"""A brand colour that fails WCAG AA, and the nearest shade of it that passes.

Operators bring the colour of a logo; text on it (or it on the page) must still read at
4.5:1 (`themes.TEXT_PAIRS`). Rather than refuse and leave them guessing, we offer the
nearest passing shade: the same hue and saturation, lightness moved as little as it takes
(up or down, whichever is closer) so that every pair the token is in passes.
"""

from __future__ import annotations

import colorsys

from portal.tenancy.themes import TEXT_PAIRS, contrast


def _hex(r: float, g: float, b: float) -> str:
    return "#" + "".join(f"{round(max(0.0, min(1.0, c)) * 255):02x}" for c in (r, g, b))


def failing_pairs(tokens: dict[str, str], token: str) -> list[tuple[str, str, float]]:
    """The text pairs `token` is in that fall below 4.5:1, with their ratio."""
    return [(fg, bg, contrast(tokens[fg], tokens[bg])) for fg, bg in TEXT_PAIRS
            if token in (fg, bg) and fg in tokens and bg in tokens
            and contrast(tokens[fg], tokens[bg]) < 4.5]


def nearest_passing_shade(tokens: dict[str, str], token: str) -> str | None:
    """The shade of `tokens[token]` closest in lightness with which every pair passes;
    the colour itself when it passes, None when no lightness of that hue does."""
    if not failing_pairs(tokens, token):
        return tokens[token]
    h = tokens[token].lstrip("#")
    if len(h) == 3:
        h = "".join(ch * 2 for ch in h)
    hue, light, sat = colorsys.rgb_to_hls(*(int(h[i:i + 2], 16) / 255 for i in (0, 2, 4)))
    for step in range(1, 201):  # half-percent steps of lightness, nearest first
        for lightness in (light - step / 200, light + step / 200):
            if not 0 <= lightness <= 1:
                continue
            shade = _hex(*colorsys.hls_to_rgb(hue, lightness, sat))
            if not failing_pairs({**tokens, token: shade}, token):
                return shade
    return None
