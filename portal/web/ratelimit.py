"""Per-process sliding-window rate limits for submissions, votes and sign-ins.

Keys always carry the tenant and the action. Limits live in memory (a cache, not state):
behind several app servers each enforces its own share, which is enough to stop a flood.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque


class RateLimiter:
    def __init__(self, limits: dict[str, tuple[int, float]], enabled: bool = True) -> None:
        self.limits = limits  # action -> (count, seconds)
        self.enabled = enabled
        self._hits: dict[tuple[str, str, str], deque[float]] = defaultdict(deque)

    def allow(self, tenant_slug: str, action: str, who: str) -> bool:
        if not self.enabled or action not in self.limits:
            return True
        count, window = self.limits[action]
        now = time.monotonic()
        hits = self._hits[(tenant_slug, action, who)]
        while hits and hits[0] <= now - window:
            hits.popleft()
        if len(hits) >= count:
            return False
        hits.append(now)
        return True


DEFAULT_LIMITS = {
    "report": (10, 600.0),
    "vote": (60, 600.0),  # per address, over all issues
    "vote_issue": (10, 600.0),  # per network (/24, /56) and issue
    "comment": (20, 600.0),
    "signin": (5, 900.0),
    "watch": (10, 900.0),
    "flag": (10, 600.0),
}
