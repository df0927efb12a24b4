"""A portal's own settings as its admins change them: branding, logo, languages, embedding
origins and the request types it offers; each change checked, audited and undoable.

Every setter validates everything first (a `ValidationError` naming each bad field, nothing
written), then writes the portal's row and records the change (`portal_audit.record`), in the
caller's transaction. Writing the `tenants` row moves the portal's data version
(`portal.tenancy.data_version`), so cached public pages of every process drop at once.

The checks are the loader's (`tenant_settings`, `themes`, `logos`): a portal set here dumps to
files that load back.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from portal.core import geo
from portal.core.errors import N_, ConfigError, Message, ValidationError
from portal.core.i18n import SUPPORTED
from portal.models import Body, PortalChange, Tenant
from portal.staff import portal_audit
from portal.tenancy import brand_colours, logos, tenant_settings, themes

# What each audited setting holds: the `tenants` columns it writes.
FIELDS: dict[str, tuple[str, ...]] = {
    "branding": ("theme", "tokens"),
    "logo": ("logo_svg",),
    "languages": ("languages", "default_language"),
    "embed_origins": ("embed_origins",),
    "request_types": ("request_type_keys",),
}
BRAND_TOKEN = "color-primary"
MAX_ORIGINS = 50


class ColourFails(ValidationError):
    """The brand colour fails WCAG AA; `shade` is the nearest that passes (None if none)."""

    def __init__(self, errors: dict[str, Message], shade: str | None) -> None:
        super().__init__(errors)
        self.shade = shade


def row(session: Session, tenant: Tenant) -> Tenant:
    """The portal's row in this session (the request's copy is detached and may be stale)."""
    found = session.get(Tenant, tenant.id)
    assert found is not None
    return found


def state(session: Session, tenant: Tenant, what: str) -> dict:
    current = row(session, tenant)
    return {name: copy.deepcopy(getattr(current, name)) for name in FIELDS[what]}


def _apply(session: Session, tenant: Tenant, values: dict) -> None:
    current = row(session, tenant)
    for name, value in values.items():
        setattr(current, name, copy.deepcopy(value))  # a new object: the ORM sees the change


def _change(session: Session, tenant: Tenant, user_id: int | None, what: str,
            values: dict) -> PortalChange | None:
    before = state(session, tenant, what)
    _apply(session, tenant, values)
    session.flush()
    return portal_audit.record(session, tenant, user_id, what, before,
                               state(session, tenant, what))


for _what in FIELDS:
    portal_audit.register(_what, portal_audit.Kind(
        read=lambda s, t, _subject, what=_what: state(s, t, what),
        apply=lambda s, t, _subject, values: _apply(s, t, values)))


# -- branding -----------------------------------------------------------------------------

def theme_names(themes_dir: Path) -> list[str]:
    return sorted(d.name for d in themes_dir.iterdir() if (d / "theme.json").is_file())


def brand_colour(tenant: Tenant, themes_dir: Path) -> str:
    """The colour the portal shows now: its own, else its theme's."""
    return tenant.tokens.get(BRAND_TOKEN) or themes.load_theme(
        themes_dir, tenant.theme)[BRAND_TOKEN]


def set_branding(session: Session, tenant: Tenant, user_id: int | None, themes_dir: Path,
                 theme: str, colour: str) -> PortalChange | None:
    """A theme and a brand colour ("" for the theme's own), checked for WCAG AA contrast."""
    colour = colour.strip().lower()
    if theme not in theme_names(themes_dir):
        raise ValidationError({"theme": Message(N_("Choose one of the themes offered."))})
    tokens = dict(row(session, tenant).tokens or {})
    tokens.pop(BRAND_TOKEN, None)
    if colour:
        if not themes.HEX.match(colour):
            raise ValidationError({"colour": Message(N_(
                "Write the colour as # and six hexadecimal digits, for example #1a5fb4."))})
        tokens[BRAND_TOKEN] = colour
    resolved = {**themes.load_theme(themes_dir, theme), **tokens}
    failing = brand_colours.failing_pairs(resolved, BRAND_TOKEN)
    if failing:
        fg, bg, ratio = failing[0]
        other = resolved[fg if bg == BRAND_TOKEN else bg]
        raise ColourFails({"colour": Message(N_(
            "Text in %(other)s on %(colour)s has a contrast of %(ratio)s:1, below the 4.5:1 "
            "that WCAG AA needs."), {"other": other, "colour": colour,
                                     "ratio": f"{ratio:.2f}"})},
            brand_colours.nearest_passing_shade(resolved, BRAND_TOKEN))
    try:
        themes.check_tokens(resolved, theme)
    except ConfigError as exc:  # another of the portal's own tokens fails with this theme
        raise ValidationError({"theme": exc.message}) from None
    return _change(session, tenant, user_id, "branding", {"theme": theme, "tokens": tokens})


