"""Durations counted in fixed buckets, and the median read back from the buckets.

The dashboard keeps, per portal, body and event, a histogram of how long issues waited (see
`DashboardDuration`): each bucket holds its count and the sum of its whole seconds. Buckets are
one second wide up to 14 s, then eight per doubling, so each spans at most 2**(1/8) - 1 ≈ 9.1 %
of its lower bound (plus a second from rounding the bounds down), up to 2**32 s; the last is
open. The database triggers bucket a duration with the bounds of migration
0009_dashboard_counts, which copies `BOUNDS`: a change here needs a migration there.

The median of the bucketed values is estimated by spreading each bucket's values evenly around
their mean, as widely as the bucket allows. So a bucket holding one value gives it back exactly,
and the estimate always lies in the same bucket as the true middle value(s): its error is below
that bucket's width, under 9.1 % of the median plus one second.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable
from dataclasses import dataclass

STEPS = 8  # buckets per doubling
BOUNDS = tuple(sorted({0, *(math.floor(2 ** (k / STEPS)) for k in range(STEPS * 32))}))
RELATIVE_WIDTH = 2 ** (1 / STEPS) - 1  # the widest bucket, as a share of its lower bound


def lower_bound(seconds: int) -> int:
    """The bucket (its lower bound) of a duration in whole seconds; negative ones count as 0."""
    return BOUNDS[bisect.bisect_right(BOUNDS, max(0, seconds)) - 1]


def _upper(lower: int) -> float:
    index = bisect.bisect_left(BOUNDS, lower)
    return BOUNDS[index + 1] if index + 1 < len(BOUNDS) else math.inf


@dataclass(frozen=True)
class Median:
    seconds: float
    exact: bool  # False when the value is an estimate from a bucket of several values


def median(buckets: Iterable[tuple[int, int, int]]) -> Median | None:
    """The median of the values in (lower bound, count, sum of seconds) buckets, like
    `statistics.median` (the mean of the two middle values when the count is even)."""
    rows = sorted((lower, n, total) for lower, n, total in buckets if n > 0)
    count = sum(n for _lower, n, _total in rows)
    if not count:
        return None
    values, exact = [], True
    for rank in sorted({(count - 1) // 2, count // 2}):
        before = 0
        for lower, n, total in rows:
            if rank < before + n:
                value, alone = _spread(lower, n, total, rank - before)
                values.append(value)
                exact = exact and alone
                break
            before += n
    if len(values) == 1:
        values.append(values[0])
    return Median((values[0] + values[1]) / 2, exact)


def _spread(lower: int, n: int, total: int, index: int) -> tuple[float, bool]:
    """The `index`-th of `n` whole-second values in the bucket at `lower` whose sum is
    `total`, assuming them evenly spaced around their mean; and whether that is certain."""
    mean = total / n
    top = _upper(lower) - 1  # whole seconds: the largest value the bucket holds
    if n == 1 or top <= lower:
        return mean, True
    half = min(mean - lower, top - mean)
    return mean - half + half * (2 * index + 1) / n, half == 0
