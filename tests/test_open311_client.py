"""A body that lives in its own Open311 system: our reports go there from the outbox, its
progress comes back into the issue's history (issue 14, item 7).

Portal A is the test world in the suite's database (SQLite or PostgreSQL); its body
`city-works` is configured, through `body.json`'s `open311` block, to send to portal B: a
real `portal serve` on loopback with its own SQLite database, the same world's files, and a
key made with `portal open311 keys create`. B's staff close the request with B's own triage,
and A's worker poll shows it closed on A's issue page, in the body's name.

The failure paths (503 then success, a 400, a time-out) talk to a small real HTTP server on
loopback that answers as scripted and counts what it received.
"""

from __future__ import annotations

import functools
import http.client
import json
import os
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import pytest
from sqlalchemy import func, select

from portal import worker
from portal.core.db import Database
from portal.core.errors import ConfigError
from portal.mail import outbox
from portal.models import Body, Issue, Open311Request, OutboxMessage, Update, utcnow
from portal.open311 import dates, delivery, endpoint, polling
from portal.staff import triage
from portal.tenancy import tenant_files
from tests import live_portal, worlds
from tests.cli_run import run_portal
from tests.conftest import client_for
from tests.factories import file_report, jpeg_bytes

PORTAL = "northside"
KEY_ENV = "PORTAL_B_OPEN311_KEY"


@pytest.fixture(scope="module")
def portal_b(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    folder = tmp_path_factory.mktemp("portal-b")
    worlds.write_files(folder / "tenants")
    env = live_portal.environment(folder, secret="b")
    live_portal.run(env, "db", "upgrade")
    live_portal.run(env, "tenants", "load", "--path", str(folder / "tenants"))
    made = live_portal.run(env, "open311", "keys", "create", PORTAL, "--application",
                           "Portal A")
    port = live_portal.free_port()
    db = Database(env["DATABASE_URL"])
    try:
        with live_portal.serving(folder, env, port):
            yield {"port": port, "key": made.strip().splitlines()[-1], "db": db,
                   "endpoint": f"http://127.0.0.1:{port}/t/{PORTAL}/open311/v2"}
    finally:
        db.engine.dispose()


def _b_requests(portal_b: dict, **query: str) -> list[dict]:
    conn = http.client.HTTPConnection("127.0.0.1", portal_b["port"], timeout=30)
    conn.request("GET", f"/t/{PORTAL}/open311/v2/requests.json?" + urlencode(query))
    response = conn.getresponse()
    assert response.status == 200
    return json.loads(response.read())


def _configure(db: Database, world: worlds.World, tmp_path: Path, block: dict,
               slug: str = "city-works") -> None:
    """Give a body an `open311` block through its body.json, as an operator would."""
    path = tmp_path / "tenants" / "bodies" / slug / "body.json"
    data = json.loads(path.read_text())
    data["open311"] = block
    path.write_text(json.dumps(data))
    with db.session() as session:
        tenant_files.load_body(session, path.parent)


def _block(url: str, **more: object) -> dict:
    return {"endpoint": url, "jurisdiction_id": PORTAL, "api_key_env": KEY_ENV,
            "service_codes": {"streetlight": "streetlight"}, **more}


def _file(db: Database, description: str = "Pothole by the bus stop, 20 cm deep",
          **fields: object) -> int:
    with db.session() as session:
        return file_report(session, PORTAL, 1.2, 0.5, description=description, **fields).id


def _rows(db: Database) -> list[OutboxMessage]:
    with db.session() as session:
        rows = list(session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == outbox.OPEN311_KIND)))
        session.expunge_all()
        return rows


def _link(db: Database, issue_id: int) -> Open311Request | None:
    with db.session() as session:
        row = session.scalars(select(Open311Request).where(
            Open311Request.issue_id == issue_id)).first()
        session.expunge_all()
        return row


class Crash(BaseException):
    """The worker dying right after the endpoint accepted (not an error it handles)."""


# -- the issue's own test: portal A to portal B and back --------------------------------------


