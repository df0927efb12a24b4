"""Fetching a photo a client names by `media_url`, without letting it reach our own network.

Only http(s); the host is resolved once and every address it has must be public (no
loopback, private, link-local, multicast or reserved ranges) unless the operator allows
private addresses (`OPEN311_MEDIA_PRIVATE=1`, for a city's intranet). The connection goes
to the address we checked (no second lookup a DNS rebinding could answer differently), with
a time-out on connecting and on the whole download, no redirects, an image content type and
at most the photo limit in bytes. `portal.reports.photos` then decides if it is a photo.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from portal.core.errors import N_, DomainError

TIMEOUT = 5.0  # seconds to connect, and for the whole download
CHUNK = 64 * 1024


class MediaRefused(DomainError):
    pass


Resolver = Callable[[str, int], list[str]]


def resolve(host: str, port: int) -> list[str]:
    return sorted({info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_url(url: str, allow_private: bool, resolver: Resolver = resolve
              ) -> tuple[str, str, int, str, str]:
    """(scheme, host, port, address, path) for a URL we may fetch; else MediaRefused."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise MediaRefused(N_("The media_url is not a valid address.")) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise MediaRefused(N_("The media_url must be an http or https address."))
    if parts.username or parts.password:
        raise MediaRefused(N_("The media_url must not carry a user name or password."))
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = resolver(parts.hostname, port)
    except (OSError, UnicodeError):
        raise MediaRefused(N_("The media_url's host could not be found.")) from None
    if not addresses:
        raise MediaRefused(N_("The media_url's host could not be found."))
    if not allow_private and not all(_public(a) for a in addresses):
        raise MediaRefused(N_("The media_url points at a private or local address; "
                              "it was not fetched."))
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return parts.scheme, parts.hostname, port, addresses[0], path


# Fetches at once per process. A fetch holds one of the few request threads
# (`REQUEST_THREADS`) for up to `TIMEOUT`; without a bound, two slow media_urls would hold
# them all and every page of every portal on this process would wait.
FETCHES = threading.BoundedSemaphore(1)


def fetch(url: str, max_bytes: int, *, allow_private: bool = False,
          resolver: Resolver = resolve, timeout: float = TIMEOUT) -> bytes:
    """The image at `url`, at most `max_bytes + 1` bytes (so the photo check sees "too big")."""
    scheme, host, port, address, path = check_url(url, allow_private, resolver)
    if not FETCHES.acquire(blocking=False):
        raise MediaRefused(N_("Another photo is being fetched just now; send the request "
                              "again in a few seconds."))
    try:
        return _download(scheme, host, port, address, path, max_bytes, timeout)
    finally:
        FETCHES.release()


def _download(scheme: str, host: str, port: int, address: str, path: str, max_bytes: int,
              timeout: float) -> bytes:
    deadline = time.monotonic() + timeout
    sock = None
    expired = threading.Event()

    def cut_off() -> None:
        # A socket time-out bounds each receive, not the whole: a server sending a byte a
        # second would hold the thread for ever. At the deadline the socket is shut, and
        # whatever read is waiting returns.
        expired.set()
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    timer = threading.Timer(timeout, cut_off)
    timer.daemon = True
    timer.start()
    try:
        sock = socket.create_connection((address, port), timeout=timeout)
        if expired.is_set():
            raise MediaRefused(N_("The media_url took too long to answer."))
        if scheme == "https":
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
        conn.sock = sock  # already connected to the address we checked
        default_port = 443 if scheme == "https" else 80
        conn.request("GET", path, headers={
            "Host": host if port == default_port else f"{host}:{port}",
            "User-Agent": "Reportal-Open311/1", "Accept": "image/*"})
        response = conn.getresponse()
        if response.status != 200:
            raise MediaRefused(N_("The media_url answered %(status)s, not a photo."),
                               status=response.status)
        kind = (response.getheader("Content-Type") or "").split(";")[0].strip().lower()
        if not kind.startswith("image/"):
            raise MediaRefused(N_("The media_url is not an image."))
        length = response.getheader("Content-Length")
        if length and length.isdigit() and int(length) > max_bytes:
            raise MediaRefused(N_("The media_url's photo is larger than this portal accepts."))
        data = bytearray()
        while len(data) <= max_bytes:
            if time.monotonic() > deadline:
                raise MediaRefused(N_("The media_url took too long to answer."))
            chunk = response.read(min(CHUNK, max_bytes + 1 - len(data)))
            if not chunk:
                break
            data += chunk
        conn.close()
        if expired.is_set():
            raise MediaRefused(N_("The media_url took too long to answer."))
        return bytes(data)
    except MediaRefused:
        if expired.is_set():  # a cut-off answer looks like a bad one: say what it was
            raise MediaRefused(N_("The media_url took too long to answer.")) from None
        raise
    except (OSError, http.client.HTTPException, ssl.SSLError) as error:
        # A socket time-out may come before the timer thread has run (on a busy machine):
        # it is the same deadline, so it gets the same answer.
        if expired.is_set() or isinstance(error, TimeoutError):
            raise MediaRefused(N_("The media_url took too long to answer.")) from None
        raise MediaRefused(N_("The media_url could not be fetched.")) from None
    finally:
        timer.cancel()
        if sock is not None:
            sock.close()
