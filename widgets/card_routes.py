"""The newsroom's embeds: a stats card (`/w/{tenant}/stats`, its image `/stats.svg`) and an
issue card (`/w/{tenant}/issue?issue=ID`), framed by the same loader as the other widgets.

Options come in the query string, as the loader forwards an element's `data-*`: `area` (a
named area's key, see `portal.reports.area_stats`; none: the whole portal), `period` ("30d",
"90d", "365d", a year, or "2024-01-01..2024-06-30"), `lang`, and `issue` for the issue card.
A value the card cannot use is a plain 404 (the host page shows the element's link instead),
and an issue that does not show on this portal is the same 404 as one that does not exist.

Each answer is cacheable: its ETag is made from what it depends on (portal, data version,
its named areas' version, options, language, theme tokens, the day for a rolling period, and
the frame-ancestors the asking site gets), so a revalidation costs two small indexed reads and
answers 304; rendered bodies are kept per process under the same key (bounded, least
recently used first out).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.core.errors import N_, NotFound
from portal.core.i18n import gettext as _
from portal.core.i18n import ngettext, text_direction
from portal.core.localized import localized
from portal.middleware.page_cache import Page, PageCache
from portal.models import STATUSES, utcnow
from portal.reports import area_stats, deadlines, status
from portal.tenancy import data_version, themes
from portal.tenancy.scoping import get_public_issue
from portal.web import figures_text as ft
from portal.web.request_context import tenant
from portal.web.templating import render

from .routes import _ancestors, _widget_response
from .stats_svg import CardText, stats_svg

MAX_AGE = 300
CARDS = PageCache(8 * 1024 * 1024)
SVG_CSP = "default-src 'none'; img-src 'self'; frame-ancestors 'none'"


def _status_label(code: str) -> str:
    return {"open": _("Open"), "acknowledged": _("Acknowledged"),
            "closed": _("Closed (fixed)")}.get(code, _("Archived"))


def _cached(request: Request, kind: str, options: tuple,
            build: Callable[[], tuple[bytes, str, dict[str, str]]]) -> Response:
    """The answer for this key from the cache, a 304, or `build()` (body, type, headers)."""
    portal = tenant(request)
    ancestors = _ancestors(request)
    settings = request.app.state.settings
    look = themes.stylesheet(settings.themes_dir, portal).version  # the tokens, as a digest
    with request.app.state.db.session() as session:
        version = data_version.current(session, portal.id)
        areas = area_stats.areas_version(session, portal)
    key = (portal.id, version, areas, kind, options, request.state.locale, look, ancestors)
    etag = '"' + hashlib.sha256(repr(key).encode()).hexdigest()[:24] + '"'
    headers = {"etag": etag, "cache-control": f"public, max-age={MAX_AGE}",
               "vary": "Accept-Language, Referer",
               "cross-origin-resource-policy": "cross-origin"}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    page = CARDS.get(key)
    if page is None:
        body, media_type, extra = build()
        page = Page(200, [(b"content-type", media_type.encode()),
                          *((k.encode(), v.encode()) for k, v in extra.items())], body)
        CARDS.put(key, page)
    response = Response(page.body, headers=headers)
    for name, value in page.headers:
        response.headers[name.decode()] = value.decode()
    return response


def _period(request: Request) -> area_stats.Period:
    period = area_stats.parse_period(request.query_params.get("period", ""), utcnow().date())
    if period is None:
        raise NotFound(N_("There is no such period."))
    return period


def _area(request: Request, session) -> area_stats.Area | None:  # noqa: ANN001
    key = request.query_params.get("area", "").strip()
    if not key:
        return None
    found = area_stats.find_area(session, tenant(request), request.state.locale, key)
    if found is None:
        raise NotFound(N_("There is no such area on this portal."))
    return found


def _card_text(request: Request, figures: area_stats.Card, place: str,
               period: area_stats.Period) -> CardText:
    portal = tenant(request)
    statuses = [(s, _status_label(s), ft.number(figures.by_status.get(s, 0)))
                for s in STATUSES if figures.by_status.get(s, 0) or s != "archived"]
    median = (_("Median time to fix: %(days)s", days=ft.days(figures.median_fix_days))
              if figures.median_fix_days is not None
              else _("Median time to fix: not enough data"))
    slowest = [_("%(type)s: %(days)s", type=d.label, days=ft.days(d.median_days))
               for d in figures.slowest]
    total = ngettext("%(count)s report", "%(count)s reports", figures.total,
                     count=ft.number(figures.total))
    title = _("%(place)s, %(period)s", place=place, period=ft.period_label(period))
    counts = ", ".join(f"{label} {count}" for _s, label, count in statuses)
    desc = ". ".join([total + ": " + counts, median,
                      *([_("Slowest to fix: %(types)s", types="; ".join(slowest))]
                        if slowest else [])])
    return CardText(
        title=title, desc=desc, statuses=statuses, total=total, median=median,
        slowest_heading=_("Slowest to fix") if slowest else _("Slowest to fix: not enough data"),
        slowest=slowest,
        series_caption=_("Reports per month") if figures.monthly else _("Reports per week"),
        series=[n for _d, n in figures.series],
        source=localized(portal.name, request.state.locale, portal.default_language))


def _figures(request: Request) -> tuple[area_stats.Card, str, area_stats.Period]:
    portal = tenant(request)
    period = _period(request)
    with request.app.state.db.session() as session:
        area = _area(request, session)
        figures = area_stats.card(session, portal, request.state.locale, period, area)
    place = area.label if area else localized(portal.area_name, request.state.locale,
                                              portal.default_language) or localized(
        portal.name, request.state.locale, portal.default_language)
    return figures, place, period


def _options(request: Request, *names: str) -> tuple:
    q = request.query_params
    today = utcnow().date() if q.get("period", "").endswith("d") or not q.get("period") \
        else date.min  # a rolling period moves with the day
    return (*(q.get(n, "") for n in names), today)


def _svg_of(request: Request) -> tuple[str, area_stats.Card, CardText]:
    figures, place, period = _figures(request)
    text = _card_text(request, figures, place, period)
    settings = request.app.state.settings
    portal = tenant(request)
    tokens = themes.stylesheet(settings.themes_dir, portal).tokens
    rtl = text_direction(request.state.locale) == "rtl"
    return stats_svg(text, tokens, rtl), figures, text


def stats_image(request: Request) -> Response:
    def build() -> tuple[bytes, str, dict[str, str]]:
        svg, _figures_, _text = _svg_of(request)
        return svg.encode(), "image/svg+xml; charset=utf-8", {
            "content-security-policy": SVG_CSP}

    return _cached(request, "stats.svg", _options(request, "area", "period"), build)


def stats_widget(request: Request) -> Response:
    def build() -> tuple[bytes, str, dict[str, str]]:
        svg, figures, text = _svg_of(request)
        page = _widget_response(render(request, "widget_stats.html", {
            "svg": svg, "figures": figures, "text": text, "ft": ft,
            "monthly": figures.monthly}, frame_ancestors=_ancestors(request)))
        return page.body, "text/html; charset=utf-8", {
            "content-security-policy": page.headers["content-security-policy"],
            "content-language": page.headers["content-language"]}

    return _cached(request, "stats", _options(request, "area", "period"), build)


def _issue_id(request: Request) -> int:
    raw = request.query_params.get("issue", "").strip()
    if not raw.isdigit():
        raise NotFound(N_("There is no such issue on this portal."))
    return int(raw)


def issue_widget(request: Request) -> Response:
    request.scope["frame_ancestors"] = _ancestors(request)  # the 404 page is framed too
    issue_id = _issue_id(request)
    with request.app.state.db.session() as session:
        found = get_public_issue(session, tenant(request), issue_id)  # NotFound reveals nothing
        # Time alone makes an issue overdue, with no data changing: the mark is in the key.
        late = deadlines.issue_lateness(found)

    def build() -> tuple[bytes, str, dict[str, str]]:
        with request.app.state.db.session() as session:
            issue = get_public_issue(session, tenant(request), issue_id)
            history = [u for u in status.public_history(issue) if u.kind != "created"]
            latest = history[-1] if history else None
            type_name = issue.request_type.name
            page = _widget_response(render(request, "widget_issue.html", {
                "issue": issue, "latest": latest, "type_name": type_name},
                frame_ancestors=_ancestors(request)))
        return page.body, "text/html; charset=utf-8", {
            "content-security-policy": page.headers["content-security-policy"],
            "content-language": page.headers["content-language"]}

    return _cached(request, "issue", (issue_id, late), build)


routes = [
    Route("/w/{tenant}/stats", stats_widget, name="widget_stats"),
    Route("/w/{tenant}/stats.svg", stats_image, name="widget_stats_svg"),
    Route("/w/{tenant}/issue", issue_widget, name="widget_issue"),
]
