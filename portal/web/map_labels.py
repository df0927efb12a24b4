"""The words a screen reader says for a map cluster, in the request's language."""

from __future__ import annotations

from babel.lists import format_list

from portal.core.errors import N_
from portal.core.i18n import babel_locale, current_locale, gettext, translations_for
from portal.web.formatting import number

STATUS_NAMES = {
    "open": N_("Open"),
    "acknowledged": N_("Acknowledged"),
    "closed": N_("Closed (fixed)"),
    "archived": N_("Archived"),
}


def cluster_label(count: int, counts: dict[str, int]) -> str:
    """'42 issues — Open: 30 and Closed (fixed): 12': the count, then each status present."""
    parts = [gettext("%(status)s: %(n)s", status=gettext(STATUS_NAMES[status]),
                     n=number(n)) for status, n in counts.items()]
    issues = translations_for(current_locale()).ngettext(
        "%(n)s issue", "%(n)s issues", count) % {"n": number(count)}
    return gettext("%(issues)s — %(statuses)s", issues=issues,
                   statuses=format_list(parts, locale=babel_locale()))
