"""`uvicorn --workers N` for bench/scale.py, with Nagle off as in the one-process server.

uvicorn binds the shared listening socket with `proto` 0; accepted sockets inherit it and
asyncio then skips TCP_NODELAY, so every keep-alive response after the first waits ~40 ms for
the client's delayed ACK (Kludex/uvicorn#3149). Re-wrapping the socket with IPPROTO_TCP is
the fix proposed upstream; without it the benchmark would measure that, not the portal.
Usage: python bench/uvicorn_workers.py <uvicorn arguments>
"""

from __future__ import annotations

import socket

import uvicorn.config
from uvicorn.main import main

_bind_socket = uvicorn.config.Config.bind_socket


def bind_socket(self: uvicorn.config.Config) -> socket.socket:
    sock = _bind_socket(self)
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        sock = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
    return sock


uvicorn.config.Config.bind_socket = bind_socket

if __name__ == "__main__":
    main()
