"""Bodies' public promises: loaded from body.json, kept on each issue, shown as "overdue" on
the issue page, the list, the map's GeoJSON and the staff queue, explained on the issue page
with the routing decision, and counted on the dashboard."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from portal.core.errors import ConfigError
from portal.models import Body, Issue, utcnow
from portal.reports import deadlines, status
from portal.staff import triage
from portal.tenancy import tenant_files
from portal.tenancy.service_targets import due_times, refresh_body
from tests.conftest import client_for
from tests.factories import file_report
from tests.staff_support import grant, sign_in

HOURS = {"time_zone": "America/New_York", "opens": "08:00", "closes": "17:00",
         "holidays": ["2026-12-25"]}
TARGETS = {"pothole": {"acknowledge": "2 business days", "fix": "10 business days"},
           "streetlight": {"acknowledge": "4 hours"}}


def set_targets(session, folder: Path, slug: str, targets: dict | None,  # noqa: ANN001
                hours: dict | None = HOURS) -> Body:
    """Rewrite a test body's body.json with these promises and load it, as an operator would."""
    body_json = folder / "bodies" / slug / "body.json"
    data = json.loads(body_json.read_text())
    data.pop("targets", None), data.pop("service_hours", None)
    if targets is not None:
        data["targets"] = targets
    if hours is not None:
        data["service_hours"] = hours
    body_json.write_text(json.dumps(data))
    return tenant_files.load_body(session, folder / "bodies" / slug)


@pytest.fixture
def folder(world, tmp_path) -> Path:  # noqa: ANN001
    return tmp_path / "tenants"


def _age(session, issue: Issue, days: float) -> None:  # noqa: ANN001
    issue.created_at = utcnow() - timedelta(days=days)
    session.flush()


def test_the_loader_names_the_file_and_field_of_a_bad_target(db, folder):  # noqa: ANN001
    with db.session() as s:
        with pytest.raises(ConfigError) as caught:
            set_targets(s, folder, "city-works", {"pothole": {"fix": "ten days"}})
        assert str(caught.value).startswith(
            f"{folder}/bodies/city-works/body.json targets pothole fix: 'ten days' is not")
        with pytest.raises(ConfigError, match="is not one of this body's request types"):
            set_targets(s, folder, "city-works", {"swimming-pool": {"fix": "2 days"}})
        with pytest.raises(ConfigError, match="needs the body's service_hours"):
            set_targets(s, folder, "city-works", {"pothole": {"fix": "2 business days"}},
                        hours=None)
        with pytest.raises(ConfigError) as caught:
            set_targets(s, folder, "city-works", TARGETS, hours={"time_zone": "Nowhere/Town"})
        assert "service_hours time_zone" in str(caught.value)


def test_due_times_are_kept_when_filed_and_follow_a_change_of_targets(db, folder):  # noqa: ANN001
    with db.session() as s:
        set_targets(s, folder, "city-works", TARGETS)
        issue = file_report(s, "northside", 1.2, 1.0, request_type="city-works/pothole")
        ack, close = due_times(issue.body.service_targets, "pothole", issue.created_at)
        assert (issue.acknowledge_due_at, issue.close_due_at) == (ack, close)
        assert close > ack > issue.created_at
        light = file_report(s, "northside", 1.9, 1.9, request_type="city-works/streetlight")
        assert light.acknowledge_due_at == light.created_at + timedelta(hours=4)
        assert light.close_due_at is None
        # The body drops its pothole promise: the issue's due times go with it.
        set_targets(s, folder, "city-works", {"streetlight": {"acknowledge": "4 hours"}})
        s.refresh(issue)
        assert (issue.acknowledge_due_at, issue.close_due_at) == (None, None)


def test_reassigning_takes_the_new_bodys_promise(db, folder):  # noqa: ANN001
    with db.session() as s:
        set_targets(s, folder, "state-roads", {"pothole": {"fix": "3 days"}}, hours=None)
        issue = file_report(s, "northside", 1.2, 1.0, request_type="city-works/pothole")
        assert issue.close_due_at is None
        state = s.scalars(select(Body).where(Body.slug == "state-roads")).one()
        triage.reassign(s, issue, state, triage.Actor(user_id=None))
        assert issue.close_due_at == issue.created_at + timedelta(days=3)


