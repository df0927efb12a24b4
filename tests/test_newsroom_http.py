"""A newsroom's data over HTTP: the stats card (SVG and its frame page), the issue card, the
compare-areas page and CSV, and their snippets. Figures are checked against the same figures
computed here straight from the issues and their history."""

from __future__ import annotations

import csv
import io
import json
import re
import statistics
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from portal.models import Issue, Update, utcnow
from portal.places import named_areas
from portal.reports import deadlines, status
from tests.conftest import client_for
from tests.factories import file_report
from tests.factories import tenant as tenant_row
from tests.worlds import box

T0 = datetime(2025, 5, 5, 8, 0, tzinfo=UTC)  # a Monday
PERIOD = "2025-05-01..2025-05-31"
EMBED_ORIGIN = "http://127.0.0.2:8766"


def _area(name: dict, ring: dict, population: int | None = None) -> dict:
    props = {"name": name}
    if population is not None:
        props["population"] = population
    return {"type": "Feature", "properties": props, "geometry": ring["geometry"]}


@pytest.fixture
def newsroom(db, world, tmp_path):
    """Riverside (a newspaper portal: en, ar, fr) with two named areas, West (2,000 residents)
    and East (no figure), and issues with known report, closure and due times."""
    folder = tmp_path / "riverside-files"
    folder.mkdir()
    (folder / "places.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [
        _area({"en": "West Bank", "fr": "Rive Ouest"}, box(0, -1, 1, 1.5), 2000),
        _area({"en": "East Bank"}, box(1, -1, 2, 1.5)),
    ]}))
    with db.session() as s:
        portal = tenant_row(s, "riverside")
        named_areas.load_portal_places(s, portal, folder)
        made = {}
        # West: three potholes fixed after 2, 4 and 9 days; one open streetlight.
        for name, lon, fix_days, due_days, kind in (
                ("w1", 0.2, 2, 5, "city-works/pothole"), ("w2", 0.4, 4, 5, "city-works/pothole"),
                ("w3", 0.6, 9, 5, "city-works/pothole"), ("w4", 0.3, None, 5,
                                                          "city-works/streetlight"),
                ("e1", 1.5, 1, None, "city-works/pothole"), ("e2", 1.6, None, None,
                                                             "city-works/pothole")):
            issue = file_report(s, "riverside", 0.25, lon, request_type=kind,
                                title=f"Issue {name}")
            issue.created_at = T0
            issue.close_due_at = T0 + timedelta(days=due_days) if due_days else None
            if fix_days is not None:
                done = status.change_status(s, issue, "closed", author="Desk",
                                            text="Filled today")
                done.created_at = T0 + timedelta(days=fix_days)
            made[name] = issue
        old = file_report(s, "riverside", 0.25, 0.5)  # before the period: not counted
        old.created_at = T0 - timedelta(days=60)
        hidden = file_report(s, "riverside", 0.25, 0.5)
        hidden.created_at = T0
        hidden.hidden = True
        northside = file_report(s, "northside", 2.5, 1.0, title="Northside only")
        northside.created_at = T0
        ids = {k: v.id for k, v in made.items()}
        ids.update(hidden=hidden.id, northside=northside.id)
    return ids


def _expected(db, ids: list[int]) -> dict:
    """Counts by status and the median days to fix, from the issues and their history."""
    with db.session() as s:
        issues = s.scalars(select(Issue).where(Issue.id.in_(ids))).all()
        closed = {}
        for u in s.scalars(select(Update).where(Update.issue_id.in_(ids),
                                                Update.new_status == "closed")):
            closed[u.issue_id] = min(closed.get(u.issue_id, u.created_at), u.created_at)
        days = [(closed[i.id] - i.created_at).total_seconds() / 86400 for i in issues
                if i.id in closed]
        return {"statuses": {st: sum(1 for i in issues if i.status == st)
                             for st in ("open", "acknowledged", "closed")},
                "median": statistics.median(days) if len(days) >= 2 else None,
                "count": len(issues)}


