"""uvicorn with N worker processes, with Nagle's algorithm off as in the one-process server.

For `portal serve --workers N`: uvicorn's supervisor binds the listening socket once and starts
N fresh interpreters, each of which builds its own app from an import string (a factory that
reads the environment) and accepts from the shared socket.

uvicorn binds that socket with `proto` 0. The sockets accepted from it inherit the 0, and
asyncio sets TCP_NODELAY only on sockets whose proto is IPPROTO_TCP, so with Nagle on every
keep-alive response after the first (headers and body are two writes) waits ~40 ms for the
client's delayed ACK (Kludex/uvicorn#3149). One process is spared: asyncio binds its own
socket with IPPROTO_TCP. The fix proposed upstream is ours: wrap the bound socket's descriptor
in a socket object whose proto is IPPROTO_TCP; the workers receive it pickled, proto included,
and every socket they accept then gets TCP_NODELAY.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
import uvicorn.config


def as_tcp(sock: socket.socket) -> socket.socket:
    """The same listening socket, declared IPPROTO_TCP (Unix sockets are left as they are)."""
    if sock.family not in (socket.AF_INET, socket.AF_INET6) or sock.proto == socket.IPPROTO_TCP:
        return sock
    return socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())


@contextmanager
def nodelay_listening_sockets() -> Iterator[None]:
    """While inside, the sockets uvicorn binds for its workers are declared IPPROTO_TCP.

    Only the supervisor binds (workers receive the socket), so this is needed in it alone.
    """
    bind_socket = uvicorn.config.Config.bind_socket

    def bind_tcp_socket(config: uvicorn.config.Config) -> socket.socket:
        return as_tcp(bind_socket(config))

    uvicorn.config.Config.bind_socket = bind_tcp_socket
    try:
        yield
    finally:
        uvicorn.config.Config.bind_socket = bind_socket


def run(factory: str, *, host: str, port: int, workers: int, **options: Any) -> None:  # noqa: ANN401
    """Serve the app `factory` ("module:function") from `workers` processes until stopped."""
    with nodelay_listening_sockets():
        uvicorn.run(factory, factory=True, host=host, port=port, workers=workers, **options)
