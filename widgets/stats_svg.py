"""The stats card as an SVG image: real text, a `<title>` and `<desc>`, colours from the theme.

Pure: the caller passes the texts already translated and formatted (`CardText`), so the image
needs no fonts of its own, no script and no stylesheet: presentation attributes only, which a
strict Content-Security-Policy allows and which an `<img>` or an inline `<svg>` both honour.
Statuses carry a shape as well as a colour (circle, diamond, check, square, like the map's
pins). Right-to-left languages mirror the layout. Kept under 10 KB whatever the period: the
sparkline has at most a point per week (or month) and its coordinates are rounded.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

WIDTH, HEIGHT = 400, 236
PAD = 14
SHAPES = {
    "open": '<circle cx="5" cy="-4" r="5"/>',
    "acknowledged": '<path d="M5-10 11-4 5 2-1-4z"/>',
    "closed": '<path d="M-1-4 1-6.5 4-3 9.5-10 11.5-8 4 1z"/>',
    "archived": '<rect x="0" y="-9" width="10" height="10" rx="1"/>',
}


@dataclass(frozen=True)
class CardText:
    """Everything the card says, in the reader's language."""

    title: str  # "East Rock · last 90 days" (also the SVG's <title>)
    desc: str  # one sentence with every figure (the SVG's <desc>)
    statuses: list[tuple[str, str, str]]  # (status, label, count)
    total: str  # "42 reports"
    median: str  # "Median time to fix: 4.5 days" (or "not enough data")
    slowest_heading: str
    slowest: list[str]  # "Streetlight out: 12 days"
    series_caption: str  # "Reports per week"
    series: list[int]
    source: str  # the portal's name


def estimated_width(text: str, size: float) -> float:
    """About how wide a line is drawn: CJK and Hangul take a full em, the rest about half."""
    return sum(1.0 if ord(c) >= 0x2E80 else 0.56 for c in text) * size


def _text(x: float, y: float, text: str, fill: str, size: int = 13, bold: bool = False,
          anchor: str = "start", room: float = WIDTH - 2 * PAD) -> str:
    weight = ' font-weight="700"' if bold else ""
    end = f' text-anchor="{anchor}"' if anchor != "start" else ""
    # A line longer than the card (a long name, a long translation) is drawn narrower to fit
    # rather than cut off at the edge.
    fit = (f' textLength="{room:g}" lengthAdjust="spacingAndGlyphs"'
           if estimated_width(text, size * (1.08 if bold else 1)) > room else "")
    return (f'<text x="{x:g}" y="{y:g}" font-size="{size}" fill="{fill}"{weight}{end}{fit}>'
            f"{escape(text)}</text>")


def _sparkline(values: list[int], left: float, top: float, width: float, height: float,
               rtl: bool) -> str:
    if not values:
        return ""
    peak = max(values) or 1
    step = width / max(len(values) - 1, 1)
    points = []
    for n, value in enumerate(values):
        x = left + (width - n * step if rtl else n * step)
        points.append(f"{x:.1f},{top + height - height * value / peak:.1f}")
    if len(points) == 1:
        points.append(points[0])
    return (f'<polyline points="{" ".join(points)}" fill="none" stroke="currentColor" '
            'stroke-width="2" stroke-linejoin="round"/>')


def stats_svg(text: CardText, tokens: dict[str, str], rtl: bool = False) -> str:
    """The card's SVG document (UTF-8 text)."""
    fg, muted = tokens.get("color-text", "#1b2330"), tokens.get("color-muted", "#56606e")
    bg, border = tokens.get("color-surface", "#f3f6fa"), tokens.get("color-border", "#c6cfda")
    font = tokens.get("font-family", "system-ui, sans-serif")
    start = WIDTH - PAD if rtl else PAD
    end = PAD if rtl else WIDTH - PAD
    sign = -1 if rtl else 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-labelledby="t d" '
        f'font-family={quoteattr(font)} direction="{"rtl" if rtl else "ltr"}">',
        f'<title id="t">{escape(text.title)}</title><desc id="d">{escape(text.desc)}</desc>',
        f'<rect x=".5" y=".5" width="{WIDTH - 1}" height="{HEIGHT - 1}" rx="6" fill="{bg}" '
        f'stroke="{border}"/>',
        _text(start, 24, text.title, fg, 15, bold=True),
        _text(start, 44, text.total, fg, 13),
    ]
    # One line of statuses: shape + label + count, each in its status colour's shape.
    x, y = start, 66
    words = [f"{label} {count}" for _status, label, count in text.statuses]
    widths = [estimated_width(w, 12) for w in words]
    squeeze = min(1.0, (WIDTH - 2 * PAD - 25 * len(words)) / max(sum(widths), 1))
    for (status, _label, _count), line, width in zip(text.statuses, words, widths, strict=True):
        colour = tokens.get(f"color-{status}", fg)
        shape_x = x - 10 if rtl else x
        parts.append(f'<g transform="translate({shape_x:g} {y})" fill="{colour}">'
                     f"{SHAPES.get(status, SHAPES['archived'])}</g>")
        parts.append(_text(x + sign * 15, y, line, fg, 12, room=width * squeeze))
        x += sign * (25 + width * squeeze)
    parts.append(_text(start, 90, text.median, fg, 13))
    parts.append(_text(start, 112, text.slowest_heading, muted, 12, bold=True))
    for n, line in enumerate(text.slowest[:3]):
        parts.append(_text(start, 129 + n * 16, line, fg, 12))
    parts.append(_text(start, 190, text.series_caption, muted, 11, room=WIDTH / 2 - PAD))
    parts.append(f'<g color="{tokens.get("color-primary", fg)}">'
                 f"{_sparkline(text.series, PAD, 196, WIDTH - 2 * PAD, 24, rtl)}</g>")
    parts.append(_text(end, 190, text.source, muted, 11, anchor="end", room=WIDTH / 2 - PAD))
    parts.append("</svg>")
    return "".join(parts)
