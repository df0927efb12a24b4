"""Find the portal a request is for, from its Host or a `/t/{slug}/` path prefix.

Lower-cased host -> `TenantHost`, else `{slug}.{base_domain}`, else the local-development
prefix `/t/{slug}/`, which becomes the request's root path so every generated URL keeps it.
Widget pages `/w/{slug}/…` take the portal from the path (see `_widget_tenant`). An unknown
host gets a plain 404 that names no tenant. Paths that need no tenant (static files, the embed
loader, health) pass through with `tenant` unset.
"""

from __future__ import annotations

import time

from sqlalchemy import select
from sqlalchemy.orm import selectinload
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from portal.core.db import Database
from portal.models import Tenant, TenantHost

TENANT_FREE_PREFIXES = ("/static/", "/embed.js", "/healthz", "/favicon.ico", "/embed/")


class TenantCache:
    """Tenant rows by host or slug for a few seconds: edits show up without a restart."""

    def __init__(self, db: Database, ttl: float = 5.0) -> None:
        self.db, self.ttl = db, ttl
        self._rows: dict[str, tuple[float, Tenant | None]] = {}

    def _load(self, key: str, query) -> Tenant | None:  # noqa: ANN001 - a select
        hit = self._rows.get(key)
        if hit and hit[0] > time.monotonic():
            return hit[1]
        with self.db.session() as session:
            tenant = session.scalars(query.options(selectinload(Tenant.hosts))).first()
            if tenant is not None:
                session.expunge(tenant)
        self._rows[key] = (time.monotonic() + self.ttl, tenant)
        return tenant

    def by_host(self, host: str) -> Tenant | None:
        query = select(Tenant).join(TenantHost).where(TenantHost.host == host)
        return self._load(f"host:{host}", query)

    def by_slug(self, slug: str) -> Tenant | None:
        return self._load(f"slug:{slug}", select(Tenant).where(Tenant.slug == slug))

    def clear(self) -> None:
        self._rows.clear()


def _host(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"host":
            return value.decode("latin-1").strip().lower()
    return ""


class TenantMiddleware:
    def __init__(self, app: ASGIApp, cache: TenantCache, base_domain: str) -> None:
        self.app, self.cache, self.base_domain = app, cache, base_domain

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith(TENANT_FREE_PREFIXES) or path == "/embed.js":
            scope.setdefault("state", {})["tenant"] = None
            await self.app(scope, receive, send)
            return
        host = _host(scope)
        tenant = self.cache.by_host(host) or self.cache.by_host(host.split(":")[0])
        bare = host.split(":")[0]
        if tenant is None and bare.endswith("." + self.base_domain):
            tenant = self.cache.by_slug(bare[: -len(self.base_domain) - 1])
        if path.startswith("/w/"):
            tenant = self._widget_tenant(scope, path, tenant)
        elif tenant is None and path.startswith("/t/"):
            slug = path[3:].split("/", 1)[0]
            tenant = self.cache.by_slug(slug)
            if tenant is not None:
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
        scope.setdefault("state", {})["tenant"] = tenant
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
