"""Many issues at once for cluster and paging tests, and the cell counts recomputed from them."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.core import grid
from portal.models import Issue, IssueCell, IssuePortal, RequestType
from portal.reports import search
from portal.tenancy import membership


def many_issues(session: Session, count: int, box: tuple[float, float, float, float],
                seed: int = 1, status: str = "open") -> list[Issue]:
    """`count` issues at random places in `box` (min_lon, min_lat, max_lon, max_lat), a minute
    apart, routed to the first pothole type, with their portal membership."""
    rng = random.Random(seed)
    pothole = session.scalars(select(RequestType).where(RequestType.code == "pothole")).first()
    start = datetime(2025, 1, 1, tzinfo=UTC)
    issues = [Issue(body_id=pothole.body_id, request_type_id=pothole.id, status=status,
                    lat=rng.uniform(box[1], box[3]), lon=rng.uniform(box[0], box[2]),
                    description=f"issue {n}", created_at=start + timedelta(minutes=n))
              for n in range(count)]
    session.add_all(issues)
    session.flush()
    for issue in issues:
        membership.record_issue(session, issue)
        search.index_issue(session, issue)
    session.flush()
    return issues


def stored_cells(session: Session) -> Counter:
    return Counter({(c.tenant_id, c.band, c.cx, c.cy, c.status): c.n
                    for c in session.scalars(select(IssueCell)) if c.n})


def expected_cells(session: Session) -> Counter:
    """What the cells should hold: every visible issue of every portal, counted by hand."""
    expected: Counter = Counter()
    rows = session.execute(select(IssuePortal.tenant_id, Issue.lat, Issue.lon, Issue.status)
                           .join(Issue, Issue.id == IssuePortal.issue_id)
                           .where(Issue.hidden.is_(False)))
    for tenant_id, lat, lon, status in rows:
        for band in grid.BANDS:
            expected[(tenant_id, band, *grid.cell_of(lat, lon, band), status)] += 1
    return expected
