"""Times where no page says the zone: mail and the command line give each time in the
reader's zone, to the minute, with the zone named; the issue page adds the body's own time
when the body works in another zone than the portal's."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from portal.models import OutboxMessage, Tenant
from portal.staff import triage
from tests.conftest import client_for
from tests.factories import file_report
from tests.test_cli import portal
from tests.test_service_targets import TARGETS, set_targets

NO_SECONDS = re.compile(r"\d:\d\d:\d\d")


def _plain(text: str) -> str:
    """Babel joins time and AM/PM with a narrow no-break space; a reader sees a space."""
    return text.replace("\u202f", " ").replace("\xa0", " ")


def _clock(moment: datetime, zone: str) -> str:
    """"Dec 1, 2026, 3:47 AM EST", worked out here without the product's code."""
    local = moment.replace(tzinfo=moment.tzinfo or UTC).astimezone(ZoneInfo(zone))
    hour = local.hour % 12 or 12
    return (f"{local:%b} {local.day}, {local.year}, {hour}:{local:%M} {local:%p} "
            f"{local.tzname()}")


def _set_zone(db, slug: str, zone: str) -> None:  # noqa: ANN001
    with db.session() as s:
        s.execute(update(Tenant).where(Tenant.slug == slug).values(time_zone=zone))


def _mail(db, kind: str) -> str:  # noqa: ANN001
    with db.session() as s:
        return _plain(s.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)
                                .order_by(OutboxMessage.id.desc())).first().body_text)


def test_the_bodys_mail_gives_report_and_due_times_in_the_bodys_working_zone(db, world,
                                                                              tmp_path):
    _set_zone(db, "northside", "Europe/Paris")
    with db.session() as s:
        set_targets(s, tmp_path / "tenants", "city-works", TARGETS)  # New York hours
        issue = file_report(s, "northside", 1.9, 1.0, request_type="city-works/pothole")
        created, due = issue.created_at, issue.acknowledge_due_at
    text = _mail(db, "new_report")
    assert f"Reported: {_clock(created, 'America/New_York')}" in text
    assert f"Acknowledgement due: {_clock(due, 'America/New_York')}" in text
    assert " E" in _clock(created, "America/New_York")  # EST or EDT, named
    assert not NO_SECONDS.search(text)


def test_a_body_without_working_hours_reads_the_portals_zone(db, world):
    _set_zone(db, "northside", "Asia/Seoul")
    with db.session() as s:
        created = file_report(s, "northside", 1.9, 1.0).created_at
    assert f"Reported: {_clock(created, 'Asia/Seoul')}" in _mail(db, "new_report")
    assert "KST" in _mail(db, "new_report")


def test_the_reporters_mail_says_when_in_the_portals_zone(db, world):
    _set_zone(db, "northside", "America/Los_Angeles")
    with db.session() as s:
        issue = file_report(s, "northside", 1.9, 1.0, email="vecina@example.org")
        row = triage.set_status(s, issue, "acknowledged", triage.Actor(None))
        changed = row.created_at
        triage.reply(s, issue, "Parts ordered", triage.Actor(None))
    with db.session() as s:
        status_mail, reply_mail = (_plain(m.body_text) for m in s.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "status_changed")
            .order_by(OutboxMessage.id)))
    assert f"Changed: {_clock(changed, 'America/Los_Angeles')}" in status_mail
    assert "Parts ordered" in reply_mail and re.search(r"Replied: .* P[SD]T", reply_mail)


def test_outbox_failed_gives_the_next_try_in_the_portals_zone_or_utc(settings, db, world):
    _set_zone(db, "northside", "America/New_York")
    soon = datetime.now(UTC).replace(second=42, microsecond=0) + timedelta(minutes=5)
    with db.session() as s:
        north = s.scalars(select(Tenant).where(Tenant.slug == "northside")).one().id
        for key, tenant_id in (("k:north", north), ("k:none", None)):
            s.add(OutboxMessage(key=key, kind="signin", recipient=f"{key[2:]}@example.org",
                                subject="S", body_text="B", attempts=2, last_error="451 later",
                                next_attempt_at=soon, tenant_id=tenant_id))
    result = portal(settings, "outbox", "failed")
    assert result.returncode == 0, result.stderr
    lines = _plain(result.stdout).splitlines()
    assert _clock(soon, "America/New_York") in next(x for x in lines if "north@" in x)
    assert _clock(soon, "UTC") in next(x for x in lines if "none@" in x)
    assert not NO_SECONDS.search(result.stdout)


def test_open311_keys_list_gives_the_revoked_time_in_the_portals_zone(settings, db, world):
    from portal.open311 import api_keys

    _set_zone(db, "northside", "Asia/Seoul")
    with db.session() as s:
        tenant = s.scalars(select(Tenant).where(Tenant.slug == "northside")).one()
        row, _ = api_keys.create(s, tenant, "Old app", None)
        s.flush()
        api_keys.revoke(s, tenant, row.id)
        revoked = row.revoked_at
    result = portal(settings, "open311", "keys", "list", "northside")
    assert f"revoked {_clock(revoked, 'Asia/Seoul')}" in _plain(result.stdout), result.stdout


def test_due_times_on_the_issue_page_add_the_bodys_own_zone(app, db, world, tmp_path):
    _set_zone(db, "northside", "Europe/Paris")
    with db.session() as s:
        set_targets(s, tmp_path / "tenants", "city-works", TARGETS)
        issue = file_report(s, "northside", 1.9, 1.0, request_type="city-works/pothole")
        issue_id, due = issue.id, issue.acknowledge_due_at
    page = _plain(client_for(app, "northside.reportal.test").get(f"/issues/{issue_id}").text)
    assert _clock(due, "Europe/Paris") in page
    assert f"({_clock(due, 'America/New_York')} where city-works dept works)" in page


def test_due_times_in_the_portals_own_zone_are_shown_once(app, db, world, tmp_path):
    _set_zone(db, "northside", "America/New_York")
    with db.session() as s:
        set_targets(s, tmp_path / "tenants", "city-works", TARGETS)
        issue_id = file_report(s, "northside", 1.9, 1.0, request_type="city-works/pothole").id
    page = client_for(app, "northside.reportal.test").get(f"/issues/{issue_id}").text
    assert "Fix due" in page and "works)" not in page
