"""The SMS gateways' webhooks, one address per portal number: `/sms/twilio/{number}` and
`/sms/smssync/{number}` (the number's digits), on the portal's host.

Thin: find the number in the portal's `sms` settings, let its gateway check the request
(signature or secret, `portal.sms.gateways`), rate-limit per sender and per portal, and hand
the text to `portal.sms.intake`, which queues the replies. The answer is the gateway's empty
acknowledgement: replies go from the outbox, never in this answer. A refused request gets a
bare 403 and nothing is done; a replay (a message id already taken) gets 409. A limited or
blocked sender gets the acknowledgement and no reply, so a flood costs no texts.

SMSSync's phone also polls here: `GET ?task=send` for the texts to send, `POST ?task=sent`
with the uuids it sent (see `portal.sms.outbound`).
"""

from __future__ import annotations

import hmac
import json
import logging
import os
from functools import partial

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from portal.models import Tenant
from portal.open311 import media_fetch
from portal.sms import conversation, intake, outbound, phones
from portal.sms.gateways import GATEWAYS, Refused
from portal.web.forms import FormRefused, read_form
from portal.web.request_context import tenant

log = logging.getLogger("reportal.sms")


def _config(request: Request) -> dict | None:
    digits = phones.normalise(request.path_params["number"]).lstrip("+")
    gateway = request.path_params["gateway"]
    return next((n for n in tenant(request).sms_numbers
                 if n["gateway"] == gateway and n["number"].lstrip("+") == digits), None)


def _secret(config: dict) -> str:
    return os.environ.get(config["secret_env"], "")


def _forbidden() -> Response:
    return PlainTextResponse("Forbidden", status_code=403)


async def webhook(request: Request) -> Response:
    config = _config(request)
    if config is None:
        return PlainTextResponse("Not Found", status_code=404)
    gateway = GATEWAYS[config["gateway"]]
    task = request.query_params.get("task", "")
    if config["gateway"] == "smssync" and task:
        return await _smssync_task(request, config, task)
    try:
        form = await read_form(request)
    except FormRefused:
        return PlainTextResponse("Bad Request", status_code=400)
    fields = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    await form.close()
    try:
        inbound = gateway.inbound(str(request.url), fields, request.headers, _secret(config))
    except Refused as exc:
        log.warning("sms webhook %s refused: %s", request.url.path, exc)
        return _forbidden()
    return await run_in_threadpool(_receive, request, config, inbound)


def _receive(request: Request, config: dict, inbound) -> Response:  # noqa: ANN001
    settings = request.app.state.settings
    portal = tenant(request)
    gateway = GATEWAYS[config["gateway"]]
    body, media_type = gateway.answer()
    vault = phones.PhoneVault(settings)
    limiter = request.app.state.limiter
    if not (limiter.allow(portal.slug, "sms_number", vault.digest(inbound.sender))
            and limiter.allow(portal.slug, "sms_portal", config["number"])):
        return Response(body, media_type=media_type)
    filing = conversation.Filing(
        media_dir=settings.media_dir, max_photo_bytes=settings.max_photo_bytes,
        fetch=partial(media_fetch.fetch, max_bytes=settings.max_photo_bytes,
                      allow_private=settings.open311_media_private))
    with request.app.state.db.session() as session:
        received = intake.receive(session, session.get(Tenant, portal.id), config, inbound,
                                  vault, filing)
    if received.replayed:
        return PlainTextResponse("Conflict: this message was already received",
                                 status_code=409)
    return Response(body, media_type=media_type)


async def _smssync_task(request: Request, config: dict, task: str) -> Response:
    secret = _secret(config)
    given = request.query_params.get("secret", "")
    if not secret or not given or not hmac.compare_digest(given, secret):
        return _forbidden()
    if task == "send" and request.method == "GET":
        return await run_in_threadpool(_tasks, request, config, secret)
    if task == "sent" and request.method == "POST":
        try:
            uuids = json.loads(await request.body() or b"{}").get("queued_messages") or []
        except (ValueError, AttributeError):
            return PlainTextResponse("Bad Request", status_code=400)
        return await run_in_threadpool(_sent, request, config,
                                       [str(u) for u in uuids if isinstance(u, str | int)])
    return PlainTextResponse("Bad Request", status_code=400)


def _tasks(request: Request, config: dict, secret: str) -> Response:
    with request.app.state.db.session() as session:
        messages = outbound.smssync_tasks(session, request.app.state.settings,
                                          session.get(Tenant, tenant(request).id), config)
    return JSONResponse({"payload": {"task": "send", "secret": secret, "messages": messages}})


def _sent(request: Request, config: dict, uuids: list[str]) -> Response:
    with request.app.state.db.session() as session:
        done = outbound.smssync_sent(session, session.get(Tenant, tenant(request).id), config,
                                     uuids)
    return JSONResponse({"message_uuids": done})


routes = [Route("/sms/{gateway:str}/{number:str}", webhook, methods=["GET", "POST"],
                name="sms_webhook")]
