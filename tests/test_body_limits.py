"""Request bodies are capped before parsing, and forms are read within their route's limits.

A body past its route's limit gets 413 (a declared one without a byte read; a streamed one as
soon as it passes the limit); a form with too many fields or files, or a field far too long,
gets 400 with a message saying so; nothing is written either way. The last tests run the real
server in a subprocess and watch its memory while hundreds of megabytes stream at it.
"""

from __future__ import annotations

import os
import select
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlalchemy import select as sql_select

from portal.core.settings import REPO_ROOT
from portal.models import Issue, Update
from tests.factories import file_report, jpeg_bytes
from tests.http_support import csrf, field_error, form_tokens

MIB = 1024 * 1024
PHOTO_LIMIT = 10 * MIB  # the default MAX_PHOTO_BYTES
BOUNDARY = "limits-test-boundary"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


def count(db, model) -> int:  # noqa: ANN001
    with db.session() as s:
        return s.scalar(sql_select(func.count()).select_from(model))


def media_files(settings) -> list[Path]:  # noqa: ANN001
    return list(settings.media_dir.rglob("*")) if settings.media_dir.exists() else []


def part(name: str, value: bytes | str = b"", filename: str = "") -> bytes:
    """The head of one multipart part plus its value (add nothing more for a streamed one)."""
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
    kind = "Content-Type: image/jpeg\r\n" if filename else ""
    value = value.encode() if isinstance(value, str) else value
    return f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n{kind}\r\n".encode() + value


def report_fields(tokens: dict[str, str]) -> bytes:
    fields = {"lat": "1.5", "lon": "1.0", "request_type": "city-works/pothole",
              "description": "Deep pothole", **tokens}
    return b"".join(part(k, v) + b"\r\n" for k, v in fields.items())


def filler(total: int, chunk: int = MIB) -> Iterator[bytes]:
    """`total` bytes of filler, a chunk at a time: never all of it in memory."""
    block = b"x" * chunk
    while total > 0:
        yield block[:min(chunk, total)]
        total -= chunk


class Watched:
    """A body generator that remembers whether anyone started reading it."""

    def __init__(self, pieces: Iterator[bytes]) -> None:
        self.pieces, self.read = pieces, False

    def __iter__(self) -> Iterator[bytes]:
        self.read = True
        yield from self.pieces


@pytest.fixture
def issue_id(db) -> int:  # noqa: ANN001
    with db.session() as s:
        return file_report(s, "northside", 1.5, 1.0).id


# --- the body cap ----------------------------------------------------------------------------

@pytest.mark.parametrize("path,declared,shown", [
    ("/report", PHOTO_LIMIT + 300 * 1024, "10 MB"),
    ("/issues/{id}/fixed", PHOTO_LIMIT + 100 * 1024, "10 MB"),
    ("/issues/{id}/comments", 65 * 1024, "64 KB"),
    ("/watch", 65 * 1024, "64 KB"),
])
def test_a_declared_body_past_the_route_limit_is_refused_unread(client, db, issue_id, path,
                                                                declared, shown):
    body = Watched(filler(declared))
    r = client.post(path.format(id=issue_id) + "?lang=es", content=body,
                    headers={"content-type": MULTIPART, "content-length": str(declared)})
    assert r.status_code == 413
    assert shown in r.text and r.headers["content-language"] == "es"
    assert not body.read
    assert count(db, Issue) == 1 and count(db, Update) == 1


def test_a_streamed_body_without_length_is_cut_off_at_the_limit(client, db, issue_id):
    tokens = form_tokens(client, f"/issues/{issue_id}")
    body = (part("csrf_token", tokens["csrf_token"]) + b"\r\n"
            + part("photo", filename="big.jpg")
            + b"x" * (PHOTO_LIMIT + 200 * 1024) + f"\r\n--{BOUNDARY}--\r\n".encode())
    r = client.post(f"/issues/{issue_id}/fixed", content=iter([body]),
                    headers={"content-type": MULTIPART})
    assert "content-length" not in r.request.headers  # sent chunked
    assert r.status_code == 413 and "This upload is too large: the limit is 10 MB." in r.text
    assert count(db, Update) == 1


def test_the_widget_refusal_can_show_inside_the_embedding_page(client, db):
    r = client.post("/w/northside/report", content=b"",
                    headers={"content-type": MULTIPART,
                             "content-length": str(PHOTO_LIMIT + MIB)})
    assert r.status_code == 413
    assert "frame-ancestors 'self' http://127.0.0.2:8766" in r.headers["content-security-policy"]


