"""A council member's constituent desk: the district's issues with the reporters who let the
office contact them, public follow-ups mailed to watchers, escalations to the body, and the
weekly district digest. Nothing of it reaches residents, a city portal's staff, or another
politician's office.

In the test world riverside (lat -1..1.5) and faraway are made politicians' portals; northside
(lat 1..3, a city portal) overlaps riverside in lat 1..1.5.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from portal.engagement import watching
from portal.mail import unsubscribe
from portal.models import Issue, OfficeContact, OutboxMessage, Place, Update, User
from portal.places import gazetteer
from portal.reports import status
from portal.staff import accounts, constituent_desk, district_digest, triage
from portal.worker import run_once
from tests.cli_run import run_portal
from tests.conftest import client_for
from tests.factories import file_report, tenant
from tests.http_support import csrf, field_error
from tests.staff_support import grant, sign_in

RIVER = (0.2, 1.5)  # riverside only
OVERLAP = (1.2, 1.0)  # riverside and northside
OFFICE = "aide@rivera.test"


@pytest.fixture
def politicians(world, db):
    with db.session() as s:
        for slug in ("riverside", "faraway"):
            tenant(s, slug).kind = "politician"
    grant(db, OFFICE, "office", portal="riverside")
    grant(db, "aide@faraway.test", "office", portal="faraway")
    grant(db, "admin@river.test", "admin", portal="riverside")
    grant(db, "admin@north.test", "admin", portal="northside")
    grant(db, "crew@city.test", "staff", body="city-works")


def report_on(client, lat: float, lon: float, **fields):  # noqa: ANN001, ANN201
    page = client.get("/report").text
    data = {"csrf_token": csrf(page), "submission_key": f"k{lat}{lon}{len(fields)}",
            "lat": str(lat), "lon": str(lon), "request_type": "city-works/pothole",
            "description": "Deep hole by the school", "nearby": "none", **fields}
    return client.post("/report", data=data)


def signed_in(app, db, host: str, email: str):  # noqa: ANN001, ANN201
    client = client_for(app, f"{host}.reportal.test")
    sign_in(client, db, email)
    return client


def outbox(db, kind: str) -> list[OutboxMessage]:
    with db.session() as s:
        return list(s.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)
                              .order_by(OutboxMessage.id)))


# -- the report form's box ------------------------------------------------------------------


def test_the_box_shows_on_politician_portals_only_and_is_stored_per_portal(app, db,
                                                                          politicians):
    river = client_for(app, "riverside.reportal.test")
    north = client_for(app, "northside.reportal.test")
    form = river.get("/report").text
    assert "Let Riverside Portal's office contact me about this" in form
    assert 'name="office_contact" value="1">' in form  # never ticked for them
    assert "office_contact" not in north.get("/report").text
    assert report_on(river, *OVERLAP, email="ana@voters.test", name="Ana",
                     office_contact="1").status_code == 303
    assert report_on(north, *OVERLAP, description="Another hole", email="bo@voters.test",
                     office_contact="1").status_code == 303  # a city form: ignored
    with db.session() as s:
        rows = s.execute(select(OfficeContact.tenant_id, Issue.reporter_email)
                         .join(Issue, Issue.id == OfficeContact.issue_id)).all()
        assert rows == [(tenant(s, "riverside").id, "ana@voters.test")]


def test_ticking_the_box_without_an_email_is_refused_and_nothing_is_written(app, db,
                                                                           politicians):
    river = client_for(app, "riverside.reportal.test")
    r = report_on(river, *RIVER, office_contact="1")
    assert r.status_code == 400
    assert "Give your email so the office can contact you" in field_error(r.text,
                                                                          "office_contact")
    assert 'name="office_contact" value="1" checked' in r.text  # kept, as typed
    with db.session() as s:
        assert s.scalars(select(Issue)).first() is None


# -- the desk -------------------------------------------------------------------------------


@pytest.fixture
def district(db, politicians):
    with db.session() as s:
        river = tenant(s, "riverside")
        ids = {
            "consented": file_report(s, "riverside", *RIVER, email="ana@voters.test",
                                     name="Ana Voter", office_contact=True).id,
            "private": file_report(s, "riverside", *OVERLAP, email="bo@secret.test",
                                   name="Bo Private", request_type="streetlight").id,
            "north": file_report(s, "northside", 2.5, 1.0, email="cy@north.test",
                                 office_contact=True).id,
        }
        old = s.get(Issue, ids["private"])
        old.created_at = datetime.now(UTC) - timedelta(days=30)
        old.vote_count = 4
        triage.set_status(s, s.get(Issue, ids["consented"]), "acknowledged",
                          triage.Actor(None))
        assert river.kind == "politician"
    return ids


def test_the_desk_lists_the_district_with_contacts_only_where_agreed(app, db, district):
    office = signed_in(app, db, "riverside", OFFICE)
    page = office.get("/staff/constituents")
    assert page.status_code == 200
    for key in ("consented", "private"):
        assert f"/staff/constituents/{district[key]}\"" in page.text
    assert f"/staff/constituents/{district['north']}\"" not in page.text  # not the district
    assert "ana@voters.test" in page.text and "Ana Voter" in page.text
    assert "bo@secret.test" not in page.text and "Bo Private" not in page.text
    one = office.get(f"/staff/constituents/{district['private']}").text
    assert "bo@secret.test" not in one and "did not ask to be contacted" in one


@pytest.mark.parametrize(("query", "expected"), [
    ("filtered=1&status=acknowledged", {"consented"}),
    ("filtered=1&status=open", {"private"}),
    ("filtered=1&type=streetlight", {"private"}),
    ("min_age=7", {"private"}),
    ("max_age=7", {"consented"}),
    ("min_votes=3", {"private"}),
])
def test_the_desk_filters_by_status_type_age_and_votes(app, db, district, query, expected):
    office = signed_in(app, db, "riverside", OFFICE)
    page = office.get(f"/staff/constituents?{query}").text
    shown = {k for k in ("consented", "private") if f"/staff/constituents/{district[k]}\"" in page}
    assert shown == expected


def test_the_desk_narrows_to_a_neighbourhood_picked_by_name(app, db, district):
    # The south-west half of riverside: RIVER and OVERLAP lie east of its diagonal.
    outline = json.dumps({"type": "Polygon", "coordinates": [
        [[0, -1], [2, -1], [0, 1.5], [0, -1]]]})
    with db.session() as s:
        river = tenant(s, "riverside")
        gazetteer.add_places(s, river.id, [gazetteer.NewPlace(
            "area", {"en": "Dwight"}, 0.0, 0.5, area_geojson=outline)], "test")
        inside = file_report(s, "riverside", -0.5, 0.5, description="In Dwight").id
        area_id = s.scalars(select(Place.id).where(Place.kind == "area")).one()
    office = signed_in(app, db, "riverside", OFFICE)
    page = office.get("/staff/constituents").text
    assert f'<option value="{area_id}">Dwight</option>' in page
    picked = office.get(f"/staff/constituents?area={area_id}").text
    rows = picked.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert f"/staff/constituents/{inside}\"" in rows
    assert rows.count("<tr") == 1


def test_bad_filters_say_what_is_wrong(app, db, district):
    office = signed_in(app, db, "riverside", OFFICE)
    r = office.get("/staff/constituents?min_votes=lots&area=x")
    assert r.status_code == 400
    assert field_error(r.text, "min_votes") == "Enter a whole number."


@pytest.mark.parametrize("who", [None, "resident@example.org", "crew@city.test",
                                 "admin@north.test", "aide@faraway.test"])
def test_nobody_else_gets_the_desk_or_its_contacts(app, db, district, who):
    client = client_for(app, "riverside.reportal.test")
    if who:
        sign_in(client, db, who)
    page = client.get("/staff/constituents")
    assert page.status_code == 403
    assert "ana@voters.test" not in page.text
    one = client.get(f"/staff/constituents/{district['consented']}")
    assert one.status_code == (403 if who is None else 404)
    assert "ana@voters.test" not in one.text


def test_a_city_portals_admin_and_the_other_office_get_nothing_on_their_own_portals(
        app, db, district):
    north = signed_in(app, db, "northside", "admin@north.test")
    assert north.get("/staff/constituents").status_code == 403  # a city portal: no desk
    far = signed_in(app, db, "faraway", "aide@faraway.test")
    assert far.get("/staff/constituents").status_code == 200
    assert "ana@voters.test" not in far.get("/staff/constituents").text
    assert far.get(f"/staff/constituents/{district['consented']}").status_code == 404


def test_the_portals_admin_is_the_office_too(app, db, district):
    admin = signed_in(app, db, "riverside", "admin@river.test")
    assert "ana@voters.test" in admin.get("/staff/constituents").text
    assert 'href="/staff/constituents"' in admin.get("/staff").text


def test_the_office_role_belongs_to_politician_portals_only(db, politicians):
    with db.session() as s:
        with pytest.raises(ValueError, match="politician"):
            accounts.add_role(s, "x@example.org", "office", tenant=tenant(s, "northside"))


def test_the_consent_never_reaches_a_public_reader_or_export(app, db, district):
    for host in ("riverside", "northside"):
        client = client_for(app, f"{host}.reportal.test")
        for path in ("/", "/issues", "/api/issues.geojson", "/exports/issues.csv",
                     "/exports/issues.geojson", "/feed.atom", "/open311/v2/requests.json",
                     f"/issues/{district['consented']}",
                     f"/open311/v2/requests/{district['consented']}.json"):
            body = client.get(path).text
            assert "ana@voters.test" not in body and "Ana Voter" not in body, (host, path)


# -- follow up and escalate -----------------------------------------------------------------


def watch_issue(db, portal: str, issue_id: int, email: str, locale: str = "en") -> None:
    with db.session() as s:
        t = tenant(s, portal)
        form = watching.WatchForm(email=email, kind="issue", issue_id=str(issue_id),
                                  locale=locale)
        watch = watching.create_watch(s, t, form, "x" * 32)
        watching.confirm_watch(s, t, watching.confirm_token("x" * 32, watch), "x" * 32)


def test_a_follow_up_shows_on_every_portal_and_reaches_the_watchers(app, db, district):
    issue_id = district["private"]  # in the overlap: on riverside and northside
    watch_issue(db, "northside", issue_id, "neighbour@example.org", "es")
    office = signed_in(app, db, "riverside", OFFICE)
    page = office.get(f"/staff/constituents/{issue_id}").text
    r = office.post(f"/staff/constituents/{issue_id}/follow-up", data={
        "csrf_token": csrf(page), "text": "Our office has asked Public Works about this"})
    assert r.status_code == 303
    assert "done=follow-up" in r.headers["location"]
    north = client_for(app, "northside.reportal.test").get(f"/issues/{issue_id}").text
    assert "Follow-up from Riverside Portal" in north
    assert "Our office has asked Public Works about this" in north
    with db.session() as s:
        kinds = [u.kind for u in s.get(Issue, issue_id).updates]
        assert kinds == ["created", "office_note"]
    [mail] = outbox(db, "watch_office")
    assert mail.recipient == "neighbour@example.org" and mail.locale == "es"
    assert "Our office has asked Public Works about this" in mail.body_text
    assert unsubscribe.scope_for(mail.kind, mail.key).startswith("watch:")


def test_an_empty_follow_up_is_refused_with_a_reason(app, db, district):
    office = signed_in(app, db, "riverside", OFFICE)
    path = f"/staff/constituents/{district['private']}"
    r = office.post(path + "/follow-up", data={"csrf_token": csrf(office.get(path).text),
                                               "text": "  "})
    assert r.status_code == 400
    assert field_error(r.text, "follow_up") == "Write a comment first."
    with db.session() as s:
        assert [u.kind for u in s.get(Issue, district["private"]).updates] == ["created"]


def test_escalating_mails_the_body_and_says_so_in_the_history(app, db, district):
    issue_id = district["private"]
    office = signed_in(app, db, "riverside", OFFICE)
    path = f"/staff/constituents/{issue_id}"
    r = office.post(path + "/escalate", data={"csrf_token": csrf(office.get(path).text),
                                              "text": "Residents call us daily"})
    assert r.status_code == 303
    [mail] = outbox(db, "office_escalation")
    assert mail.recipient == "city-works@bodies.test"
    assert "Residents call us daily" in mail.body_text and OFFICE in mail.body_text
    public = client_for(app, "riverside.reportal.test").get(f"/issues/{issue_id}").text
    assert "Escalated by Riverside Portal to city-works dept" in public
    assert "Residents call us daily" not in public  # the office's words go to the body only


def test_an_issue_is_escalated_once_a_week_at_most(app, db, district):
    issue_id = district["private"]
    office = signed_in(app, db, "riverside", OFFICE)
    path = f"/staff/constituents/{issue_id}"

    def press() -> object:
        return office.post(path + "/escalate", data={"csrf_token": csrf(office.get(path).text),
                                                     "text": "Please look again"})

    assert press().status_code == 303
    again = press()
    assert again.status_code == 400
    assert "Your office escalated this issue on" in again.text
    assert "It can be escalated again from" in again.text
    assert len(outbox(db, "office_escalation")) == 1  # the body got one mail
    with db.session() as s:  # eight days later
        row = s.scalars(select(Update).where(Update.issue_id == issue_id,
                                             Update.kind == "escalated")).one()
        row.created_at = row.created_at - timedelta(days=8)
    assert press().status_code == 303
    assert len(outbox(db, "office_escalation")) == 2


def test_without_csrf_or_the_role_nothing_is_written(app, db, district):
    issue_id = district["private"]
    office = signed_in(app, db, "riverside", OFFICE)
    assert office.post(f"/staff/constituents/{issue_id}/follow-up",
                       data={"text": "x"}).status_code == 403
    crew = signed_in(app, db, "riverside", "crew@city.test")
    token = csrf(crew.get("/signin").text)
    for action in ("follow-up", "escalate"):
        r = crew.post(f"/staff/constituents/{issue_id}/{action}",
                      data={"csrf_token": token, "text": "x"})
        assert r.status_code == 404
    far = signed_in(app, db, "faraway", "aide@faraway.test")
    r = far.post(f"/staff/constituents/{issue_id}/escalate",
                 data={"csrf_token": csrf(far.get("/signin").text), "text": "x"})
    assert r.status_code == 404  # not in that office's district
    with db.session() as s:
        assert [u.kind for u in s.get(Issue, issue_id).updates] == ["created"]
    assert outbox(db, "office_escalation") == []


def test_office_entries_keep_their_order_in_the_history(db, district):
    with db.session() as s:
        river = tenant(s, "riverside")
        issue = s.get(Issue, district["consented"])
        constituent_desk.follow_up(s, river, issue, "We asked", None)
        status.add_comment(s, issue, "Thanks", "Ana")
        constituent_desk.escalate(s, river, issue, "", None)
        kinds = [u.kind for u in status.public_history(s.get(Issue, issue.id))]
    assert kinds == ["created", "status", "office_note", "comment", "escalated"]


# -- the weekly digest ----------------------------------------------------------------------


def test_the_weekly_digest_lists_new_fixed_overdue_and_slowest_once(db, district):
    week = district_digest.week_of(datetime.now(UTC).date())
    with db.session() as s:
        fixed = s.get(Issue, district["private"])
        triage.set_status(s, fixed, "closed", triage.Actor(None))
        late = s.get(Issue, district["consented"])
        late.close_due_at = datetime.now(UTC) - timedelta(hours=1)
        assert district_digest.compose_digests(s, week) == 3  # two offices and an admin
        assert district_digest.compose_digests(s, week) == 0  # once per week and person
    mails = outbox(db, "office_digest")
    assert sorted(m.recipient for m in mails) == ["admin@river.test", "aide@faraway.test", OFFICE]
    text = next(m.body_text for m in mails if m.recipient == OFFICE)
    assert "ana@voters.test" not in next(m.body_text for m in mails if "faraway" in m.recipient)
    new_part = text.split("New issues (1)")[1].split("Fixed issues")[0]
    assert f"#{district['consented']}" in new_part  # the old one was reported weeks ago
    assert f"/issues/{district['consented']}" in new_part
    assert f"#{district['private']}" in text.split("Fixed issues (1)")[1].split("Overdue")[0]
    assert f"#{district['consented']}" in text.split("Overdue issues")[1].split("Slowest")[0]
    assert "Streetlight out: 30.0 days" in text
    assert "/staff/constituents?filtered=1&type=streetlight" in text
    assert "cy@north.test" not in text and "ana@voters.test" not in text


def test_the_worker_writes_last_weeks_digest_once(db, settings, district):
    state: dict = {}
    run_once(db, settings, state)
    run_once(db, settings, state)
    run_once(db, settings, {})  # a restarted worker: the outbox keys still hold
    mails = outbox(db, "office_digest")
    assert len(mails) == 3  # two offices and an admin, once each
    with db.session() as s:
        assert {u.email for u in s.scalars(select(User))} >= {m.recipient for m in mails}
    assert all(m.tenant_id is not None for m in mails)


def test_no_digest_for_a_city_portals_admin(db, district):
    with db.session() as s:
        district_digest.compose_digests(s, district_digest.week_of(datetime.now(UTC).date()))
    assert "admin@north.test" not in {m.recipient for m in outbox(db, "office_digest")}


def test_an_operator_gives_the_office_role_and_writes_a_weeks_digest(settings, db, world):
    env = {"DATABASE_URL": settings.database_url, "PATH": "/usr/bin:/bin",
           "SECRET_KEY": settings.secret_key}
    with db.session() as s:
        tenant(s, "riverside").kind = "politician"
    city = run_portal(["users", "add", "aide@example.org", "--tenant", "northside",
                       "--role", "office"], env)
    assert city.returncode != 0 and "politician" in city.stderr
    given = run_portal(["users", "add", "aide@example.org", "--tenant", "riverside",
                        "--role", "office"], env)
    assert given.returncode == 0, given.stderr
    first = run_portal(["office-digest", "--week", "2025-06-04"], env)
    assert first.returncode == 0, first.stderr
    assert "week of 2025-06-02: 1" in first.stdout  # the Monday of that week
    again = run_portal(["office-digest", "--week", "2025-06-02"], env)
    assert "week of 2025-06-02: 0" in again.stdout
    bad = run_portal(["office-digest", "--week", "June"], env)
    assert bad.returncode != 0 and "--week must look like" in bad.stderr
