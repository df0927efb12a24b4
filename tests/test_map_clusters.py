"""The map API at a zoom: every issue when few, clusters from the maintained cells when many,
and counts that add up; lists page by cursor, however deep."""

from __future__ import annotations

import re

import pytest

from portal.reports import clusters, listing
from portal.reports.status import change_status
from tests.cells_support import many_issues

API = "/api/issues.geojson"
WHOLE = "bbox=0,1,2,3"  # northside's box (see tests/worlds.py)


@pytest.fixture
def crowded(db, world):  # noqa: ANN001
    """400 open issues over northside, 40 of them closed; 40 more packed into one corner."""
    with db.session() as s:
        issues = many_issues(s, 400, (0.05, 1.05, 1.95, 2.95))
        for issue in issues[:40]:
            change_status(s, issue, "closed", author="Works")
        many_issues(s, 40, (1.90, 2.90, 1.91, 2.91), seed=2)
    return 440


def test_a_few_issues_come_as_points(client, db):
    with db.session() as s:
        many_issues(s, 5, (0.1, 1.1, 1.9, 2.9))
    data = client.get(f"{API}?{WHOLE}&zoom=8").json()
    assert data["clustered"] is False and data["total"] == 5 and len(data["features"]) == 5
    assert all(f["properties"]["url"].endswith(f"/issues/{f['properties']['id']}")
               for f in data["features"])


def test_many_issues_come_as_clusters_whose_counts_add_up(client, crowded):
    data = client.get(f"{API}?{WHOLE}&zoom=8").json()
    assert data["clustered"] is True
    assert 1 < len(data["features"]) <= clusters.MAX_POINTS
    props = [f["properties"] for f in data["features"]]
    assert sum(p["count"] for p in props) == data["total"] == crowded
    assert sum(p["counts"].get("closed", 0) for p in props) == 40
    for p, f in zip(props, data["features"], strict=True):
        west, south, east, north = p["bounds"]
        lon, lat = f["geometry"]["coordinates"]
        assert west <= lon <= east and south <= lat <= north
        assert p["count"] == sum(p["counts"].values())


def test_a_cluster_says_what_it_holds_in_the_page_language(client, crowded):
    spanish = client.get(f"{API}?{WHOLE}&zoom=8&lang=es").json()["features"]
    props = [f["properties"] for f in spanish]
    mixed = next(p for p in props if len(p["counts"]) == 2)
    label = mixed["label"]
    assert label.startswith(f"{mixed['count']} ")
    assert re.search(rf"\b{mixed['counts']['open']}\b", label)
    assert re.search(rf"\b{mixed['counts']['closed']}\b", label)
    english = client.get(f"{API}?{WHOLE}&zoom=8&lang=en").json()["features"]
    assert next(f["properties"]["label"] for f in english
                if f["properties"]["bounds"] == mixed["bounds"]) != label
    assert "Open" in next(f["properties"]["label"] for f in english
                          if f["properties"]["bounds"] == mixed["bounds"])


def test_zooming_into_a_cluster_splits_it(client, crowded):
    data = client.get(f"{API}?{WHOLE}&zoom=8").json()
    corner = max(data["features"], key=lambda f: f["properties"]["count"])
    bounds = ",".join(str(v) for v in corner["properties"]["bounds"])
    inside = client.get(f"{API}?bbox={bounds}&zoom=12").json()
    shown = [f["properties"].get("count", 1) for f in inside["features"]]
    assert len(shown) > 1 and sum(shown) == corner["properties"]["count"]


def test_a_status_filter_is_answered_from_the_cells(client, crowded):
    data = client.get(f"{API}?{WHOLE}&zoom=8&status=closed").json()
    assert data["total"] == 40
    assert all(set(f["properties"].get("counts", {"closed": 1})) == {"closed"}
               for f in data["features"])


def test_a_filter_the_cells_do_not_know_is_clustered_from_the_issues(client, crowded):
    data = client.get(f"{API}?{WHOLE}&zoom=8&q=issue").json()
    assert data["clustered"] is True and data["total"] == crowded
    points = client.get(f"{API}?{WHOLE}&zoom=8&q=issue&since=2030-01-01").json()
    assert points["clustered"] is False and points["total"] == 0


def test_a_bad_zoom_is_refused_with_a_reason(client):
    for bad in ("x", "-1", "23", "1.5"):
        r = client.get(f"{API}?{WHOLE}&zoom={bad}")
        assert r.status_code == 400
        assert "zoom" in r.json()["errors"]["zoom"]


def test_hidden_issues_leave_the_clusters(client, db, world, crowded):
    from portal.staff.moderation import hide_issue
    from tests.factories import tenant

    with db.session() as s:
        north = tenant(s, "northside")
        for issue in s.scalars(listing.public_issue_rows(north).with_only_columns(
                listing.IssuePortal.issue_id).limit(10)):
            hide_issue(s, s.get(listing.Issue, issue), north, None, "spam")
    data = client.get(f"{API}?{WHOLE}&zoom=8").json()
    assert data["total"] == crowded - 10


def test_older_links_walk_every_issue_once_newest_first(client, db):
    with db.session() as s:
        made = many_issues(s, 45, (0.1, 1.1, 1.9, 2.9))
    expected = [i.id for i in sorted(made, key=lambda i: (i.created_at, i.id), reverse=True)]
    seen, path, pages = [], "/issues?per_page=10", 0
    while path:
        page = client.get(path)
        assert page.status_code == 200
        seen += [int(n) for n in re.findall(r'href="[^"]*/issues/(\d+)"', page.text)]
        pages += 1
        older = re.search(r'<a rel="next" href="\?([^"]+)"', page.text)
        path = "/issues?" + older.group(1).replace("&amp;", "&") if older else None
        if pages == 3:  # and back one page: the newer link leads to the page before
            newer = re.search(r'<a rel="prev" href="\?([^"]+)"', page.text).group(1)
            back = client.get("/issues?" + newer.replace("&amp;", "&")).text
            assert [int(n) for n in re.findall(r'href="[^"]*/issues/(\d+)"', back)] == \
                expected[10:20]
    assert seen == expected and pages == 5
    assert "Page 5 of 5" in page.text


def test_a_count_past_the_cap_says_more_than(client, db, monkeypatch):
    with db.session() as s:
        many_issues(s, 12, (0.1, 1.1, 1.9, 2.9))
    monkeypatch.setattr(listing, "COUNT_CAP", 10)
    assert "12 issues" in client.get("/issues").text  # from the counters: exact
    words = client.get("/issues?q=issue").text
    assert "More than 10 issues" in words and "Page 1 of" not in words
    assert client.get(f"{API}?q=issue").json()["total_exact"] is False


def test_a_broken_page_link_is_refused_by_the_api(client):
    r = client.get(f"{API}?after=yesterday~1")
    assert r.status_code == 400 and "after" in r.json()["errors"]
