"""No correctness state in one process: what `portal serve --workers N` shares, and how.

Two `create_app` objects on one database are two processes' worth of state (each has its own
limiter, tenant cache and body cache). Rate limits and vote guards must hold across them, with
the hits in the database (the default) and in Redis (`REDIS_URL`). A portal changed through one
is served by the other at once (tests/test_settings_live.py), and within the tenant cache's
backstop when the change bypassed every session.
"""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest
import redis
from sqlalchemy import func, select, update
from starlette.testclient import TestClient

from portal.app import create_app
from portal.core.db import Database
from portal.middleware.tenant import TenantCache
from portal.models import OutboxMessage, RateLimitHit, Tenant
from portal.web.ratelimit import RateLimiter
from portal.web.ratelimit_stores import DatabaseHits, RedisHits
from tests.factories import file_report
from tests.http_support import csrf
from tests.staff_support import request_link

HOST = "http://northside.reportal.test"


@pytest.fixture
def flushed_redis(redis_url: str) -> str:
    redis.Redis.from_url(redis_url).flushdb()
    return redis_url


@pytest.fixture(params=["database", "redis"])
def two_apps(request, settings, db, world):  # noqa: ANN001, ANN201
    """Two app instances (two processes' worth of state) with rate limits on, sharing the DB
    and, for "redis", one Redis server."""
    limited = replace(settings, rate_limits=True)
    if request.param == "redis":
        limited = replace(limited, redis_url=request.getfixturevalue("flushed_redis"))
    apps = [create_app(limited), create_app(limited)]
    yield apps
    for app in apps:
        app.state.db.engine.dispose()


def _browser(app, ip: str) -> TestClient:  # noqa: ANN001
    return TestClient(app, base_url=HOST, follow_redirects=False, client=(ip, 40000))


def _mails(db, email: str) -> int:  # noqa: ANN001
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(OutboxMessage)
                        .where(OutboxMessage.recipient == email))


def test_sign_in_limit_holds_across_two_app_instances(two_apps, db):
    """Five sign-in mails per address per 15 minutes in all, not five per process."""
    codes = [request_link(_browser(two_apps[n % 2], "192.0.2.7"), f"person{n}@example.org")
             .status_code for n in range(7)]
    assert codes == [200] * 5 + [429, 429]
    assert sum(_mails(db, f"person{n}@example.org") for n in range(7)) == 5


def test_vote_guard_per_network_and_issue_holds_across_two_app_instances(two_apps, db):
    with db.session() as s:
        issue_id = file_report(s, "northside", 1.9, 1.0).id
    limit, _window = two_apps[0].state.limiter.limits["vote_issue"]
    token = csrf(_browser(two_apps[0], "192.0.2.1").get("/signin").text)
    answers = []
    for n in range(limit + 2):  # one network, alternating processes, a new address each time
        response = _browser(two_apps[n % 2], f"203.0.113.{n + 1}").post(
            f"/issues/{issue_id}/vote", data={"csrf_token": token})
        answers.append((response.status_code, "Too many requests" in response.text))
    assert answers == [(303, False)] * limit + [(400, True)] * 2
    # Another network is its own bucket.
    other = _browser(two_apps[1], "198.51.100.1").post(f"/issues/{issue_id}/vote",
                                                       data={"csrf_token": token})
    assert other.status_code == 303


def test_the_database_keeps_no_address_or_email(settings, db, world):
    app = create_app(replace(settings, rate_limits=True))
    request_link(_browser(app, "192.0.2.77"), "someone@example.org")
    with db.session() as s:
        rows = s.scalars(select(RateLimitHit)).all()
    assert len(rows) == 2  # the address's hit and the email's
    assert all("192.0.2" not in r.bucket and "someone" not in r.bucket for r in rows)
    app.state.db.engine.dispose()


def _racers(make_store, attempts: int) -> list[bool]:  # noqa: ANN001
    """`attempts` hits on one bucket at once, from as many threads, each with its own store
    (its own connection: to the database the same as separate processes)."""
    stores = [make_store() for _ in range(attempts)]
    start, results = threading.Barrier(attempts), []

    def hit(store) -> None:  # noqa: ANN001
        start.wait()
        results.append(store.add_if_under("one-bucket", 5, 60_000, 1_000_000))

    threads = [threading.Thread(target=hit, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_concurrent_hits_in_the_database_never_pass_the_limit(settings, db):
    engines = []

    def make_store() -> DatabaseHits:
        engines.append(Database(settings.database_url).engine)
        return DatabaseHits(engines[-1])

    results = _racers(make_store, 16)
    for engine in engines:
        engine.dispose()
    assert len(results) == 16 and results.count(True) == 5


def test_concurrent_hits_in_redis_never_pass_the_limit(flushed_redis):
    results = _racers(lambda: RedisHits(flushed_redis), 16)
    assert len(results) == 16 and results.count(True) == 5


@pytest.mark.parametrize("store", ["database", "redis"])
def test_hits_age_out_of_the_window(store, settings, db, request):  # noqa: ANN001
    """A sliding window: the limit comes back hit by hit as the old hits pass the window."""
    now = [1_000.0]
    hits = (RedisHits(request.getfixturevalue("flushed_redis")) if store == "redis"
            else DatabaseHits(db.engine))
    limiter = RateLimiter({"report": (2, 60.0)}, hits, "secret", clock=lambda: now[0])
    assert [limiter.allow("p", "report", "a") for _ in range(3)] == [True, True, False]
    assert limiter.allow("p", "report", "b")  # another client has its own count
    now[0] += 30
    assert not limiter.allow("p", "report", "a")
    now[0] += 30.001  # the first two hits are a window old
    assert [limiter.allow("p", "report", "a") for _ in range(3)] == [True, True, False]
    assert limiter.allow("q", "report", "a")  # and another portal its own
    assert limiter.allow("p", "comment", "a")  # an action without a limit is never refused


def test_expired_hits_are_swept_from_the_table(db):
    hits = DatabaseHits(db.engine)
    for n in range(10):
        assert hits.add_if_under(f"bucket-{n}", 5, 1_000, 5_000)
    assert hits.add_if_under("late", 5, 1_000, 5_500)  # the sweep is not due yet
    hits.sweep(6_000)  # as the next hit after SWEEP_SECONDS does
    with db.session() as s:
        assert s.scalars(select(RateLimitHit.bucket)).all() == ["late"]


def test_a_portal_changed_behind_every_session_is_served_within_the_backstop(
        settings, db, world):
    """Changes through a session move the settings stamp and show at once
    (tests/test_settings_live.py). SQL typed straight into the database moves nothing; the
    tenant cache's backstop serves it at most `TenantCache.TTL` seconds later."""
    first, second = create_app(settings), create_app(settings)
    now = [100.0]
    second.state.tenants.clock = lambda: now[0]
    browser = _browser(second, "192.0.2.1")
    assert "Northside Portal" in browser.get("/report").text
    tenants = Tenant.__table__
    with first.state.db.engine.begin() as connection:  # no session: no listener sees it
        connection.execute(update(tenants).where(tenants.c.slug == "northside").values(
            name={"en": "Northside Typed", "es": "Portal Northside"}))
    assert "Northside Typed" not in browser.get("/report").text
    now[0] += TenantCache.TTL  # the entry read above is now one bound old
    assert "Northside Typed" in browser.get("/report").text
    for app in (first, second):
        app.state.db.engine.dispose()
