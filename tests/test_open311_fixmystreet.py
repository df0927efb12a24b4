"""FixMyStreet's Open311 client, replayed as the raw HTTP it sends, and its
`servicerequestupdates` both ways: a back office's status changes come in, our history goes out.

The requests are what FixMyStreet's `Open311.pm` sends: always `.xml`, a urlencoded body with
`api_key` and `jurisdiction_id` in it, `address_id=#NOTPINPOINTED#` when no address was
chosen, its own fields as `attribute[...]`, every photo as a repeated `media_url`; it reads
`service_requests/request[0]/service_request_id`, else the token.
"""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from portal.app import create_app
from portal.models import Issue, OutboxMessage, Update
from tests.conftest import client_for
from tests.factories import file_report
from tests.open311_support import checked
from tests.open311_world import make_keys
from tests.test_open311_media import photo_server  # noqa: F401 - the fixture

BASE = "/open311/v2"
FORM = {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "libwww-perl/6.68"}


def _fms_request(api_key: str, photo_urls: list[str]) -> bytes:
    pairs = [
        ("email", "resident@example.test"), ("description", "Pothole: Deep hole by the kerb"),
        ("service_code", "pothole"), ("lat", "2.0"), ("long", "1.0"),
        ("first_name", "Ana"), ("last_name", "Ruiz"), ("phone", ""),
        ("address_string", "12 Main St, Northside"), ("address_id", "#NOTPINPOINTED#"),
        ("attribute[title]", "Pothole"), ("attribute[description]", "Deep hole by the kerb"),
        ("attribute[external_id]", "4242"), ("attribute[closest_address]", "12 Main St"),
        ("attribute[report_url]", "https://fixmystreet.example.test/report/4242"),
        *[("media_url", url) for url in photo_urls],
        ("jurisdiction_id", "northside"), ("api_key", api_key),
    ]
    return urlencode(pairs).encode()


@pytest.fixture
def fms_client(settings, world):  # noqa: ANN001, ANN201
    # The photos are on a loopback server here: allow private addresses for this portal.
    app = create_app(dataclasses.replace(settings, open311_media_private=True))
    yield client_for(app, "northside.reportal.test")
    app.state.db.engine.dispose()


def test_fixmystreet_files_a_report_and_reads_its_id(fms_client, db, photo_server):  # noqa: F811
    keys = make_keys(db)
    body = _fms_request(keys.app, [f"{photo_server}/photo.jpg", f"{photo_server}/second.jpg"])
    response = fms_client.post(f"{BASE}/requests.xml", content=body, headers=FORM)
    assert response.status_code == 201, response.text
    root = checked(response, "posted")
    # what FixMyStreet reads: request[0].service_request_id (XML::Simple, ForceArray request)
    service_request_id = root.findall("request")[0].find("service_request_id").text
    with db.session() as session:
        issue = session.get(Issue, int(service_request_id))
        assert issue.description == "Pothole: Deep hole by the kerb"
        assert issue.address == "12 Main St, Northside"
        assert issue.photo is not None  # the first media_url
        assert issue.body.slug == "city-works"
    # A retry after a time-out (the same body again) files nothing new.
    again = fms_client.post(f"{BASE}/requests.xml", content=body, headers=FORM)
    assert ET.fromstring(again.content).find("request/service_request_id").text == \
        service_request_id
    with db.session() as session:
        assert len(session.scalars(select(Issue)).all()) == 1


def test_fixmystreet_reads_service_definitions_in_xml(fms_client, db):
    root = checked(fms_client.get(f"{BASE}/services.xml?jurisdiction_id=northside"), "services")
    codes = [s.find("service_code").text for s in root]
    assert "pothole" in codes
    definition = fms_client.get(f"{BASE}/services/pothole.xml?jurisdiction_id=northside")
    assert ET.fromstring(definition.content).find("service_code").text == "pothole"


def _updates(client, since: datetime):  # noqa: ANN001, ANN202
    end = since + timedelta(days=1)
    query = urlencode({"jurisdiction_id": "northside", "api_key": "ignored-on-get",
                       "start_date": since.strftime("%Y-%m-%dT%H:%M:%SZ"),
                       "end_date": end.strftime("%Y-%m-%dT%H:%M:%SZ")})
    return checked(client.get(f"{BASE}/servicerequestupdates.xml?{query}"),
                   "service_request_updates")


def _back_office(client, key: str, issue_id: int, status: str, update_id: str,  # noqa: ANN001
                 description: str = ""):
    body = urlencode({"api_key": key, "jurisdiction_id": "northside", "update_id": update_id,
                      "service_request_id": str(issue_id), "status": status,
                      "updated_datetime": "2024-05-01T10:00:00+01:00",
                      "description": description}).encode()
    return client.post(f"{BASE}/servicerequestupdates.xml", content=body, headers=FORM)


