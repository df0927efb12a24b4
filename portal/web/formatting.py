"""Dates, relative times and numbers in the active locale, through Babel.

Dates and times are shown in the portal's time zone (`portal.core.time_zones`), without
seconds: "Dec 1, 2026, 3:47 AM", not the UTC "8:47:07 AM" a resident cannot place."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache

from babel.dates import TIMEDELTA_UNITS, format_date, format_time, get_datetime_format
from babel.numbers import format_decimal

from portal.core import time_zones
from portal.core.i18n import babel_locale, current_locale


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def date(value: datetime | None, fmt: str = "medium") -> str:
    """The day in the portal's zone (a report at 23:30 local is that day, not UTC's next)."""
    if not value:
        return ""
    return format_date(time_zones.local(value), fmt, locale=babel_locale())


def datetime_(value: datetime | None, fmt: str = "medium") -> str:
    """Date (`fmt`) and time to the minute in the portal's zone, as the language joins them."""
    if not value:
        return ""
    moment = time_zones.local(value)
    locale = babel_locale()
    return (get_datetime_format(fmt, locale=locale)
            .replace("{1}", format_date(moment, fmt, locale=locale))
            .replace("{0}", format_time(moment, "short", tzinfo=moment.tzinfo, locale=locale)))


def iso(value: datetime | None) -> str:
    """A `<time datetime>` value: the moment in UTC, which machines read without a zone."""
    return _aware(value).astimezone(UTC).isoformat(timespec="minutes") if value else ""


AGO_THRESHOLD = 1.1  # Babel's: "1 day" from 26.4 hours on


def ago(value: datetime | None, now: datetime | None = None) -> str:
    """'3 days ago' in the active language: Babel's `format_timedelta(add_direction=True,
    threshold=1.1)`, word for word, with the wording of each (unit, number, direction) cached,
    since a list page asks for the same few dozen on every row."""
    if not value:
        return ""
    seconds = (_aware(value) - (now or datetime.now(UTC))).total_seconds()
    for unit, size in TIMEDELTA_UNITS:
        amount = abs(seconds) / size
        if amount >= AGO_THRESHOLD or unit == "second":
            if unit == "second" and amount > 0:
                amount = max(1, amount)
            return _ago(unit, int(round(amount)), seconds >= 0, current_locale())
    return ""


@lru_cache(maxsize=4096)
def _ago(unit: str, amount: int, future: bool, locale_code: str) -> str:
    locale = babel_locale(locale_code)
    relative = locale._data["date_fields"]
    for patterns in ((relative.get(f"{unit}-long") or relative.get(unit) or {})
                     .get("future" if future else "past"),
                     locale._data["unit_patterns"].get(f"duration-{unit}", {}).get("long")):
        if patterns is not None:
            pattern = patterns.get(locale.plural_form(amount)) or patterns.get("other")
            if pattern:
                return pattern.replace("{0}", str(amount))
    return ""


def number(value: float | int) -> str:
    if isinstance(value, int):  # counts: the same few recur on every page, and Babel is slow
        return _integer(value, current_locale())
    return format_decimal(value, locale=babel_locale())


@lru_cache(maxsize=4096)
def _integer(value: int, locale: str) -> str:
    return format_decimal(value, locale=babel_locale(locale))
