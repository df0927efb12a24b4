"""Talking to a body's own Open311 endpoint (the client side): only the configured address,
with time-outs, JSON documents, and the spec's errors kept for the operator.

The address comes from the body's `open311` block (an operator's file, so a city intranet or
loopback address is allowed, unlike a client's `media_url`); requests go to paths under it
only, redirects are not followed (a 3xx is an error) and answers are read within a time limit
and a size limit. The API key is read from the environment variable the block names.
"""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

TIMEOUT = 10.0  # seconds to connect and for the whole answer; far below the outbox lease
MAX_ANSWER = 8 * 1024 * 1024
CHUNK = 64 * 1024


class EndpointError(Exception):
    """A call that failed: `permanent` when retrying the same request cannot help (a 4xx)."""

    def __init__(self, text: str, *, permanent: bool = False, status: int | None = None) -> None:
        super().__init__(text)
        self.permanent = permanent
        self.status = status


@dataclass(frozen=True)
class Endpoint:
    base: str
    jurisdiction_id: str
    api_key: str
    service_codes: Mapping[str, str]
    updates: str

    @classmethod
    def of(cls, config: dict, environ: Mapping[str, str]) -> Endpoint:
        """The endpoint a body's checked `open311` block names, with its key from `environ`."""
        key = environ.get(config["api_key_env"], "").strip()
        return cls(config["endpoint"], config.get("jurisdiction_id", ""), key,
                   config.get("service_codes") or {}, config.get("updates", "requests"))

    def common(self) -> list[tuple[str, str]]:
        return [("jurisdiction_id", self.jurisdiction_id)] if self.jurisdiction_id else []


Caller = Callable[[str, str, str, list[tuple[str, str]]], object]
"""(method, base, path, fields) -> the parsed JSON answer; raises EndpointError."""


def _errors(raw: bytes) -> str:
    """The spec's `errors` (code and description), or the start of whatever came back."""
    try:
        found = json.loads(raw)
        if isinstance(found, list) and found and isinstance(found[0], dict):
            return "; ".join(f"{e.get('code', '')} {e.get('description', '')}".strip()
                             for e in found if isinstance(e, dict))
    except ValueError:
        pass
    return raw[:300].decode("utf-8", "replace")


def call(method: str, base: str, path: str, fields: list[tuple[str, str]], *,
         timeout: float = TIMEOUT) -> object:
    """GET (fields in the query) or POST (form-encoded, as the spec says) `base/path`."""
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise EndpointError(f"not an http(s) endpoint: {base!r}", permanent=True)
    target = f"{parts.path.rstrip('/')}/{path}"
    body = None
    headers = {"User-Agent": "Reportal-Open311/1", "Accept": "application/json"}
    if method == "GET":
        target += "?" + urlencode(fields) if fields else ""
    else:
        body = urlencode(fields).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    deadline = time.monotonic() + timeout
    try:
        conn = kind(parts.hostname, parts.port, timeout=timeout)
        try:
            conn.request(method, target, body=body, headers=headers)
            response = conn.getresponse()
            data = bytearray()
            while len(data) <= MAX_ANSWER:
                if time.monotonic() > deadline:
                    raise EndpointError(f"{method} {path}: no full answer in {timeout:g} s")
                chunk = response.read(CHUNK)
                if not chunk:
                    break
                data += chunk
        finally:
            conn.close()
    except (OSError, http.client.HTTPException) as exc:  # time-outs are OSErrors
        raise EndpointError(f"{method} {path}: {type(exc).__name__}: {exc}") from None
    if len(data) > MAX_ANSWER:
        raise EndpointError(f"{method} {path}: answer larger than {MAX_ANSWER} bytes")
    status = response.status
    if status >= 500 or status in (408, 429):
        raise EndpointError(f"{method} {path}: {status} {_errors(bytes(data))}", status=status)
    if status >= 300:
        raise EndpointError(f"{method} {path}: {status} {_errors(bytes(data))}",
                            permanent=True, status=status)
    try:
        return json.loads(data)
    except ValueError:
        raise EndpointError(f"{method} {path}: the answer is not JSON") from None
