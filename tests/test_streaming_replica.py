"""A real read replica: a PostgreSQL primary and a hot standby cloned from it with
`pg_basebackup`, streaming (tests/pg_cluster.py `replicated_pair`).

Checked through HTTP, as a visitor sees it: public reads are answered by the standby (every
statement of those requests ran on a connection whose server is in recovery); a report filed on
the primary shows on the standby's map once replayed; with the primary stopped the home page
and the map still answer from the standby, a report gets 503 with `Retry-After` and its form
back, and after the primary is started again every report acknowledged before the stop is
there, and the refused one, sent again, is filed once.

These start their own pair, independent of the suite's database, so they run once: in the
PostgreSQL pass of tests/run_suites.py (TEST_DATABASE_URL set), where the binaries are there.
"""

from __future__ import annotations

import glob
import os
import re
import time
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from portal.app import create_app
from portal.core.db import Database, Reads, on_replica
from portal.core.migrate import upgrade
from portal.core.settings import REPO_ROOT, Settings
from portal.models import Tenant
from portal.tenancy import data_version
from portal.web.unavailable import RETRY_AFTER
from tests.conftest import client_for
from tests.http_support import KEY, csrf, form_tokens
from tests.replica_support import StatementLog
from tests.staff_support import sign_in
from tests.worlds import build_world

pytestmark = [
    pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason=(
        "starts its own PostgreSQL primary and standby, so it runs once: in the PostgreSQL "
        "pass of tests/run_suites.py (set TEST_DATABASE_URL)")),
    pytest.mark.skipif(not glob.glob("/usr/lib/postgresql/*/bin/pg_basebackup"),
                       reason="PostgreSQL's binaries (initdb, pg_basebackup) are not installed"),
]

HOST = "northside.reportal.test"
UNAVAILABLE = "The portal cannot reach its database just now. Please try again in a minute."
ISSUE_PATH = re.compile(r"/issues/(\d+)\?new=1$")


@dataclass
class Pair:
    servers: object  # tests.pg_cluster.ReplicatedPair
    settings: Settings


@pytest.fixture(scope="module")
def pair(static_dir, tmp_path_factory) -> Pair:  # noqa: ANN001
    from tests.pg_cluster import replicated_pair

    folder = tmp_path_factory.mktemp("replicated")
    with replicated_pair() as servers:
        upgrade(servers.primary.url())
        primary = Database(servers.primary.url())
        with primary.session() as s:
            build_world(s, folder / "tenants", REPO_ROOT / "themes")
        primary.dispose()
        servers.wait_for_replay()  # the schema and the portals, on the standby too
        yield Pair(servers, Settings(
            database_url=servers.primary.url(), database_replica_url=servers.standby.url(),
            secret_key="test-secret-of-at-least-32-random-bytes-0123456789",
            https_only_cookies=False, base_domain="reportal.test",
            public_url="http://reportal.test", media_dir=folder / "media",
            static_build_dir=static_dir, tenants_dir=REPO_ROOT / "tenants",
            themes_dir=REPO_ROOT / "themes", rate_limits=False))


@pytest.fixture
def served(pair: Pair):  # noqa: ANN201
    app = create_app(pair.settings)
    log = StatementLog(app.state.db)
    yield app, log
    app.state.db.dispose()


def _report(client, description: str, **fields):  # noqa: ANN001, ANN003, ANN202
    return client.post("/report", data={
        "lat": "1.5", "lon": "1.0", "request_type": "city-works/pothole",
        # "nearby": none: the module's reports share a spot, and "already reported?" is no
        # concern of these tests.
        "description": description, "nearby": "none", **form_tokens(client, "/report"),
        **fields})


def _northside_id(session) -> int:  # noqa: ANN001
    return session.scalar(select(Tenant.id).where(Tenant.slug == "northside"))


def _issue_id(response) -> int:  # noqa: ANN001
    assert response.status_code == 303, response.text
    return int(ISSUE_PATH.search(response.headers["location"]).group(1))


def test_public_reads_come_from_the_standby_and_writes_go_to_the_primary(served):
    app, log = served
    visitor = client_for(app, HOST)
    visitor.get("/")  # the portal itself is looked up on the primary, then cached
    for path in ("/", "/issues", "/api/issues.geojson", "/feed.atom"):
        log.clear()
        assert visitor.get(path).status_code == 200, path
        assert log.statements, path
        assert all(s.engine == "replica" and s.in_recovery is True for s in log.statements), path
    form = form_tokens(visitor, "/report")  # a public page: its settings stamp is the standby's
    log.clear()
    _issue_id(visitor.post("/report", data={
        "lat": "1.5", "lon": "1.0", "request_type": "city-works/pothole",
        "description": "Written on the primary", "nearby": "none", **form}))
    assert log.statements
    assert all(s.engine == "primary" and s.in_recovery is False for s in log.statements), [
        (s.engine, s.sql[:100]) for s in log.statements if s.engine != "primary"]


