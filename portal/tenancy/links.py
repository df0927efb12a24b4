"""Absolute links to a portal, for mail.

A link in an email must never come from an unchecked Host header (someone could ask for a
sign-in link "on" their own domain and receive the victim's token). So a request's own
address is used only when its host is one the portal owns — a `TenantHost` row or
`{slug}.{base domain}` — and otherwise the configured `PUBLIC_URL` with the `/t/{slug}`
prefix, which always works.
"""

from __future__ import annotations

from portal.models import Tenant


def portal_base(public_url: str, tenant: Tenant) -> str:
    """The portal's address under the configured public URL (no trailing slash)."""
    return f"{public_url.rstrip('/')}/t/{tenant.slug}"


def request_base(scheme: str, host: str, root_path: str, tenant: Tenant, base_domain: str,
                 public_url: str) -> str:
    """The address the person is using, if it verifiably belongs to `tenant`."""
    bare = host.split(":")[0].lower()
    owned = {h.host.split(":")[0] for h in tenant.hosts} | {f"{tenant.slug}.{base_domain}"}
    if bare in owned and scheme in ("http", "https"):
        return f"{scheme}://{host.lower()}{root_path}"
    return portal_base(public_url, tenant)
