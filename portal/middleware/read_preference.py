"""Which database a request reads from, when there is a read replica (`DATABASE_REPLICA_URL`).

The choice is a context variable (`portal.core.db.reading`), set here for the whole request, so
handlers keep calling `db.session()`; Starlette runs sync handlers in anyio's thread pool,
which copies the context into the worker thread.

- Every request that is not a GET or HEAD reads and writes on the **primary** (`PRIMARY`).
- So does every private page (`security.is_private`: staff, moderation, account, signing in,
  unsubscribing, a watch's confirmation page and feed): they show sessions and private rows
  that must be current, and a page that writes (confirming, touching a session) must be able
  to.
- The pages a visitor sees right after their own write read on the primary too (`FRESH`): a
  state-changing request's response carries a signed cookie that lives `FRESH_SECONDS`, and a
  GET that brings it back reads there. A cookie, not a flag in the redirect, because it covers
  every page after every write (the issue page after a report, a vote or a comment; the list
  and the map after that) without touching a route, and because it is signed with a time, a
  client cannot keep its reads off the replica by adding a parameter. A streaming replica is
  milliseconds behind; a few seconds are plenty. Widgets set no cookie (a host page's consent
  banner need not mention us), so their one page after a write, the report's thank-you page,
  is named here instead.
- Everything else — the portal pages, the map API, feeds, widgets — reads on the **replica**.

`FRESH` and `REPLICA` each fall back to the other server while theirs cannot be reached, so
public pages stay up while the primary is down; `PRIMARY` then answers 503
(`portal.web.unavailable`). The data version a cached map body is keyed by is read in the same
session as the body, so a body read on the replica is keyed by the replica's version.

Without a replica this middleware does nothing.
"""

from __future__ import annotations

import re

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal.core import signing
from portal.core.db import Database, Reads, reading
from portal.middleware.security import is_private
from portal.web.route_path import route_path

COOKIE = "reportal_fresh"
FRESH_SECONDS = 5
PURPOSE = "read-your-writes"
READ_METHODS = frozenset({"GET", "HEAD"})
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
NO_COOKIE_PATHS = ("/w/", "/api/")
AFTER_A_WIDGET_WRITE = re.compile(r"^/w/[^/]+/report/sent/\d+$")


def _cookie(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"cookie" and COOKIE.encode() in value:
            for part in value.decode("latin-1").split(";"):
                key, _, found = part.strip().partition("=")
                if key == COOKIE:
                    return found
    return None


def reads_for(scope: Scope, path: str, secret_key: str) -> Reads:
    """Where a request for `path` (as the router sees it) reads."""
    if scope["method"] not in READ_METHODS or is_private(path):
        return Reads.PRIMARY
    if AFTER_A_WIDGET_WRITE.match(path) or just_after_a_write(scope, secret_key):
        return Reads.FRESH
    return Reads.REPLICA


def just_after_a_write(scope: Scope, secret_key: str) -> bool:
    """Whether the request brings back a valid read-your-writes cookie."""
    value = _cookie(scope)
    if not value:
        return False
    try:
        signing.unsign(secret_key, PURPOSE, value, max_age=FRESH_SECONDS)
    except signing.BadLink:
        return False
    return True


class ReadPreferenceMiddleware:
    def __init__(self, app: ASGIApp, db: Database, secret_key: str, https_only: bool) -> None:
        self.app, self.db, self.secret_key, self.https_only = app, db, secret_key, https_only

    def reads_for(self, scope: Scope) -> Reads:
        return reads_for(scope, route_path(scope), self.secret_key)

    def _set_cookie(self, scope: Scope) -> str:
        value = signing.sign(self.secret_key, PURPOSE, 1)
        path = scope.get("root_path", "") + "/"  # this portal's pages only, on a shared host
        secure = "; Secure" if self.https_only else ""
        return (f"{COOKIE}={value}; Max-Age={FRESH_SECONDS}; Path={path}; HttpOnly; "
                f"SameSite=Lax{secure}")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.db.replica is None:
            await self.app(scope, receive, send)
            return
        reads = self.reads_for(scope)
        marks = (scope["method"] in WRITE_METHODS
                 and not route_path(scope).startswith(NO_COOKIE_PATHS))

        async def send_marked(message: Message) -> None:
            if marks and message["type"] == "http.response.start" and message["status"] < 500:
                MutableHeaders(scope=message).append("set-cookie", self._set_cookie(scope))
            await send(message)

        with reading(reads):
            await self.app(scope, receive, send_marked)