@pytest.fixture
def dev(app, world):  # noqa: ANN001, ANN201
    return client_for(app, "127.0.0.1:8000")


def _svg(dev, **params) -> str:  # noqa: ANN001
    response = dev.get("/w/riverside/stats.svg", params={"period": PERIOD, **params})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("image/svg+xml")
    return response.text


# --- the stats card -----------------------------------------------------------------------

def test_stats_svg_is_small_real_text_and_its_figures_are_the_rows(dev, db, newsroom):
    west = [newsroom[k] for k in ("w1", "w2", "w3", "w4")]
    expected = _expected(db, west)
    assert expected["median"] == 4  # 2, 4, 9 days
    svg = _svg(dev, area="west-bank", lang="en")
    assert len(svg.encode()) <= 10 * 1024
    assert "<script" not in svg and "style=" not in svg
    assert "<title id=\"t\">West Bank, May 1, 2025 to May 31, 2025</title>" in svg
    assert "<desc" in svg
    assert "4 reports" in svg
    assert f"Open {expected['statuses']['open']}" in svg
    assert f"Closed (fixed) {expected['statuses']['closed']}" in svg
    assert "Median time to fix: 4 days" in svg
    assert "Pothole: 4 days" in svg  # the only type with two fixes


def test_stats_card_for_the_whole_portal_counts_every_shown_issue(dev, db, newsroom):
    shown = [v for k, v in newsroom.items() if k[0] in "we"]
    expected = _expected(db, shown)
    svg = _svg(dev)
    assert f"{expected['count']} reports" in svg  # not the hidden one, the old one, northside's
    assert f"Median time to fix: {expected['median']:g} days" in svg
    assert "Northside only" not in svg


def test_stats_card_speaks_the_portals_languages_right_to_left_too(dev, newsroom):
    assert "Rive Ouest" in _svg(dev, area="west-bank", lang="fr")
    arabic = _svg(dev, area="west-bank", lang="ar")
    assert 'direction="rtl"' in arabic
    page = dev.get("/w/riverside/stats", params={"period": PERIOD, "lang": "ar"})
    assert re.search(r'<html lang="ar" dir="rtl"', page.text)


def test_stats_page_has_the_svg_inline_and_a_table_alternative(dev, newsroom):
    response = dev.get("/w/riverside/stats", params={"period": PERIOD, "area": "west-bank"})
    assert response.status_code == 200
    html = response.text
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in html and 'role="img"' in html
    assert '<td data-figure="total">4</td>' in html
    assert '<td data-figure="status-closed">3</td>' in html
    assert re.search(r"frame-ancestors 'self' " + re.escape(EMBED_ORIGIN),
                     response.headers["content-security-policy"])


