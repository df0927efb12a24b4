"""Someone else's website for widget tests: a tiny threaded HTTP server on 127.0.0.2.

127.0.0.2 is another site than the portal on 127.0.0.1 (for cookies, frames and
postMessage), with no DNS or hosts file. Pages are registered in memory with their own
response headers (a strict CSP, say) and written with the real snippet generator, so the
tests paste exactly what a newsroom editor would.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.browser.conftest import free_port

HOST = "127.0.0.2"
# Plain stylesheet for host pages (their CSP allows style-src 'self' only).
HOST_CSS = """body { font: 16px/1.5 Georgia, serif; margin: 0 auto; max-width: 46rem; }
.filler { height: 1400px; background: repeating-linear-gradient(#fff 0 40px, #eee 40px 80px); }
.short { height: 200px; }
"""


class HostSite:
    """`page(path, body, headers)` registers a page; `url(path)` is where the browser finds it."""

    def __init__(self, host: str = HOST) -> None:
        self.host, self.port = host, free_port(host)
        self.pages: dict[str, tuple[bytes, dict[str, str]]] = {}
        self.page("/host.css", HOST_CSS, content_type="text/css")
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                body, headers = site.pages.get(self.path.split("?")[0], (b"Not Found", {}))
                self.send_response(200 if headers else 404)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer((host, self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return self.origin + path

    def page(self, path: str, body: str, headers: dict[str, str] | None = None,
             content_type: str = "text/html; charset=utf-8") -> str:
        self.pages[path] = (body.encode(), {"Content-Type": content_type, **(headers or {})})
        return self.url(path)

    def article(self, path: str, widgets: str, headers: dict[str, str] | None = None,
                head: str = "", before: str = "filler") -> str:
        """A news article: a headline, text, then the widgets (snippets as written)."""
        body = (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
                f'<title>Local news</title><link rel="stylesheet" href="/host.css">{head}</head>'
                f'<body><h1>Local news</h1><div class="{before}"></div>{widgets}'
                '<div class="filler"></div></body></html>')
        return self.page(path, body, headers)

    def __enter__(self) -> HostSite:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
