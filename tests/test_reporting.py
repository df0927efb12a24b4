"""Filing reports: area checks, validation, idempotency, history, membership, outbox."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.core.errors import ValidationError
from portal.models import Issue, IssuePortal, OutboxMessage, Update
from tests.factories import file_report, tenant


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_a_report_writes_issue_history_membership_and_mail(world, session):
    issue = file_report(session, "northside", lat=1.2, lon=1.0, email="Resident@Example.org",
                        name="Ana", title="Hole")
    assert issue.status == "open"
    assert issue.reporter_email == "resident@example.org"
    assert [u.kind for u in issue.updates] == ["created"]
    portals = set(session.scalars(select(IssuePortal.tenant_id).where(
        IssuePortal.issue_id == issue.id)))
    # lat 1.2 lies in both northside and riverside: the issue shows on both.
    assert portals == {tenant(session, "northside").id, tenant(session, "riverside").id}
    mail, receipt = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert receipt.kind == "receipt" and receipt.recipient == "resident@example.org"
    assert mail.recipient == "city-works@bodies.test"
    assert "resident@example.org" in mail.body_text and "Hole" in mail.body_text


def test_anonymous_unless_the_reporter_shows_a_name(world, session):
    hidden = file_report(session, "northside", lat=1.2, lon=1.0, name="Ana")
    shown = file_report(session, "northside", lat=1.2, lon=1.0, name="Ben", show_name=True)
    assert hidden.public_name == "" and shown.public_name == "Ben"


def test_same_submission_key_creates_one_issue(world, session):
    first = file_report(session, "northside", lat=1.2, lon=1.0, submission_key="k-1")
    again = file_report(session, "northside", lat=1.2, lon=1.0, submission_key="k-1")
    assert first.id == again.id
    assert count(session, Issue) == 1 and count(session, OutboxMessage) == 1


@pytest.mark.parametrize("lat,lon,field", [
    ("", "", "lat"), ("abc", "1", "lat"), ("91", "1", "lat"), ("1", "181", "lon"),
    ("nan", "1", "lat"), ("inf", "1", "lat"),
])
def test_bad_coordinates_are_refused(world, session, lat, lon, field):
    with pytest.raises(ValidationError) as exc:
        file_report(session, "northside", lat=lat, lon=lon)
    assert field in exc.value.errors
    assert count(session, Issue) == 0


def test_a_place_outside_the_portal_names_the_area(world, session):
    with pytest.raises(ValidationError) as exc:
        file_report(session, "northside", lat=0.5, lon=1.0)
    message = exc.value.errors["lat"]
    assert message.params["area"] == "the Northside area"
    assert count(session, Issue) == 0 and count(session, Update) == 0


def test_field_limits(world, session):
    with pytest.raises(ValidationError) as exc:
        file_report(session, "northside", lat=1.2, lon=1.0, description="x" * 5001,
                    title="t" * 121, email="not-an-email", name="n" * 101)
    assert set(exc.value.errors) == {"description", "title", "email", "name"}


def test_empty_description_is_refused(world, session):
    with pytest.raises(ValidationError) as exc:
        file_report(session, "northside", lat=1.2, lon=1.0, description="   ")
    assert "description" in exc.value.errors


def test_portal_that_forbids_anonymous_reports_needs_name_and_email(world, session):
    tenant(session, "northside").allow_anonymous = False
    with pytest.raises(ValidationError) as exc:
        file_report(session, "northside", lat=1.2, lon=1.0)
    assert {"name", "email"} <= set(exc.value.errors)
