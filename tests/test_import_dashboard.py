"""The dashboard over an imported history tells the truth: every figure it shows equals the
same figure computed straight from the imported file, the chart is drawn where the history
lies (and over a chosen period), and too few values say "not enough data"."""

from __future__ import annotations

import re
from datetime import date, timedelta

from portal.data.importer import import_issues
from portal.reports import dashboard
from portal.routes.dashboard import duration
from tests.conftest import client_for
from tests.import_support import Expected, assert_median, city, figures_from
from tests.test_import_inputs import (
    HARBOUR,
    HARBOUR_TYPES,
    SCF_CODES,
    SCF_MAPPING,
    at,
    mapping,
    scf_issues,
    write_scf,
)


def expected_records(issues: list[dict]) -> list[Expected]:
    """What the file says of each record, read here without the importer."""
    out = []
    for record in issues:
        out.append(Expected(
            type_name=HARBOUR_TYPES[SCF_CODES[record["request_type"]["title"]]],
            status=record["status"].lower(), created=at(record["created_at"]),
            acknowledged=at(record["acknowledged_at"]), closed=at(record["closed_at"])))
    return out


def load(db, settings, tmp_path, issues):  # noqa: ANN001, ANN201
    with db.session() as s:
        harbour = city(s, tmp_path / "tenants", settings.themes_dir, "harbour", HARBOUR,
                       HARBOUR_TYPES)
        import_issues(s, write_scf(tmp_path / "scf.json", issues), harbour,
                      mapping=mapping(tmp_path, SCF_MAPPING))
        return harbour.id


def test_every_dashboard_figure_equals_the_file(db, settings, tmp_path):
    issues = scf_issues(80, seed=9)
    load(db, settings, tmp_path, issues)
    want = figures_from(expected_records(issues))
    first = min(want.reported_weeks)
    last = max([*want.reported_weeks, *want.closed_weeks])
    with db.session() as s:
        from portal.models import Tenant

        harbour = s.query(Tenant).filter_by(slug="harbour").one()
        got = dashboard.stats(s, harbour, "en", start=first, end=last)
    assert got.total == want.total
    assert got.by_status == want.by_status
    assert got.by_type == want.by_type
    assert (got.acknowledged_count, got.closed_count) == (len(want.acknowledged),
                                                          len(want.closed))
    assert_median(got.median_acknowledge, got.acknowledge_approximate, want.acknowledged)
    assert_median(got.median_close, got.close_approximate, want.closed)
    assert not got.by_month
    assert [b.start for b in got.weeks][0] == first and got.weeks[-1].start == last
    for bar in got.weeks:
        assert (bar.reported, bar.closed) == (want.reported_weeks[bar.start],
                                              want.closed_weeks[bar.start]), bar.start
    assert sum(b.reported for b in got.weeks) == want.total
    assert sum(b.closed for b in got.weeks) == len(want.closed)
    assert (got.first_data_week, got.last_data_week) == (first, last)


def test_the_page_draws_the_history_where_it_lies_and_over_a_chosen_period(
        app, db, settings, tmp_path):
    issues = scf_issues(60, seed=2)
    load(db, settings, tmp_path, issues)
    want = figures_from(expected_records(issues))
    last = max([*want.reported_weeks, *want.closed_weeks])
    client = client_for(app, "harbour.reportal.test")

    page = client.get("/dashboard").text  # no period: the twelve weeks up to the data's last
    weeks = re.findall(r'<time datetime="(\d{4}-\d\d-\d\d)">', page)
    assert weeks[-1] == last.isoformat() and len(weeks) == 12
    assert f'data-figure="total">{want.total}<' in page
    with db.session() as s:
        from portal.models import Tenant

        figures = dashboard.stats(s, s.query(Tenant).filter_by(slug="harbour").one(), "en")
    shown = re.search(r'data-figure="median-close">([^<]*)<', page).group(1)
    assert shown == (f"about {duration(figures.median_close)}" if figures.close_approximate
                     else duration(figures.median_close))
    assert "not enough data" not in page
    assert "response-time targets" in page  # no body has targets: the page says so

    chosen = client.get("/dashboard", params={"from": "2017-02-06", "to": "2017-03-05"}).text
    weeks = re.findall(r'<time datetime="(\d{4}-\d\d-\d\d)">', chosen)
    assert weeks == [(date(2017, 2, 6) + timedelta(weeks=n)).isoformat() for n in range(4)]
    rows = re.findall(r'<tr><th scope="row"><time datetime="([\d-]+)">[^<]*</time></th>'
                      r'<td>(\d+)</td><td>(\d+)</td></tr>', chosen)
    for start, reported, closed in rows:
        day = date.fromisoformat(start)
        assert (int(reported), int(closed)) == (want.reported_weeks[day],
                                                want.closed_weeks[day])

    long = client.get("/dashboard", params={"from": "2016-01-01", "to": "2017-12-31"}).text
    assert "month by month" in long
    assert len(re.findall(r'<time datetime=', long)) == 24  # January 2016 .. December 2017

    bad = client.get("/dashboard", params={"from": "last spring"})
    assert bad.status_code == 200 and "YYYY-MM-DD" in bad.text


def test_a_median_over_too_few_values_says_not_enough_data(app, db, settings, tmp_path):
    issues = [i for i in scf_issues(40, seed=5) if i["status"] != "Closed"]
    closed_once = next(i for i in issues if i["closed_at"] and i["status"] == "Archived")
    for record in issues:
        if record is not closed_once:
            record["closed_at"] = None
            if record["status"] == "Archived":
                record["status"] = "Acknowledged"
            record["reopened_at"] = None
    load(db, settings, tmp_path, issues)
    page = client_for(app, "harbour.reportal.test").get("/dashboard").text
    assert re.search(r'data-figure="median-close">not enough data<', page)
    assert not re.search(r'data-figure="median-acknowledge">not enough data<', page)


def test_a_chosen_period_is_at_most_twenty_years_of_months():
    now = dashboard.datetime(2025, 1, 1, tzinfo=dashboard.UTC)
    first, last = dashboard.period(now, 12, None, date(1900, 1, 1), date(2024, 12, 31))
    assert last == date(2024, 12, 30)
    assert date(2004, 12, 20) <= first <= date(2005, 1, 3)
    assert dashboard.period(now, 12, None, date(2024, 3, 1), date(2024, 1, 1)) == (
        date(2024, 1, 1), date(2024, 2, 26))  # given the wrong way round: swapped
