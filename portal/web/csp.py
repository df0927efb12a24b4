"""The Content-Security-Policy of our pages: only our own scripts, styles and images.

One builder, used by the page renderer (which knows the portal's tile origin and a widget's
`frame-ancestors`) and by the security-headers middleware (the fallback for everything else).
"""

from __future__ import annotations


def page_csp(tile_origin: str = "", frame_ancestors: str = "'self'") -> str:
    img = "'self' data:" + (f" {tile_origin}" if tile_origin else "")
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; "
        f"img-src {img}; connect-src 'self'; font-src 'self'; form-action 'self'; "
        f"base-uri 'none'; frame-ancestors {frame_ancestors}; manifest-src 'self'"
    )
