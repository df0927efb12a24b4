"""`/operator`: platform operators list portals, create one from a form, make bodies from a layer.

Served on any portal's address (the tenant middleware needs one; sign-in sessions are per
portal), for operators only (`permissions.is_operator`): anyone else gets the staff area's
403, which names nothing. Handlers stay thin: the form is read into a `portal_form.Draft`,
the portal made by `portal_creation.create_portal`, the bodies by `bodies_from_layer` —
the same functions as `portal tenants new` and `portal bodies import`.
"""

from __future__ import annotations

import base64

from sqlalchemy import func, select
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portal.core.errors import N_, ConfigError, Message
from portal.core.i18n import SUPPORTED, gettext, language_name, text_direction, use_locale
from portal.core.localized import localized
from portal.models import Body, Role, Tenant
from portal.operator import portal_form
from portal.routes.guards import current_user, denied, permitted_form
from portal.staff import permissions
from portal.tenancy import boundaries, logos, portal_creation, tenant_checks, themes
from portal.tenancy.links import portal_base
from portal.web.request_context import csrf_token
from portal.web.templating import render, url
from widgets import loader
from widgets.snippets import WHOLE_PORTAL_KINDS, build_snippet, parse_options


def _may(user, _portal) -> bool:  # noqa: ANN001 - the shape permitted_form asks
    return permissions.is_operator(user)


def _operator(request: Request) -> bool:
    return permissions.is_operator(current_user(request))


async def _upload(form, name: str, limit: int) -> tuple[str, bytes | None]:  # noqa: ANN001
    """(file name, at most `limit` bytes) of an uploaded file, (name, None) if none came."""
    upload = form.get(name)
    if not isinstance(upload, UploadFile) or not upload.filename:
        return "", None
    return upload.filename, await upload.read(limit)


def home(request: Request) -> Response:
    if not _operator(request):
        return denied(request)
    with request.app.state.db.session() as session:
        portals = list(session.scalars(select(Tenant).order_by(Tenant.slug)))
        bodies = session.scalar(select(func.count()).select_from(Body))
        rows = [{"tenant": t, "hosts": [h.host for h in t.hosts]} for t in portals]
    return render(request, "operator/home.html", {"portals": rows, "bodies": bodies})


# --- a new portal ----------------------------------------------------------------------


def _form_page(request: Request, draft: portal_form.Draft, *, layer=None,  # noqa: ANN001
               errors: dict | None = None, notes: list | None = None, preview: bool = False,
               status_code: int = 200) -> Response:
    settings = request.app.state.settings
    context = {"draft": draft, "errors": errors or {}, "notes": notes or [],
               "csrf_token": csrf_token(request), "kinds": portal_form.KINDS,
               "languages": SUPPORTED, "themes": portal_form.theme_names(settings.themes_dir),
               "preview": None, "logo_data_url": ""}
    if draft.logo_svg:  # the page's CSP allows images from data: URLs, not inline SVG
        encoded = base64.b64encode(draft.logo_svg.encode()).decode("ascii")
        context["logo_data_url"] = f"data:image/svg+xml;base64,{encoded}"
    if layer is not None:
        prop = draft.property_of(layer)
        context.update(features=len(layer.features), properties=portal_form.property_names(layer),
                       pick_property=prop, values=portal_form.property_values(layer, prop))
        try:
            area = draft.area(layer)
            tolerance = boundaries.parse_tolerance(portal_creation.PortalSpec.simplify)
            outline = boundaries.simplified(area, tolerance)
            context["outline"] = outline
        except ConfigError as exc:
            context["errors"] = {**context["errors"], "area": exc.message}
    if preview:
        try:
            context["preview"] = portal_form.look(draft, settings.themes_dir)
        except ConfigError as exc:  # a colour that is no colour, a theme that is none
            context["errors"] = {portal_form.field_of(exc): exc.message, **context["errors"]}
        context["looks"] = [_look_in(draft, lang) for lang in draft.spec().languages]
    return render(request, "operator/new.html", context, status_code)