def test_a_report_filed_on_the_primary_appears_on_the_standbys_map(pair: Pair, served):
    app, log = served
    reporter = client_for(app, HOST)
    issue_id = _issue_id(_report(reporter, "Replayed onto the standby",
                                 title="Seen on the standby"))
    # The reporter's own next page reads on the primary: it must show what they just sent.
    log.clear()
    page = reporter.get(f"/issues/{issue_id}?new=1")
    assert "Seen on the standby" in page.text
    assert all(s.in_recovery is False for s in log.statements)

    pair.servers.wait_for_replay()
    neighbour = client_for(app, HOST)
    log.clear()
    on_standby = neighbour.get("/api/issues.geojson")
    assert issue_id in [f["properties"]["id"] for f in on_standby.json()["features"]]
    assert log.statements and all(s.in_recovery is True for s in log.statements)
    # Replayed, the standby is at the primary's data version: the same cache key, the same body.
    with app.state.db.session(Reads.PRIMARY) as s:
        on_primary = data_version.current(s, _northside_id(s))
    with app.state.db.session(Reads.REPLICA) as s:
        assert on_replica(s) and data_version.current(s, _northside_id(s)) == on_primary


def test_with_the_primary_stopped_reads_go_on_and_writes_answer_503(pair: Pair, served):
    app, _log = served
    servers = pair.servers
    reporter = client_for(app, HOST)
    acknowledged = [_issue_id(_report(reporter, f"Acknowledged {n}", title=f"Before stop {n}"))
                    for n in range(3)]
    reader = client_for(app, HOST)
    mailbox = Database(pair.settings.database_url)  # the outbox, where the sign-in link is
    sign_in(reader, mailbox, "reader@example.org")
    mailbox.dispose()
    servers.wait_for_replay()

    servers.primary.stop("fast")
    try:
        app.state.tenants.clear()  # the portal must now be found on the standby
        visitor = client_for(app, HOST)
        home = visitor.get("/")
        assert home.status_code == 200 and "Before stop 2" in home.text
        mapped = visitor.get("/api/issues.geojson")
        assert mapped.status_code == 200
        assert set(acknowledged) <= {f["properties"]["id"] for f in mapped.json()["features"]}

        refused = _report(reporter, "Sent while the primary is down")
        assert refused.status_code == 503
        assert refused.headers["retry-after"] == str(RETRY_AFTER)
        assert "Your report could not be sent just now" in refused.text
        assert "Sent while the primary is down" in refused.text  # nothing typed is lost
        again = {"lat": "1.5", "lon": "1.0", "request_type": "city-works/pothole",
                 "description": "Sent while the primary is down", "nearby": "none",
                 "csrf_token": csrf(refused.text),
                 "submission_key": KEY.search(refused.text).group(1)}

        issue_page = visitor.get(f"/issues/{acknowledged[0]}")
        assert issue_page.status_code == 200 and "Before stop 0" in issue_page.text
        vote = visitor.post(f"/issues/{acknowledged[0]}/vote",
                            data={"csrf_token": csrf(issue_page.text)})
        assert vote.status_code == 503 and vote.headers["retry-after"] == str(RETRY_AFTER)
        assert UNAVAILABLE in vote.text

        reader.cookies.delete("reportal_fresh")
        signed_in = reader.get("/")  # the session is found on the standby
        assert signed_in.status_code == 200 and "Your account" in signed_in.text
        assert reader.get("/account").status_code == 503  # private: needs the primary

        app.state.tenants.clear()
        assert visitor.get("/").status_code == 200  # the portal, cached again from the standby
        servers.standby.stop("fast")  # now neither server answers
        try:
            page, api = visitor.get("/"), visitor.get("/api/issues.geojson")
            assert page.status_code == 503 and UNAVAILABLE in page.text
            assert api.status_code == 503 and api.json()["errors"]["service"] == UNAVAILABLE
            assert page.headers["retry-after"] == api.headers["retry-after"] == str(RETRY_AFTER)
            app.state.tenants.clear()
            bare = visitor.get("/")  # not even the portal can be looked up
            assert bare.status_code == 503 and bare.headers["retry-after"] == str(RETRY_AFTER)
        finally:
            servers.standby.start()
    finally:
        servers.primary.start()

    present = servers.primary.scalar(
        "SELECT count(DISTINCT i.id) FROM issues i JOIN issue_portals p ON p.issue_id = i.id "
        f"WHERE i.id IN ({', '.join(map(str, acknowledged))})")
    assert present == len(acknowledged)
    assert servers.primary.scalar(
        "SELECT count(*) FROM issues WHERE description = 'Sent while the primary is down'") == 0

    # Sent again as it came back (the same submission key): filed, once.
    deadline = time.monotonic() + 30
    while (resent := reporter.post("/report", data=again)).status_code == 503:
        assert time.monotonic() < deadline, "the primary was not used again after its restart"
        time.sleep(0.5)
    first = _issue_id(resent)
    assert _issue_id(reporter.post("/report", data=again)) == first
    assert servers.primary.scalar(
        "SELECT count(*) FROM issues WHERE description = 'Sent while the primary is down'") == 1

