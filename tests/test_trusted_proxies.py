"""`X-Forwarded-For` and `X-Forwarded-Proto` are believed only from the proxies named in
`TRUSTED_PROXIES` (none by default, loopback included). Through a trusted proxy the client is
the right-most forwarded address that is not itself a trusted proxy, so a client cannot dodge
a rate limit by writing its own `X-Forwarded-For`."""

from __future__ import annotations

import argparse
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import replace

import pytest
import uvicorn
from starlette.testclient import TestClient

from portal import cli
from portal.app import create_app
from portal.core.errors import ConfigError
from portal.core.settings import Settings
from tests.http_support import csrf

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def make_app(settings, world):  # noqa: ANN001, ANN201
    apps = []

    def make(**changes):  # noqa: ANN003, ANN202
        apps.append(create_app(replace(settings, rate_limits=True, **changes)))
        return apps[-1]

    yield make
    for app in apps:
        app.state.db.engine.dispose()


def browser(app, peer: str) -> TestClient:  # noqa: ANN001
    return TestClient(app, base_url="http://northside.reportal.test", client=(peer, 50000),
                      follow_redirects=False)


def sign_in_requests(client: TestClient, forwarded_for: Callable[[int], str],
                     count: int = 6) -> list[int]:
    """Ask for `count` sign-in links for different addresses; the limit is 5 per client."""
    token = csrf(client.get("/signin").text)
    return [client.post("/signin", data={"csrf_token": token, "email": f"p{n}@example.org"},
                        headers={"x-forwarded-for": forwarded_for(n)}).status_code
            for n in range(count)]


LIMITED = [200] * 5 + [429]


@pytest.mark.parametrize("peer", ["203.0.113.9", "127.0.0.1", "::1"])
def test_without_trusted_proxies_nobodys_forwarded_for_counts(make_app, peer):
    app = make_app()
    assert sign_in_requests(browser(app, peer), lambda n: f"198.51.100.{n}") == LIMITED


def test_portal_serve_does_not_let_uvicorn_trust_loopback(make_app, settings, monkeypatch):
    """`portal serve` once ran uvicorn with proxy headers on, trusting any 127.0.0.1 peer."""
    served = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: served.update(app=app, **options))
    monkeypatch.setattr("portal.core.catalogs.compile_all", lambda: None)
    assert cli.cmd_serve(argparse.Namespace(host="127.0.0.1", port=8000, workers=1),
                         replace(settings, rate_limits=True)) == 0
    app = served.pop("app")
    config = uvicorn.Config(app, **served)
    config.load()  # the app exactly as uvicorn would run it, with its own middleware
    client = browser(config.loaded_app, "127.0.0.1")
    assert sign_in_requests(client, lambda n: f"198.51.100.{n}") == LIMITED
    app.state.db.engine.dispose()


def test_an_untrusted_peer_is_limited_whatever_it_forwards(make_app):
    app = make_app(trusted_proxies=("10.0.0.0/8",))
    assert sign_in_requests(browser(app, "203.0.113.9"), lambda n: f"10.0.0.{n}") == LIMITED


def test_a_trusted_proxy_forwards_each_clients_own_address(make_app):
    app = make_app(trusted_proxies=("10.0.0.0/8", "192.0.2.1"))
    proxy = browser(app, "10.1.2.3")
    assert sign_in_requests(proxy, lambda n: f"198.51.100.{n}") == [200] * 6  # six people
    assert sign_in_requests(proxy, lambda n: "198.51.100.77") == LIMITED  # one person
    # Two proxies in a row: the client is the address before the trusted ones.
    assert sign_in_requests(proxy, lambda n: "198.51.100.88, 192.0.2.1, 10.9.9.9") == LIMITED


def test_a_client_cannot_prepend_its_way_past_the_limit(make_app):
    app = make_app(trusted_proxies=("10.0.0.0/8",))
    proxy = browser(app, "10.1.2.3")
    assert sign_in_requests(proxy, lambda n: f"1.2.3.{n}, 198.51.100.7") == LIMITED
    assert sign_in_requests(proxy, lambda n: f"garbage-{n}") == LIMITED  # counted as the proxy


def test_forwarded_proto_is_believed_only_from_a_trusted_proxy(make_app):
    app = make_app(trusted_proxies=("10.0.0.0/8",))

    def self_link(peer: str) -> str:
        response = browser(app, peer).get("/feed.atom", headers={"x-forwarded-proto": "https"})
        return ET.fromstring(response.content).find(f"{ATOM}link[@rel='self']").get("href")

    assert self_link("10.1.2.3") == "https://northside.reportal.test/feed.atom"
    assert self_link("203.0.113.9") == "http://northside.reportal.test/feed.atom"


def test_trusted_proxies_come_from_the_environment_and_bad_ones_stop_the_start(settings):
    assert Settings.from_env({"TRUSTED_PROXIES": " 10.0.0.0/8, 127.0.0.1 ,,::1"}) \
        .trusted_proxies == ("10.0.0.0/8", "127.0.0.1", "::1")
    assert Settings.from_env({}).trusted_proxies == ()
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES.*'10.0.0.300'"):
        create_app(replace(settings, trusted_proxies=("10.0.0.300",)))
