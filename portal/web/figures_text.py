"""How the newsroom figures read, in the active language: periods, days, shares, numbers.

Shared by the stats card (its SVG and its table), the issue card and the compare page and
CSV headers, so one figure is worded the same everywhere.
"""

from __future__ import annotations

from babel.dates import format_date
from babel.numbers import format_decimal, format_percent

from portal.core.i18n import babel_locale, ngettext
from portal.core.i18n import gettext as _
from portal.reports.area_stats import Period


def number(value: float, digits: int = 0) -> str:
    pattern = "#,##0" + ("." + "#" * digits if digits else "")
    return format_decimal(round(value, digits), format=pattern, locale=babel_locale())


def days(value: float | None) -> str:
    """"4.5 days"; "" when there is no figure."""
    if value is None:
        return ""
    shown = round(value, 1)
    # A fraction reads like "few" ("4,5 дня"); a whole number takes its own plural form.
    count = int(shown) if shown == int(shown) else 2
    return ngettext("%(days)s day", "%(days)s days", count, days=number(shown, 1))


def share(value: float | None) -> str:
    return "" if value is None else format_percent(value, locale=babel_locale())


def day(value) -> str:  # noqa: ANN001 - a date
    return format_date(value, "medium", locale=babel_locale())


def period_label(period: Period) -> str:
    if period.days:
        return _("the last %(days)s days", days=period.days)
    if period.year:
        return str(period.year)
    return _("%(start)s to %(end)s", start=day(period.start), end=day(period.end))


def period_choices() -> list[tuple[str, str]]:
    """(value, label) for the period pickers: the rolling periods; a year or dates are typed."""
    return [("30d", _("Last 30 days")), ("90d", _("Last 90 days")),
            ("365d", _("Last 365 days"))]
