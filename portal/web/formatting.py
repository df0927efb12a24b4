"""Dates, relative times and numbers in the active locale, through Babel."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache

from babel.dates import TIMEDELTA_UNITS, format_date, format_datetime
from babel.numbers import format_decimal

from portal.core.i18n import babel_locale, current_locale


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def date(value: datetime | None, fmt: str = "medium") -> str:
    return format_date(_aware(value), fmt, locale=babel_locale()) if value else ""


def datetime_(value: datetime | None, fmt: str = "medium") -> str:
    return format_datetime(_aware(value), fmt, locale=babel_locale()) if value else ""


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
