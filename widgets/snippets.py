"""The snippet generator: what a host site pastes to embed a widget, as pure functions.

`parse_options` turns form or command-line values into `WidgetOptions` (bad values become
messages, never exceptions). `build_snippet` writes, for one widget:

- the one-line loader tag plus the widget element. The element holds the widget's own
  `<iframe>`, whose `width`/`height` attributes reserve its space before any script or
  stylesheet runs (HTML attributes, not CSS: a host page whose Content-Security-Policy forbids
  our stylesheet and inline styles still gets no layout shift, and the frame works without
  JavaScript); the loader then enhances it (auto-height, messages). Its hidden link is what
  the loader shows instead if the portal refuses to be framed there,
- the same loader pinned to a versioned file with its Subresource Integrity hash,
- a plain `<iframe>` for CMSes that strip scripts,
- the plain link, and the Content-Security-Policy lines the host page needs.

Titles are translated with the active locale (`portal.i18n.use_locale`); the widget pages use
the same messages for their `<title>`, so the iframe's title does not change when it loads.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from html import escape
from urllib.parse import urlencode

from portal.core.errors import N_, Message
from portal.core.i18n import gettext as _
from portal.models import STATUSES
from portal.reports.area_stats import parse_period

from .loader import LoaderBuild

KINDS = ("map", "report", "announcements", "stats", "issue")
# The kinds whose snippet needs no choice made first (an issue card needs its issue): what a
# new portal's page offers at once.
WHOLE_PORTAL_KINDS = ("map", "report", "announcements", "stats")
# Each kind's reserved height: the one table the element, its frame and the plain frame read
# (the loader, widgets/embed.js, keeps the same defaults as `H` for elements without a frame).
DEFAULT_HEIGHTS = {"map": 480, "report": 640, "announcements": 360, "stats": 360, "issue": 360}
MIN_HEIGHT, MAX_HEIGHT = 120, 3000  # the loader clamps to the same range
PORTAL_PAGES = {"map": "/", "report": "/report", "announcements": "/", "stats": "/dashboard",
                "issue": "/issues/{issue}"}
# Which options each kind takes beyond the language and height (the others are dropped).
_VIEW = ("center", "zoom", "status", "type")
KIND_OPTIONS = {"map": _VIEW, "report": _VIEW, "announcements": _VIEW,
                "stats": ("area", "period"), "issue": ("issue",)}
AREA_KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")


@dataclass(frozen=True)
class WidgetOptions:
    """One widget on a host page. Everything but `tenant` and `kind` is optional."""

    tenant: str
    kind: str = "map"
    lang: str = ""
    height: int | None = None
    center: tuple[float, float] | None = None
    zoom: int | None = None
    statuses: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    area: str = ""  # stats: a named area's key
    period: str = ""  # stats: "30d", "90d", "365d", a year, or "from..to"
    issue: int | None = None  # issue: its number

    def params(self) -> list[tuple[str, str]]:
        """Options as the widget page's query string (the loader forwards data-* the same way)."""
        items: list[tuple[str, str]] = []
        if self.lang:
            items.append(("lang", self.lang))
        if self.center:
            items.append(("center", f"{self.center[0]:g},{self.center[1]:g}"))
        if self.zoom is not None:
            items.append(("zoom", str(self.zoom)))
        if self.statuses:
            items.append(("status", ",".join(self.statuses)))
        if self.types:
            items.append(("type", ",".join(self.types)))
        items += [(name, str(getattr(self, name))) for name in ("area", "period", "issue")
                  if getattr(self, name)]
        return items

    @property
    def reserved_height(self) -> int:
        return self.height or DEFAULT_HEIGHTS[self.kind]


@dataclass
class Snippet:
    """Everything the staff page and the CLI show for one widget."""

    loader: str
    element: str
    pinned_loader: str
    iframe: str
    link: str
    csp: list[str] = field(default_factory=list)

    @property
    def full(self) -> str:
        return f"{self.loader}\n{self.element}"

    @property
    def pinned(self) -> str:
        return f"{self.pinned_loader}\n{self.element}"


def title(kind: str, portal_name: str) -> str:
    """The widget's accessible title in the active language (also its page <title>)."""
    if kind == "report":
        return _("Report a problem to %(portal)s", portal=portal_name)
    if kind == "announcements":
        return _("Announcements from %(portal)s", portal=portal_name)
    if kind == "stats":
        return _("Figures from %(portal)s", portal=portal_name)
    if kind == "issue":
        return _("An issue reported on %(portal)s", portal=portal_name)
    return _("Issue map of %(portal)s", portal=portal_name)


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None


def _split(values: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(p.strip() for v in values for p in v.split(",") if p.strip()))


