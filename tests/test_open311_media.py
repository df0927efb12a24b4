"""`media_url` is fetched safely: http(s) only, never our own network unless the operator
allows it, an image within the photo limit, within a time-out, no redirects."""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from portal.app import create_app
from portal.models import Issue
from portal.open311 import media_fetch
from tests.conftest import client_for
from tests.factories import jpeg_bytes
from tests.open311_support import checked
from tests.open311_world import make_keys

PHOTO = jpeg_bytes((80, 60))


class _Handler(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        _Handler.hits.append(self.path)
        if self.path == "/photo.jpg":
            self._send(200, "image/jpeg", PHOTO)
        elif self.path == "/page.html":
            self._send(200, "text/html", b"<html>not a photo</html>")
        elif self.path == "/huge.jpg":
            self._send(200, "image/jpeg", PHOTO + b"\0" * 4096)
        elif self.path == "/trickle-headers.jpg":  # a byte at a time, within any time-out
            self.wfile.write(b"HTTP/1.1 200 OK\r\n")
            for _ in range(60):
                self.wfile.write(b"X")
                self.wfile.flush()
                time.sleep(0.1)
        elif self.path == "/trickle-body.jpg":
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", "60")
            self.end_headers()
            for _ in range(60):
                self.wfile.write(b"\xff")
                self.wfile.flush()
                time.sleep(0.1)
        elif self.path == "/moved.jpg":
            self.send_response(302)
            self.send_header("Location", "/photo.jpg")
            self.end_headers()
        else:
            self._send(404, "text/plain", b"no")

    def _send(self, status: int, kind: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def photo_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    _Handler.hits = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _post(client, key: str, media_url: str):  # noqa: ANN001, ANN202
    return client.post("/open311/v2/requests.json", data={
        "api_key": key, "service_code": "highway-sign", "lat": "2.0", "long": "1.0",
        "description": "Sign down", "media_url": media_url})


def test_a_media_url_on_loopback_is_refused_and_never_fetched(client, db, photo_server):
    keys = make_keys(db)
    response = _post(client, keys.app, f"{photo_server}/photo.jpg")
    assert response.status_code == 400
    assert [e["description"] for e in checked(response, "errors")] == [
        "media_url: The media_url points at a private or local address; it was not fetched."]
    assert _Handler.hits == []
    with db.session() as session:
        assert session.scalar(select(Issue.id)) is None


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "192.168.0.10", "172.16.5.5",
                                     "169.254.169.254", "::1", "fd00::1", "::ffff:127.0.0.1",
                                     "0.0.0.0", "100.64.0.1", "224.0.0.1"])
def test_private_loopback_and_reserved_addresses_are_refused(address):
    with pytest.raises(media_fetch.MediaRefused) as refused:
        media_fetch.check_url("http://photos.example.test/a.jpg", False,
                              resolver=lambda host, port: [address])
    assert "private or local" in refused.value.message.msgid


def test_a_host_with_one_private_address_among_public_ones_is_refused():
    with pytest.raises(media_fetch.MediaRefused):
        media_fetch.check_url("https://photos.example.test/a.jpg", False,
                              resolver=lambda host, port: ["93.184.216.34", "10.0.0.1"])
    assert media_fetch.check_url("https://photos.example.test/a.jpg?s=1", False,
                                 resolver=lambda host, port: ["93.184.216.34"]) == \
        ("https", "photos.example.test", 443, "93.184.216.34", "/a.jpg?s=1")


@pytest.mark.parametrize("url, words", [
    ("file:///etc/passwd", "http or https"), ("ftp://example.test/a.jpg", "http or https"),
    ("gopher://x/", "http or https"), ("http://user:pw@example.test/a.jpg", "user name"),
    ("http://[::1/a.jpg", "not a valid address"), ("http:///a.jpg", "http or https"),
])
def test_only_plain_http_and_https_urls_are_fetched(url, words):
    with pytest.raises(media_fetch.MediaRefused) as refused:
        media_fetch.check_url(url, True, resolver=lambda host, port: ["93.184.216.34"])
    assert words in refused.value.message.msgid


def test_localhost_by_name_is_refused():
    with pytest.raises(media_fetch.MediaRefused):
        media_fetch.check_url("http://localhost/a.jpg", False)


@pytest.fixture
def intranet_client(settings, world):  # noqa: ANN001, ANN201
    app = create_app(dataclasses.replace(settings, open311_media_private=True,
                                         max_photo_bytes=len(PHOTO) + 100))
    yield client_for(app, "northside.reportal.test")
    app.state.db.engine.dispose()


def test_with_private_addresses_allowed_the_photo_is_fetched_and_kept(intranet_client, db,
                                                                      photo_server):
    keys = make_keys(db)
    response = _post(intranet_client, keys.app, f"{photo_server}/photo.jpg")
    assert response.status_code == 201, response.text
    issue_id = int(checked(response, "posted")[0]["service_request_id"])
    with db.session() as session:
        assert session.get(Issue, issue_id).photo
    assert _Handler.hits == ["/photo.jpg"]


@pytest.mark.parametrize("path, message", [
    ("/page.html", "media_url: The media_url is not an image."),
    ("/huge.jpg", "media_url: The media_url's photo is larger than this portal accepts."),
    ("/moved.jpg", "media_url: The media_url answered 302, not a photo."),
    ("/missing.jpg", "media_url: The media_url answered 404, not a photo."),
])
def test_what_is_not_a_photo_within_the_limit_is_refused(intranet_client, db, photo_server,
                                                         path, message):
    keys = make_keys(db)
    response = _post(intranet_client, keys.app, f"{photo_server}{path}")
    assert response.status_code == 400
    assert [e["description"] for e in checked(response, "errors")] == [message]
    assert _Handler.hits == [path]  # one request: a redirect is not followed


def test_a_server_that_does_not_answer_times_out():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts the connection, never answers
    port = listener.getsockname()[1]
    try:
        with pytest.raises(media_fetch.MediaRefused) as refused:
            media_fetch.fetch(f"http://127.0.0.1:{port}/a.jpg", 1000, allow_private=True,
                              timeout=0.5)
        assert refused.value.message.msgid == "The media_url took too long to answer."
    finally:
        listener.close()


@pytest.mark.parametrize("path", ["/trickle-headers.jpg", "/trickle-body.jpg"])
def test_a_server_sending_a_byte_at_a_time_is_cut_off_at_the_deadline(photo_server, path):
    started = time.monotonic()
    with pytest.raises(media_fetch.MediaRefused) as refused:
        media_fetch.fetch(photo_server + path, 100_000, allow_private=True, timeout=1.0)
    assert refused.value.message.msgid == "The media_url took too long to answer."
    assert time.monotonic() - started < 2.0  # not the six seconds the server would take


def test_one_fetch_at_a_time_so_slow_photos_cannot_hold_every_thread(photo_server):
    slow = threading.Thread(target=lambda: pytest.raises(
        media_fetch.MediaRefused, media_fetch.fetch, photo_server + "/trickle-body.jpg",
        100_000, allow_private=True, timeout=1.5))
    slow.start()
    try:
        time.sleep(0.3)  # the slow one is downloading
        started = time.monotonic()
        with pytest.raises(media_fetch.MediaRefused) as refused:
            media_fetch.fetch(photo_server + "/photo.jpg", 100_000, allow_private=True)
        assert refused.value.message.msgid.startswith("Another photo is being fetched")
        assert time.monotonic() - started < 0.2  # refused at once, not after waiting
    finally:
        slow.join()
    assert media_fetch.fetch(photo_server + "/photo.jpg", 100_000, allow_private=True) == PHOTO
