"""A request's Host header, parsed strictly: a host name or an IP literal, and maybe a port.

The Host picks the portal and, when the portal owns it, the address in links we mail and
publish (`portal.tenancy.links`). So nothing but what RFC 1123 and RFC 3986 allow may pass:
dot-separated labels of letters, digits and inner hyphens (at most 63 each, 253 in all), or
an IPv4 address, or an IPv6 address in brackets; then optionally `:` and a port 1-65535.
Userinfo (`a@b`), paths, spaces, non-ASCII bytes (browsers send IDNs as `xn--` labels) and
an empty or zero port are all refused. The name is lower-cased and one trailing dot (the
fully qualified form) dropped, so `Portal.Example.` and `portal.example` are one host.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_PORT = re.compile(r"[0-9]{1,5}")
_IPV6 = re.compile(r"[0-9a-f:.]{2,45}")
_MAX_LENGTH = 300  # 253 for the name, brackets and a port; anything longer is refused unread


class BadHost(ValueError):
    """The Host header is missing, repeated, or not a host name and port."""


@dataclass(frozen=True)
class Host:
    """A checked host: `name` is lower-case (an IPv6 address without its brackets)."""

    name: str
    port: int | None = None

    @property
    def authority(self) -> str:
        """The host as it goes into a URL: `name[:port]`, IPv6 in brackets."""
        name = f"[{self.name}]" if ":" in self.name else self.name
        return name if self.port is None else f"{name}:{self.port}"


def parse_host(values: list[bytes]) -> Host:
    """The one Host header of a request (all its raw values), or BadHost."""
    if len(values) != 1 or len(values[0]) > _MAX_LENGTH:
        raise BadHost("expected exactly one Host header")
    try:
        text = values[0].decode("ascii").strip(" \t").lower()
    except UnicodeDecodeError:
        raise BadHost("a host name is ASCII") from None
    if text.startswith("["):
        address, bracket, rest = text[1:].partition("]")
        if not bracket:
            raise BadHost("unclosed IPv6 literal")
        name = _ipv6(address)
    else:
        name, colon, digits = text.partition(":")
        name, rest = _host_name(name), colon + digits
    return Host(name, _port(rest))


def _ipv6(text: str) -> str:
    # `%` zone ids are for links on one machine, never for a URL someone else follows.
    if not _IPV6.fullmatch(text):
        raise BadHost("not an IPv6 literal")
    try:
        return ipaddress.IPv6Address(text).compressed
    except ValueError:
        raise BadHost("not an IPv6 literal") from None


def _host_name(text: str) -> str:
    name = text[:-1] if text.endswith(".") else text
    labels = name.split(".")
    if not 0 < len(name) <= 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise BadHost("not a host name")
    if labels[-1].isdigit():  # no top-level domain is numeric: this must be an IPv4 address
        try:
            ipaddress.IPv4Address(name)
        except ValueError:
            raise BadHost("not an IPv4 address") from None
    return name


def _port(rest: str) -> int | None:
    """`rest` is what follows the name: nothing, or `:` and 1-65535."""
    if not rest:
        return None
    if not rest.startswith(":") or not _PORT.fullmatch(rest[1:]):
        raise BadHost("not a port")
    port = int(rest[1:])
    if not 0 < port <= 65535:
        raise BadHost("port out of range")
    return port
