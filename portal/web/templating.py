"""Jinja2 set-up and the one `render` every page and widget goes through.

Templates inherit: `base.html` -> a theme's override (`themes/<name>/templates/`) -> the
page. The environment has Jinja's i18n extension wired to our gettext, Babel formatters as
filters, and `asset()` for hashed static URLs.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit
from weakref import WeakKeyDictionary

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PrefixLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from portal.core import i18n, time_text
from portal.core.localized import localized
from portal.reports import deadlines
from portal.tenancy.themes import stylesheet, template_dirs
from portal.web import formatting
from portal.web.bidi import bdi, ltr
from portal.web.csp import page_csp
from portal.web.image_size import size_attributes

PORTAL_TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
WIDGET_TEMPLATES = Path(__file__).resolve().parents[2] / "widgets" / "templates"


class Templates:
    """One Jinja environment per theme, built on first use."""

    def __init__(self, themes_dir: Path, manifest: dict[str, str],
                 auto_reload: bool = True) -> None:
        self.themes_dir = themes_dir
        self.manifest = manifest
        self.auto_reload = auto_reload
        self._envs: dict[str, Environment] = {}

    def env(self, theme: str) -> Environment:
        if theme not in self._envs:
            dirs = [*template_dirs(self.themes_dir, theme), PORTAL_TEMPLATES, WIDGET_TEMPLATES]
            env = Environment(
                # Re-reading templates on change is for development; in production each
                # render would stat every template it uses.
                auto_reload=self.auto_reload,
                # "portal/base.html" always names the original, so a theme's override of
                # base.html can extend it instead of copying it.
                loader=ChoiceLoader([*(FileSystemLoader(str(d)) for d in dirs), PrefixLoader(
                    {"portal": FileSystemLoader(str(PORTAL_TEMPLATES))})]),
                autoescape=select_autoescape(["html", "xml"]),
                extensions=["jinja2.ext.i18n"],
                trim_blocks=True,
                lstrip_blocks=True,
            )
            env.install_gettext_callables(  # type: ignore[attr-defined]
                lambda s: i18n.translations_for(i18n.current_locale()).gettext(s),
                lambda s, p, n: i18n.translations_for(i18n.current_locale()).ngettext(s, p, n),
                newstyle=True,
            )
            env.filters.update(
                date=formatting.date, datetime=formatting.datetime_, ago=formatting.ago,
                iso=formatting.iso, datetime_in=time_text.written,
                number=formatting.number, localized=self._localized,
                pager_query=pager_query, bdi=bdi, ltr=ltr,
            )
            env.globals.update(asset=self.asset, translate=i18n.translate, now=_now,
                               language_name=i18n.language_name, logo_size=size_attributes,
                               lateness=deadlines.issue_lateness,
                               next_due=deadlines.next_due)
            self._envs[theme] = env
        return self._envs[theme]

    @staticmethod
    def _localized(texts: dict | None, tenant=None) -> str:  # noqa: ANN001
        default = tenant.default_language if tenant is not None else "en"
        return localized(texts, i18n.current_locale(), default)

    def asset(self, name: str) -> str:
        return "/static/" + self.manifest.get(name, name)


def _now() -> datetime:
    return datetime.now(UTC)


def tile_origin(tile_url: str) -> str:
    parts = urlsplit(tile_url.replace("{s}", "a"))
    if not parts.scheme or not parts.netloc:
        return ""
    host = parts.netloc.replace("a.", "*.", 1) if "{s}" in tile_url else parts.netloc
    return f"{parts.scheme}://{host}"


def render(
    request: Request,
    template: str,
    context: dict | None = None,
    status_code: int = 200,
    frame_ancestors: str = "'self'",
) -> HTMLResponse:
    """Render a page for the request's tenant and locale, with its CSP."""
    tenant = request.state.tenant
    templates: Templates = request.app.state.templates
    locale = request.state.locale
    base_ctx = {
        "request": request,
        "tenant": tenant,
        "locale": locale,
        "html_lang": i18n.html_lang(locale),
        "dir": i18n.text_direction(locale),
        "url": lambda name, **params: url(request, name, **params),
        "lang_url": lambda code: lang_url(request, code),
        "portal_stylesheet": stylesheet(templates.themes_dir, tenant) if tenant else None,
    }
    html = templates.env(tenant.theme if tenant else "civic").get_template(template).render(
        {**base_ctx, **(context or {})}
    )
    csp = page_csp(tile_origin(tenant.tile_url) if tenant else "", frame_ancestors)
    headers = {"content-security-policy": csp, "content-language": i18n.html_lang(locale)}
    return HTMLResponse(html, status_code=status_code, headers=headers)


class _RoutePaths:
    """The paths of one app's named routes, built once per name and parameters."""

    LIMIT = 8192  # issue pages make one entry each: start again rather than grow forever

    def __init__(self, app: object) -> None:
        self.routes = {r.name: r for r in getattr(app, "routes", ()) if isinstance(r, Route)}
        self.paths: dict[tuple, str] = {}


_ROUTE_PATHS: WeakKeyDictionary[object, _RoutePaths] = WeakKeyDictionary()


def named_route_path(app: object, name: str, **params: object) -> str:
    """`app.url_path_for(name, **params)`, through the route of that name and a cache.

    Starlette walks the whole route list for each call, raising and catching `NoMatchFound`
    on every miss: a list page builds a few hundred links, and that walk was an eighth of its
    time. Routes are fixed once the app is built, so a name and its parameters always give
    the same path."""
    known = _ROUTE_PATHS.get(app)
    if known is None:
        known = _ROUTE_PATHS[app] = _RoutePaths(app)
    values = {k: str(v) for k, v in params.items()}
    key = (name, *sorted(values.items()))
    path = known.paths.get(key)
    if path is None:
        route = known.routes.get(name)
        # A mounted or unknown name: Starlette's own search, and its error.
        finder = route if route is not None else app
        path = str(finder.url_path_for(name, **values))
        if len(known.paths) >= known.LIMIT:
            known.paths.clear()
        known.paths[key] = path
    return path


def url(request: Request, name: str, **params: object) -> str:
    """Path (with the `/t/{slug}` prefix in local development) for a named route."""
    query = params.pop("_query", None)
    path = request.scope.get("root_path", "") + named_route_path(request.app, name, **params)
    if query:
        path += "?" + urlencode(query, doseq=True)
    return path


def pager_query(params, page: int, cursor_name: str = "", cursor: str = "") -> str:  # noqa: ANN001 - a QueryParams
    """The current query string with another page number (and the cursor that reaches it)."""
    items = [(k, v) for k, v in params.multi_items() if k not in ("page", "after", "before")]
    if cursor_name and cursor:
        items.append((cursor_name, cursor))
    items.append(("page", str(page)))
    return urlencode(items)


def lang_url(request: Request, code: str) -> str:
    """The current page in another language (the switcher keeps the page and its filters)."""
    items = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    items.append(("lang", code))
    return site_path(request.scope["path"]) + "?" + urlencode(items)


def site_path(path: str) -> str:
    """A request's (decoded) path as a link that stays on this site, whatever was asked for.

    Everything but a path's own characters is percent-encoded (a backslash, tab or newline
    could make a browser read `/\\evil` or `/<tab>/evil` as `//evil`), and leading slashes
    collapse to one, so `//evil.example` can never become a scheme-relative link.
    """
    return "/" + quote(path, safe="/:@!$&'()*+,;=~").lstrip("/")
