"""'3 days ago' reads exactly as Babel words it, in every language, though it is cached."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from babel.dates import format_timedelta

from portal.core import i18n
from portal.web import formatting

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
# Around each unit's edges (1.1 of it, and where rounding changes the number), both ways.
SECONDS = sorted({sign * round(size * factor) for size in (1, 60, 3600, 86400, 604800,
                                                           2592000, 31536000)
                  for factor in (0.3, 0.99, 1.0, 1.09, 1.1, 1.49, 1.5, 1.51, 2.5, 6.6, 11.7)
                  for sign in (1, -1)} | {0})


@pytest.mark.parametrize("locale", ["en", "es", "ar", "ru", "zh_Hans", "ko", "pt_BR"])
def test_relative_times_match_babel(locale):
    with i18n.use_locale(locale):
        for seconds in SECONDS:
            when = NOW + timedelta(seconds=seconds)
            expected = format_timedelta(when - NOW, add_direction=True, threshold=1.1,
                                        locale=formatting.babel_locale())
            assert formatting.ago(when, NOW) == expected, seconds
