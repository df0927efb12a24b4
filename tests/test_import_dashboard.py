"""The dashboard over an imported history tells the truth: every figure it shows equals the
same figure computed straight from the imported file, the chart is drawn where the history
lies (and over a chosen period), and too few values say "not enough data"."""

from __future__ import annotations

import re
from datetime import date, timedelta

from portal.core.business_hours import due, parse_hours, parse_span
from portal.data.importer import import_issues
from portal.models import Tenant
from portal.reports import dashboard, deadlines
from portal.routes.dashboard import duration
from tests.conftest import client_for
from tests.import_support import Expected, assert_median, city, figures_from, monday
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
from tests.test_service_targets import set_targets


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


HARBOUR_HOURS = {"time_zone": "America/New_York", "opens": "08:00", "closes": "16:00",
                 "holidays": ["2017-01-16", "2017-02-20"]}
HARBOUR_TARGETS = {"snow": {"acknowledge": "4 business hours", "fix": "2 business days"},
                   "pothole": {"acknowledge": "1 business day", "fix": "3 business days"},
                   "storm-drain": {"acknowledge": "24 hours"},
                   "sewer": {"fix": "5 days"}}


def kept_from(issues: list[dict], start: date | None = None,
              end: date | None = None) -> dict[str, list[int]]:
    """Per type name: [acknowledged, on time, closed, on time], straight from the file, for
    the records reported from `start` to `end` (whole UTC days)."""
    hours = parse_hours(HARBOUR_HOURS, "test")
    out: dict[str, list[int]] = {}
    for record in issues:
        code = SCF_CODES[record["request_type"]["title"]]
        created = at(record["created_at"])
        if code not in HARBOUR_TARGETS or (start and created.date() < start) or (
                end and created.date() > end):
            continue
        row = out.setdefault(f"{HARBOUR_TYPES[code]} (harbour works)", [0, 0, 0, 0])
        for offset, step, field in ((0, "acknowledge", "acknowledged_at"),
                                    (2, "fix", "closed_at")):
            if step in HARBOUR_TARGETS[code] and record[field] is not None:
                due_at = due(created, parse_span(HARBOUR_TARGETS[code][step], "t"), hours)
                row[offset] += 1
                row[offset + 1] += at(record[field]) <= due_at
    return out


def test_the_on_time_share_equals_the_file_per_type_body_and_period(app, db, settings,
                                                                     tmp_path):
    issues = scf_issues(80, seed=9)
    with db.session() as s:
        harbour = city(s, tmp_path / "tenants", settings.themes_dir, "harbour", HARBOUR,
                       HARBOUR_TYPES)
        set_targets(s, tmp_path / "tenants", "harbour-works", HARBOUR_TARGETS,
                    hours=HARBOUR_HOURS)
        import_issues(s, write_scf(tmp_path / "scf.json", issues), harbour,
                      mapping=mapping(tmp_path, SCF_MAPPING))
    want = kept_from(issues)
    assert any(0 < kept < total for total, kept, *_ in want.values())  # not all or nothing
    with db.session() as s:
        harbour = s.query(Tenant).filter_by(slug="harbour").one()
        types, bodies = deadlines.on_time_tables(s, harbour, "en", None, None, None)
        got = {r.label: [r.acknowledged, r.acknowledged_on_time, r.closed, r.closed_on_time]
               for r in types}
        assert got == want
        assert [(b.label, b.acknowledged, b.closed) for b in bodies] == [
            ("harbour works", sum(v[0] for v in want.values()),
             sum(v[2] for v in want.values()))]
        start, end = date(2017, 2, 1), date(2017, 3, 15)
        types, _ = deadlines.on_time_tables(s, harbour, "en", None, start, end)
        assert {r.label: [r.acknowledged, r.acknowledged_on_time, r.closed, r.closed_on_time]
                for r in types} == kept_from(issues, start, end)

    page = client_for(app, "harbour.reportal.test").get("/dashboard").text
    assert "Promises kept" in page and "response-time targets" not in page
    with db.session() as s:  # the page counts the weeks its chart shows
        first, last = dashboard.stats(s, harbour, "en").shown_weeks
    shown = kept_from(issues, first, last + timedelta(days=6))
    assert shown != want  # twelve weeks, not the whole history
    snow = shown["Snow (harbour works)"]
    assert f"{round(snow[1] / snow[0] * 100)}% ({snow[1]} of {snow[0]})" in page
    # Storm drains promise no fix: no closures are counted against a target.
    row = page[page.index("Storm drain (harbour works)"):]
    row = row[:row.index("</tr>")]
    assert re.search(r'data-step="fix">not enough data<', row)


def test_medians_over_a_chosen_period_equal_the_files_for_that_period(app, db, settings,
                                                                      tmp_path):
    issues = scf_issues(120, seed=3)
    load(db, settings, tmp_path, issues)
    records = expected_records(issues)
    everything = figures_from(records)
    with db.session() as s:
        harbour = s.query(Tenant).filter_by(slug="harbour").one()
        for start, end in ((date(2017, 2, 6), date(2017, 3, 5)),  # four weeks, by week
                           (date(2016, 10, 1), date(2017, 9, 30))):  # a year, by month
            got = dashboard.stats(s, harbour, "en", start=start, end=end)
            first, last = got.weeks[0].start, got.weeks[-1].start
            if got.by_month:  # weeks count in the month of their Monday
                last = last.replace(day=28) + timedelta(days=4)
                last = last.replace(day=1) - timedelta(days=1)
            want = figures_from([r for r in records
                                 if first <= monday(r.created) <= last])
            assert got.medians_over_period
            assert (got.acknowledged_count, got.closed_count) == (len(want.acknowledged),
                                                                  len(want.closed))
            assert_median(got.median_acknowledge, got.acknowledge_approximate,
                          want.acknowledged)
            assert_median(got.median_close, got.close_approximate, want.closed)
        short = dashboard.stats(s, harbour, "en", start=date(2017, 2, 6), end=date(2017, 3, 5))
        assert short.closed_count < len(everything.closed)  # a period is not all time
        whole = dashboard.stats(s, harbour, "en")
        assert not whole.medians_over_period
        assert whole.closed_count == len(everything.closed)

    page = client_for(app, "harbour.reportal.test").get(
        "/dashboard", params={"from": "2017-02-06", "to": "2017-03-05"}).text
    assert "These medians are of the issues reported in the weeks the chart shows." in page
    assert f"{short.acknowledged_count} acknowledged, {short.closed_count} closed" in page
