"""Dates, relative times and numbers in the active locale, through Babel."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache

from babel.dates import format_date, format_datetime, format_timedelta
from babel.numbers import format_decimal

from portal.core.i18n import babel_locale, current_locale


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def date(value: datetime | None, fmt: str = "medium") -> str:
    return format_date(_aware(value), fmt, locale=babel_locale()) if value else ""


def datetime_(value: datetime | None, fmt: str = "medium") -> str:
    return format_datetime(_aware(value), fmt, locale=babel_locale()) if value else ""


def ago(value: datetime | None, now: datetime | None = None) -> str:
    """'3 days ago' in the active language."""
    if not value:
        return ""
    delta = _aware(value) - (now or datetime.now(UTC))
    return format_timedelta(delta, add_direction=True, threshold=1.1, locale=babel_locale())


def number(value: float | int) -> str:
    if isinstance(value, int):  # counts: the same few recur on every page, and Babel is slow
        return _integer(value, current_locale())
    return format_decimal(value, locale=babel_locale())


@lru_cache(maxsize=4096)
def _integer(value: int, locale: str) -> str:
    return format_decimal(value, locale=babel_locale(locale))
