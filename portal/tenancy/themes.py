"""Themes: design tokens as data, checked for readable contrast.

A theme is `themes/<name>/theme.json` (tokens) plus optional `themes/<name>/templates/`
overrides. A tenant picks a theme and overrides a few tokens. Colour pairs that carry text
must reach WCAG AA (4.5:1); a definition that breaks one is refused with the failing pair.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from portal.core.errors import N_, ConfigError

if TYPE_CHECKING:
    from portal.models import Tenant

# Tokens every theme defines; CSS reads them as `--rp-<name>` custom properties.
TOKENS = (
    "color-bg", "color-surface", "color-text", "color-muted", "color-primary",
    "color-on-primary", "color-link", "color-border", "color-focus",
    "color-open", "color-acknowledged", "color-closed", "color-archived",
    "font-family", "font-size", "radius", "logo-height",
)
# (foreground, background) pairs that carry text and must reach 4.5:1.
TEXT_PAIRS = (
    ("color-text", "color-bg"),
    ("color-text", "color-surface"),
    ("color-muted", "color-bg"),
    ("color-muted", "color-surface"),
    ("color-link", "color-bg"),
    ("color-link", "color-surface"),
    ("color-on-primary", "color-primary"),
)
HEX = re.compile(r"^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
SAFE_VALUE = re.compile(r"^[\w\s#.,%()'\"-]{1,120}$")


def _channel(c: float) -> float:
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def luminance(hex_colour: str) -> float:
    h = hex_colour.lstrip("#")
    if len(h) == 3:
        h = "".join(ch * 2 for ch in h)
    r, g, b = (int(h[i : i + 2], 16) / 255 for i in (0, 2, 4))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def check_tokens(tokens: dict[str, str], where: str) -> None:
    """Raise ConfigError naming the first unsafe value or failing colour pair."""
    for name, value in tokens.items():
        if name not in TOKENS:
            raise ConfigError(N_("unknown design token %(token)r"), where=where, token=name)
        if name.startswith("color-") and not HEX.match(str(value)):
            raise ConfigError(N_("token %(token)r must be a #rrggbb colour, not %(value)r"),
                              where=where, token=name, value=value)
        if not SAFE_VALUE.match(str(value)):
            raise ConfigError(N_("token %(token)r has characters not allowed: %(value)r"),
                              where=where, token=name, value=value)
    for fg, bg in TEXT_PAIRS:
        if fg in tokens and bg in tokens:
            ratio = contrast(tokens[fg], tokens[bg])
            if ratio < 4.5:
                raise ConfigError(
                    N_("%(fg)s %(fg_value)s on %(bg)s %(bg_value)s has contrast %(ratio)s:1, "
                       "below the 4.5:1 that WCAG AA needs for text"),
                    where=where, fg=fg, fg_value=tokens[fg], bg=bg, bg_value=tokens[bg],
                    ratio=f"{ratio:.2f}",
                )


def load_theme(themes_dir: Path, name: str) -> dict[str, str]:
    path = themes_dir / name / "theme.json"
    if not path.is_file():
        raise ConfigError(N_("unknown theme %(theme)r (no %(path)s)"), theme=name, path=path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError(N_("not valid JSON (%(problem)s at line %(line)s)"), where=str(path),
                          problem=exc.msg, line=exc.lineno) from None
    tokens = data.get("tokens", {})
    missing = [t for t in TOKENS if t not in tokens]
    if missing:
        raise ConfigError(N_("theme %(theme)r lacks tokens: %(tokens)s"), theme=name,
                          tokens=", ".join(missing))
    check_tokens(tokens, f"theme '{name}'")
    return dict(tokens)


def resolved_tokens(themes_dir: Path, theme: str, overrides: dict[str, str]) -> dict[str, str]:
    """Theme tokens with a tenant's overrides applied, checked together."""
    tokens = {**load_theme(themes_dir, theme), **overrides}
    check_tokens(tokens, f"theme '{theme}' with tenant overrides")
    return tokens


def css_custom_properties(tokens: dict[str, str]) -> str:
    """`:root{--rp-…}` text for a tenant; values were validated on load."""
    body = ";".join(f"--rp-{k}:{v}" for k, v in sorted(tokens.items()))
    return f":root{{{body}}}"


def stylesheet(themes_dir: Path, portal: Tenant) -> Stylesheet:
    """The portal's tokens (its theme's, with its own overrides, checked), its `/theme.css`
    and their version, once per settings object: the widgets, the cards and the app manifest
    read them from here rather than resolving the theme again on every request.

    Pages link the stylesheet and the logo with their version in the URL, so a browser that
    kept the old ones (they are cached for minutes) asks again the moment a colour or the logo
    changes (`TenantCache` replaces the object on every process when a setting moves)."""
    found = _STYLESHEETS.get(portal)
    if found is None:
        tokens = resolved_tokens(themes_dir, portal.theme, portal.tokens)
        css = css_custom_properties(tokens)
        found = _STYLESHEETS[portal] = Stylesheet(tokens, css, _version(css),
                                                  _version(portal.logo_svg))
    return found


@dataclass(frozen=True)
class Stylesheet:
    tokens: dict[str, str]  # read, never changed: one copy serves every request
    css: str
    version: str
    logo_version: str


_STYLESHEETS: WeakKeyDictionary[Tenant, Stylesheet] = WeakKeyDictionary()


def _version(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def template_dirs(themes_dir: Path, theme: str) -> list[Path]:
    folder = themes_dir / theme / "templates"
    return [folder] if folder.is_dir() else []
