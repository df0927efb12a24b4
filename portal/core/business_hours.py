"""Business time: when a promise made "within 2 business days" falls due.

A body works on some weekdays between an opening and a closing time on the wall clock of its
time zone, except on its holidays. A target in business time counts only those hours: "2
business days" is twice the length of one working day, "4 business hours" four of its
hours. A target in plain days or hours counts every hour, as a clock does.

Everything is computed in UTC instants. Each working day's opening and closing are placed on
the body's wall clock (zoneinfo), then turned into instants, so a daylight-saving change
moves them with the clock: a body open 08:00-17:00 is open 08:00-17:00 local on both sides
of the change, and an overnight change (at 02:00) never shortens a working day. Aware
datetimes that share a tzinfo compare and subtract by wall time in Python, which is why no
arithmetic here is done on local times.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from portal.core.errors import N_, ConfigError

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DURATION = re.compile(r"^\s*(\d{1,4})\s+(business\s+)?(day|days|hour|hours)\s*$")
CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")
# However the hours are set, a due time further than this is not searched for (ten years of
# holidays in a row would be a mistake in the file, not a promise).
MAX_DAYS = 3660


@dataclass(frozen=True)
class Hours:
    """When a body works: weekdays (0 = Monday), opening and closing wall-clock times in
    minutes after midnight, its time zone and its holidays."""

    time_zone: str
    days: frozenset[int]
    opens: int
    closes: int
    holidays: frozenset[date]

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def day_seconds(self) -> int:
        return (self.closes - self.opens) * 60

    @property
    def opens_text(self) -> str:
        return _clock(self.opens)

    @property
    def closes_text(self) -> str:
        return _clock(self.closes)

    def works_on(self, day: date) -> bool:
        return day.weekday() in self.days and day not in self.holidays


@dataclass(frozen=True)
class Span:
    """A target's length: `amount` days or hours, counted in business time or on the clock."""

    amount: int
    unit: str  # "day" or "hour"
    business: bool

    def text(self) -> str:
        """The canonical spelling, as `body.json` may write it: "2 business days"."""
        unit = self.unit if self.amount == 1 else self.unit + "s"
        return f"{self.amount} {'business ' if self.business else ''}{unit}"


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_span(value: object, where: str) -> Span:
    """'2 business days', '4 business hours', '3 days', '24 hours' -> a Span."""
    match = DURATION.match(value) if isinstance(value, str) else None
    if match is None or int(match.group(1)) == 0:
        raise ConfigError(N_("%(value)r is not a target like \"2 business days\", "
                             "\"4 business hours\", \"3 days\" or \"24 hours\""),
                          where=where, value=value)
    return Span(int(match.group(1)), match.group(3).rstrip("s"), bool(match.group(2)))


def _minutes(value: object, where: str) -> int:
    match = CLOCK.match(value) if isinstance(value, str) else None
    if match is None:
        raise ConfigError(N_("%(value)r is not a time like \"08:00\""), where=where, value=value)
    return 24 * 60 if value == "24:00" else int(match.group(1)) * 60 + int(match.group(2))


def parse_hours(raw: object, where: str) -> Hours:
    """A body's `service_hours` block, checked; see tenants/README.md for its shape."""
    if not isinstance(raw, dict):
        raise ConfigError(N_("expected an object with time_zone, days, opens, closes and "
                             "holidays"), where=where)
    zone = raw.get("time_zone")
    try:
        ZoneInfo(str(zone))
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(N_("time_zone %(zone)r is not a time zone like America/New_York"),
                          where=f"{where} time_zone", zone=zone) from None
    names = raw.get("days", list(DAY_NAMES[:5]))
    if not isinstance(names, list) or not names or any(n not in DAY_NAMES for n in names):
        raise ConfigError(N_("days must list some of %(days)s"), where=f"{where} days",
                          days=", ".join(DAY_NAMES))
    opens = _minutes(raw.get("opens", "08:00"), f"{where} opens")
    closes = _minutes(raw.get("closes", "17:00"), f"{where} closes")
    if closes <= opens:
        raise ConfigError(N_("closes must be later than opens"), where=f"{where} closes")
    holidays = set()
    for value in raw.get("holidays", []) or []:
        try:
            holidays.add(date.fromisoformat(str(value)))
        except ValueError:
            raise ConfigError(N_("holiday %(value)r is not a date like 2026-12-25"),
                              where=f"{where} holidays", value=value) from None
    return Hours(str(zone), frozenset(DAY_NAMES.index(n) for n in names), opens, closes,
                 frozenset(holidays))


def _instant(day: date, minutes: int, zone: ZoneInfo) -> datetime:
    """The UTC instant of a wall-clock time on a day ("24:00" is the next midnight)."""
    wall = datetime.combine(day, time(0), tzinfo=zone) + timedelta(minutes=minutes)
    # Adding to an aware time moves its wall clock: re-read it in the zone to get the instant.
    return datetime(wall.year, wall.month, wall.day, wall.hour, wall.minute,
                    tzinfo=zone).astimezone(UTC)


