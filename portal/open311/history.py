"""A city's existing requests, read from its Open311 server: the way in for a city moving to us.

GeoReport v2 answers at most 90 days (and a server's page size) per query, so the span asked
for is read window by window, and each window page by page where the server pages (the
`page` extension; a server that ignores it answers the same page again, which ends the
window). Requests are written to a JSON file as they arrive, once each, so memory stays flat
however long the history; `portal import-issues --open311` then imports that file through
the shipped `open311` mapping, as it would a file saved by hand.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from portal.open311 import dates, endpoint
from portal.open311.queries import MAX_RANGE

PAGE_SIZE = 1000
MAX_PAGES = 1000  # per window: a server that pages for ever is stopped, not followed
Caller = Callable[..., object]


def windows(since: datetime, until: datetime) -> list[tuple[datetime, datetime]]:
    """[since, until) in spans the spec allows, oldest first."""
    found, start = [], since
    while start < until:
        end = min(start + MAX_RANGE, until)
        found.append((start, end))
        start = end
    return found


def download(base: str, out: Path, *, since: datetime, until: datetime,
             jurisdiction: str = "", page_size: int = PAGE_SIZE,
             caller: Caller = endpoint.call) -> int:
    """Write every request `base` (an Open311 v2 endpoint) has from `since` to `until` to
    `out` as one JSON array; how many. `endpoint.EndpointError` when the server fails."""
    seen: set[str] = set()
    with out.open("w", encoding="utf-8") as handle:
        handle.write("[")
        for start, end in windows(since, until):
            for page in range(1, MAX_PAGES + 1):
                fields = [("start_date", dates.format_w3c(start)),
                          ("end_date", dates.format_w3c(end - timedelta(seconds=1))),
                          ("extensions", "true"), ("page_size", str(page_size)),
                          ("page", str(page))]
                if jurisdiction:
                    fields.append(("jurisdiction_id", jurisdiction))
                items = caller("GET", base, "requests.json", fields)
                if not isinstance(items, list):
                    raise endpoint.EndpointError("requests.json did not answer a list")
                new = [i for i in items if isinstance(i, dict)
                       and str(i.get("service_request_id", "")) not in seen]
                for item in new:
                    seen.add(str(item.get("service_request_id", "")))
                    handle.write(("," if len(seen) > 1 else "") + json.dumps(item))
                if len(items) < page_size or not new:
                    break
        handle.write("]")
    return len(seen)