def test_a_back_office_moves_an_issue_through_its_statuses(client, db, world):
    keys = make_keys(db)
    with db.session() as session:
        issue_id = file_report(session, "northside", 2.0, 1.0, "pothole",
                               email="resident@example.test").id
    steps = [("ACTION_SCHEDULED", "acknowledged"), ("FIXED", "closed"), ("REOPEN", "open"),
             ("NOT_COUNCILS_RESPONSIBILITY", "closed"), ("IN_PROGRESS", "acknowledged"),
             ("DUPLICATE", "closed")]
    for n, (theirs, ours) in enumerate(steps):
        response = _back_office(client, keys.back_office, issue_id, theirs, f"crm-{n}",
                                f"Step {n}")
        assert response.status_code == 200, response.text
        assert checked(response, "posted_update").find(
            "request_update/update_id").text.isdigit()
        with db.session() as session:
            assert session.get(Issue, issue_id).status == ours
    with db.session() as session:
        mails = session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == "status_changed")).all()
        # one mail per change the resident sees, the detour through "open" included
        assert {m.recipient for m in mails} == {"resident@example.test"}
        history = session.scalars(select(Update).where(Update.issue_id == issue_id,
                                                       Update.kind == "status")).all()
        assert history[-1].author_name == "city-works dept"
        assert history[-1].author_role == "staff"
    page = client.get(f"/issues/{issue_id}")
    assert "Step 5" in page.text


def test_the_same_update_id_twice_changes_nothing_more(client, db, world):
    keys = make_keys(db)
    with db.session() as session:
        issue_id = file_report(session, "northside", 2.0, 1.0, "pothole").id
    first = _back_office(client, keys.back_office, issue_id, "FIXED", "crm-9", "Filled")
    again = _back_office(client, keys.back_office, issue_id, "FIXED", "crm-9", "Filled")
    assert first.status_code == again.status_code == 200
    assert ET.fromstring(first.content).find("request_update/update_id").text == \
        ET.fromstring(again.content).find("request_update/update_id").text
    with db.session() as session:
        assert len(session.scalars(select(Update).where(Update.issue_id == issue_id)).all()) == 2


def test_a_comment_without_a_change_of_status_is_the_bodys(client, db, world):
    keys = make_keys(db)
    with db.session() as session:
        issue_id = file_report(session, "northside", 2.0, 1.0, "pothole").id
    response = _back_office(client, keys.back_office, issue_id, "OPEN", "crm-1",
                            "Inspector visits on Friday")
    assert response.status_code == 200
    with db.session() as session:
        row = session.scalars(select(Update).where(Update.kind == "comment")).one()
        assert (row.author_name, row.author_role, row.text) == \
            ("city-works dept", "staff", "Inspector visits on Friday")


def test_back_office_refusals(client, db, world):
    keys = make_keys(db)
    with db.session() as session:
        ours = file_report(session, "northside", 2.0, 1.0, "pothole").id
        states = file_report(session, "northside", 2.0, 1.0, "highway-sign").id  # state-roads
    cases = [
        (keys.app, ours, "FIXED", 403, "This key may not update this request."),
        (keys.back_office, states, "FIXED", 403, "This key may not update this request."),
        (keys.back_office, 999999, "FIXED", 404, "There is no such issue on this portal."),
        (keys.back_office, ours, "MAYBE", 400, "status: Unknown status 'MAYBE'."),
        ("o311_bad_key", ours, "FIXED", 403, "This api_key is not valid here."),
    ]
    for key, issue_id, status, code, message in cases:
        response = _back_office(client, key, issue_id, status, f"x-{issue_id}-{status}")
        assert response.status_code == code, response.text
        assert checked(response, "errors").find("error/description").text == message
    with db.session() as session:
        assert session.get(Issue, ours).status == "open"


def test_fixmystreet_pulls_the_public_history_as_updates(client, db, world):
    keys = make_keys(db)
    since = datetime.now(UTC) - timedelta(hours=1)
    with db.session() as session:
        issue_id = file_report(session, "northside", 2.0, 1.0, "pothole").id
    _back_office(client, keys.back_office, issue_id, "FIXED", "crm-1", "Filled today")
    root = _updates(client, since)
    rows = [(u.find("service_request_id").text, u.find("status").text,
             u.find("description").text) for u in root]
    assert rows == [(str(issue_id), "OPEN", None), (str(issue_id), "FIXED", "Filled today")]
    data = client.get(f"{BASE}/servicerequestupdates.json").json()
    assert [u["status"] for u in data] == ["OPEN", "FIXED"]
    checked(client.get(f"{BASE}/servicerequestupdates.json"), "service_request_updates")
    assert _updates(client, since - timedelta(days=5)) is not None
    old = client.get(f"{BASE}/servicerequestupdates.xml?start_date=2001-01-01T00:00:00Z")
    assert len(checked(old, "service_request_updates")) == 0