def test_overdue_is_marked_where_residents_look(app, db, folder):  # noqa: ANN001
    with db.session() as s:
        set_targets(s, folder, "city-works", TARGETS)
        late = file_report(s, "northside", 1.2, 1.0, request_type="city-works/pothole",
                           title="Old crater")
        _age(s, late, 30)  # far past 10 business days
        acknowledged = file_report(s, "northside", 1.3, 1.0, request_type="city-works/pothole",
                                   title="Seen crater")
        _age(s, acknowledged, 4)  # past its 2-day acknowledgement, not its fix
        status.change_status(s, acknowledged, "acknowledged", author="Desk")
        fresh = file_report(s, "northside", 1.4, 1.0, request_type="city-works/pothole",
                            title="New crater")
        refresh_body(s, late.body)  # the aged issues' due times from their new report times
        ids = late.id, acknowledged.id, fresh.id
    client = client_for(app, "northside.reportal.test")

    page = client.get(f"/issues/{ids[0]}").text
    assert "Overdue: not fixed within the target" in page
    assert "⏰" in page  # the cue is a clock and words, not a colour
    assert ("Reports of “Pothole” at this place are looked after by city-works dept; "
            "elsewhere by state-roads dept.") in page
    assert ("city-works dept aims to acknowledge reports like this within 2 business days "
            "and to fix them within 10 business days.") in page
    assert "Business hours are 08:00 to 17:00, America/New_York time" in page
    assert "Fix due" in page
    assert "Overdue" not in client.get(f"/issues/{ids[1]}").text  # acknowledged in time enough
    fresh_page = client.get(f"/issues/{ids[2]}?new=1").text  # the confirmation
    assert "Thank you. Your report was sent." in fresh_page
    assert "are looked after by city-works dept" in fresh_page
    assert "Overdue" not in fresh_page

    listing = client.get("/issues").text
    row = listing[listing.index("Old crater") - 400:listing.index("Old crater")]
    assert "Overdue: not fixed within the target" in row
    assert listing.count("Overdue:") == 1

    features = {f["properties"]["id"]: f["properties"]
                for f in client.get("/api/issues.geojson").json()["features"]}
    assert features[ids[0]]["overdue"] == "fix"
    assert features[ids[0]]["overdue_label"] == "Overdue: not fixed within the target"
    assert "overdue" not in features[ids[2]]

    spanish = client.get(f"/issues/{ids[0]}?lang=es").text
    assert "Vencido: no se arregló dentro del plazo" in spanish
    assert "en este lugar los atiende depto city-works; en otros lugares, depto state-roads" \
        in spanish
    assert "se propone acusar recibo de reportes como este en 2 días hábiles" in spanish


def test_a_body_without_targets_says_so(app, db, world):  # noqa: ANN001
    with db.session() as s:
        issue = file_report(s, "northside", 1.2, 1.0, request_type="city-works/pothole")
        campus = file_report(s, "riverside", 0.7, 0.7, request_type="campus-fac/streetlight")
    page = client_for(app, "northside.reportal.test").get(f"/issues/{issue.id}").text
    assert "city-works dept has published no target for reports like this." in page
    page = client_for(app, "riverside.reportal.test").get(f"/issues/{campus.id}").text
    assert ("Reports of “Campus light out” at this place are looked after by campus-fac dept; "
            "elsewhere by city-works dept.") in page


def test_the_queue_sorts_by_least_time_left(app, db, folder):  # noqa: ANN001
    with db.session() as s:
        set_targets(s, folder, "city-works", {"pothole": {"acknowledge": "10 days"},
                                              "streetlight": {"acknowledge": "1 hours"}},
                    hours=None)
        file_report(s, "northside", 1.2, 1.0, request_type="city-works/streetlight",
                    title="Due soonest")
        later = file_report(s, "northside", 1.3, 1.0, request_type="city-works/pothole",
                            title="Due later")
        _age(s, later, 12)  # overdue by two days
        refresh_body(s, later.body)
    grant(db, "crew@city.test", "staff", body="city-works")
    crew = client_for(app, "northside.reportal.test")
    sign_in(crew, db, "crew@city.test")
    page = crew.get("/staff/queue?sort=time_left").text
    assert page.index("Due later") < page.index("Due soonest")  # the overdue one first
    assert "Least time left first" in page
    assert "Overdue: not acknowledged within the target" in page
    newest = crew.get("/staff/queue?sort=newest").text
    assert newest.index("Due soonest") < newest.index("Due later")


def test_lateness_by_status():
    now = datetime(2026, 1, 10, tzinfo=UTC)
    past, future = now - timedelta(hours=1), now + timedelta(hours=1)
    assert deadlines.lateness("open", past, future, now) == "acknowledge"
    assert deadlines.lateness("open", past, past, now) == "fix"
    assert deadlines.lateness("acknowledged", past, future, now) is None
    assert deadlines.lateness("acknowledged", None, past, now) == "fix"
    assert deadlines.lateness("closed", past, past, now) is None
    assert deadlines.lateness("open", None, None, now) is None
