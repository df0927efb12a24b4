"""Due times in business time: weekends, holidays and daylight-saving changes (US Eastern:
2026-03-08 spring forward, 2026-11-01 fall back)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from portal.core.business_hours import add_business_seconds, due, parse_hours, parse_span
from portal.core.errors import ConfigError

NEW_YORK = parse_hours({"time_zone": "America/New_York", "opens": "08:00", "closes": "16:30",
                        "holidays": ["2026-12-25", "2027-01-01"]}, "body.json service_hours")


def _due(start: datetime, text: str, hours=NEW_YORK) -> datetime:  # noqa: ANN001
    return due(start, parse_span(text, "t"), hours)


def test_a_friday_afternoon_report_is_due_after_the_weekend():
    friday = datetime(2026, 6, 12, 19, 0, tzinfo=UTC)  # 15:00 EDT: 1.5 h left that day
    # One business day is 8.5 working hours: 1.5 on Friday, 7 more on Monday, 08:00-15:00.
    assert _due(friday, "1 business day") == datetime(2026, 6, 15, 19, 0, tzinfo=UTC)
    assert _due(friday, "2 business hours") == datetime(2026, 6, 15, 12, 30, tzinfo=UTC)
    # On the clock, the weekend counts.
    assert _due(friday, "2 days") == datetime(2026, 6, 14, 19, 0, tzinfo=UTC)


def test_a_report_made_at_night_starts_counting_at_the_next_opening():
    saturday_night = datetime(2026, 6, 14, 2, 0, tzinfo=UTC)  # Saturday 22:00 EDT
    assert _due(saturday_night, "3 business hours") == datetime(2026, 6, 15, 15, 0, tzinfo=UTC)


def test_holidays_are_skipped():
    christmas_eve = datetime(2026, 12, 24, 20, 0, tzinfo=UTC)  # Thursday 15:00 EST
    # 1.5 h on Thursday; Friday is Christmas, then the weekend; 7 h on Monday the 28th.
    assert _due(christmas_eve, "1 business day") == datetime(2026, 12, 28, 20, 0, tzinfo=UTC)
    # New Year's Eve, then New Year's Day off, the weekend: Monday 4 January.
    new_years_eve = datetime(2026, 12, 31, 20, 0, tzinfo=UTC)
    assert _due(new_years_eve, "2 business hours") == datetime(2027, 1, 4, 13, 30,
                                                                tzinfo=UTC)


def test_opening_hours_follow_the_wall_clock_across_spring_forward():
    friday = datetime(2026, 3, 6, 20, 0, tzinfo=UTC)  # 15:00 EST, UTC-5
    # 1.5 h on Friday, then Monday opens at 08:00 EDT, which is 12:00 UTC (no longer 13:00).
    assert _due(friday, "2 business hours") == datetime(2026, 3, 9, 12, 30, tzinfo=UTC)
    assert _due(friday, "1 business day") == datetime(2026, 3, 9, 19, 0, tzinfo=UTC)
    # A clock target counts elapsed hours: 48 of them, whatever the wall clock did.
    assert _due(friday, "48 hours") == datetime(2026, 3, 8, 20, 0, tzinfo=UTC)


def test_opening_hours_follow_the_wall_clock_across_fall_back():
    friday = datetime(2026, 10, 30, 19, 0, tzinfo=UTC)  # 15:00 EDT, UTC-4
    # Monday 2 November opens at 08:00 EST = 13:00 UTC.
    assert _due(friday, "2 business hours") == datetime(2026, 11, 2, 13, 30, tzinfo=UTC)
    assert _due(friday, "3 business days") == datetime(2026, 11, 4, 20, 0, tzinfo=UTC)


def test_a_body_open_every_day_around_the_clock_counts_like_a_clock_but_in_its_hours():
    always = parse_hours({"time_zone": "America/New_York", "days": ["mon", "tue", "wed", "thu",
                          "fri", "sat", "sun"], "opens": "00:00", "closes": "24:00"}, "x")
    start = datetime(2026, 3, 7, 12, 0, tzinfo=UTC)
    # The night of the change has 23 hours on the wall clock: the same instants as a clock.
    assert _due(start, "48 business hours", always) == datetime(2026, 3, 9, 12, 0, tzinfo=UTC)


def _walked(start: datetime, seconds: int, hours) -> datetime | None:  # noqa: ANN001
    """The definition, a day at a time: each working day's hours on its wall clock, counted
    from the report (None past ten years)."""
    zone = ZoneInfo(hours.time_zone)
    day = start.astimezone(zone).date()
    for _ in range(3660):
        if day.weekday() in hours.days and day not in hours.holidays:
            walls = (datetime.combine(day, time(0), tzinfo=zone) + timedelta(minutes=m)
                     for m in (hours.opens, hours.closes))
            opens, closes = (datetime(w.year, w.month, w.day, w.hour, w.minute, tzinfo=zone)
                             .astimezone(UTC) for w in walls)
            begin = max(opens, start)
            if begin < closes:
                if seconds <= (closes - begin).total_seconds():
                    return begin + timedelta(seconds=seconds)
                seconds -= int((closes - begin).total_seconds())
        day += timedelta(days=1)
    return None


@pytest.mark.parametrize("zone", ["America/New_York", "Australia/Lord_Howe", "Europe/London"])
def test_due_times_agree_with_a_walk_day_by_day_whatever_order_they_are_asked_in(zone):
    """Due times are found in running totals built as they are asked for (an import asks in
    the file's order, years apart): they must be the walk's to the second."""
    hours = parse_hours({"time_zone": zone, "days": ["mon", "tue", "thu", "sat"],
                         "opens": "01:30", "closes": "17:00",
                         "holidays": ["2026-03-08", "2026-10-04", "2026-12-26"]}, "x")
    rng = random.Random(zone)
    for _ in range(300):
        start = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(
            seconds=rng.randrange(4 * 365 * 86400), microseconds=rng.choice([0, 123456]))
        seconds = rng.choice([60, 3600, hours.day_seconds, 17 * hours.day_seconds,
                              rng.randrange(1, 2_000_000)])
        assert add_business_seconds(start, seconds, hours) == _walked(start, seconds, hours)


def test_a_target_no_working_time_can_meet_within_ten_years_is_refused():
    hours = parse_hours({"time_zone": "UTC", "days": ["mon"], "opens": "09:00",
                         "closes": "10:00"}, "x")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert add_business_seconds(start, 500 * 3600, hours) == _walked(start, 500 * 3600, hours)
    with pytest.raises(ValueError, match="ten years"):
        add_business_seconds(start, 600 * 3600, hours)


@pytest.mark.parametrize(("raw", "field", "words"), [
    ({"time_zone": "Mars/Olympus"}, "time_zone", "is not a time zone"),
    ({"time_zone": "UTC", "days": ["mon", "funday"]}, "days", "days must list"),
    ({"time_zone": "UTC", "opens": "8am"}, "opens", "is not a time like"),
    ({"time_zone": "UTC", "opens": "17:00", "closes": "08:00"}, "closes", "later than"),
    ({"time_zone": "UTC", "holidays": ["25/12/2026"]}, "holidays", "is not a date"),
])
def test_bad_hours_name_the_field(raw, field, words):  # noqa: ANN001
    with pytest.raises(ConfigError) as caught:
        parse_hours(raw, "b/body.json service_hours")
    assert caught.value.where == f"b/body.json service_hours {field}"
    assert words in str(caught.value)


@pytest.mark.parametrize("text", ["ten days", "0 days", "2 weeks", "2", 2, "-1 hours"])
def test_bad_targets_are_refused(text):  # noqa: ANN001
    with pytest.raises(ConfigError, match="is not a target like"):
        parse_span(text, "x")


def test_targets_read_in_the_forms_the_readme_gives():
    assert parse_span("1 business day", "x").text() == "1 business day"
    assert parse_span("10  business days", "x").text() == "10 business days"
    assert parse_span("4 hours", "x").text() == "4 hours"
