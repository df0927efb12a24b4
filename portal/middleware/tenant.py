"""Find the portal a request is for, from its Host or a `/t/{slug}/` path prefix.

First the Host header is parsed strictly (`portal.tenancy.hosts`): a request without exactly
one well-formed Host gets a bare `400 Bad Request` and goes no further. The parsed host is
kept as `state["host"]`, and the header itself is rewritten to its checked form, so
everything after (links, Starlette's own redirects) sees only the verified name and port;
nothing reads the request target's authority or `X-Forwarded-Host`.

Then: host -> `TenantHost`, else `{slug}.{base_domain}`, else the local-development prefix
`/t/{slug}/`, which becomes the request's root path so every generated URL keeps it. Widget
pages `/w/{slug}/…` take the portal from the path (see `_widget_tenant`). An unknown host gets
a plain 404 that names no tenant. Paths that need no tenant (static files, the embed loader,
health) pass through with `tenant` unset.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from anyio import CapacityLimiter, to_thread
from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from portal.core.db import Database, DatabaseUnavailable, Reads, is_sqlite
from portal.middleware import read_preference
from portal.models import Tenant, TenantHost
from portal.tenancy import settings_stamp
from portal.tenancy.hosts import BadHost, Host, parse_host
from portal.web.unavailable import RETRY_AFTER

# Stamp reads on PostgreSQL: threads apart from the handlers' (`REQUEST_THREADS`).
STAMP_READERS = 4
TENANT_FREE_PREFIXES = ("/static/", "/embed.js", "/healthz", "/favicon.ico", "/embed/")


class _Recent:
    """At most `size` entries; a read makes an entry the newest, the oldest goes first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[str, tuple[float, Tenant | None]] = OrderedDict()

    def get(self, key: str) -> tuple[float, Tenant | None] | None:
        item = self._items.get(key)
        if item is not None:
            self._items.move_to_end(key)
        return item

    def put(self, key: str, item: tuple[float, Tenant | None]) -> None:
        self._items[key] = item
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def pop(self, key: str) -> None:
        self._items.pop(key, None)

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        self._items.clear()


class TenantCache:
    """Tenant rows by host or slug, each process its own, checked on every request against the
    settings stamp (`portal.tenancy.settings_stamp`).

    Each request reads the stamp first (`check`): one primary-key read of a one-row table. A
    stamp that moved since this process last read it means some process committed a change to
    a portal, its hosts, bodies or request types, so everything held is dropped and read again
    as it is asked for. So a change saved anywhere (another worker, another server, `portal
    tenants load`) is served by every process from its next request on, a new host name is
    found, a removed portal is 404, a revoked widget admin token refused. An entry is read
    after the stamp it is checked against, so it is never older than that stamp.

    `TTL` is only a backstop, for writes no session sees (SQL typed by hand into the
    database): an entry is read again at most `TTL` seconds after its read began.

    Bounded in size too, because Host headers are whatever anyone sends: portals found and names
    that found none are kept apart, each up to its own size and least recently used first out,
    so a flood of invented hosts costs a fixed amount of memory and never pushes out a portal.
    """

    TTL = 5.0

    def __init__(self, db: Database, ttl: float = TTL, max_found: int = 512,
                 max_missing: int = 1024, clock: Callable[[], float] = time.monotonic) -> None:
        self.db, self.ttl, self.clock = db, ttl, clock
        self._found, self._missing = _Recent(max_found), _Recent(max_missing)
        # The stamp everything held was read after; it only moves forward (a read that was
        # slower than a later one must not undo it).
        self.stamp = -1
        self.inline_reads = is_sqlite(db.engine)
        self.limiter = CapacityLimiter(STAMP_READERS)

    def _read_stamp(self, reads: Reads) -> int:
        with self.db.connection(reads) as connection:
            return settings_stamp.current(connection)

    async def check(self, reads: Reads = Reads.FRESH, seen: int | None = None) -> int:
        """Read the settings stamp (or take `seen`, read on the same server by this request a
        moment ago); when it moved, drop everything held. Call it once per request, before
        any look-up. Returns the stamp what is held now is as new as.

        A public page reads it where it reads the rest (`Reads.REPLICA`, milliseconds behind
        the primary), so the primary is not asked once per page; what is read again after it
        moved comes from the primary. SQLite's stamp is a read in this process's memory,
        cheaper than handing it to a thread; a server's is a round trip, which must not stall
        the event loop."""
        try:
            if seen is not None:
                stamp = seen
            elif self.inline_reads:
                stamp = self._read_stamp(reads)
            else:
                stamp = await to_thread.run_sync(self._read_stamp, reads, limiter=self.limiter)
        except DatabaseUnavailable:
            # Neither server answers: go on with the portals held, so the page that says so
            # is the portal's own, in its language (its handler meets the same outage).
            return self.stamp
        if stamp > self.stamp:
            self.clear()
            self.stamp = stamp
        return self.stamp

    @property
    def max_entries(self) -> int:
        return self._found.size + self._missing.size

    def __len__(self) -> int:
        return len(self._found) + len(self._missing)

    def _load(self, key: str, query: Callable[[], Select]) -> Tenant | None:
        # The query is built only on a miss: building a select costs more than the hit.
        now = self.clock()
        for store in (self._found, self._missing):
            hit = store.get(key)
            if hit and hit[0] > now:
                return hit[1]
        # The primary, so a portal just added is found at once; the replica while the
        # primary cannot be reached, so public pages stay up.
        with self.db.session(Reads.FRESH) as session:
            tenant = session.scalars(query().options(selectinload(Tenant.hosts))).first()
            if tenant is not None:
                session.expunge(tenant)
        keep, other = (self._found, self._missing) if tenant else (self._missing, self._found)
        other.pop(key)
        keep.put(key, (now + self.ttl, tenant))
        return tenant

    def by_host(self, host: str) -> Tenant | None:
        return self._load(f"host:{host}", lambda: select(Tenant).join(TenantHost).where(
            TenantHost.host == host))

    def by_slug(self, slug: str) -> Tenant | None:
        return self._load(f"slug:{slug}", lambda: select(Tenant).where(Tenant.slug == slug))

    def clear(self) -> None:
        self._found.clear()
        self._missing.clear()


