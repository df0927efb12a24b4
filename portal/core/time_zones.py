"""Each portal's time zone, and times shown and typed in it.

Times are stored in UTC. A page shows them in its portal's zone (`portal.json` `time_zone`,
an IANA name such as `America/New_York`), and a time typed into a form (an announcement's
start) is read in that zone. The zone lives in a context variable that the locale middleware
sets for each request (and `use_time_zone` for mail and the CLI), as the language does, so
the template filters need no argument.

Why not derive the zone from the portal's area: a table of a few cities covers nobody else,
a longitude puts half the world an hour off (China is one zone, Spain is on Berlin's), and
a full boundary database is megabytes of data for a value an operator types once. So the
zone is a setting; without one a portal shows UTC, says so on its pages' times, and
`portal tenants load` warns.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

DEFAULT = "UTC"
_current: ContextVar[str] = ContextVar("reportal_time_zone", default=DEFAULT)


def is_known(name: str) -> bool:
    """Whether `name` is an IANA zone this system knows (`America/New_York`, `UTC`)."""
    return isinstance(name, str) and name in _known()


@lru_cache(maxsize=1)
def _known() -> frozenset[str]:
    return frozenset(available_timezones()) | {"UTC"}


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT)


def current() -> ZoneInfo:
    return zone(_current.get())


def current_name() -> str:
    return _current.get()


@contextmanager
def use_time_zone(name: str | None) -> Iterator[None]:
    token = _current.set(name or DEFAULT)
    try:
        yield
    finally:
        _current.reset(token)


def aware(value: datetime) -> datetime:
    """A stored time (naive means UTC, as SQLite gives them back) made explicit."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def local(value: datetime) -> datetime:
    """The time in the current portal's zone."""
    return aware(value).astimezone(current())


def from_local(value: datetime, name: str) -> datetime:
    """A wall-clock time typed in the zone `name`, in UTC.

    A time the clocks skip (02:30 on the spring-forward night) is read with the offset before
    the jump, so it lands just after it (03:30); a repeated one (the autumn night) as its
    first occurrence (`fold=0`, PEP 495). Both are close enough to what a person setting
    "2:30" means for an announcement, and neither is refused."""
    if value.tzinfo is not None:
        return value.astimezone(UTC)
    return value.replace(tzinfo=zone(name), fold=0).astimezone(UTC)
