"""Whole public pages, kept per process and keyed by their portal's data version.

A city's home page, list and dashboard are the same bytes for every anonymous visitor until
something on the portal changes, and rendering them is most of what a request costs. The key is
(portal, data version, settings stamp, minute, and the request's path, query string and the
headers a page can differ by: host, cookies, Accept-Language, Accept-Encoding,
X-Forwarded-Proto): the data version (`portal.tenancy.data_version`) moves in the transaction of
every change a public page shows — a report, a vote, a comment, a status, a hide, a redaction,
a merge, an area change — on every process, so a hit can never show what a moderator removed;
the settings stamp (`portal.tenancy.settings_stamp`) moves with every change to a portal's
settings, hosts, bodies or request types, so a hit never shows a colour, a name or a host that
was changed; the minute keeps "3 minutes ago" and an announcement's publication time true. A
hit costs one round trip, which reads the version and the stamp together.

Only pages whose handler says so (`@shared_page`) are kept, and only when nothing in them can
belong to one visitor:

- no session cookie in the request (a signed-in visitor, or one with a message waiting, gets
  their own render: the session middleware sits inside this one and is never reached on a
  hit), and no read-your-writes cookie (a visitor's pages after their own write);
- a 200 answer without `Set-Cookie`;
- and the version read again after the render is the one read before it, so a page rendered
  while a change committed is not kept under the older key; and the portal settings it was
  rendered with are as new as the stamp in its key (`TenantCache.check`), so a process that
  rendered with settings it had not yet seen change never keeps that page under the new stamp.

Forms whose hidden fields are per visitor (the report form's submission key) must not be
marked shared; anonymous CSRF tokens are bound to the portal only (`portal.web.csrf`), so a
shared page may carry one until it expires, long after its minute is over.

Bounded by bytes, least recently used first out; each process keeps its own.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from threading import Lock
from typing import TypeVar

from anyio import CapacityLimiter, to_thread
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal.core.db import Database, DatabaseUnavailable, Reads, is_sqlite
from portal.middleware import read_preference
from portal.tenancy import data_version
from portal.web import session_tokens

MAX_PAGE_BYTES = 512 * 1024
Handler = TypeVar("Handler", bound=Callable)


def shared_page(handler: Handler) -> Handler:
    """Mark a route's page as the same for every anonymous visitor (see the module doc)."""
    handler.shared_page = True  # type: ignore[attr-defined]
    return handler


def _is_shared_page(scope: Scope) -> bool:
    """Whether the route that answered (Starlette sets `endpoint`) is a `shared_page`."""
    return getattr(scope.get("endpoint"), "shared_page", False)


@dataclass(frozen=True)
class Page:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


class PageCache:
    """Pages by key, up to `budget` bytes of bodies."""

    def __init__(self, budget: int = 32 * 1024 * 1024) -> None:
        self.budget, self.used = budget, 0
        self._pages: OrderedDict[tuple, Page] = OrderedDict()
        self._lock = Lock()
        self.hits = self.misses = 0

    def get(self, key: tuple) -> Page | None:
        with self._lock:
            page = self._pages.get(key)
            if page is None:
                self.misses += 1
                return None
            self._pages.move_to_end(key)
            self.hits += 1
            return page

    def put(self, key: tuple, page: Page) -> None:
        with self._lock:
            old = self._pages.pop(key, None)
            if old is not None:
                self.used -= len(old.body)
            self._pages[key] = page
            self.used += len(page.body)
            while self.used > self.budget and self._pages:
                _, dropped = self._pages.popitem(last=False)
                self.used -= len(dropped.body)

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()
            self.used = 0


# A signed-in visitor (or one with a message waiting); a visitor just after their own write.
PRIVATE_COOKIES = (session_tokens.COOKIE.encode(), read_preference.COOKIE.encode())
# Request headers a shared page may differ by (the language, the scheme behind a proxy).
KEY_HEADERS = (b"host", b"cookie", b"accept-language", b"accept-encoding", b"x-forwarded-proto")
# A hit's version read on PostgreSQL: threads apart from the handlers' (`REQUEST_THREADS`).
VERSION_READERS = 4


def _request_key(scope: Scope) -> tuple[tuple, bytes] | None:
    """What the answer depends on, from the request as it came, and its If-None-Match (which
    decides between the page and a 304, not which page); None for a private request."""
    found = dict.fromkeys(KEY_HEADERS, b"")
    if_none_match = b""
    for name, value in scope.get("headers", []):
        if name in found:
            if name == b"cookie" and any(c in value for c in PRIVATE_COOKIES):
                return None
            found[name] = value
        elif name == b"if-none-match":
            if_none_match = value
    return (scope["path"], scope.get("query_string", b""), *found.values()), if_none_match