def _checked_host(scope: Scope) -> Host:
    """The request's Host, parsed; the header is replaced by its checked form."""
    headers = scope.get("headers", [])
    host = parse_host([value for name, value in headers if name == b"host"])
    scope["headers"] = [(name, value) for name, value in headers if name != b"host"] + [
        (b"host", host.authority.encode("ascii"))]
    return host


class TenantMiddleware:
    def __init__(self, app: ASGIApp, cache: TenantCache, base_domain: str,
                 secret_key: str = "") -> None:
        self.app, self.cache, self.base_domain = app, cache, base_domain
        self.secret_key = secret_key

    def _stamp_reads(self, scope: Scope, path: str) -> Reads:
        """Where this request reads the settings stamp: where the rest of it reads
        (`portal.middleware.read_preference`), its path taken as the router will see it; but
        never the primary or nothing, so a write while the primary is down still reaches the
        page that says so and keeps the form."""
        if path.startswith("/t/"):
            path = "/" + path[3:].partition("/")[2]
        reads = read_preference.reads_for(scope, path, self.secret_key)
        return Reads.FRESH if reads is Reads.PRIMARY else reads

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            host = _checked_host(scope)
        except BadHost:
            await PlainTextResponse("Bad Request", status_code=400)(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state["host"] = host
        path: str = scope["path"]
        if path.startswith(TENANT_FREE_PREFIXES) or path == "/embed.js":
            state["tenant"] = None
            await self.app(scope, receive, send)
            return
        slug = None
        try:
            reads = self._stamp_reads(scope, path)
            # A shared page the page cache missed: it read the stamp on the replica just now.
            seen = state.get("settings_stamp_seen") if reads is Reads.REPLICA else None
            state["settings_stamp"] = await self.cache.check(reads, seen)
            tenant = (self.cache.by_host(host.authority) if host.port is not None else None) \
                or self.cache.by_host(host.name)
            if tenant is None and host.name.endswith("." + self.base_domain):
                tenant = self.cache.by_slug(host.name[: -len(self.base_domain) - 1])
            if path.startswith("/w/"):
                tenant = self._widget_tenant(scope, path, tenant)
            elif tenant is None and path.startswith("/t/"):
                slug = path[3:].split("/", 1)[0]
                tenant = self.cache.by_slug(slug)
        except DatabaseUnavailable:  # neither the primary nor a replica answers
            response = PlainTextResponse("Service Unavailable", status_code=503,
                                         headers={"retry-after": str(RETRY_AFTER)})
            await response(scope, receive, send)
            return
        if slug is not None and tenant is not None:
            prefix = f"/t/{slug}"
            if path == prefix:
                response = PlainTextResponse("", status_code=308, headers={
                    "location": scope.get("root_path", "") + prefix + "/"})
                await response(scope, receive, send)
                return
            scope["root_path"] = scope.get("root_path", "") + prefix
        if tenant is None:
            await PlainTextResponse("Not Found", status_code=404)(scope, receive, send)
            return
        state["tenant"] = tenant
        await self.app(scope, receive, send)

    def _widget_tenant(self, scope: Scope, path: str, host_tenant: Tenant | None) -> Tenant | None:
        """Widget pages name their portal in the path: `/w/{slug}/map`.

        On a portal's own host the slug must be that portal's. On any other host they work like
        `/t/{slug}/`: URLs generated for them (API, theme, issue links) carry that prefix.
        """
        tenant = self.cache.by_slug(path[3:].split("/", 1)[0])
        if host_tenant is not None:
            return tenant if tenant is not None and tenant.id == host_tenant.id else None
        if tenant is not None:
            scope["root_path"] = scope.get("root_path", "") + f"/t/{tenant.slug}"
        return tenant
