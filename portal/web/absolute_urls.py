"""Absolute URLs to the request's portal: on the verified Host only if the portal owns it.

The Host was parsed strictly at the edge (`portal.middleware.tenant` keeps it as
`request.state.host`); the rule itself is `portal.tenancy.links.request_base`. Handlers that
put a URL in mail, a feed, an export or a snippet use these, never `request.url`.
"""

from __future__ import annotations

from starlette.requests import Request

from portal.tenancy import links
from portal.web.request_context import tenant


def portal_address(request: Request) -> str:
    """The portal's absolute address (no trailing slash), prefix included."""
    settings = request.app.state.settings
    return links.request_base(request.scope.get("scheme", "http"),
                              getattr(request.state, "host", None),
                              request.scope.get("root_path", ""), tenant(request),
                              settings.base_domain, settings.public_url)


def portal_origin(request: Request) -> str:
    """Scheme, host and port that serve the portal's `/embed.js` and `/w/…` pages."""
    settings = request.app.state.settings
    return links.request_origin(request.scope.get("scheme", "http"),
                                getattr(request.state, "host", None), tenant(request),
                                settings.base_domain, settings.public_url)


def absolute(request: Request, path: str) -> str:
    """An absolute URL for a path from `url()` (which already carries the prefix)."""
    return portal_address(request) + path.removeprefix(request.scope.get("root_path", ""))
