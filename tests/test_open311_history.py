"""`portal import-issues --open311`: a city's existing requests, read from its Open311 server
(here a real Reportal on loopback) or a saved requests.json, with their real times."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from portal.core.db import Database
from portal.models import Issue, Update
from portal.open311 import history
from portal.reports import status
from tests import live_portal, worlds
from tests.cli_run import run_portal
from tests.factories import file_report

PORTAL = "northside"


def test_the_span_is_read_in_windows_of_at_most_ninety_days():
    since = datetime(2024, 1, 1, tzinfo=UTC)
    spans = history.windows(since, since + timedelta(days=200))
    assert [(b - a).days for a, b in spans] == [90, 90, 20]
    assert spans[0][0] == since
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:], strict=False))


def test_each_window_is_read_page_by_page_and_each_request_written_once(tmp_path):
    asked: list[dict] = []
    pages = {1: [{"service_request_id": str(n)} for n in range(3)],
             2: [{"service_request_id": "2"}, {"service_request_id": "3"}]}

    def server(method, base, path, fields):  # noqa: ANN001, ANN202 - endpoint.call's shape
        asked.append(dict(fields))
        return pages.get(int(dict(fields)["page"]), []) if len(asked) <= 2 else []

    out = tmp_path / "requests.json"
    since = datetime(2024, 1, 1, tzinfo=UTC)
    count = history.download("http://city.example/open311/v2", out, since=since,
                             until=since + timedelta(days=100), page_size=3, caller=server,
                             jurisdiction="city")
    assert count == 4
    assert [r["service_request_id"] for r in json.loads(out.read_text())] == ["0", "1", "2", "3"]
    assert [(a["page"], a["start_date"][:10]) for a in asked] == [
        ("1", "2024-01-01"), ("2", "2024-01-01"), ("1", "2024-03-31")]
    assert all(a["jurisdiction_id"] == "city" and a["extensions"] == "true" for a in asked)


def test_a_server_that_ignores_page_ends_its_window(tmp_path):
    same = [{"service_request_id": str(n)} for n in range(2)]
    calls = []

    def server(method, base, path, fields):  # noqa: ANN001, ANN202
        calls.append(fields)
        return same

    since = datetime(2024, 1, 1, tzinfo=UTC)
    count = history.download("http://x/v2", tmp_path / "r.json", since=since,
                             until=since + timedelta(days=10), page_size=2, caller=server)
    assert count == 2 and len(calls) == 2  # the second page was the first again: stop


@pytest.fixture(scope="module")
def city_server(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    """A city on its own Reportal: two requests, one closed a day after it was reported."""
    folder = tmp_path_factory.mktemp("city")
    worlds.write_files(folder / "tenants")
    env = live_portal.environment(folder, secret="c")
    live_portal.run(env, "db", "upgrade")
    live_portal.run(env, "tenants", "load", "--path", str(folder / "tenants"))
    db = Database(env["DATABASE_URL"])
    reported = datetime(2025, 3, 3, 9, 30, tzinfo=UTC)
    with db.session() as s:
        hole = file_report(s, PORTAL, 1.5, 1.0, title="Pothole on Main")
        lamp = file_report(s, PORTAL, 1.6, 1.2, title="Lamp out", request_type="streetlight")
        for issue in (hole, lamp):
            issue.created_at = reported
            for u in s.scalars(select(Update).where(Update.issue_id == issue.id)):
                u.created_at = reported
        closing = status.change_status(s, hole, "closed", author="Crew", text="Filled")
        closing.created_at = reported + timedelta(days=1)
        ids = (hole.id, lamp.id)
    db.engine.dispose()
    port = live_portal.free_port()
    with live_portal.serving(folder, env, port):
        yield {"url": f"http://127.0.0.1:{port}/t/{PORTAL}/open311/v2", "ids": ids,
               "reported": reported}


def _portal(settings, *args: str) -> subprocess.CompletedProcess:  # noqa: ANN001
    env = {"DATABASE_URL": settings.database_url, "PATH": "/usr/bin:/bin",
           "THEMES_DIR": str(settings.themes_dir), "TENANTS_DIR": str(settings.tenants_dir)}
    return run_portal(list(args), env)


def test_a_citys_requests_come_in_from_its_open311_server_with_their_real_times(
        settings, db, world, city_server):
    done = _portal(settings, "import-issues", "--open311", city_server["url"], "--tenant",
                   PORTAL, "--since", "2025-01-01")
    assert done.returncode == 0, done.stderr
    assert "requests read from" in done.stdout and ": 2" in done.stdout
    hole_id, lamp_id = city_server["ids"]
    with db.session() as s:
        by_source = {i.external_id: i for i in s.scalars(select(Issue))}
        hole, lamp = by_source[f"open311:{hole_id}"], by_source[f"open311:{lamp_id}"]
        assert (hole.status, lamp.status) == ("closed", "open")
        assert (hole.request_type.code, lamp.request_type.code) == ("pothole", "streetlight")
        reported = city_server["reported"]
        assert hole.created_at.replace(tzinfo=UTC) == reported
        closed = [u for u in hole.updates if u.new_status == "closed"]
        assert [u.created_at.replace(tzinfo=UTC) for u in closed] == [reported + timedelta(days=1)]
    again = _portal(settings, "import-issues", "--open311", city_server["url"], "--tenant",
                    PORTAL, "--since", "2025-01-01")
    assert again.returncode == 0, again.stderr
    with db.session() as s:  # a second run finds them there: nothing doubled
        imported = [i for i in s.scalars(select(Issue)) if i.external_id.startswith("open311:")]
        assert len(imported) == 2


def test_a_saved_requests_file_and_a_server_that_is_not_there_say_what_happened(
        settings, db, world, tmp_path):
    saved = tmp_path / "requests.json"
    saved.write_text(json.dumps([{
        "service_request_id": "77", "requested_datetime": "2024-06-01T10:00:00-04:00",
        "updated_datetime": "2024-06-02T10:00:00-04:00", "status": "open",
        "service_code": "pothole", "service_name": "Pothole", "description": "Deep one",
        "address": "12 Main St", "lat": 1.5, "long": 1.0}]))
    done = _portal(settings, "import-issues", "--open311", str(saved), "--tenant", PORTAL)
    assert done.returncode == 0, done.stderr
    with db.session() as s:
        issue = s.scalars(select(Issue).where(Issue.external_id == "open311:77")).one()
        assert issue.created_at.replace(tzinfo=UTC) == datetime(2024, 6, 1, 14, tzinfo=UTC)
    down = _portal(settings, "import-issues", "--open311",
                   f"http://127.0.0.1:{live_portal.free_port()}/open311/v2", "--tenant", PORTAL)
    assert down.returncode != 0
    assert "the Open311 server did not answer as it should" in down.stderr
    missing = _portal(settings, "import-issues", "--open311", str(tmp_path / "none.json"),
                      "--tenant", PORTAL)
    assert missing.returncode != 0 and "no such file" in missing.stderr


def test_the_shipped_mapping_reads_open311_files(tmp_path: Path):
    from portal.data import import_mapping

    mapping = import_mapping.shipped_named("open311")
    assert mapping.same_codes and mapping.columns["lon"] == "long"