async def _send_page(page: Page, if_none_match: bytes, send: Send) -> None:
    """The kept page; or, when it has an ETag the client already holds, `304` (RFC 9110 15.4.5:
    the headers a 200 would carry but its body, Content-Length and Content-Encoding)."""
    etag = next((value for name, value in page.headers if name == b"etag"), None)
    if etag is not None and if_none_match and any(
            tag.strip() in (etag, b"*") for tag in if_none_match.split(b",")):
        headers = [(name, value) for name, value in page.headers
                   if name not in (b"content-length", b"content-type", b"content-encoding")]
        await send({"type": "http.response.start", "status": 304, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
        return
    await send({"type": "http.response.start", "status": page.status, "headers": page.headers})
    await send({"type": "http.response.body", "body": page.body})


class PageCacheMiddleware:
    """The outermost layer, so that a hit skips every other one: it learns which paths (on
    which host) were shared pages of which portal from their first answer, then keys them by
    the request's own path, query and headers. What it learned holds while the settings stamp it
    was learned under does, so a host moved to another portal is followed from the next request
    on (and for at most the tenant cache's backstop time `TTL`)."""

    LEARN_FOR = 5.0  # seconds: `portal.middleware.tenant.TenantCache.TTL`

    def __init__(self, app: ASGIApp, db: Database, cache: PageCache,
                 clock: Callable[[], float] | None = None) -> None:
        self.app, self.db, self.cache = app, db, cache
        self.clock = clock or (lambda: time.time())
        # (host, path) -> (portal id, until, settings stamp): a few fixed paths per portal.
        self.shared: dict[tuple[bytes, str], tuple[int, float, int]] = {}
        self.inline_reads = is_sqlite(db.engine)
        self.limiter = CapacityLimiter(VERSION_READERS)

    def _read_version(self, tenant_id: int) -> tuple[int, int]:
        with self.db.connection(Reads.REPLICA) as connection:
            return data_version.current_and_stamp(connection, tenant_id)

    async def _version(self, tenant_id: int) -> tuple[int, int]:
        """The portal's data version and the settings stamp, for a key. SQLite's are a read of
        a page in this process's memory, cheaper than handing it to a thread (in WAL mode a
        reader never waits), so they are read on the event loop. A server's is a round trip
        that may meet a timeout, so it goes to threads of its own, which a hit never waits for
        behind a render."""
        if self.inline_reads:
            return self._read_version(tenant_id)
        return await to_thread.run_sync(self._read_version, tenant_id, limiter=self.limiter)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        asked = (_request_key(scope) if scope["type"] == "http" and scope["method"] == "GET"
                 else None)
        if asked is None:
            await self.app(scope, receive, send)
            return
        request, if_none_match = asked
        now = self.clock()
        place = (request[2], scope["path"])
        learned = self.shared.get(place)
        if learned is None or learned[1] < now:
            if learned is not None:  # others go on hitting while this one checks it again
                self.shared[place] = (learned[0], now + self.LEARN_FOR, learned[2])
            await self._learn(scope, receive, send, place, now)
            return
        tenant_id = learned[0]
        try:
            version, stamp = await self._version(tenant_id)
        except DatabaseUnavailable:  # the app answers that in its own way
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})["settings_stamp_seen"] = stamp  # the tenant layer's too
        if stamp != learned[2]:  # a setting changed: this host may be another portal's now
            await self._learn(scope, receive, send, place, now)
            return
        key = (tenant_id, version, stamp, int(now // 60), *request)
        page = self.cache.get(key)
        if page is not None:
            await _send_page(page, if_none_match, send)
            return
        await self._render(scope, receive, send, key, tenant_id, (version, stamp))

    async def _learn(self, scope: Scope, receive: Receive, send: Send,
                     place: tuple[bytes, str], now: float) -> None:
        await self.app(scope, receive, send)
        state = scope.get("state", {})
        tenant = state.get("tenant")
        if tenant is not None and _is_shared_page(scope):
            if len(self.shared) > 4096:  # hosts are whatever clients send
                self.shared.clear()
            self.shared[place] = (tenant.id, now + self.LEARN_FOR, state["settings_stamp"])
        else:  # no longer a shared page (or no longer a portal's): answered in full from now
            self.shared.pop(place, None)

    async def _render(self, scope: Scope, receive: Receive, send: Send, key: tuple,
                      tenant_id: int, versions: tuple[int, int]) -> None:
        """Answer through the app; keep the page under `key` if it was rendered for the
        portal, with settings as new as the key's stamp, and nothing changed meanwhile."""
        started: list[Message] = []
        chunks: list[bytes] = []
        keep = [True]

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                started.append(message)
                keep[0] = (message["status"] == 200 and _is_shared_page(scope) and not any(
                    name == b"set-cookie" for name, _ in message.get("headers", [])))
            elif message["type"] == "http.response.body" and keep[0]:
                chunks.append(message.get("body", b""))
                keep[0] = sum(map(len, chunks)) <= MAX_PAGE_BYTES
            await send(message)

        await self.app(scope, receive, capture)
        state = scope.get("state", {})
        tenant = state.get("tenant")
        if (keep[0] and started and tenant is not None and tenant.id == tenant_id
                and state.get("settings_stamp") == versions[1]
                and await self._version(tenant_id) == versions):
            self.cache.put(key, Page(200, list(started[0].get("headers", [])), b"".join(chunks)))
