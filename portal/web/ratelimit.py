"""Sliding-window rate limits for submissions, votes and sign-ins, shared by every process.

`allow(tenant_slug, action, who)` counts the hits of (portal, action, who) within the action's
window and records one more if the count is under the limit; refused attempts are not recorded,
so a client that keeps trying is let in again as its old hits age out.

No limit lives in one process: behind `portal serve --workers N`, or several app servers, each
process would otherwise enforce its own share, and N workers would let N times the limit
through. The hits are kept where every process sees them (`portal.web.ratelimit_stores`):

- in the database by default (the `rate_limit_hits` table), counted and added in one
  serialised transaction;
- in Redis when `REDIS_URL` is set (one atomic script per hit), which takes these small
  writes off the database.

Keys are an HMAC of (portal, action, who) under the server's secret: neither store holds an
address or an email. The clock is the app server's wall clock (one that all processes share;
across machines, NTP's skew of milliseconds is nothing to a window of minutes).

Portal data versions (`portal.tenancy.data_version`), the other shared state, stay in the
database even with Redis: they move in the transaction of the change they count, and Redis
cannot join that transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from typing import Protocol

from sqlalchemy import Engine

from portal.core.settings import Settings
from portal.web.ratelimit_stores import DatabaseHits, RedisHits


class HitStore(Protocol):
    def add_if_under(self, bucket: str, limit: int, window_ms: int, now_ms: int) -> bool:
        """Record a hit at `now_ms` unless `bucket` holds `limit` hits newer than `window_ms`."""


class RateLimiter:
    """`limits`: action -> (count, seconds). Actions not listed are never limited."""

    def __init__(self, limits: dict[str, tuple[int, float]], store: HitStore, secret: str,
                 enabled: bool = True, clock: Callable[[], float] = time.time) -> None:
        self.limits, self.store, self.enabled, self.clock = limits, store, enabled, clock
        self._key = hashlib.sha256(b"reportal.rate-limit:" + secret.encode()).digest()

    def bucket(self, tenant_slug: str, action: str, who: str) -> str:
        text = "\x1f".join((tenant_slug, action, who)).encode()
        return hmac.new(self._key, text, hashlib.sha256).hexdigest()[:32]

    def allow(self, tenant_slug: str, action: str, who: str) -> bool:
        if not self.enabled or action not in self.limits:
            return True
        count, window = self.limits[action]
        return self.store.add_if_under(self.bucket(tenant_slug, action, who), count,
                                       round(window * 1000), round(self.clock() * 1000))


def rate_limiter(settings: Settings, engine: Engine) -> RateLimiter:
    """The app's limiter: hits in Redis if `REDIS_URL` is set, else in the database."""
    store = RedisHits(settings.redis_url) if settings.redis_url else DatabaseHits(engine)
    return RateLimiter(dict(DEFAULT_LIMITS), store, settings.secret_key,
                       enabled=settings.rate_limits)


DEFAULT_LIMITS = {
    "report": (10, 600.0),
    "vote": (60, 600.0),  # per address, over all issues
    "vote_issue": (10, 600.0),  # per network (/24, /56) and issue
    "comment": (20, 600.0),
    "signin": (5, 900.0),
    "watch": (10, 900.0),
    "flag": (10, 600.0),
    "open311": (300, 600.0),  # per API key: a city's app files for many residents
    "sms_number": (20, 600.0),  # texts per sender: a conversation takes about five
    "sms_portal": (600, 600.0),  # texts per portal number, from everyone
}
