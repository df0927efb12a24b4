"""Whole public pages, kept per process and keyed by their portal's data version.

A city's home page, list and dashboard are the same bytes for every anonymous visitor until
something on the portal changes, and rendering them is most of what a request costs. The key is
(portal, data version, language, minute, root path, path and query string): the data version
(`portal.tenancy.data_version`) moves in the transaction of every change a public page shows —
a report, a vote, a comment, a status, a hide, a redaction, a merge, an area change — on every
process, so a hit can never show what a moderator removed; the minute keeps "3 minutes ago" and
an announcement's publication time true. A hit costs the version's one primary-key read.

Only pages whose handler says so (`@shared_page`) are kept, and only when nothing in them can
belong to one visitor:

- no session cookie in the request (a signed-in visitor, or one with a message waiting, gets
  their own render: the session middleware sits inside this one and is never reached on a hit);
- a 200 answer without `Set-Cookie`;
- and the version read again after the render is the one read before it, so a page rendered
  while a change committed is not kept under the older key.

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

from anyio import to_thread
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal.core.db import Database
from portal.tenancy import data_version

SESSION_COOKIE = b"reportal_session"
MAX_PAGE_BYTES = 512 * 1024
Handler = TypeVar("Handler", bound=Callable)


def shared_page(handler: Handler) -> Handler:
    """Mark a route's page as the same for every anonymous visitor (see the module doc)."""
    handler.shared_page = True  # type: ignore[attr-defined]
    return handler


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


def _anonymous(scope: Scope) -> bool:
    return not any(name == b"cookie" and SESSION_COOKIE in value
                   for name, value in scope.get("headers", []))


class PageCacheMiddleware:
    def __init__(self, app: ASGIApp, db: Database, cache: PageCache,
                 clock: Callable[[], float] | None = None) -> None:
        self.app, self.db, self.cache = app, db, cache
        self.clock = clock or (lambda: time.time())
        # Paths whose route turned out to be a shared page: only those cost a version read
        # (the map API keys its own bodies; an issue page is never shared). A path's first
        # request finds out, so it is not kept; the set holds a handful of fixed paths.
        self.shared_paths: set[str] = set()

    def _version(self, tenant_id: int) -> int:
        with self.db.session() as session:
            return data_version.current(session, tenant_id)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = scope.get("state", {})
        tenant = state.get("tenant")
        if (scope["type"] != "http" or scope["method"] != "GET" or tenant is None
                or not _anonymous(scope)):
            await self.app(scope, receive, send)
            return
        if scope["path"] not in self.shared_paths:
            await self.app(scope, receive, send)
            if getattr(scope.get("endpoint"), "shared_page", False):
                self.shared_paths.add(scope["path"])
            return
        version = await to_thread.run_sync(self._version, tenant.id)
        key = (tenant.id, version, state.get("locale"), int(self.clock() // 60),
               scope.get("root_path", ""), scope["path"], scope.get("query_string", b""))
        page = self.cache.get(key)
        if page is not None:
            await send({"type": "http.response.start", "status": page.status,
                        "headers": page.headers})
            await send({"type": "http.response.body", "body": page.body})
            return
        started: list[Message] = []
        chunks: list[bytes] = []
        keep = [True]

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                started.append(message)
                keep[0] = (message["status"] == 200 and getattr(
                    scope.get("endpoint"), "shared_page", False) and not any(
                    name == b"set-cookie" for name, _ in message.get("headers", [])))
            elif message["type"] == "http.response.body" and keep[0]:
                chunks.append(message.get("body", b""))
                keep[0] = sum(map(len, chunks)) <= MAX_PAGE_BYTES
            await send(message)

        await self.app(scope, receive, capture)
        if keep[0] and started and await to_thread.run_sync(self._version, tenant.id) == version:
            self.cache.put(key, Page(200, list(started[0].get("headers", [])), b"".join(chunks)))