def test_cards_are_cached_per_data_version_and_revalidate_with_304(dev, db, newsroom):
    first = dev.get("/w/riverside/stats.svg", params={"period": PERIOD})
    etag = first.headers["etag"]
    assert "max-age=300" in first.headers["cache-control"]
    assert "public" in first.headers["cache-control"]
    again = dev.get("/w/riverside/stats.svg", params={"period": PERIOD},
                    headers={"if-none-match": etag})
    assert again.status_code == 304 and again.content == b""
    other_lang = dev.get("/w/riverside/stats.svg", params={"period": PERIOD, "lang": "fr"})
    assert other_lang.headers["etag"] != etag
    with db.session() as s:  # a new report in the period: a new version, a new figure
        issue = file_report(s, "riverside", 0.25, 0.5)
        issue.created_at = T0
    changed = dev.get("/w/riverside/stats.svg", params={"period": PERIOD},
                      headers={"if-none-match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert "7 reports" in changed.text


@pytest.mark.parametrize("params", [{"area": "nowhere"}, {"period": "7d"},
                                    {"period": "2025-06-01..2025-05-01"},
                                    {"period": "'><script>"}])
def test_a_card_option_it_cannot_use_is_a_plain_404(dev, newsroom, params):
    response = dev.get("/w/riverside/stats.svg", params=params)
    assert response.status_code == 404
    assert "<script>" not in response.text


# --- the issue card -----------------------------------------------------------------------

def test_issue_card_shows_status_with_a_shape_place_votes_and_the_latest_update(dev, newsroom):
    response = dev.get("/w/riverside/issue", params={"issue": newsroom["w1"], "lang": "en"})
    assert response.status_code == 200
    html = response.text
    assert "Issue w1" in html
    assert '<span class="status status-closed"><span class="status-shape"' in html
    assert "Closed (fixed)" in html and "Filled today" in html
    assert '<dd data-figure="votes">0</dd>' in html
    assert f'/issues/{newsroom["w1"]}"' in html
    assert "etag" in response.headers
    french = dev.get("/w/riverside/issue", params={"issue": newsroom["w1"], "lang": "fr"})
    assert re.search(r'<html lang="fr"', french.text)


def test_issue_card_marks_an_issue_past_its_target_once_the_time_has_passed(dev, db, newsroom):
    """No data changes when a promise runs out: the card (kept per data version) still says
    so from the next answer on."""
    with db.session() as s:
        issue = s.get(Issue, newsroom["w2"])
        issue.status = "open"
        issue.acknowledge_due_at = utcnow() + timedelta(seconds=2)
        issue.close_due_at = None
    path, params = "/w/riverside/issue", {"issue": newsroom["w2"], "lang": "en"}
    before = dev.get(path, params=params)
    assert "Overdue" not in before.text
    with pytest.MonkeyPatch.context() as patch:
        later = utcnow() + timedelta(minutes=1)
        patch.setattr(deadlines, "utcnow", lambda: later)
        after = dev.get(path, params=params, headers={"if-none-match": before.headers["etag"]})
    assert after.status_code == 200
    assert "Overdue: not acknowledged within the target" in after.text


def test_issue_card_refuses_an_issue_outside_the_portal_revealing_nothing(dev, newsroom):
    elsewhere = dev.get("/w/riverside/issue", params={"issue": newsroom["northside"]})
    hidden = dev.get("/w/riverside/issue", params={"issue": newsroom["hidden"]})
    missing = dev.get("/w/riverside/issue", params={"issue": 99999})
    assert elsewhere.status_code == hidden.status_code == missing.status_code == 404
    assert "Northside only" not in elsewhere.text
    def same(text: str) -> str:  # the number asked for is in the page's language links
        return re.sub(r"issue=\d+", "issue=N", re.sub(r'value="[^"]*"', "", text))

    assert same(elsewhere.text) == same(missing.text) == same(hidden.text)
    assert dev.get("/w/riverside/issue", params={"issue": "1 OR 1=1"}).status_code == 404


# --- compare areas ------------------------------------------------------------------------

def test_compare_page_sorts_without_script_and_counts_from_the_rows(app, db, newsroom):
    client = client_for(app, "riverside.example.test")
    response = client.get("/compare", params={"period": PERIOD, "sort": "reports",
                                              "order": "desc"})
    assert response.status_code == 200
    html = response.text
    rows = re.findall(r'<tr data-area="([^"]+)">', html)
    assert rows == ["west-bank", "east-bank"]  # 4 reports, then 2
    west = html.split('data-area="west-bank"')[1].split("</tr>")[0]
    assert '<td data-figure="reports">4</td>' in west
    assert '<td data-figure="per-thousand">2</td>' in west  # 4 per 2,000 residents
    assert "4 days" in west
    # Due after 5 days: w1 (2 d) and w2 (4 d) in time, w3 (9 d) late, w4 open and past due.
    assert "50% (2 of 4)" in west
    east = html.split('data-area="east-bank"')[1].split("</tr>")[0]
    assert "no population figure" in east
    assert 'aria-sort="descending"' in html
    ascending = client.get("/compare", params={"period": PERIOD, "sort": "reports",
                                               "order": "asc"}).text
    assert re.findall(r'<tr data-area="([^"]+)">', ascending) == ["east-bank", "west-bank"]


def test_compare_csv_has_the_same_figures(app, newsroom):
    client = client_for(app, "riverside.example.test")
    response = client.get("/compare.csv", params={"period": PERIOD})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    by_area = {r["area"]: r for r in rows}
    assert by_area["West Bank"] == {
        "area": "West Bank", "population": "2000", "reports": "4",
        "reports_per_1000_residents": "2.0", "median_days_to_fix": "4.0",
        "with_fix_target": "4", "fixed_within_target": "2", "share_fixed_within_target": "0.5"}
    assert by_area["East Bank"]["population"] == ""
    assert by_area["East Bank"]["with_fix_target"] == "0"
    assert client.get("/compare.csv", params={"period": "soon"}).status_code == 400


def test_compare_page_explains_a_bad_period_and_the_dashboard_links_to_it(app, newsroom):
    client = client_for(app, "riverside.example.test")
    response = client.get("/compare", params={"from": "2025-13-01", "to": "2025-05-01"})
    assert response.status_code == 400
    assert 'role="alert"' in response.text
    assert 'href="/compare"' in client.get("/dashboard").text


def test_a_population_that_is_not_a_count_is_refused(db, world, tmp_path):
    from portal.core.errors import ConfigError

    (tmp_path / "places.geojson").write_text(json.dumps({"type": "FeatureCollection",
        "features": [_area({"en": "West"}, box(0, -1, 1, 1.5), -3)]}))
    with db.session() as s, pytest.raises(ConfigError, match="population"):
        named_areas.load_portal_places(s, tenant_row(s, "riverside"), tmp_path)


# --- snippets -----------------------------------------------------------------------------

def test_snippet_generator_makes_stats_and_issue_cards(settings, world, monkeypatch, capsys):
    from portal import cli

    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("PUBLIC_URL", "https://reportal.example")
    assert cli.main(["widgets", "snippet", "riverside", "--kind", "stats", "--area",
                     "west-bank", "--period", "90d", "--lang", "fr"]) == 0
    out = capsys.readouterr().out
    assert ('data-reportal="stats" data-tenant="riverside" data-lang="fr" '
            'data-area="west-bank" data-period="90d"') in out
    assert "https://reportal.example/w/riverside/stats?lang=fr&amp;area=west-bank" in out
    assert cli.main(["widgets", "snippet", "riverside", "--kind", "issue", "--issue", "12"]) == 0
    out = capsys.readouterr().out
    assert 'data-reportal="issue" data-tenant="riverside" data-issue="12"' in out
    assert 'href="https://reportal.example/t/riverside/issues/12"' in out
    assert cli.main(["widgets", "snippet", "riverside", "--kind", "stats", "--period",
                     "soon"]) == 1


def test_the_staff_widgets_page_offers_the_cards_with_the_portals_areas(app, db, newsroom):
    from tests.staff_support import grant, sign_in

    grant(db, "admin@riverside.test", "admin", portal="riverside")
    admin = client_for(app, "riverside.reportal.test")
    sign_in(admin, db, "admin@riverside.test")
    page = admin.get("/staff/widgets", params={"kind": "stats", "area": "west-bank",
                                               "period": "2024"})
    assert page.status_code == 200
    assert '<option value="west-bank" selected>West Bank</option>' in page.text
    preview = page.text.split('class="snippet-preview"')[1]  # the real element, run live
    assert ('data-reportal="stats" data-tenant="riverside" data-area="west-bank" '
            'data-period="2024"') in preview
    card = admin.get("/staff/widgets", params={"kind": "issue", "issue": str(newsroom["w1"])})
    assert card.status_code == 200 and f"/issues/{newsroom['w1']}" in card.text
    missing = admin.get("/staff/widgets", params={"kind": "issue"})
    assert missing.status_code == 400 and "Give the issue&#39;s number." in missing.text


def test_the_svg_stays_under_10_kb_over_twenty_years_in_every_language(dev, newsroom):
    for lang in ("en", "ar", "fr"):
        svg = _svg(dev, period="2006-01-01..2025-12-31", lang=lang, area="west-bank")
        assert len(svg.encode()) <= 10 * 1024, (lang, len(svg.encode()))
        assert svg.count(",") > 240  # a point a month: 240 months