# --- the form limits --------------------------------------------------------------------------

def report_post(client, data: dict, files: list | None = None):  # noqa: ANN001
    base = {"lat": "1.5", "lon": "1.0", "request_type": "city-works/pothole",
            "description": "Deep pothole", **form_tokens(client, "/report")}
    return client.post("/report", data={**base, **data}, files=files or [])


def test_a_text_field_cannot_borrow_the_photo_limit(client, db, settings):
    r = report_post(client, {"q_note": "x" * (2 * MIB)},
                    files=[("photo", ("p.jpg", jpeg_bytes(), "image/jpeg"))])
    assert r.status_code == 400
    assert "A field of this form is too long: at most 10000 characters." in r.text
    assert count(db, Issue) == 0 and media_files(settings) == []


@pytest.mark.parametrize("data,message", [
    ({"description": "d" * 10_001}, "at most 10000 characters"),
    ({"name": "n" * 1_001}, "at most 1000 characters"),
    ({f"q_{i}": "yes" for i in range(60)}, "too many fields: at most 64"),
])
def test_a_report_past_the_form_limits_is_refused(client, db, data, message):
    r = report_post(client, data)
    assert r.status_code == 400 and message in r.text
    assert count(db, Issue) == 0


def test_within_the_form_limits_the_domain_still_speaks(client, db):
    r = report_post(client, {"description": "d" * 6_000,
                             **{f"q_{i}": "yes" for i in range(50)}})
    assert r.status_code == 400 and "under 5000 characters" in field_error(r.text, "description")


def test_a_second_photo_is_refused(client, db, settings):
    photo = ("photo", ("p.jpg", jpeg_bytes(), "image/jpeg"))
    r = report_post(client, {}, files=[photo, photo])
    assert r.status_code == 400 and "too many files: at most 1." in r.text
    assert count(db, Issue) == 0 and media_files(settings) == []


def test_forms_without_photos_take_no_files(client, db, issue_id):
    tokens = form_tokens(client, f"/issues/{issue_id}")
    r = client.post(f"/issues/{issue_id}/comments", data={**tokens, "text": "Still there"},
                    files=[("photo", ("p.jpg", jpeg_bytes(), "image/jpeg"))])
    assert r.status_code == 400 and "too many files: at most 0." in r.text
    r = client.post(f"/issues/{issue_id}/comments",
                    data={**tokens, "text": "Still there",
                          **{f"extra{i}": "1" for i in range(20)}})
    assert r.status_code == 400 and "too many fields: at most 10." in r.text
    assert count(db, Update) == 1


def padded_jpeg(size: int) -> bytes:
    photo = jpeg_bytes((64, 48))
    return photo + b"\0" * (size - len(photo))  # decoders stop at the image's end marker


def test_a_photo_at_the_limit_is_accepted(client, db, settings):
    r = report_post(client, {}, files=[("photo", ("p.jpg", padded_jpeg(PHOTO_LIMIT),
                                                   "image/jpeg"))])
    assert r.status_code == 303 and count(db, Issue) == 1
    assert media_files(settings)


def test_a_photo_just_past_the_limit_gets_the_photo_message(client, db, settings, issue_id):
    big = ("photo", ("p.jpg", padded_jpeg(PHOTO_LIMIT + 1), "image/jpeg"))
    r = report_post(client, {}, files=[big])
    assert r.status_code == 400
    assert "too large: the limit is 10 MB" in field_error(r.text, "photo")
    tokens = form_tokens(client, f"/issues/{issue_id}")
    r = client.post(f"/issues/{issue_id}/fixed", data={**tokens, "text": "Mended"}, files=[big])
    assert r.status_code == 400
    assert "too large: the limit is 10 MB" in field_error(r.text, "fixed_photo")
    assert count(db, Issue) == 1 and count(db, Update) == 1 and media_files(settings) == []


# --- the real server's memory -----------------------------------------------------------------

