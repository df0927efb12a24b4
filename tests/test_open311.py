"""Open311 GeoReport v2 as a client sees it: discovery, services, filing and reading requests,
every error in the spec's form, on the portal's host and under /t/{slug}/.

Every response goes through the spec's JSON Schemas or XML checker (tests/open311_support.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from portal.models import Issue, OutboxMessage
from tests.conftest import client_for
from tests.factories import file_report, jpeg_bytes
from tests.open311_support import checked
from tests.open311_world import add_questions, make_keys

BASE = "/open311/v2"
INSIDE = {"lat": "2.0", "long": "1.0"}  # northside, city-works and state-roads


@pytest.fixture
def keys(db, world, tmp_path, settings):  # noqa: ANN001, ANN201
    add_questions(db, tmp_path / "tenants", settings.themes_dir)
    return make_keys(db)


def post(client, keys, fmt="json", **fields):  # noqa: ANN001, ANN201
    data = {"api_key": keys.app, "service_code": "pothole", **INSIDE,
            "description": "A deep pothole by the bus stop", "attribute[depth]": "12", **fields}
    return client.post(f"{BASE}/requests.{fmt}", data={k: v for k, v in data.items()
                                                       if v is not None})


def errors_of(response) -> list[str]:  # noqa: ANN001
    return [e["description"] for e in checked(response, "errors")]


def test_discovery_names_the_endpoint_and_the_human_page(client, keys):
    data = checked(client.get(f"{BASE}/discovery.json"), "discovery")
    assert data["endpoints"][0]["url"] == "http://northside.reportal.test/open311/v2"
    assert data["key_service"] == "http://northside.reportal.test/open311"
    root = checked(client.get(f"{BASE}/discovery.xml"), "discovery")
    assert root.find("endpoints/endpoint/formats/format").text == "text/xml"


def test_services_are_the_portals_request_types_one_per_code(client, keys):
    services = checked(client.get(f"{BASE}/services.json"), "services")
    by_code = {s["service_code"]: s for s in services}
    assert sorted(by_code) == ["highway-sign", "pothole", "streetlight"]
    assert by_code["pothole"]["service_name"] == "Pothole"  # city-works: the most local
    assert by_code["pothole"]["metadata"] is True
    assert by_code["highway-sign"]["metadata"] is False
    root = checked(client.get(f"{BASE}/services.xml"), "services")
    assert [s.find("service_code").text for s in root] == sorted(by_code)


def test_a_service_definition_lists_its_attributes_in_order(client, keys):
    data = checked(client.get(f"{BASE}/services/pothole.json?lang=es"), "service_definition")
    depth, lane = data["attributes"]
    assert (depth["code"], depth["datatype"], depth["required"], depth["order"]) == \
        ("depth", "number", True, 1)
    assert depth["description"] == "¿Qué profundidad tiene?"
    assert lane["values"] == [{"key": "left", "name": "Left lane"},
                              {"key": "right", "name": "Right lane"}]
    root = checked(client.get(f"{BASE}/services/pothole.xml"), "service_definition")
    assert [a.find("code").text for a in root.find("attributes")] == ["depth", "lane"]
    assert [v.find("key").text for v in root.find("attributes")[1].find("values")] == \
        ["left", "right"]
    plain = checked(client.get(f"{BASE}/services/highway-sign.json"), "service_definition")
    assert plain["attributes"] == []


def test_posting_files_a_real_report_routed_and_mailed(client, keys, db):
    response = post(client, keys, email="resident@example.test", first_name="Ana",
                    last_name="Ruiz", address_string="12 Main St", **{"attribute[lane]": "left"})
    assert response.status_code == 201
    posted = checked(response, "posted")
    issue_id = int(posted[0]["service_request_id"])
    with db.session() as session:
        issue = session.get(Issue, issue_id)
        assert issue.body.slug == "city-works"
        assert issue.answers == {"depth": "12", "lane": "left"}
        assert issue.reporter_name == "Ana Ruiz" and issue.show_name is False
        assert issue.address == "12 Main St"
        mail = session.scalars(select(OutboxMessage).where(
            OutboxMessage.recipient == "city-works@bodies.test")).all()
        assert len(mail) == 1
    page = client.get(f"/issues/{issue_id}")
    assert "A deep pothole by the bus stop" in page.text
    assert "Ana Ruiz" not in page.text  # the name went to the body, not the public page
    one = checked(client.get(f"{BASE}/requests/{issue_id}.json"), "service_requests")
    assert one[0]["service_request_id"] == str(issue_id)
    assert one[0]["status"] == "open" and one[0]["agency_responsible"] == "city-works dept"
    assert "resident@example.test" not in client.get(f"{BASE}/requests/{issue_id}.xml").text


def test_the_same_request_sent_twice_files_one_report(client, keys, db):
    first = checked(post(client, keys), "posted")
    again = post(client, keys)
    assert again.status_code == 200
    assert checked(again, "posted")[0]["service_request_id"] == first[0]["service_request_id"]
    with db.session() as session:
        assert session.scalar(select(Issue.id).where(Issue.id != int(
            first[0]["service_request_id"]))) is None
    token = first[0]["token"]
    found = checked(client.get(f"{BASE}/tokens/{token}.json"), "tokens")
    assert found == [{"service_request_id": first[0]["service_request_id"], "token": token}]
    checked(client.get(f"{BASE}/tokens/{token}.xml"), "tokens")


def test_a_photo_uploaded_as_media_is_the_reports_photo(client, keys, db):
    response = client.post(f"{BASE}/requests.xml", data={
        "api_key": keys.app, "service_code": "highway-sign", **INSIDE,
        "description": "Sign knocked over"},
        files={"media": ("sign.jpg", jpeg_bytes(), "image/jpeg")})
    root = checked(response, "posted")
    issue_id = int(root.find("request/service_request_id").text)
    item = checked(client.get(f"{BASE}/requests/{issue_id}.json"), "service_requests")[0]
    assert item["media_url"].startswith("http://northside.reportal.test/media/")
    assert client.get(item["media_url"].removeprefix("http://northside.reportal.test")
                      ).status_code == 200


def test_the_api_works_under_the_t_prefix_with_its_urls(app, world, keys):
    local = client_for(app, "localhost")
    data = checked(local.get(f"/t/northside{BASE}/discovery.json"), "discovery")
    assert data["endpoints"][0]["url"].endswith("/t/northside/open311/v2")
    response = local.post(f"/t/northside{BASE}/requests.json", data={
        "api_key": keys.app, "service_code": "highway-sign", **INSIDE,
        "description": "Sign down", "jurisdiction_id": "northside"})
    assert response.status_code == 201, response.text
    checked(response, "posted")


def test_requests_filter_by_id_code_status_and_dates(client, keys, db):
    with db.session() as session:
        pothole = file_report(session, "northside", 2.0, 1.0, "pothole")
        sign = file_report(session, "northside", 2.0, 1.0, "highway-sign", "Sign bent")
        closed = file_report(session, "northside", 1.9, 1.0, "streetlight", "Dark")
        closed.status = "closed"
        ids = pothole.id, sign.id, closed.id
    listed = checked(client.get(f"{BASE}/requests.json"), "service_requests")
    assert [int(r["service_request_id"]) for r in listed] == sorted(ids, reverse=True)
    by_code = checked(client.get(f"{BASE}/requests.json?service_code=pothole,highway-sign"),
                      "service_requests")
    assert {int(r["service_request_id"]) for r in by_code} == {pothole.id, sign.id}
    shut = checked(client.get(f"{BASE}/requests.xml?status=closed"), "service_requests")
    assert [r.find("service_request_id").text for r in shut] == [str(closed.id)]
    # service_request_id overrides the rest, even a range that holds nothing
    old = "start_date=2001-01-01T00:00:00Z&end_date=2001-02-01T00:00:00Z"
    assert checked(client.get(f"{BASE}/requests.json?{old}"), "service_requests") == []
    chosen = checked(client.get(f"{BASE}/requests.json?{old}&service_request_id="
                                f"{sign.id},{pothole.id}"), "service_requests")
    assert [int(r["service_request_id"]) for r in chosen] == [sign.id, pothole.id]
    paged = checked(client.get(f"{BASE}/requests.json?page_size=2&page=2"), "service_requests")
    assert [int(r["service_request_id"]) for r in paged] == [pothole.id]


def test_other_portals_issues_are_not_served(client, keys, db):
    with db.session() as session:
        elsewhere = file_report(session, "riverside", 0.2, 1.0, "pothole").id
    assert checked(client.get(f"{BASE}/requests.json?service_request_id={elsewhere}"),
                   "service_requests") == []
    response = client.get(f"{BASE}/requests/{elsewhere}.json")
    assert response.status_code == 404
    assert errors_of(response) == ["There is no such request on this portal."]


def test_extensions_carry_the_precise_status_body_channel_and_public_history(client, keys, db):
    issue_id = int(checked(post(client, keys), "posted")[0]["service_request_id"])
    response = client.post(f"{BASE}/servicerequestupdates.json", data={
        "api_key": keys.back_office, "update_id": "crm-1", "service_request_id": str(issue_id),
        "status": "IN_PROGRESS", "description": "Crew booked for Monday"})
    assert response.status_code == 200, response.text
    item = checked(client.get(f"{BASE}/requests/{issue_id}.json?extensions=true"),
                   "service_requests")[0]
    assert item["status"] == "open"
    assert item["status_notes"] == "Crew booked for Monday"
    extended = item["extended_attributes"]
    assert (extended["status"], extended["channel"], extended["body"]) == \
        ("acknowledged", "open311", "city-works")
    assert [n["type"] for n in item["notes"]] == ["created", "acknowledged"]
    assert item["notes"][1]["description"] == "Crew booked for Monday"
    root = checked(client.get(f"{BASE}/requests.xml?extensions=true"), "service_requests")
    assert root.find("request/notes/note/summary").text == "Reported"
    assert root.find("request/extended_attributes/status").text == "acknowledged"


def test_jurisdiction_is_the_portals_slug_or_host(client, keys):
    for good in ("northside", "northside.example.test"):
        assert client.get(f"{BASE}/services.json?jurisdiction_id={good}").status_code == 200
    response = client.get(f"{BASE}/services.xml?jurisdiction_id=riverside")
    assert response.status_code == 404
    checked(response, "errors")
    assert "use 'northside'" in response.text


# --- every error path, in the spec's form ---------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_posting_without_a_key_or_with_a_bad_one_is_403(client, keys, db, fmt):
    for key, message in ((None, "An api_key is required to post."),
                         ("o311_nope_nope", "This api_key is not valid here."),
                         (keys.other_portal, "This api_key is not valid here.")):
        response = post(client, keys, fmt, api_key=key)
        assert response.status_code == 403
        if fmt == "json":
            assert errors_of(response) == [message]
        else:
            assert checked(response, "errors").find("error/description").text == message
    with db.session() as session:
        assert session.scalar(select(Issue.id)) is None


def test_a_revoked_key_no_longer_files(client, keys, db):
    from portal.models import Open311Key, utcnow

    with db.session() as session:
        for row in session.scalars(select(Open311Key)):
            row.revoked_at = utcnow()
    assert post(client, keys).status_code == 403


def test_an_unknown_service_is_404_to_read_and_400_to_post(client, keys):
    response = client.get(f"{BASE}/services/nothing.json")
    assert response.status_code == 404
    assert errors_of(response) == ["There is no service 'nothing' here."]
    response = post(client, keys, service_code="nothing")
    assert response.status_code == 400
    assert errors_of(response) == ["service_code: There is no service 'nothing' here."]


def test_every_wrong_field_is_listed_at_once(client, keys, db):
    response = post(client, keys, lat="9.0", long="9.0", description="x" * 4001,
                    **{"attribute[depth]": "deep", "attribute[lane]": "middle"})
    assert response.status_code == 400
    described = errors_of(response)
    assert "attribute[depth]: Enter a number, like 12.5." in described
    assert "attribute[lane]: Choose one of: left, right." in described
    assert "description: Keep the description under 4000 characters." in described
    assert "lat: This place is outside the Northside area. Choose a place inside the area." \
        in described
    with db.session() as session:
        assert session.scalar(select(Issue.id)) is None
        assert session.scalar(select(OutboxMessage.id)) is None


def test_a_point_outside_the_area_and_a_missing_attribute(client, keys):
    response = post(client, keys, lat="4.5", long="4.5", **{"attribute[depth]": None})
    described = errors_of(response)
    assert described == [
        "lat: This place is outside the Northside area. Choose a place inside the area.",
        "attribute[depth]: This attribute is required."]
    assert post(client, keys, lat=None, long=None).status_code == 400


@pytest.mark.parametrize("query, message", [
    ("start_date=2024-01-01T00:00:00Z&end_date=2024-04-01T00:00:01Z",
     "end_date: start_date and end_date may be at most 90 days apart."),
    ("start_date=2024-01-01", "start_date: Use a W3C date and time with its zone, like "
                              "2024-05-01T00:00:00Z."),
    ("end_date=2024-01-01T00:00:00", "end_date: Use a W3C date and time with its zone, like "
                                     "2024-05-01T00:00:00Z."),
    ("start_date=2024-02-30T00:00:00Z", "start_date: Use a W3C date and time with its zone, "
                                        "like 2024-05-01T00:00:00Z."),
    ("start_date=2024-03-01T00:00:00Z&end_date=2024-02-01T00:00:00Z",
     "end_date: end_date must come after start_date."),
    # At the calendar's edges a range or a zone would run past it: a 400, not a 500.
    ("start_date=9999-12-30T00:00:00Z", "start_date: Use a W3C date and time with its zone, "
                                        "like 2024-05-01T00:00:00Z."),
    ("end_date=0001-01-01T00:00:00Z", "end_date: Use a W3C date and time with its zone, "
                                      "like 2024-05-01T00:00:00Z."),
    ("status=pending", "status: status is open or closed."),
    ("page_size=1001", "page_size: Enter a whole number from 1 to 1000."),
    ("service_request_id=12,abc", "service_request_id: 'abc' is not a service request id."),
])
def test_bad_queries_are_400_and_say_why(client, keys, query, message):
    response = client.get(f"{BASE}/requests.json?{query}")
    assert response.status_code == 400
    assert errors_of(response) == [message]
    assert client.get(f"{BASE}/requests.xml?{query}").status_code == 400


def test_a_range_with_a_zone_means_the_same_instants_as_in_utc(client, keys, db):
    # SQLite compares times as text without their zone: an offset must be turned into UTC.
    moment = datetime.now(UTC).replace(microsecond=0)
    post(client, keys, description="Timed one")
    local = timezone(timedelta(hours=5))
    start = (moment - timedelta(hours=1)).astimezone(local).isoformat()
    end = (moment + timedelta(hours=1)).astimezone(local).isoformat()
    found = client.get(f"{BASE}/requests.json", params={"start_date": start, "end_date": end})
    in_utc = client.get(f"{BASE}/requests.json", params={
        "start_date": (moment - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "end_date": (moment + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")})
    assert found.status_code == 200 and len(found.json()) >= 1
    assert found.json() == in_utc.json()


def test_ninety_days_exactly_is_allowed(client, keys):
    start = datetime(2024, 1, 1, tzinfo=UTC)
    end = (start + timedelta(days=90)).strftime("%Y-%m-%dT%H:%M:%SZ")
    response = client.get(f"{BASE}/requests.json?start_date=2024-01-01T00:00:00Z&end_date={end}")
    assert response.status_code == 200


def test_an_unknown_format_is_404(client, keys):
    assert client.get(f"{BASE}/services.html").status_code == 404
    assert client.get(f"{BASE}/requests/abc.json").status_code == 404
    assert client.get(f"{BASE}/tokens/o311-nothing.json").status_code == 404


def test_posting_is_rate_limited_per_key(app, world, keys, db):
    app.state.limiter.enabled = True
    app.state.limiter.limits["open311"] = (2, 600.0)
    client = client_for(app, "northside.reportal.test")
    for n in range(2):
        assert post(client, keys, description=f"Pothole {n}").status_code == 201
    refused = post(client, keys, description="Pothole 3")
    assert refused.status_code == 429
    assert errors_of(refused)[0].startswith("Too many requests with this api_key")
    # another application's key has its own allowance
    other = post(client, keys, api_key=keys.back_office, description="Pothole 4")
    assert other.status_code == 201


def test_a_kept_answer_never_hides_a_change_and_an_unchanged_one_is_304(client, keys, db):
    first = client.get(f"{BASE}/requests.json")
    assert checked(first, "service_requests") == []
    etag = first.headers["etag"]
    assert client.get(f"{BASE}/requests.json", headers={"If-None-Match": etag}
                      ).status_code == 304
    issue_id = int(checked(post(client, keys), "posted")[0]["service_request_id"])
    after = client.get(f"{BASE}/requests.json")
    assert [r["service_request_id"] for r in checked(after, "service_requests")] == \
        [str(issue_id)]
    assert after.headers["etag"] != etag
    assert client.get(f"{BASE}/requests.json", headers={"If-None-Match": etag}
                      ).status_code == 200
    with db.session() as session:
        session.get(Issue, issue_id).hidden = True  # a moderator hides it
    assert checked(client.get(f"{BASE}/requests.json"), "service_requests") == []


@pytest.mark.parametrize("encoding", ["gzip", "br", "identity"])
def test_a_kept_answer_is_sent_compressed_as_asked(client, keys, db, encoding):
    with db.session() as session:
        for n in range(12):  # enough to be worth compressing
            file_report(session, "northside", 2.0, 1.0, "pothole", f"Pothole number {n}")
    plain = client.get(f"{BASE}/requests.json", headers={"Accept-Encoding": "identity"})
    for _ in range(2):  # built, then kept
        answer = client.get(f"{BASE}/requests.json", headers={"Accept-Encoding": encoding})
        assert answer.headers.get("content-encoding") == (
            None if encoding == "identity" else encoding)
        assert checked(answer, "service_requests") == plain.json()
        assert len(plain.json()) == 12
