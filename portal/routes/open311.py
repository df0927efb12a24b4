"""Open311 GeoReport v2 under `/open311/v2/` on every portal (and `/t/{slug}/open311/v2/`),
and the human page `/open311` that explains it.

Thin handlers: pick the format from the path (`.xml` or `.json`), check `jurisdiction_id`
(the portal's slug or one of its hosts; optional), parse, call `portal.open311`, and answer
in the format asked for, errors included (`errors/error` with `code` and `description`).
Reads need no key; filing and posting updates need the portal's `api_key` (in the body, as
FixMyStreet sends it, or in the query), rate-limited per key.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial

from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.core.errors import N_, DomainError, Forbidden, Message, NotFound, ValidationError
from portal.core.i18n import translate
from portal.core.localized import localized
from portal.middleware import compression
from portal.models import Open311Key
from portal.open311 import api_keys, documents, filing, media_fetch, queries, reading
from portal.open311 import service_updates as updates
from portal.open311 import services as catalogue
from portal.reports.reporting import existing_submission
from portal.routes import api
from portal.tenancy import data_version
from portal.web.absolute_urls import absolute, portal_address
from portal.web.forms import FormRefused, read_form
from portal.web.request_context import tenant
from portal.web.templating import render, url

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-12-01T00:00:00Z"  # when this endpoint's behaviour last changed
COMPRESS_FROM = 1024  # bytes: smaller answers go plain, as the compression middleware's
BODY_FORMAT = "open311-requests-1"  # change it when a request's shape changes: old ETags go


def _answer(fmt: str, root: str, items: list[dict] | dict, status: int = 200) -> Response:
    body, media_type = documents.render(fmt, root, items)
    return Response(body, status_code=status, media_type=media_type,
                    headers={"Access-Control-Allow-Origin": "*"})


def _errors(fmt: str, status: int, errors: dict[str, Message] | Message) -> Response:
    if isinstance(errors, Message):
        problems = [(status, translate(errors))]
    else:
        problems = [(status, f"{name}: {translate(message)}") for name, message in errors.items()]
    body, media_type = documents.errors_document(fmt, problems)
    return Response(body, status_code=status, media_type=media_type)


def _format(request: Request) -> str | None:
    fmt = request.path_params.get("format", "")
    return fmt if fmt in documents.FORMATS else None


def _refusal(request: Request, params) -> Response | None:  # noqa: ANN001 - a Mapping
    """None if the request may go on; else the answer: unknown format or jurisdiction."""
    fmt = _format(request)
    if fmt is None:
        body, media_type = documents.errors_document(
            "xml", [(404, translate(Message(N_("Ask for .xml or .json."))))])
        return Response(body, status_code=404, media_type=media_type)
    jurisdiction = str(params.get("jurisdiction_id", "")).strip().lower()
    portal = tenant(request)
    if jurisdiction and jurisdiction != portal.slug and jurisdiction not in {
            h.host for h in portal.hosts}:
        return _errors(fmt, 404, Message(N_("jurisdiction_id %(id)r is not this portal's; "
                                            "use %(slug)r."),
                                         {"id": jurisdiction[:64], "slug": portal.slug}))
    return None


def _links(request: Request) -> reading.Links:
    return reading.Links(portal_address(request))


def discovery(request: Request) -> Response:
    if (refusal := _refusal(request, request.query_params)) is not None:
        return refusal
    portal = tenant(request)
    base = absolute(request, url(request, "open311_page"))
    return _answer(_format(request), "discovery", {
        "changeset": CHANGESET,
        "contact": localized(portal.name, request.state.locale, portal.default_language)
        + " — " + base,
        "key_service": base,
        "endpoints": [{
            "specification": SPECIFICATION,
            "url": portal_address(request) + "/open311/v2",
            "changeset": CHANGESET,
            "type": "production",
            "formats": ["text/xml", "application/json"],
        }],
    })


def services_list(request: Request) -> Response:
    if (refusal := _refusal(request, request.query_params)) is not None:
        return refusal
    with request.app.state.db.session() as session:
        items = [catalogue.service_item(s, request.state.locale)
                 for s in catalogue.portal_services(session, tenant(request))]
    return _answer(_format(request), "services", items)


def service_definition(request: Request) -> Response:
    if (refusal := _refusal(request, request.query_params)) is not None:
        return refusal
    fmt = _format(request)
    with request.app.state.db.session() as session:
        service = catalogue.find_service(session, tenant(request),
                                         request.path_params["service_code"])
        if service is None:
            return _errors(fmt, 404, Message(N_("There is no service %(code)r here."),
                                             {"code": request.path_params["service_code"][:64]}))
        item = catalogue.definition_item(service, request.state.locale)
    return _answer(fmt, "service_definition", item)


def requests_list(request: Request) -> Response:
    """Cached per process like the map's GeoJSON (`api.BodyCache`): by the portal and its data
    version, the format, the address its links carry, the language and the normalised query;
    the ETag is made from the same key, so a client polling an unchanged portal gets a 304."""
    if (refusal := _refusal(request, request.query_params)) is not None:
        return refusal
    fmt = _format(request)
    try:
        query = queries.parse_query(request.query_params, datetime.now(UTC))
    except ValidationError as exc:
        return _errors(fmt, 400, exc.errors)
    portal = tenant(request)
    cache: api.BodyCache = request.app.state.open311_bodies
    # Kept compressed, as sent: compressing a thousand requests costs more than reading them.
    encoding = compression.accepted_encoding(request.scope)
    with request.app.state.db.session() as session:
        key = (portal.id, data_version.current(session, portal.id), BODY_FORMAT, fmt,
               portal_address(request), request.state.locale, queries.query_key(query))
        headers = {"ETag": api.etag_for(key), "Access-Control-Allow-Origin": "*"}
        if request.headers.get("if-none-match", "") in (headers["ETag"], "W/" + headers["ETag"]):
            return Response(status_code=304, headers=headers)
        body, sent = cache.get((*key, encoding)), encoding
        if body is None and encoding:  # kept plain (for a client that asked so, or small):
            body, sent = cache.get((*key, "")), ""  # the middleware compresses it as usual
        if body is None:
            ids = reading.find_ids(session, portal, query)
            items = reading.request_items(session, ids, request.state.locale, _links(request),
                                          query.extensions)
            body = documents.render(fmt, "service_requests", items)[0]
            sent = encoding if len(body) >= COMPRESS_FROM else ""
            if sent:
                body = compression.compress(body, sent)
            cache.put((*key, sent), body)
    if sent:
        headers.update({"Content-Encoding": sent, "Vary": "Accept-Encoding",
                        "ETag": "W/" + headers["ETag"]})
    media_type = documents.JSON_TYPE if fmt == "json" else documents.XML_TYPE
    return Response(body, media_type=media_type, headers=headers)


def request_one(request: Request) -> Response:
    if (refusal := _refusal(request, request.query_params)) is not None:
        return refusal
    fmt = _format(request)
    ids, problem = queries.parse_ids(request.path_params["request_id"])
    extensions = request.query_params.get("extensions", "").lower() == "true"
    with request.app.state.db.session() as session:
        found = reading.find_ids(session, tenant(request), queries.RequestQuery(ids=ids))
        if problem or len(ids) != 1 or not found:
            return _errors(fmt, 404, Message(N_("There is no such request on this portal.")))
        items = reading.request_items(session, found, request.state.locale, _links(request),
                                      extensions)
    return _answer(fmt, "service_requests", items)


def token(request: Request) -> Response:
    if (refusal := _refusal(request, request.query_params)) is not None:
        return refusal
    fmt = _format(request)
    with request.app.state.db.session() as session:
        issue_id = reading.find_by_token(session, tenant(request), request.path_params["token"])
    if issue_id is None:
        return _errors(fmt, 404, Message(N_("There is no such token on this portal.")))
    return _answer(fmt, "service_requests", [
        {"service_request_id": str(issue_id), "token": request.path_params["token"]}])


async def _posted(request: Request):  # noqa: ANN202 - (FormData, None) | (None, Response)
    """The posted form and its live key, or the refusal: form, jurisdiction, key, rate."""
    fmt = _format(request) or "xml"
    try:
        form = await read_form(request)
    except FormRefused as exc:
        return None, None, _errors(fmt, 400, exc.message)
    params = {**request.query_params, **{k: v for k, v in form.items() if isinstance(v, str)}}
    if (refusal := _refusal(request, params)) is not None:
        return None, None, refusal
    supplied = str(form.get("api_key") or request.query_params.get("api_key", ""))
    if not supplied.strip():
        return None, None, _errors(fmt, 403, Message(N_("An api_key is required to post.")))
    portal = tenant(request)
    with request.app.state.db.session() as session:
        key = api_keys.verify(session, portal, supplied)
        if key is not None:
            session.expunge(key)
    if key is None:
        return None, None, _errors(fmt, 403, Message(N_("This api_key is not valid here.")))
    return form, key, None


def _limited(request: Request, key: Open311Key) -> Response | None:
    if request.app.state.limiter.allow(tenant(request).slug, "open311", f"key:{key.id}"):
        return None
    return _errors(_format(request), 429, Message(N_("Too many requests with this api_key "
                                                     "just now; try again in a few minutes.")))


async def requests_submit(request: Request) -> Response:
    form, key, refusal = await _posted(request)
    if refusal is not None:
        return refusal
    media = []
    for value in form.getlist("media"):
        if isinstance(value, UploadFile) and value.filename:
            media.append(await value.read(request.app.state.settings.max_photo_bytes + 1))
    posted = filing.PostedRequest(
        [(k, v) for k, v in form.multi_items() if isinstance(v, str)], media)
    await form.close()
    return await run_in_threadpool(_file, request, key, posted)


def _file(request: Request, key: Open311Key, posted: filing.PostedRequest) -> Response:
    fmt = _format(request)
    settings = request.app.state.settings
    portal = tenant(request)
    db = request.app.state.db
    submission_key = posted.submission_key(key)
    with db.session() as session:
        repeated = existing_submission(session, submission_key) is not None
    if not repeated and (refusal := _limited(request, key)) is not None:
        return refusal
    fetch = partial(media_fetch.fetch, max_bytes=settings.max_photo_bytes,
                    allow_private=settings.open311_media_private)
    try:
        with db.session() as session:
            issue = filing.file_request(session, portal, key, posted,
                                        locale=request.state.locale,
                                        media_dir=settings.media_dir,
                                        max_photo_bytes=settings.max_photo_bytes, fetch=fetch)
            issue_id = issue.id
    except ValidationError as exc:
        return _errors(fmt, 400, exc.errors)
    except IntegrityError:  # the same request twice at once: the other one filed it
        with db.session() as session:
            issue_id = existing_submission(session, submission_key).id
    notice = translate(Message(N_("Thank you: the report was sent to the body responsible. "
                                  "Follow it at %(url)s"),
                               {"url": _links(request).issue(issue_id)}))
    return _answer(fmt, "service_requests", [{
        "service_request_id": str(issue_id), "token": submission_key,
        "service_notice": notice, "account_id": None}], 201 if not repeated else 200)


def updates_list(request: Request) -> Response:
    if (refusal := _refusal(request, request.query_params)) is not None:
        return refusal
    fmt = _format(request)
    errors: dict[str, Message] = {}
    start, end = queries.parse_range(request.query_params, datetime.now(UTC), errors)
    if errors:
        return _errors(fmt, 400, errors)
    with request.app.state.db.session() as session:
        items = updates.updates_since(session, tenant(request), start, end, _links(request))
    return _answer(fmt, "service_request_updates", items)


async def updates_submit(request: Request) -> Response:
    form, key, refusal = await _posted(request)
    if refusal is not None:
        return refusal
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    return await run_in_threadpool(_update, request, key, fields)


def _update(request: Request, key: Open311Key, fields: dict[str, str]) -> Response:
    fmt = _format(request)
    if (refusal := _limited(request, key)) is not None:
        return refusal
    try:
        with request.app.state.db.session() as session:
            row = updates.post_update(session, tenant(request), key, fields,
                                      request.app.state.settings.public_url)
            update_id = row.id
    except ValidationError as exc:
        return _errors(fmt, 400, {("description" if k == "text" else k): v
                                  for k, v in exc.errors.items()})
    except NotFound as exc:
        return _errors(fmt, 404, exc.message)
    except Forbidden as exc:
        return _errors(fmt, 403, exc.message)
    except DomainError as exc:
        return _errors(fmt, 400, exc.message)
    return _answer(fmt, "service_request_updates", [{"update_id": str(update_id)}])


def open311_page(request: Request) -> Response:
    """For developers: the base URL, the services, and requests to copy."""
    portal = tenant(request)
    with request.app.state.db.session() as session:
        services = [catalogue.service_item(s, request.state.locale)
                    for s in catalogue.portal_services(session, portal)]
    since = (datetime.now(UTC) - timedelta(days=7)).strftime("%Y-%m-%dT00:00:00Z")
    base = portal_address(request) + "/open311/v2"
    code = services[0]["service_code"] if services else "pothole"
    return render(request, "open311.html", {
        "base": base, "services": services, "jurisdiction": portal.slug,
        "discovery": base + "/discovery.xml", "examples": _examples(base, code, since),
    })


def _examples(base: str, code: str, since: str) -> dict[str, str]:
    """Commands to copy, in the shell's own syntax (the template shows them as they are)."""
    return {
        "services": f"curl '{base}/services.json'\ncurl '{base}/services/{code}.xml'",
        "requests": f"curl '{base}/requests.json?status=open&start_date={since}"
                    "&extensions=true'",
        "post": "\n".join([
            f"curl -X POST '{base}/requests.json' \\",
            "  --data-urlencode 'api_key=YOUR_KEY' \\",
            f"  --data-urlencode 'service_code={code}' \\",
            "  --data-urlencode 'lat=…' --data-urlencode 'long=…' \\",
            "  --data-urlencode 'description=…' \\",
            "  --data-urlencode 'email=…'"]),
        "updates": f"curl '{base}/servicerequestupdates.xml?start_date={since}'",
    }


routes = [
    Route("/open311", open311_page, methods=["GET"], name="open311_page"),
    Route("/open311/v2/discovery.{format}", discovery, methods=["GET"],
          name="open311_discovery"),
    Route("/open311/v2/services.{format}", services_list, methods=["GET"],
          name="open311_services"),
    Route("/open311/v2/services/{service_code}.{format}", service_definition, methods=["GET"],
          name="open311_service"),
    Route("/open311/v2/requests.{format}", requests_list, methods=["GET"],
          name="open311_requests"),
    Route("/open311/v2/requests.{format}", requests_submit, methods=["POST"],
          name="open311_requests_submit"),
    Route("/open311/v2/requests/{request_id}.{format}", request_one, methods=["GET"],
          name="open311_request"),
    Route("/open311/v2/tokens/{token}.{format}", token, methods=["GET"], name="open311_token"),
    Route("/open311/v2/servicerequestupdates.{format}", updates_list, methods=["GET"],
          name="open311_updates"),
    Route("/open311/v2/servicerequestupdates.{format}", updates_submit, methods=["POST"],
          name="open311_updates_submit"),
]