class ServerProcess:
    """`uvicorn portal.app:create_app` in a child process, on the test database."""

    def __init__(self, settings) -> None:  # noqa: ANN001
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "DATABASE_URL": settings.database_url,
               "SECRET_KEY": settings.secret_key, "BASE_DOMAIN": settings.base_domain,
               "MEDIA_DIR": str(settings.media_dir),
               "STATIC_BUILD_DIR": str(settings.static_build_dir), "RATE_LIMITS": "0"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "portal.app:create_app", "--factory",
             "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"],
            env=env, cwd=REPO_ROOT)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(self.url + "/healthz", timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.stop()
                    raise RuntimeError("the server did not start") from None
                time.sleep(0.1)

    def memory(self, field: str) -> int:
        """A `/proc/PID/status` figure (VmRSS, VmHWM) in bytes."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
        raise AssertionError(field)

    def reset_peak(self) -> None:
        Path(f"/proc/{self.process.pid}/clear_refs").write_text("5")  # VmHWM := VmRSS

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture
def server(settings, world) -> Iterator[ServerProcess]:  # noqa: ANN001
    running = ServerProcess(settings)
    yield running
    running.stop()


def raw_post(port: int, path: str, pieces: Iterator[bytes], length: int | None = None,
             ) -> tuple[int, bytes]:
    """POST over a plain socket, chunked unless `length` is given; stop sending as soon as the
    server answers (as a browser does), then read the answer."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=15)
    framing = f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked"
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                 f"Content-Type: {MULTIPART}\r\n{framing}\r\n\r\n".encode())
    try:
        for piece in pieces:
            if select.select([sock], [], [], 0)[0]:
                break
            sock.sendall(piece if length is not None
                         else b"%x\r\n" % len(piece) + piece + b"\r\n")
        else:
            if length is None:
                sock.sendall(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server answered and closed while we were still sending
    answer = b""
    try:
        while b"\r\n\r\n" not in answer or len(answer.split(b"\r\n\r\n", 1)[1]) < _length(answer):
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    except ConnectionResetError:
        pass
    sock.close()
    assert answer.startswith(b"HTTP/1.1 "), answer[:200]
    return int(answer.split()[1]), answer.split(b"\r\n\r\n", 1)[-1]


def _length(answer: bytes) -> int:
    for line in answer.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 1 << 30


def page_tokens(url: str) -> dict[str, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        html = response.read().decode()
    return {"csrf_token": csrf(html)}


def test_a_declared_huge_body_is_answered_before_it_is_sent(server):
    started = time.monotonic()
    status, text = raw_post(server.port, "/t/northside/report", iter(()), length=300 * MIB)
    assert status == 413 and b"10 MB" in text
    assert time.monotonic() - started < 5  # answered at once: it never waited for the body


def test_streamed_huge_uploads_keep_the_server_memory_flat(server, db, settings):
    with db.session() as s:
        issue = file_report(s, "northside", 1.5, 1.0).id
    base = server.url + "/t/northside"
    token = page_tokens(f"{base}/issues/{issue}")["csrf_token"]
    end = f"\r\n--{BOUNDARY}--\r\n".encode()
    # Warm up: the first form parse and write load what they need.
    comment = part("csrf_token", token) + b"\r\n" + part("text", "Still there") + end
    assert raw_post(server.port, f"/t/northside/issues/{issue}/comments", iter([comment]))[0] == 303

    def fixed_photo() -> Iterator[bytes]:  # a 300 MB "It's fixed" photo
        yield part("csrf_token", token) + b"\r\n" + part("photo", filename="huge.jpg")
        yield from filler(300 * MIB)
        yield end

    def report_answers() -> Iterator[bytes]:  # a report with forty 10 MB answers
        yield report_fields(page_tokens(f"{base}/report"))
        for i in range(40):
            yield part(f"q_{i}")
            yield from filler(10 * MIB)
            yield b"\r\n"
        yield end[2:]

    growth, statuses = {}, {}
    for path, body in ((f"/t/northside/issues/{issue}/fixed", fixed_photo()),
                       ("/t/northside/report", report_answers())):
        before = server.memory("VmRSS")
        server.reset_peak()
        statuses[path], _ = raw_post(server.port, path, body)
        growth[path] = (server.memory("VmHWM") - before) // MIB
    assert all(mb < 50 for mb in growth.values()), f"the server grew (MB): {growth}"
    # Which refusal each gets is pinned above; here what matters is that both are refused.
    assert all(status in (400, 413) for status in statuses.values()), statuses
    assert count(db, Issue) == 1 and count(db, Update) == 2 and media_files(settings) == []