class _Calendar:
    """A body's working days as running totals of working seconds, so that a due time is
    found by bisection rather than by stepping a day at a time (an import computes two for
    every issue). Each day's opening and closing are placed by `_instant`, as a day-by-day
    walk would place them, so the answer is the same to the second.

    Built over the days asked about and extended as needed; the whole table is replaced at
    once (`state`), so a reader in another thread never sees half of an extension."""

    AHEAD = 400  # days covered past the one asked about, so most lookups extend nothing

    def __init__(self, hours: Hours) -> None:
        self.hours = hours
        # (ordinal of the first day, each day's (opens, closes) or None, and totals[i] = the
        # working seconds of the days before day i; one more total than days)
        self.state: tuple[int, list[tuple[datetime, datetime] | None], list[int]] = (0, [], [0])

    def _day(self, ordinal: int) -> tuple[tuple[datetime, datetime] | None, int]:
        hours, day = self.hours, date.fromordinal(ordinal)
        if not hours.works_on(day):
            return None, 0
        zone = hours.zone
        opens, closes = _instant(day, hours.opens, zone), _instant(day, hours.closes, zone)
        seconds = int((closes - opens).total_seconds())
        return ((opens, closes), seconds) if seconds > 0 else (None, 0)

    def covering(self, low: int, high: int) -> tuple[int, list, list[int]]:
        """The table, extended (if need be) to cover the days `low`..`high` (ordinals)."""
        first, spans, totals = state = self.state
        if spans and first <= low and high < first + len(spans):
            return state
        if not spans or low < first:  # rebuilt from further back
            start = low - self.AHEAD
            end = max(high + self.AHEAD, first + len(spans) - 1) if spans else high + self.AHEAD
            spans, totals = [], [0]
        else:  # extended forward
            start, end = first, high + self.AHEAD
            spans, totals = list(spans), list(totals)
        for ordinal in range(start + len(spans), end + 1):
            span, seconds = self._day(ordinal)
            spans.append(span)
            totals.append(totals[-1] + seconds)
        self.state = (start, spans, totals)
        return self.state

    def span(self, day: date) -> tuple[datetime, datetime] | None:
        """The day's opening and closing instants, or None when the body does not work."""
        ordinal = day.toordinal()
        first, spans, _totals = self.covering(ordinal, ordinal)
        return spans[ordinal - first]

    def after(self, day: date, remaining: int) -> datetime:
        """The instant `remaining` working seconds into the days after `day` (and within
        MAX_DAYS of it, counting `day`)."""
        ordinal = day.toordinal()
        last = ordinal + MAX_DAYS - 1
        first, spans, totals = self.covering(ordinal, min(ordinal + self.AHEAD, last))
        start = ordinal + 1 - first
        target = totals[start] + remaining
        if totals[-1] < target:
            first, spans, totals = self.covering(ordinal, last)
            start = ordinal + 1 - first
        # The first day whose running total reaches the target is the one it falls in.
        end = min(len(totals), last - first + 2)
        found = bisect_left(totals, target, start + 1, end) - 1
        if found + 1 >= end or totals[found + 1] < target:
            raise ValueError("no working time within ten years")
        opens, _closes = spans[found]
        return opens + timedelta(seconds=target - totals[found])


@lru_cache(maxsize=64)
def _calendar(hours: Hours) -> _Calendar:
    return _Calendar(hours)


def add_business_seconds(start: datetime, seconds: int, hours: Hours) -> datetime:
    """The instant at which `seconds` of the body's working time have passed since `start`."""
    start = (start if start.tzinfo else start.replace(tzinfo=UTC)).astimezone(UTC)
    day = start.astimezone(hours.zone).date()
    calendar = _calendar(hours)
    remaining = seconds
    today = calendar.span(day)
    if today is not None:  # the first day counts from the report, if it is within hours
        opens, closes = today
        begin = max(opens, start)
        if begin < closes:
            available = (closes - begin).total_seconds()
            if remaining <= available:
                return begin + timedelta(seconds=remaining)
            remaining -= int(available)
    return calendar.after(day, remaining)


def due(start: datetime, span: Span, hours: Hours | None) -> datetime:
    """When a target of `span` counted from `start` falls due (UTC)."""
    start = (start if start.tzinfo else start.replace(tzinfo=UTC)).astimezone(UTC)
    if not span.business or hours is None:
        return start + (timedelta(days=span.amount) if span.unit == "day"
                        else timedelta(hours=span.amount))
    per_unit = hours.day_seconds if span.unit == "day" else 3600
    return add_business_seconds(start, span.amount * per_unit, hours)