def test_a_report_reaches_portal_b_and_bs_closing_shows_on_a(db, settings, world, tmp_path,
                                                             app, portal_b, monkeypatch):
    _configure(db, world, tmp_path, _block(portal_b["endpoint"]))
    issue_id = _file(db, name="Ana Lima", email="ana@example.test")
    # The body takes its reports through Open311 now: no email to it (`email` is false).
    with db.session() as session:
        kinds = set(session.scalars(select(OutboxMessage.kind)))
    assert outbox.OPEN311_KIND in kinds and "new_report" not in kinds

    environ = {KEY_ENV: portal_b["key"]}
    monkeypatch.setenv(KEY_ENV, portal_b["key"])  # as the operator sets it for the worker
    worker.run_once(db, settings, {})  # `portal worker --once`: mail, Open311, polls
    [row] = _rows(db)
    assert row.sent_at is not None and row.attempts == 1
    link = _link(db, issue_id)
    remote_id = link.service_request_id
    assert remote_id and remote_id.isdigit()

    [on_b] = _b_requests(portal_b, service_request_id=remote_id, extensions="true")
    assert on_b["service_code"] == "pothole" and on_b["status"] == "open"
    assert on_b["description"].startswith("Pothole by the bus stop, 20 cm deep")
    assert f"http://reportal.test/t/{PORTAL}/issues/{issue_id}" in on_b["description"]
    assert on_b["extended_attributes"]["body"] == "city-works"
    with portal_b["db"].session() as b:  # B's staff see who reported it (B's body only)
        b_issue = b.get(Issue, int(remote_id))
        assert (b_issue.reporter_name, b_issue.reporter_email) == ("Ana Lima",
                                                                   "ana@example.test")

    # A's own staff acknowledge it; B still says "open", which covers acknowledged: polling
    # before B did anything changes nothing on A.
    with db.session() as session:
        triage.set_status(session, session.get(Issue, issue_id), "acknowledged",
                          triage.Actor(None, ""))
    assert polling.poll(db, settings, environ=environ).applied == 0
    with db.session() as session:
        assert session.get(Issue, issue_id).status == "acknowledged"

    with portal_b["db"].session() as b:  # B's staff close it, with B's own triage
        b_issue = b.get(Issue, int(remote_id))
        triage.set_status(b, b_issue, "closed", triage.Actor(None, ""),
                          text="Filled and rolled on Tuesday.")

    # A's worker, as the operator runs it: `portal worker --once` pulls B's change.
    env = {**os.environ, "DATABASE_URL": settings.database_url, "LANG": "C",
           "SECRET_KEY": settings.secret_key, "PUBLIC_URL": settings.public_url,
           "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(live_portal.free_port()),
           KEY_ENV: portal_b["key"]}
    done = run_portal(["worker", "--once"], env)
    assert done.returncode == 0, done.stderr
    assert "Open311 bodies: sent 0, failed 0, changes applied 1" in done.stdout
    page = client_for(app, "northside.example.test").get(f"/issues/{issue_id}")
    assert page.status_code == 200
    assert "Filled and rolled on Tuesday." in page.text
    assert "city-works dept" in page.text
    with db.session() as session:
        issue = session.get(Issue, issue_id)
        assert issue.status == "closed"
        row = [u for u in issue.updates if u.kind == "status"][-1]
        assert (row.old_status, row.new_status, row.author_name, row.text) == (
            "acknowledged", "closed", "city-works dept", "Filled and rolled on Tuesday.")
        # The reporter is told, in the body's name, as after any staff change.
        assert session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.key == f"status:{row.id}:reporter")) == 1
        polled_at = session.get(Body, issue.body_id).open311_polled_at
    assert polled_at is not None

    again = polling.poll(db, settings, environ=environ)
    assert again.applied == 0
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Update).where(
            Update.issue_id == issue_id)) == 3  # created, acknowledged, closed: once each


