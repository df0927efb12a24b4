"""GET /api/issues.geojson: the map's data, paged, cached, with the pages' rules."""

from __future__ import annotations

from sqlalchemy import select

from portal.reports import status
from tests.factories import file_report


def seed(db, n: int) -> None:  # noqa: ANN001
    with db.session() as s:
        for i in range(n):
            file_report(s, "northside", 1.1 + i * 0.01, 1.0, title=f"Issue {i}")


def test_geojson_features_and_properties(client, db):
    seed(db, 2)
    r = client.get("/api/issues.geojson")
    assert r.headers["content-type"].startswith("application/geo+json")
    data = r.json()
    assert data["type"] == "FeatureCollection" and data["total"] == 2
    props = data["features"][0]["properties"]
    assert set(props) >= {"id", "title", "status", "type", "url", "votes", "created_at"}
    assert "email" not in r.text


def test_bbox_status_and_type_filters(client, db):
    seed(db, 3)
    assert client.get("/api/issues.geojson?bbox=0.9,1.105,1.1,1.2").json()["total"] == 2
    assert client.get("/api/issues.geojson?status=closed").json()["total"] == 0
    assert client.get("/api/issues.geojson?type=pothole").json()["total"] == 3


def test_paging_links_to_the_next_page(client, db):
    seed(db, 5)
    data = client.get("/api/issues.geojson?per_page=2").json()
    assert data["pages"] == 3 and len(data["features"]) == 2
    nxt = client.get(data["next"]).json()
    assert nxt["page"] == 2
    ids = {f["properties"]["id"] for f in data["features"] + nxt["features"]}
    assert len(ids) == 4


def test_etag_gives_304_until_something_changes(client, db):
    seed(db, 1)
    first = client.get("/api/issues.geojson")
    etag = first.headers["etag"]
    again = client.get("/api/issues.geojson", headers={"if-none-match": etag})
    assert again.status_code == 304
    seed(db, 1)
    changed = client.get("/api/issues.geojson", headers={"if-none-match": etag})
    assert changed.status_code == 200


def test_bad_parameters_get_a_clear_json_error(client):
    r = client.get("/api/issues.geojson?bbox=1,2,3")
    assert r.status_code == 400
    assert "min_lon,min_lat,max_lon,max_lat" in r.json()["errors"]["bbox"]
    assert client.get("/api/issues.geojson?page=abc").status_code == 400


def test_request_types_at_a_place(client):
    data = client.get("/api/request-types?lat=1.5&lon=1.0").json()
    assert {t["key"] for t in data["request_types"]} == {
        "city-works/pothole", "city-works/streetlight", "state-roads/highway-sign"}
    outside = client.get("/api/request-types?lat=0.2&lon=1.0")
    assert outside.status_code == 400 and "outside" in outside.json()["errors"]["lat"]


def test_area_geojson(client):
    data = client.get("/api/area.geojson").json()
    assert data["geometry"]["type"] == "Polygon"


def test_a_vote_changes_the_etag_and_the_cached_body(client, db):
    from portal.models import Issue
    from portal.reports import voting

    seed(db, 1)
    first = client.get("/api/issues.geojson")
    with db.session() as s:
        voting.vote(s, s.scalars(select(Issue)).one(), "v:1")
    second = client.get("/api/issues.geojson", headers={"if-none-match": first.headers["etag"]})
    assert second.status_code == 200
    assert second.json()["features"][0]["properties"]["votes"] == 1


def test_the_next_link_keeps_every_value_of_a_repeated_filter(client, db):
    with db.session() as s:
        for n in range(3):
            issue = file_report(s, "northside", 1.1, 1.0, title=f"Issue {n}")
            if n:
                status.change_status(s, issue, "acknowledged", author="Desk")
    first = client.get("/api/issues.geojson?status=open&status=acknowledged&per_page=2").json()
    assert first["total"] == 3 and first["pages"] == 2
    assert "status=open" in first["next"] and "status=acknowledged" in first["next"]
    second = client.get(first["next"]).json()
    assert second["total"] == 3 and len(second["features"]) == 1
