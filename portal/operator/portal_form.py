"""The create-portal form as data: what was typed, the area carried between posts, the preview.

The form works without JavaScript, so everything it needs survives a round trip in the page
itself: an uploaded layer is read once (the careful way, `portal.tenancy.boundaries`) and
carried on as GeoJSON in a hidden field, as is the sanitised logo; the map drawing writes its
polygon into another hidden field. Nothing is written anywhere until "Create portal".
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from shapely.geometry.base import BaseGeometry

from portal.core.errors import N_, ConfigError
from portal.core.i18n import SUPPORTED
from portal.tenancy import boundaries, portal_creation, themes
from portal.tenancy.brand_colours import nearest_passing_shade

KINDS = ("politician", "university", "newspaper", "city", "other")
# A field of the loader's `where` (".../portal.json hosts") -> the form field it is about.
FIELDS_BY_WHERE = (("hosts", "hosts"), ("embed_origins", "embed_origins"),
                   ("time_zone", "time_zone"), ("area_name", "area_name"), ("name", "name"),
                   ("slug", "slug"), ("kind", "kind"), ("color", "colour"),
                   ("languages", "languages"), ("default_language", "languages"),
                   ("theme", "theme"))
MAX_PROPERTY_VALUES = 500  # a checkbox list longer than this is a layer to split, not pick


def _lines(text: str) -> list[str]:
    return [part.strip() for part in text.replace(",", "\n").split() if part.strip()]


@dataclass
class Draft:
    """One posted (or empty) create-portal form."""

    slug: str = ""
    kind: str = "city"
    names: dict[str, str] = field(default_factory=dict)
    languages: list[str] = field(default_factory=lambda: ["en"])
    default_language: str = "en"
    hosts: str = ""
    theme: str = "civic"
    colour: str = ""
    allow_anonymous: bool = True
    embed_origins: str = ""
    time_zone: str = ""
    crs: str = ""
    swap_axes: bool = False
    layer_geojson: str = ""
    swapped_geojson: str = ""  # the upload read longitude first, offered when it looked swapped
    drawn_geojson: str = ""
    pick_property: str = ""
    picks: list[str] = field(default_factory=list)
    logo_svg: str = ""

    @classmethod
    def from_form(cls, form) -> Draft:  # noqa: ANN001 - a FormData
        def text(name: str) -> str:
            value = form.get(name, "")
            return value.strip() if isinstance(value, str) else ""

        languages = [lang for lang in form.getlist("languages") if lang in SUPPORTED] or ["en"]
        default = text("default_language")
        return cls(
            slug=text("slug").lower(), kind=text("kind") or "other",
            names={lang: text(f"name_{lang}") for lang in SUPPORTED if text(f"name_{lang}")},
            languages=languages,
            default_language=default if default in languages else languages[0],
            hosts=text("hosts"), theme=text("theme") or "civic",
            colour=text("use_colour") or text("colour"),
            allow_anonymous=form.get("allow_anonymous") == "yes",
            embed_origins=text("embed_origins"), time_zone=text("time_zone"), crs=text("crs"),
            swap_axes=form.get("swap_axes") == "yes",
            layer_geojson=text("swapped_geojson") if form.get("action") == "use_swapped"
            else text("layer_geojson"),
            drawn_geojson=text("drawn_geojson"), pick_property=text("pick_property"),
            picks=[str(v) for v in form.getlist("pick")], logo_svg=text("logo_svg"))

    def spec(self) -> portal_creation.PortalSpec:
        ordered = [self.default_language] + [x for x in self.languages
                                             if x != self.default_language]
        return portal_creation.PortalSpec(
            slug=self.slug, kind=self.kind,
            names={lang: self.names[lang] for lang in ordered if lang in self.names},
            languages=ordered, hosts=_lines(self.hosts), theme=self.theme,
            colour=self.colour, logo_svg=self.logo_svg, allow_anonymous=self.allow_anonymous,
            embed_origins=_lines(self.embed_origins), time_zone=self.time_zone)

    # --- the area -------------------------------------------------------------------

    def read_layer(self, upload_name: str, data: bytes | None) -> boundaries.Layer | None:
        """A new upload replaces the layer carried so far; else the carried one, else the
        drawing. None when there is no area yet."""
        if data is not None:
            try:
                layer = boundaries.read_layer(upload_name, data, crs=self.crs,
                                              swap_axes=self.swap_axes)
            except boundaries.SwappedAxes:
                try:
                    swapped = boundaries.read_layer(upload_name, data, crs=self.crs,
                                                    swap_axes=True)
                    self.swapped_geojson = layer_text(swapped)
                except ConfigError:
                    self.swapped_geojson = ""  # swapping does not help either: no offer
                raise
            self.layer_geojson = layer_text(layer)
            self.picks = []
            return layer
        if self.layer_geojson:
            return boundaries.read_layer("layer.geojson", self.layer_geojson.encode())
        if self.drawn_geojson:
            try:
                return boundaries.read_layer("drawing.geojson", self.drawn_geojson.encode())
            except ConfigError as exc:
                raise ConfigError(exc.message.msgid, where="drawing",
                                  **exc.message.params) from None
        return None

    def area(self, layer: boundaries.Layer) -> BaseGeometry:
        if self.picks and len(layer.features) > 1:
            layer = boundaries.pick(layer, self.picks, self.property_of(layer))
        return boundaries.merged(layer)

    def property_of(self, layer: boundaries.Layer) -> str:
        choices = property_names(layer)
        if self.pick_property in choices:
            return self.pick_property
        return next((p for p in ("name", "NAME", "Name") if p in choices),
                    choices[0] if choices else "name")


def layer_text(layer: boundaries.Layer) -> str:
    """A layer as a GeoJSON FeatureCollection (WGS 84, rounded), to carry in the form."""
    features = [{"type": "Feature", "properties": f.properties,
                 "geometry": json.loads(boundaries.geojson_text(f.geometry))}
                for f in layer.features]
    return json.dumps({"type": "FeatureCollection", "features": features},
                      separators=(",", ":"), default=str, ensure_ascii=False)


def property_names(layer: boundaries.Layer) -> list[str]:
    names: dict[str, None] = {}
    for feature in layer.features:
        for key, value in feature.properties.items():
            if isinstance(value, str | int | float) and not isinstance(value, bool):
                names.setdefault(str(key))
    return list(names)


def property_values(layer: boundaries.Layer, prop: str) -> list[str]:
    values = dict.fromkeys(str(f.properties.get(prop, "")) for f in layer.features)
    return [v for v in values if v][:MAX_PROPERTY_VALUES]


def field_of(exc: ConfigError) -> str:
    """Which form field a refusal is about ("form" when it names none)."""
    where = exc.where.rsplit("/", 1)[-1]
    for key, name in FIELDS_BY_WHERE:
        if where == key or where.endswith(f" {key}"):
            return name
    return "form"


# --- the preview -----------------------------------------------------------------------


@dataclass(frozen=True)
class Pair:
    fg: str
    bg: str
    fg_value: str
    bg_value: str
    ratio: float

    @property
    def passes(self) -> bool:
        return self.ratio >= 4.5


@dataclass
class Look:
    """The tokens the portal will have, every text pair's contrast, and a shade that fixes
    the brand colour when it fails."""

    tokens: dict[str, str]
    pairs: list[Pair]
    shade: str | None


def look(draft: Draft, themes_dir: Path) -> Look:
    portal_creation.check_theme_name(draft.theme)
    tokens = themes.load_theme(themes_dir, draft.theme)
    if draft.colour:
        if not themes.HEX.match(draft.colour):
            raise ConfigError(N_("a brand colour is #rrggbb, not %(value)r"), where="color",
                              value=draft.colour)
        tokens = {**tokens, "color-primary": draft.colour}
    pairs = [Pair(fg, bg, tokens[fg], tokens[bg], themes.contrast(tokens[fg], tokens[bg]))
             for fg, bg in themes.TEXT_PAIRS if fg in tokens and bg in tokens]
    failing = any(not p.passes and "color-primary" in (p.fg, p.bg) for p in pairs)
    shade = nearest_passing_shade(tokens, "color-primary") if failing else None
    return Look(tokens, pairs, shade)


def theme_names(themes_dir: Path) -> list[str]:
    return sorted(d.name for d in themes_dir.iterdir() if (d / "theme.json").is_file())