def test_a_crash_after_b_accepted_does_not_file_twice(db, settings, world, tmp_path,
                                                      portal_b):
    _configure(db, world, tmp_path, _block(portal_b["endpoint"]))
    issue_id = _file(db, description="Streetlamp flickers all night, crash test")
    environ = {KEY_ENV: portal_b["key"]}

    def crash_after_sending(*args: object, **kwargs: object) -> object:
        endpoint.call(*args, **kwargs)  # B takes it...
        raise Crash  # ...and we die before writing down its id

    with pytest.raises(Crash):
        delivery.send_due(db, settings, environ=environ, caller=crash_after_sending)
    [row] = _rows(db)
    assert row.sent_at is None and _link(db, issue_id) is None
    filed = [r for r in _b_requests(portal_b) if "crash test" in r["description"]]
    assert len(filed) == 1

    # The lease runs out; the next worker sends the same request again.
    later = utcnow() + outbox.LEASE + timedelta(seconds=1)
    assert delivery.send_due(db, settings, environ=environ, now=later).sent == 1
    again = [r for r in _b_requests(portal_b) if "crash test" in r["description"]]
    assert len(again) == 1  # B recognised the repeat: still one request there
    assert _link(db, issue_id).service_request_id == filed[0]["service_request_id"]
    assert delivery.send_due(db, settings, environ=environ, now=later).claimed == 0


def test_a_photo_b_cannot_fetch_does_not_stop_the_report(db, settings, world, tmp_path,
                                                          portal_b):
    _configure(db, world, tmp_path, _block(portal_b["endpoint"]))
    with db.session() as session:
        issue = file_report(session, PORTAL, 1.2, 0.5, description="Broken kerb, photo test",
                            photo=jpeg_bytes(), media_dir=settings.media_dir)
        issue_id, digest = issue.id, issue.photo
    [row] = _rows(db)
    assert f"/media/{digest}.jpg" in row.body_text  # the photo's public address is offered
    # B cannot reach http://reportal.test (A's PUBLIC_URL) and refuses the media_url ...
    assert delivery.drain(db, settings, environ={KEY_ENV: portal_b["key"]}).sent == 1
    [row] = _rows(db)
    assert "sent without the photo" in row.last_error and "media_url" in row.last_error
    # ... so the report went without it, once.
    remote_id = _link(db, issue_id).service_request_id
    [on_b] = _b_requests(portal_b, service_request_id=remote_id)
    assert on_b["description"].startswith("Broken kerb, photo test")
    assert on_b["media_url"] is None
    assert len([r for r in _b_requests(portal_b) if "photo test" in r["description"]]) == 1


def test_bs_progress_as_servicerequestupdates_is_applied_once(db, settings, world, tmp_path,
                                                              portal_b):
    _configure(db, world, tmp_path, _block(portal_b["endpoint"],
                                           updates="servicerequestupdates"))
    issue_id = _file(db, description="Graffiti on the underpass, updates test")
    environ = {KEY_ENV: portal_b["key"]}
    delivery.drain(db, settings, environ=environ)
    remote_id = _link(db, issue_id).service_request_id
    with portal_b["db"].session() as b:
        b_issue = b.get(Issue, int(remote_id))
        triage.set_status(b, b_issue, "acknowledged", triage.Actor(None, ""),
                          text="A crew is booked for Friday.")
    assert polling.poll(db, settings, environ=environ).applied == 1
    assert polling.poll(db, settings, environ=environ).applied == 0
    with db.session() as session:
        issue = session.get(Issue, issue_id)
        assert issue.status == "acknowledged"
        texts = [u.text for u in issue.updates if u.kind in ("status", "comment")]
        assert texts == ["A crew is booked for Friday."]
        assert issue.updates[-1].author_name == "city-works dept"


# -- failures, against a scripted server on loopback --------------------------------------------


class Scripted:
    """A real HTTP server answering POSTs with the scripted (status, body, delay) in turn."""

    def __init__(self, answers: list[tuple[int, object, float]],
                 gets: dict[str, list[tuple[int, object]]] | None = None) -> None:
        self.answers, self.posts = list(answers), []
        self.gets, self.queries = gets or {}, []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                path, _, query = self.path.partition("?")
                owner.queries.append((path, dict(parse_qsl(query))))
                status, body = owner.gets[path].pop(0)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                length = int(self.headers.get("Content-Length", 0))
                owner.posts.append(dict(parse_qsl(self.rfile.read(length).decode())))
                status, body, delay = owner.answers.pop(0)
                time.sleep(delay)
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up waiting

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/open311/v2"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Scripted:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