def _look_in(draft: portal_form.Draft, lang: str) -> dict:
    """The header and first words of the portal's home page, in one of its languages."""
    with use_locale(lang):
        return {"lang": lang, "language": language_name(lang), "dir": text_direction(lang),
                "html_lang": lang.replace("_", "-"),
                "name": draft.names.get(lang) or localized(draft.names, lang,
                                                           draft.default_language),
                "report": gettext("Report a problem"), "map": gettext("Map"),
                "issues": gettext("Issues")}


def new_page(request: Request) -> Response:
    if not _operator(request):
        return denied(request)
    return _form_page(request, portal_form.Draft())


async def new_submit(request: Request) -> Response:
    form, refusal = await permitted_form(request, _may)
    if refusal:
        return refusal
    settings = request.app.state.settings
    draft = portal_form.Draft.from_form(form)
    errors: dict[str, Message] = {}
    notes: list[Message] = []
    logo_name, logo_data = await _upload(form, "logo_file", logos.MAX_BYTES * 10 + 1)
    if logo_data is not None:
        try:
            draft.logo_svg, dropped = logos.logo_from_upload(logo_name, logo_data)
            if dropped:
                notes.append(Message(N_("removed from the logo: %(parts)s"),
                                     {"parts": ", ".join(dropped)}))
        except ConfigError as exc:
            errors["logo"] = exc.message
    area_name, area_data = await _upload(form, "area_file", boundaries.MAX_FILE_BYTES + 1)
    layer = None
    try:
        layer = draft.read_layer(area_name, area_data)
        notes += layer.notes if layer else []
    except ConfigError as exc:  # swapped axes too: the page then offers the swapped reading
        errors["area"] = exc.message
    if form.get("action") == "create" and not errors:
        if layer is None:
            errors["area"] = Message(N_("Give the portal an area: upload a boundary file, "
                                        "pick features of an uploaded layer, or draw it on "
                                        "the map."))
        else:
            try:
                with request.app.state.db.session() as session:
                    created = portal_creation.create_portal(
                        session, draft.spec(), draft.area(layer), settings.tenants_dir,
                        settings.themes_dir)
                    slug = created.tenant.slug
            except ConfigError as exc:
                errors[portal_form.field_of(exc)] = exc.message
            else:
                # Every process, this one too, finds it from its next request on: creating
                # it moved the settings stamp (`portal.tenancy.settings_stamp`).
                return RedirectResponse(url(request, "operator_portal", slug=slug),
                                        status_code=303)
    return _form_page(request, draft, layer=layer, errors=errors, notes=notes, preview=True,
                      status_code=400 if errors else 200)


def preview_css(request: Request) -> Response:
    """The tokens a portal being made would have, scoped to its preview boxes (the page's
    CSP allows no inline style)."""
    if not _operator(request):
        return denied(request)
    draft = portal_form.Draft(theme=request.query_params.get("theme", "civic"),
                              colour=request.query_params.get("colour", ""))
    try:
        look = portal_form.look(draft, request.app.state.settings.themes_dir)
    except ConfigError:
        look = portal_form.look(portal_form.Draft(theme="civic"),
                                request.app.state.settings.themes_dir)
    body = themes.css_custom_properties(look.tokens).replace(":root", ".portal-preview", 1)
    return Response(body, media_type="text/css",
                    headers={"cache-control": "private, no-store"})


# --- what was made ---------------------------------------------------------------------


def portal_page(request: Request) -> Response:
    if not _operator(request):
        return denied(request)
    settings = request.app.state.settings
    slug = request.path_params["slug"]
    with request.app.state.db.session() as session:
        portal = session.scalars(select(Tenant).where(Tenant.slug == slug)).first()
        if portal is None:
            return denied(request, hide=True)
        where = f"portal {slug}"
        problems = [p for p in tenant_checks.check_database(session)
                    if p.where == where or p.where.startswith(where + " ")]
        staff = session.scalar(select(func.count()).select_from(Role).where(
            Role.tenant_id == portal.id))
        hosts = [f"https://{h.host}/" for h in portal.hosts]
        session.expunge(portal)
    origin = settings.public_url.rstrip("/")
    base = portal_base(settings.public_url, portal)
    lang = portal.default_language
    name = localized(portal.name, lang, lang)
    snippets = []
    with use_locale(lang):
        for kind in WHOLE_PORTAL_KINDS:
            options, _errors = parse_options(portal.slug, {"kind": kind}, list(portal.languages))
            snippets.append((kind, build_snippet(options, origin, base, name, loader.current())))
    return render(request, "operator/portal.html", {
        "portal": portal, "hosts": hosts, "snippets": snippets, "problems": problems,
        "staff": staff, "address": f"https://{portal.slug}.{settings.base_domain}/",
        "local_address": f"{base}/", "done": request.query_params.get("done", "")})


