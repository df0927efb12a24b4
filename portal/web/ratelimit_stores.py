"""Where rate-limit hits are kept so that every process counts the same ones: a table, or Redis.

Both answer `add_if_under(bucket, limit, window_ms, now_ms)`: record a hit at `now_ms` unless
the bucket already holds `limit` hits younger than `window_ms`, as one indivisible step, so
concurrent requests in any number of processes never let more than `limit` through.
"""

from __future__ import annotations

import secrets
import zlib

import redis
from sqlalchemy import BigInteger, Engine, String, delete, func, insert, literal, select

from portal.models import RateLimitHit

HITS = RateLimitHit.__table__
# PostgreSQL advisory locks are (namespace, key) pairs of int4; these are ours.
BUCKET_LOCKS, SWEEP_LOCK = 0x52544C31, (0x52544C32, 0)


def _lock_key(bucket: str) -> int:
    return zlib.crc32(bucket.encode()) - 2**31  # into int4; two buckets sharing one only wait


class DatabaseHits:
    """Hits as rows of `rate_limit_hits`, one per allowed request.

    One INSERT … SELECT … WHERE (live hits of the bucket) < limit counts and adds. Two of them
    for one bucket must not interleave, or both would count limit - 1 and both add: SQLite runs
    one writing statement at a time (the write lock is taken as the statement starts, so its
    count is read under the lock), and on PostgreSQL, where READ COMMITTED statements do not see
    each other's uncommitted rows, a transaction-scoped advisory lock on the bucket serialises
    them (other buckets go on in parallel).

    Expired rows are not deleted per hit, which would make hits of unrelated buckets contend for
    the same old rows: at most every `SWEEP_SECONDS` a process deletes all expired rows through
    the `expires_at` index, so the table holds about one window of allowed hits.
    """

    SWEEP_SECONDS = 60

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.postgres = engine.dialect.name == "postgresql"
        self._next_sweep_ms = 0

    def add_if_under(self, bucket: str, limit: int, window_ms: int, now_ms: int) -> bool:
        live = (select(func.count()).select_from(HITS)
                .where(HITS.c.bucket == bucket, HITS.c.expires_at > now_ms).scalar_subquery())
        row = select(literal(bucket, String), literal(now_ms + window_ms, BigInteger))
        add = (insert(HITS).from_select(["bucket", "expires_at"], row.where(live < limit))
               .returning(HITS.c.id))
        with self.engine.begin() as conn:
            if self.postgres:
                conn.execute(select(func.pg_advisory_xact_lock(BUCKET_LOCKS, _lock_key(bucket))))
            added = conn.execute(add).first() is not None
        if now_ms >= self._next_sweep_ms:
            self.sweep(now_ms)
        return added

    def sweep(self, now_ms: int) -> None:
        """Delete every expired hit (one process at a time on PostgreSQL; the others skip)."""
        self._next_sweep_ms = now_ms + self.SWEEP_SECONDS * 1000
        with self.engine.begin() as conn:
            if self.postgres and not conn.scalar(select(func.pg_try_advisory_xact_lock(
                    *SWEEP_LOCK))):
                return
            conn.execute(delete(HITS).where(HITS.c.expires_at <= now_ms))


# Redis runs one script at a time, so trimming, counting and adding are one step.
_ADD_IF_UNDER = """
local key, limit, window, now = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
if redis.call('ZCARD', key) >= limit then return 0 end
redis.call('ZADD', key, now, ARGV[4])
redis.call('PEXPIRE', key, window)
return 1
"""


class RedisHits:
    """Hits as members of one sorted set per bucket, scored by their time in milliseconds.

    The set expires with its newest hit's window, so idle buckets vanish by themselves. If Redis
    cannot be reached the request fails (a 500) rather than going unlimited.
    """

    PREFIX = "reportal:rate:"

    def __init__(self, url: str) -> None:
        self.client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self._add_if_under = self.client.register_script(_ADD_IF_UNDER)

    def add_if_under(self, bucket: str, limit: int, window_ms: int, now_ms: int) -> bool:
        member = f"{now_ms}:{secrets.token_hex(8)}"  # two hits in one millisecond are two
        return bool(self._add_if_under(keys=[self.PREFIX + bucket],
                                       args=[limit, window_ms, now_ms, member]))