ACCEPTED = (201, [{"service_request_id": "CRM-881", "service_notice": ""}], 0.0)


def test_a_503_is_retried_with_the_outbox_backoff_and_sent_once(db, settings, world,
                                                                tmp_path):
    unavailable = (503, [{"code": 503, "description": "Down for maintenance"}], 0.0)
    with Scripted([unavailable, ACCEPTED]) as remote:
        _configure(db, world, tmp_path, _block(remote.url))
        issue_id = _file(db, request_type="streetlight", description="Dark corner")
        environ = {KEY_ENV: "the-city-key"}
        first = delivery.drain(db, settings, environ=environ)
        assert (first.sent, first.failed) == (0, 1)
        [row] = _rows(db)
        assert row.attempts == 1 and "503" in row.last_error and "maintenance" in row.last_error
        assert dates.aware(row.next_attempt_at) > utcnow() + outbox.backoff(1) - timedelta(
            seconds=30)
        # Not yet due: nothing is sent.
        assert delivery.drain(db, settings, environ=environ).claimed == 0
        later = utcnow() + outbox.backoff(1) + timedelta(seconds=1)
        assert delivery.drain(db, settings, environ=environ, now=later).sent == 1
        assert delivery.drain(db, settings, environ=environ,
                              now=later + timedelta(hours=7)).claimed == 0
    assert len(remote.posts) == 2
    post = remote.posts[-1]
    assert post["api_key"] == "the-city-key" and post["jurisdiction_id"] == PORTAL
    assert post["service_code"] == "streetlight"
    assert (post["lat"], post["long"]) == ("1.2", "0.5")
    assert "email" not in post and "first_name" not in post  # an anonymous report
    assert remote.posts[0] == remote.posts[1]  # the same request, byte for byte
    assert _link(db, issue_id).service_request_id == "CRM-881"
    [row] = _rows(db)
    assert row.sent_at is not None


def test_a_400_is_recorded_and_not_retried(db, settings, world, tmp_path):
    refused = (400, [{"code": 400, "description": "service_code STREETLIGHT unknown"}], 0.0)
    with Scripted([refused]) as remote:
        _configure(db, world, tmp_path, _block(remote.url))
        issue_id = _file(db)
        environ = {KEY_ENV: "k"}
        assert delivery.drain(db, settings, environ=environ).failed == 1
        much_later = utcnow() + timedelta(days=2)
        assert delivery.drain(db, settings, environ=environ, now=much_later).claimed == 0
    assert len(remote.posts) == 1
    [row] = _rows(db)
    assert row.attempts == outbox.MAX_ATTEMPTS and row.sent_at is None
    assert "400" in row.last_error and "STREETLIGHT unknown" in row.last_error
    with db.session() as session:
        assert [r.id for r in outbox.failed(session)] == [row.id]
    assert _link(db, issue_id) is None


def test_a_time_out_is_retried_and_a_missing_key_waits_for_the_operator(db, settings, world,
                                                                        tmp_path):
    with Scripted([(201, ACCEPTED[1], 2.0), ACCEPTED]) as remote:
        _configure(db, world, tmp_path, _block(remote.url))
        _file(db)
        assert delivery.drain(db, settings, environ={}).failed == 1
        [row] = _rows(db)
        assert KEY_ENV in row.last_error and row.attempts == 1 and not remote.posts
        impatient = functools.partial(endpoint.call, timeout=0.5)
        later = utcnow() + timedelta(minutes=2)
        assert delivery.drain(db, settings, environ={KEY_ENV: "k"}, now=later,
                              caller=impatient).failed == 1
        [row] = _rows(db)
        assert row.attempts == 2 and "timed out" in row.last_error
        assert delivery.drain(db, settings, environ={KEY_ENV: "k"},
                              now=later + timedelta(minutes=3)).sent == 1


