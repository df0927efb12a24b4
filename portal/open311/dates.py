"""W3C date-times (the subset of ISO 8601 the spec requires), always with a time zone."""

from __future__ import annotations

import re
from datetime import UTC, datetime

# YYYY-MM-DDThh:mm[:ss[.s+]] followed by Z or ±hh:mm, as in https://www.w3.org/TR/NOTE-datetime
MIN_YEAR, MAX_YEAR = 1900, 9000
W3C = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$")


def parse(text: str) -> datetime | None:
    """The instant `text` names, or None if it is not a W3C date-time with a zone."""
    text = text.strip()
    if not W3C.match(text):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        # In UTC, as our columns hold it: SQLite compares the text, zone dropped, so
        # 03:22+05:00 must be asked as 22:22 of the day before. Years at the edges of the
        # calendar cannot move by a zone, nor by the 90 days a range may take.
        if not MIN_YEAR <= moment.year <= MAX_YEAR:
            return None
        return moment.astimezone(UTC)
    except ValueError:  # 2024-02-30, 25:00 and the like
        return None


def aware(moment: datetime) -> datetime:
    """Our columns hold UTC; SQLite gives them back without their zone."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def format_w3c(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    # by hand: strftime is a third of the time of a thousand-request answer
    return (f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}:"
            f"{moment.minute:02d}:{moment.second:02d}Z")
