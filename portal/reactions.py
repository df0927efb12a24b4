"""Who reacts to what: the one place where domain events meet the code that answers them.

Lower packages publish (`portal.core.domain_events`); this module, above them all, decides
who hears it. Reading it answers "what happens when a report is filed?" in one screen.
`create_app`, the `portal` command and the test suite call `install()` before anything else.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from portal.core.domain_events import mark_installed, subscribe
from portal.engagement import points, watch_notices
from portal.mail import notifications, receipts
from portal.open311 import delivery
from portal.reports.events import IssueReassigned, IssueReported, StatusChanged, VoteCast
from portal.sms import notices as sms_notices


def _mail_the_body(session: Session, event: IssueReported) -> None:
    notifications.new_report(session, event.issue)


def _send_the_reporter_a_receipt(session: Session, event: IssueReported) -> None:
    receipts.report_received(session, event.issue)


def _send_to_the_bodys_open311(session: Session,
                               event: IssueReported | IssueReassigned) -> None:
    delivery.enqueue(session, event.issue)


def _tell_watchers(session: Session, event: IssueReported) -> None:
    watch_notices.notify_new_issue(session, event.issue)


def _point_for_reporting(session: Session, event: IssueReported) -> None:
    points.award_report(session, event.issue)


def _point_for_voting(session: Session, event: VoteCast) -> None:
    points.award_vote(session, event.issue, event.voter_key)


def _text_the_reporter(session: Session, event: StatusChanged) -> None:
    sms_notices.status_changed(session, event.issue, event.update)


def install() -> None:
    """Subscribe every reaction (idempotent). Order matters only within one event."""
    subscribe(IssueReported, _mail_the_body)
    subscribe(IssueReported, _send_the_reporter_a_receipt)
    subscribe(IssueReported, _send_to_the_bodys_open311)
    subscribe(IssueReassigned, _send_to_the_bodys_open311)
    subscribe(IssueReported, _tell_watchers)
    subscribe(IssueReported, _point_for_reporting)
    subscribe(VoteCast, _point_for_voting)
    subscribe(StatusChanged, _text_the_reporter)
    mark_installed()