def test_the_open311_block_is_checked_and_never_holds_the_key(db, world, tmp_path):
    for block, problem in [
        ({"endpoint": "ftp://city.example.org", "api_key_env": KEY_ENV}, "http(s)"),
        ({"endpoint": "https://city.example.org/v2", "api_key_env": "o311_abc123"},
         "environment variable"),
        ({"endpoint": "https://city.example.org/v2", "api_key_env": KEY_ENV,
          "updates": "email"}, "updates must be"),
    ]:
        with pytest.raises(ConfigError) as refused:
            _configure(db, world, tmp_path, block)
        assert problem in str(refused.value) and "city-works" in str(refused.value)
    _configure(db, world, tmp_path, {"endpoint": "https://city.example.org/v2/",
                                     "api_key_env": KEY_ENV, "email": True})
    with db.session() as session:
        body = session.scalars(select(Body).where(Body.slug == "city-works")).one()
        assert body.open311 == {"endpoint": "https://city.example.org/v2",
                                "jurisdiction_id": "", "api_key_env": KEY_ENV,
                                "service_codes": {}, "email": True, "updates": "requests"}
    _file(db)  # email stays on beside the endpoint: both go out
    with db.session() as session:
        kinds = sorted(session.scalars(select(OutboxMessage.kind)))
    assert kinds == ["new_report", outbox.OPEN311_KIND]


def test_a_token_is_resolved_later_and_a_plain_closed_status_closes_the_issue(
        db, settings, world, tmp_path):
    """A core GeoReport v2 server: a token first, the id once it has one, no extensions."""
    not_yet = (404, [{"code": 404, "description": "token not yet processed"}])
    known = (200, [{"service_request_id": "CRM-9", "token": "T-1"}])
    closed = (200, [{"service_request_id": "CRM-9", "status": "closed",
                     "status_notes": "Repaired by crew 4", "service_code": "pothole",
                     "updated_datetime": "2026-05-02T10:00:00-04:00"}])
    gets = {"/open311/v2/tokens/T-1.json": [not_yet, known],
            "/open311/v2/requests.json": [closed, closed]}
    with Scripted([(201, [{"token": "T-1"}], 0.0)], gets) as remote:
        _configure(db, world, tmp_path, _block(remote.url))
        issue_id = _file(db)
        environ = {KEY_ENV: "k"}
        assert delivery.drain(db, settings, environ=environ).sent == 1
        link = _link(db, issue_id)
        assert (link.service_request_id, link.token) == (None, "T-1")
        assert polling.poll(db, settings, environ=environ).applied == 1
        assert _link(db, issue_id).service_request_id == "CRM-9"
        path, query = remote.queries[-1]
        assert path == "/open311/v2/requests.json"
        assert query["service_request_id"] == "CRM-9" and query["jurisdiction_id"] == PORTAL
        with db.session() as session:
            issue = session.get(Issue, issue_id)
            assert issue.status == "closed"
            assert issue.updates[-1].text == "Repaired by crew 4"
        # The issue is closed here now: it is no longer asked about, nothing is applied twice.
        assert polling.poll(db, settings, environ=environ).applied == 0
        assert len(remote.queries) == 3


def test_an_issue_reassigned_to_an_open311_body_is_sent_there(db, settings, world, tmp_path):
    with Scripted([ACCEPTED]) as remote:
        _configure(db, world, tmp_path, _block(remote.url, service_codes={"pothole": "RD-7"}),
                   slug="state-roads")
        issue_id = _file(db)  # city-works takes it, by mail
        assert _rows(db) == []
        with db.session() as session:
            issue = session.get(Issue, issue_id)
            state = session.scalars(select(Body).where(Body.slug == "state-roads")).one()
            triage.reassign(session, issue, state, triage.Actor(None, ""))
        assert delivery.drain(db, settings, environ={KEY_ENV: "k"}).sent == 1
    assert [p["service_code"] for p in remote.posts] == ["RD-7"]
    link = _link(db, issue_id)
    with db.session() as session:
        assert (link.service_request_id, link.body_id) == (
            "CRM-881", session.scalars(select(Body.id).where(Body.slug == "state-roads")).one())