def set_logo(session: Session, tenant: Tenant, user_id: int | None, filename: str,
             data: bytes | None) -> tuple[PortalChange | None, list[str]]:
    """An uploaded SVG, PNG or JPEG made safe (`logos`), or None to remove the logo; the
    change and what was dropped from the SVG."""
    if data is None:
        return _change(session, tenant, user_id, "logo", {"logo_svg": ""}), []
    if not filename:
        raise ValidationError({"logo": Message(N_("Choose a logo file to upload."))})
    if not data:
        raise ValidationError({"logo": Message(N_("The chosen file is empty."))})
    try:
        text, dropped = logos.logo_from_upload(filename, data)
    except ConfigError as exc:
        raise ValidationError({"logo": exc.message}) from None
    return _change(session, tenant, user_id, "logo", {"logo_svg": text}), dropped


# -- languages and origins ----------------------------------------------------------------

def set_languages(session: Session, tenant: Tenant, user_id: int | None,
                  languages: list[str], default: str) -> PortalChange | None:
    chosen = [lang for lang in SUPPORTED if lang in set(languages)]
    if len(chosen) != len(set(languages)):
        raise ValidationError({"languages": Message(N_("Choose languages from the list."))})
    if not chosen:
        raise ValidationError({"languages": Message(N_("Choose at least one language."))})
    if default not in chosen:
        raise ValidationError({"default_language": Message(N_(
            "The default language must be one of the languages chosen."))})
    return _change(session, tenant, user_id, "languages",
                   {"languages": chosen, "default_language": default})


def set_embed_origins(session: Session, tenant: Tenant, user_id: int | None,
                      text: str) -> PortalChange | None:
    """Origins one per line (or separated by spaces or commas), normalised and de-duplicated."""
    lines = [part for part in text.replace(",", " ").split() if part]
    if len(lines) > MAX_ORIGINS:
        raise ValidationError({"origins": Message(N_("At most %(max)s origins."),
                                                  {"max": MAX_ORIGINS})})
    origins, bad = [], []
    for line in lines:
        try:
            origins.append(tenant_settings.normalise_origin(line))
        except ConfigError:
            bad.append(line)
    if bad:
        raise ValidationError({"origins": Message(N_(
            "Not an origin: %(origins)s. Write each like https://example.org, with no path."),
            {"origins": ", ".join(bad[:5])})})
    return _change(session, tenant, user_id, "embed_origins",
                   {"embed_origins": sorted(set(origins))})


# -- request types ------------------------------------------------------------------------

@dataclass(frozen=True)
class TypeChoice:
    key: str  # `body/code`, as `Tenant.request_type_keys` lists them
    name: dict
    body: Body
    offered: bool


def type_choices(session: Session, tenant: Tenant) -> list[TypeChoice]:
    """Every active request type of the bodies covering the portal, and whether it is offered
    (`Tenant.offers`, the one rule)."""
    current = row(session, tenant)
    portal_area = geo.area(current.area_geojson)
    bodies = session.scalars(select(Body).where(
        Body.max_lon >= current.min_lon, Body.min_lon <= current.max_lon,
        Body.max_lat >= current.min_lat, Body.min_lat <= current.max_lat)
        .options(selectinload(Body.request_types)).order_by(Body.slug))
    choices = []
    for body in bodies:
        if geo.area(body.area_geojson).intersection(portal_area).area <= 0:
            continue  # sharing an edge is not covering
        choices += [TypeChoice(rt.key, dict(rt.name or {}), body, current.offers(rt))
                    for rt in sorted(body.request_types, key=lambda r: r.code) if rt.active]
    return choices


def set_request_types(session: Session, tenant: Tenant, user_id: int | None,
                      keys: list[str]) -> PortalChange | None:
    """Offer the chosen types (`body/code` keys). All of them is stored as "every type of the
    bodies covering the portal", so a type a body adds later is offered too."""
    available = [c.key for c in type_choices(session, tenant)]
    chosen = set(keys)
    if chosen - set(available):
        raise ValidationError({"request_types": Message(N_(
            "Choose request types from the list."))})
    if not chosen:
        raise ValidationError({"request_types": Message(N_(
            "Offer at least one request type, or nobody can report here."))})
    value = None if chosen == set(available) else [k for k in available if k in chosen]
    return _change(session, tenant, user_id, "request_types", {"request_type_keys": value})