def parse_options(tenant: str, values: Mapping[str, object],
                  languages: list[str]) -> tuple[WidgetOptions, dict[str, Message]]:
    """Options from a form or the command line; `values` may hold lists (status, type)."""

    def one(name: str) -> str:
        value = values.get(name)
        if isinstance(value, list | tuple):
            value = value[0] if value else ""
        return str(value or "").strip()

    def many(name: str) -> list[str]:
        value = values.get(name) or []
        return [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]

    errors: dict[str, Message] = {}
    kind = one("kind") or "map"
    if kind not in KINDS:
        errors["kind"] = Message(N_("Choose a map, a report form, announcements, a stats "
                                    "card or an issue card."))
        kind = "map"
    lang = one("lang")
    if lang and lang not in languages:
        errors["lang"] = Message(N_("This portal does not offer that language."))
        lang = ""
    height = None
    if raw := one("height"):
        number = _number(raw)
        if number is None or not MIN_HEIGHT <= number <= MAX_HEIGHT:
            errors["height"] = Message(N_("Give a height between %(min)s and %(max)s pixels."),
                                       {"min": MIN_HEIGHT, "max": MAX_HEIGHT})
        else:
            height = int(number)
    center = None
    if raw := one("center"):
        parts = [_number(p) for p in raw.split(",")]
        if len(parts) != 2 or None in parts or not (
            -90 <= parts[0] <= 90 and -180 <= parts[1] <= 180  # type: ignore[operator]
        ):
            errors["center"] = Message(N_("Give the centre as latitude,longitude."))
        else:
            center = (parts[0], parts[1])
    zoom = None
    if raw := one("zoom"):
        number = _number(raw)
        if number is None or not 1 <= number <= 19:
            errors["zoom"] = Message(N_("Give a zoom level from 1 to 19."))
        else:
            zoom = int(number)
    statuses = _split(many("status"))
    if any(s not in STATUSES for s in statuses):
        errors["status"] = Message(N_("Unknown status."))
        statuses = tuple(s for s in statuses if s in STATUSES)
    types = _split(many("type"))[:20]
    area = one("area").lower()
    if area and not AREA_KEY.match(area):
        errors["area"] = Message(N_("Choose one of the portal's named areas."))
        area = ""
    period = one("period")
    if period and parse_period(period, date.today()) is None:
        errors["period"] = Message(N_("Give 30d, 90d, 365d, a year like 2024, or two dates "
                                      "like 2024-01-01..2024-06-30."))
        period = ""
    issue = None
    if raw := one("issue"):
        if not raw.isdigit() or not 0 < int(raw) < 2**31:
            errors["issue"] = Message(N_("Give the issue's number."))
        else:
            issue = int(raw)
    elif kind == "issue":
        errors["issue"] = Message(N_("Give the issue's number."))
    options = WidgetOptions(tenant, kind, lang, height, center, zoom, statuses, types, area,
                            period, issue)
    return _only_for_kind(options), errors


def _only_for_kind(options: WidgetOptions) -> WidgetOptions:
    """Drop the options this kind does not take (a map's centre on a stats card…)."""
    empty = WidgetOptions(options.tenant)
    keep = KIND_OPTIONS[options.kind]
    names = {"center": "center", "zoom": "zoom", "status": "statuses", "type": "types",
             "area": "area", "period": "period", "issue": "issue"}
    return replace(options, **{field_name: getattr(empty, field_name)
                               for option, field_name in names.items() if option not in keep})


def widget_url(origin: str, options: WidgetOptions) -> str:
    """The widget page itself (what the loader frames)."""
    query = urlencode(options.params())
    return f"{origin}/w/{options.tenant}/{options.kind}" + (f"?{query}" if query else "")


def portal_page_url(portal_url: str, options: WidgetOptions) -> str:
    """The full portal page a widget stands for (the no-JavaScript link)."""
    url = portal_url.rstrip("/") + PORTAL_PAGES[options.kind].format(issue=options.issue or "")
    return url + (f"?{urlencode({'lang': options.lang})}" if options.lang else "")


def loader_tag(origin: str) -> str:
    return f'<script async src="{escape(origin)}/embed.js"></script>'


def pinned_loader_tag(origin: str, build: LoaderBuild) -> str:
    return (f'<script async src="{escape(origin)}/embed/{build.versioned_name}" '
            f'integrity="{build.sri}" crossorigin="anonymous"></script>')


def _attrs(pairs: list[tuple[str, str]]) -> str:
    return "".join(f' {name}="{escape(value)}"' for name, value in pairs)


def element(options: WidgetOptions, origin: str, frame_title: str, link_href: str) -> str:
    """The widget element: its frame, sized by attributes, and the link for a refused frame."""
    pairs = [("data-reportal", options.kind), ("data-tenant", options.tenant)]
    pairs += [(f"data-{name}", value) for name, value in options.params()]
    pairs.append(("data-height", str(options.reserved_height)))
    return (f"<div{_attrs(pairs)}>{iframe(options, origin, frame_title)}"
            f"{link(link_href, frame_title, hidden=True)}</div>")


def link(href: str, text: str, hidden: bool = False) -> str:
    return f'<a href="{escape(href)}"{" hidden" if hidden else ""}>{escape(text)}</a>'


def iframe(options: WidgetOptions, origin: str, frame_title: str) -> str:
    """The frame as plain HTML: `width`, `height` and `frameborder` are attributes, which no
    Content-Security-Policy forbids, so its space is kept with no stylesheet at all."""
    pairs = [("src", widget_url(origin, options)), ("title", frame_title),
             ("width", "100%"), ("height", str(options.reserved_height)),
             ("frameborder", "0"), ("loading", "lazy")]
    if options.kind == "report":
        pairs.append(("allow", "geolocation"))
    return f"<iframe{_attrs(pairs)}></iframe>"


def csp_lines(origin: str) -> list[str]:
    """The host page's Content-Security-Policy needs exactly these (nothing inline)."""
    return [f"script-src {origin}", f"frame-src {origin}"]


def build_snippet(options: WidgetOptions, origin: str, portal_url: str, portal_name: str,
                  build: LoaderBuild) -> Snippet:
    """All the pieces for one widget. `origin` serves /embed.js and /w/…; `portal_url` is the
    portal's own address (its home page), used for the no-JavaScript link."""
    origin = origin.rstrip("/")
    text = title(options.kind, portal_name)
    href = portal_page_url(portal_url, options)
    return Snippet(
        loader=loader_tag(origin),
        element=element(options, origin, text, href),
        pinned_loader=pinned_loader_tag(origin, build),
        iframe=iframe(options, origin, text),
        link=link(href, text),
        csp=csp_lines(origin),
    )
