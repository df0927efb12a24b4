"""Absolute links to a portal, for mail, feeds, exports and snippets.

A link that leaves the page must never come from an unchecked Host header (someone could ask
for a sign-in link "on" their own domain and receive the victim's token). So a request's own
address is used only when its host, already parsed strictly (`portal.tenancy.hosts`), is one
the portal owns — a `TenantHost` row or `{slug}.{base domain}` — and then it is rebuilt from
the parsed parts (lower-case name, port), never copied from the header. Otherwise links use
the configured `PUBLIC_URL` with the `/t/{slug}` prefix, which always works.
"""

from __future__ import annotations

from portal.models import Tenant
from portal.tenancy.hosts import Host


def portal_base(public_url: str, tenant: Tenant) -> str:
    """The portal's address under the configured public URL (no trailing slash)."""
    return f"{public_url.rstrip('/')}/t/{tenant.slug}"


def owns(tenant: Tenant, host: Host, base_domain: str) -> bool:
    """Whether `host` (on any port) is one of the portal's own addresses."""
    owned = {h.host.split(":")[0] for h in tenant.hosts} | {f"{tenant.slug}.{base_domain}"}
    return host.name in owned


def _verified(scheme: str, host: Host | None, tenant: Tenant, base_domain: str) -> bool:
    return host is not None and scheme in ("http", "https") and owns(tenant, host, base_domain)


def request_base(scheme: str, host: Host | None, root_path: str, tenant: Tenant,
                 base_domain: str, public_url: str) -> str:
    """The address the person is using, if it verifiably belongs to `tenant`."""
    if _verified(scheme, host, tenant, base_domain):
        return f"{scheme}://{host.authority}{root_path}"
    return portal_base(public_url, tenant)


def request_origin(scheme: str, host: Host | None, tenant: Tenant, base_domain: str,
                   public_url: str) -> str:
    """The origin that serves the portal's loader and widgets, by the same rule."""
    if _verified(scheme, host, tenant, base_domain):
        return f"{scheme}://{host.authority}"
    return public_url.rstrip("/")
