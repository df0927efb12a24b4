"""Dashboard figures on a known fixture, the accessible chart, and exports without personal
data."""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest

from portal.models import Issue
from portal.reports import dashboard, status
from tests.factories import file_report

T0 = datetime(2025, 5, 5, 8, 0, tzinfo=UTC)  # a Monday
NOW = datetime(2025, 5, 20, 12, 0, tzinfo=UTC)


def at(issue: Issue, update, hours: float) -> None:
    update.created_at = T0 + timedelta(hours=hours)


@pytest.fixture
def known(db, world):
    """Four public issues in northside with known times, plus rows that must not count."""
    with db.session() as s:
        a = file_report(s, "northside", 1.2, 1.0, request_type="city-works/pothole",
                        email="ann@example.org", name="Ann Public", show_name=True,
                        title="=HYPERLINK(\"http://evil\")")
        b = file_report(s, "northside", 1.3, 1.0, request_type="city-works/pothole",
                        email="bo@example.org", name="Bo Private")
        c = file_report(s, "northside", 1.4, 1.0, request_type="city-works/streetlight")
        d = file_report(s, "northside", 1.6, 1.0, request_type="state-roads/highway-sign")
        for issue in (a, b, c, d):
            issue.created_at = T0
        at(a, status.change_status(s, a, "acknowledged", author="Desk"), 2)
        at(a, status.change_status(s, a, "closed", author="Desk"), 10)
        at(b, status.change_status(s, b, "acknowledged", author="Desk"), 4)
        note = status.change_status(s, c, "acknowledged", author="Desk", internal=True)
        at(c, note, 1)  # internal: not public, not counted
        c.status = "open"
        at(c, status.change_status(s, c, "closed", author="Desk"), 30)
        hidden = file_report(s, "northside", 1.5, 1.0)
        hidden.hidden = True
        file_report(s, "faraway", 4.5, 4.5)  # another portal
        ids = {"a": a.id, "b": b.id, "c": c.id, "d": d.id, "hidden": hidden.id}
    return ids


def test_counts_and_medians_on_a_known_fixture(db, world, known):
    with db.session() as s:
        stats = dashboard.stats(s, world.portals["northside"], "en", now=NOW)
    assert stats.total == 4
    assert stats.by_status == {"open": 1, "acknowledged": 1, "closed": 2, "archived": 0}
    assert stats.median_acknowledge == timedelta(hours=3)  # 2 h and 4 h
    assert stats.median_close == timedelta(hours=20)  # 10 h and 30 h
    assert (stats.acknowledged_count, stats.closed_count) == (2, 2)
    assert stats.by_type == [("Pothole", 2), ("Highway sign", 1), ("Streetlight out", 1)]
    weeks = {w.start.isoformat(): (w.reported, w.closed) for w in stats.weeks}
    assert len(stats.weeks) == 12
    assert weeks["2025-05-05"] == (4, 2)
    assert sum(r for r, _c in weeks.values()) == 4


def test_per_body_figures(db, world, known):
    with db.session() as s:
        stats = dashboard.stats(s, world.portals["northside"], "en", world.bodies["state-roads"])
    assert stats.total == 1 and stats.by_type == [("Highway sign", 1)]
    assert stats.median_close is None


def test_dashboard_page_has_an_accessible_chart_and_its_data_table(client, known):
    page = client.get("/dashboard")
    assert page.status_code == 200
    html = page.text
    svg = re.search(r"<svg.*?</svg>", html, re.S).group(0)
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "chart-title chart-desc"
    assert root.find(f"{ns}title").text and root.find(f"{ns}desc").text
    assert len(root.findall(f"{ns}rect")) == 24
    assert 'id="by-week"' in html and "<caption>" in html
    assert 'data-figure="total">4<' in html
    assert "3 hours" in html and "20 hours" in html
    assert "<script" not in html.split("</main>")[0].split("<main")[1]
    body = client.get("/dashboard", params={"body": "state-roads"})
    assert 'data-figure="total">1<' in body.text
    assert client.get("/dashboard", params={"body": "no-such-body"}).status_code == 404
    assert client.get("/dashboard", params={"body": "campus-fac"}).status_code == 404


def test_csv_export_has_public_data_only(client, known):
    response = client.get("/exports/issues.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    text = response.text
    assert "@example.org" not in text and "Bo Private" not in text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [int(r["id"]) for r in rows] == sorted(v for k, v in known.items() if k != "hidden")
    first = rows[0]
    assert first["reported_by"] == "Ann Public"
    assert first["title"].startswith("'=")  # never a live spreadsheet formula
    assert first["acknowledged_at"] == "2025-05-05T10:00:00+00:00"
    assert first["closed_at"] == "2025-05-05T18:00:00+00:00"
    assert first["url"].endswith(f"/issues/{known['a']}")
    assert set(rows[0]) == set(dashboard.EXPORT_FIELDS)
    only = client.get("/exports/issues.csv", params={"body": "state-roads"})
    assert len(list(csv.DictReader(io.StringIO(only.text)))) == 1


def test_geojson_export_is_valid_and_has_no_personal_data(client, known):
    response = client.get("/exports/issues.geojson")
    assert response.status_code == 200
    assert "@example.org" not in response.text and "Bo Private" not in response.text
    data = json.loads(response.text)
    assert data["type"] == "FeatureCollection" and len(data["features"]) == 4
    feature = data["features"][0]
    assert feature["geometry"] == {"type": "Point", "coordinates": [1.0, 1.2]}
    assert feature["properties"]["status"] == "closed"
    assert "reporter_email" not in feature["properties"]


def test_exports_of_an_empty_portal(app, world):
    from tests.conftest import client_for

    far = client_for(app, "faraway.reportal.test")
    assert json.loads(far.get("/exports/issues.geojson").text)["features"] == []
    assert far.get("/exports/issues.csv").text.startswith("id,url,status")


def test_chart_geometry_scales_to_the_tallest_bar():
    weeks = [dashboard.WeekBar(T0.date(), 8, 2), dashboard.WeekBar(T0.date(), 0, 0)]
    chart = dashboard.chart(weeks, width=200, height=140)
    tallest = max(chart.bars, key=lambda b: b.height)
    assert tallest.value == 8 and tallest.y + tallest.height == chart.baseline
    assert [v for _y, v in chart.ticks] == [0, 2, 4, 6, 8]
