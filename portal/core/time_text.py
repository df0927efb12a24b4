"""Times written out where the reader has no page around them: mail and the command line.

A page says its zone once ("times are Eastern"); a mail or a terminal line does not, and is
read anywhere, so each time here carries its zone: "Dec 1, 2026, 3:47 AM EST", to the minute,
in the active language (`portal.core.i18n.use_locale`). Which zone is the caller's choice:
a mail for a portal uses the portal's, a mail to a body the zone of its working hours, the
command line the zone of the portal in question, else UTC (and says "UTC").
"""

from __future__ import annotations

from datetime import datetime

from babel.dates import format_date, format_time, get_datetime_format

from portal.core import time_zones
from portal.core.i18n import babel_locale


def zone_label(moment: datetime) -> str:
    """The zone's abbreviation at that moment ("EST", "EDT", "KST", "UTC"); zones with no
    abbreviation of their own (tzdata writes "-03") read "UTC-03"."""
    name = moment.tzname() or "UTC"
    return f"UTC{name}" if name[:1] in "+-" else name


def written(value: datetime | None, zone_name: str | None = None, fmt: str = "medium") -> str:
    """Date and time to the minute in `zone_name` (default: the current zone), with the
    zone named: "Dec 1, 2026, 3:47 AM EST"."""
    if not value:
        return ""
    zone = time_zones.zone(zone_name) if zone_name else time_zones.current()
    moment = time_zones.aware(value).astimezone(zone)
    locale = babel_locale()
    clock = format_time(moment, "short", tzinfo=moment.tzinfo, locale=locale)
    return (get_datetime_format(fmt, locale=locale)
            .replace("{1}", format_date(moment, fmt, locale=locale))
            .replace("{0}", f"{clock} {zone_label(moment)}"))


def day_written(value: datetime, zone_name: str | None = None, fmt: str = "medium") -> str:
    """The date alone, in the zone's calendar ("Dec 1, 2026")."""
    zone = time_zones.zone(zone_name) if zone_name else time_zones.current()
    return format_date(time_zones.aware(value).astimezone(zone), fmt, locale=babel_locale())
