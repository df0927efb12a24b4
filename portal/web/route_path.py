"""The path a request's router sees, for middleware that runs before routing."""

from __future__ import annotations

from starlette.types import Scope


def route_path(scope: Scope) -> str:
    """The path without the `/t/{slug}` root path the tenant middleware set, if any."""
    path, root = scope["path"], scope.get("root_path", "")
    if root and (path == root or path.startswith(root + "/")):
        return path[len(root):]
    return path
