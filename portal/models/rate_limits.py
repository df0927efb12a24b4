"""Rate-limit hits kept in the database, so every process counts the same hits.

One row per allowed request of a limited action (`portal.web.ratelimit`). `bucket` is a keyed
hash of (portal, action, who), never the address or email itself; a row is dead once
`expires_at` (milliseconds since the epoch) has passed, and a periodic sweep deletes it.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.core import Base


class RateLimitHit(Base):
    __tablename__ = "rate_limit_hits"
    __table_args__ = (Index("ix_rate_limit_hits_bucket_expires", "bucket", "expires_at"),)

    # 64 bits on PostgreSQL (hits are many over the years); SQLite's rowid is 64 bits already.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True)
    bucket: Mapped[str] = mapped_column(String(32))
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)
