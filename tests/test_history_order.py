"""An issue's history reads oldest first by when each thing happened, whatever order it was
written in (an import, a late-arriving back-office update)."""

from __future__ import annotations

from datetime import timedelta

from portal.models import Update
from tests.factories import file_report


def test_history_is_oldest_first_by_time_not_by_the_order_it_was_written(client, db):
    with db.session() as s:
        issue = file_report(s, "northside", 1.5, 1.0, title="Bench broken")
        reported = issue.created_at
        # Written later, but happened earlier than the comment written before it.
        s.add(Update(issue=issue, kind="comment", text="Comment of the 29th",
                     created_at=reported + timedelta(days=5)))
        s.flush()
        s.add(Update(issue=issue, kind="comment", text="Comment of the 24th",
                     created_at=reported + timedelta(days=1)))
        issue_id = issue.id
    page = client.get(f"/issues/{issue_id}").text
    history = page[page.index('id="history"'):]
    assert history.index("Reported") < history.index("Comment of the 24th") \
        < history.index("Comment of the 29th")