# --- bodies from a layer ---------------------------------------------------------------


def _bodies_page(request: Request, values: dict, *, errors: dict | None = None,
                 made: list | None = None, problems: list | None = None,
                 notes: list | None = None, status_code: int = 200) -> Response:
    return render(request, "operator/bodies.html", {
        "values": values, "errors": errors or {}, "made": made or [],
        "problems": problems or [], "notes": notes or [], "csrf_token": csrf_token(request),
        "languages": SUPPORTED}, status_code)


BODY_FIELDS = ("name_property", "name_template", "slug_template", "contact_email_template",
               "request_types", "language", "crs")


def bodies_page(request: Request) -> Response:
    if not _operator(request):
        return denied(request)
    return _bodies_page(request, {"name_template": "{value}", "language": "en"})


async def bodies_submit(request: Request) -> Response:
    form, refusal = await permitted_form(request, _may)
    if refusal:
        return refusal
    values = {name: str(form.get(name, "")).strip() for name in BODY_FIELDS}
    values["swap_axes"] = form.get("swap_axes") == "yes"
    errors: dict[str, Message] = {}
    for name in ("name_property", "slug_template", "request_types"):
        if not values[name]:
            errors[name] = Message(N_("Fill this in."))
    file_name, data = await _upload(form, "layer_file", boundaries.MAX_FILE_BYTES + 1)
    if data is None:
        errors["layer_file"] = Message(N_("Choose the layer: a GeoJSON, zipped Shapefile or "
                                          "KML file with one feature per body."))
    if errors:
        return _bodies_page(request, values, errors=errors, status_code=400)
    language = values["language"] if values["language"] in SUPPORTED else "en"
    try:
        template = portal_creation.BodyTemplate(
            name_property=values["name_property"], slug_template=values["slug_template"],
            request_types=portal_creation.parse_request_types(values["request_types"]),
            name_template=values["name_template"] or "{value}",
            contact_email_template=values["contact_email_template"], language=language)
    except ConfigError as exc:
        return _bodies_page(request, values, errors={"request_types": exc.message},
                            status_code=400)
    try:
        layer = boundaries.read_layer(file_name, data, crs=values["crs"],
                                      swap_axes=values["swap_axes"])
        with request.app.state.db.session() as session:
            made, problems = portal_creation.bodies_from_layer(
                session, layer, template, request.app.state.settings.tenants_dir,
                source=file_name)
    except boundaries.BoundaryError as exc:
        return _bodies_page(request, values, errors={"layer_file": exc.message},
                            status_code=400)
    except ConfigError as exc:
        return _bodies_page(request, values, errors={"form": exc.message}, status_code=400)
    return _bodies_page(request, values, made=made, problems=problems, notes=layer.notes)


routes = [
    Route("/operator", home, methods=["GET"], name="operator_home"),
    Route("/operator/new", new_page, methods=["GET"], name="operator_new"),
    Route("/operator/new", new_submit, methods=["POST"], name="operator_new_submit"),
    Route("/operator/preview.css", preview_css, methods=["GET"], name="operator_preview_css"),
    Route("/operator/portals/{slug}", portal_page, methods=["GET"], name="operator_portal"),
    Route("/operator/bodies", bodies_page, methods=["GET"], name="operator_bodies"),
    Route("/operator/bodies", bodies_submit, methods=["POST"], name="operator_bodies_submit"),
]
