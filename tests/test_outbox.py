"""The outbox delivers over real SMTP: a sender killed mid-batch, restarted, delivers every
message, and a recipient who de-duplicates by Message-ID sees none twice."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
from datetime import timedelta

from sqlalchemy import select
from starlette.testclient import TestClient

from portal.core.settings import REPO_ROOT
from portal.mail import compose, outbox, unsubscribe
from portal.models import MailSuppression, OutboxMessage, utcnow
from portal.web.csrf import CsrfSigner
from tests.conftest import client_for
from tests.mail_support import DropOnce, HoldOne, Mailbox, Refuse, link_to, smtp_server


def queue(db, world, count: int, kind: str = "test_notice", locale: str = "en") -> list[str]:
    keys = []
    with db.session() as s:
        for n in range(count):
            key = f"test:{n}"
            outbox.enqueue(s, key=key, kind=kind, recipient=f"person{n}@example.org",
                                  locale=locale, subject=f"Notice {n}",
                                  body_text=f"Hello {n}: {compose.PORTAL_URL}/issues/{n}",
                                  tenant_id=world.portals["northside"].id)
            keys.append(key)
    return keys


def rows(db) -> dict[str, OutboxMessage]:
    with db.session() as s:
        return {m.key: m for m in s.scalars(select(OutboxMessage))}


def on(settings, port: int):
    return dataclasses.replace(settings, smtp_port=port)


def test_connection_dropped_mid_batch_then_restart_delivers_each_once(settings, db, world):
    keys = queue(db, world, 6)
    box = DropOnce(accept=2)
    with smtp_server(box) as port:
        first = outbox.send_due(db, on(settings, port))
        assert (first.sent, first.failed, first.released) == (2, 1, 3)
        state = rows(db)
        assert sum(m.sent_at is not None for m in state.values()) == 2
        failed = state["test:2"]
        assert failed.sent_at is None and failed.attempts == 1
        assert "Disconnected" in failed.last_error
        # The third message reached the server before the drop: an ambiguous delivery.
        assert len(box.raw) == 3

        # Restart later, once the failed message's backoff has passed.
        later = utcnow() + timedelta(minutes=2)
        second = outbox.drain(db, on(settings, port), now=later)
        assert second.sent == 4 and second.failed == 0

    assert all(m.sent_at is not None for m in rows(db).values())
    assert len(box.raw) == 7  # the ambiguous one was sent again, with the same Message-ID
    delivered = box.delivered
    assert sorted(m["X-Reportal-Key"] for m in delivered) == sorted(keys)
    ids = [m["Message-ID"] for m in box.raw]
    assert len(set(ids)) == 6
    assert ids.count(compose.message_id("test:2", settings.mail_from)) == 2


def test_killed_worker_process_then_restart_delivers_each_once(settings, db, world, tmp_path):
    keys = queue(db, world, 5)
    box = HoldOne(hold_at=3)
    with smtp_server(box) as port:
        env = {**os.environ, "DATABASE_URL": settings.database_url, "SMTP_HOST": "127.0.0.1",
               "SMTP_PORT": str(port), "SECRET_KEY": settings.secret_key,
               "PUBLIC_URL": settings.public_url}
        # A real process, not portal.cli.main in this one: the point is a worker killed
        # (SIGKILL) in the middle of a send, which only a separate process can be.
        worker = subprocess.Popen([sys.executable, "-m", "portal.cli", "worker", "--once"],
                                  cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        try:
            assert box.holding.wait(30), worker.communicate(timeout=5)
            worker.send_signal(signal.SIGKILL)  # dies after the server took message 3
            worker.wait(10)
        finally:
            if worker.poll() is None:
                worker.kill()
        box.release()
        state = rows(db)
        assert sum(m.sent_at is not None for m in state.values()) == 2
        assert all(m.attempts == 0 for m in state.values() if m.sent_at is None)

        # Restarted before the dead worker's lease ran out: nothing is sent twice at once.
        assert outbox.send_due(db, on(settings, port)).claimed == 0
        report = outbox.drain(db, on(settings, port), now=utcnow() + outbox.LEASE
                              + timedelta(seconds=1))
        assert report.sent == 3

    assert all(m.sent_at is not None for m in rows(db).values())
    assert len(box.raw) == 6
    assert sorted(m["X-Reportal-Key"] for m in box.delivered) == sorted(keys)


def test_backoff_doubles_and_is_capped():
    assert [outbox.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [60, 120, 240, 480]
    assert outbox.backoff(30) == outbox.BACKOFF_MAX


def test_temporary_refusal_retries_later_with_backoff(settings, db, world):
    queue(db, world, 1)
    with smtp_server(Refuse("451 4.3.0 try again later")) as port:
        now = utcnow()
        report = outbox.send_due(db, on(settings, port), now=now)
        assert report.failed == 1
        message = rows(db)["test:0"]
        assert message.attempts == 1 and message.sent_at is None
        assert "451" in message.last_error
        # Not due again until the backoff has passed.
        assert outbox.send_due(db, on(settings, port), now=now + timedelta(seconds=30)).claimed == 0
        outbox.send_due(db, on(settings, port), now=now + timedelta(seconds=61))
        assert rows(db)["test:0"].attempts == 2
    with smtp_server(box := Mailbox()) as port:
        outbox.send_due(db, on(settings, port), now=now + timedelta(minutes=10))
    assert rows(db)["test:0"].sent_at is not None
    assert len(box.delivered) == 1


def test_permanent_refusal_stops_retrying(settings, db, world):
    queue(db, world, 2)
    with smtp_server(Refuse("550 5.1.1 no such user")) as port:
        report = outbox.send_due(db, on(settings, port))
        assert report.failed == 2  # the connection stayed up for the second message
        assert all(m.attempts == outbox.MAX_ATTEMPTS for m in rows(db).values())
        later = utcnow() + timedelta(days=2)
        assert outbox.send_due(db, on(settings, port), now=later).claimed == 0


def test_server_down_counts_an_attempt_and_releases_the_rest(settings, db, world):
    queue(db, world, 3)
    from tests.mail_support import free_port

    report = outbox.send_due(db, on(settings, free_port()))
    assert (report.failed, report.released) == (1, 2)
    state = rows(db)
    assert [state[k].attempts for k in ("test:0", "test:1", "test:2")] == [1, 0, 0]


def test_headers_links_and_one_click_unsubscribe(settings, db, world, app):
    queue(db, world, 1)
    with smtp_server(box := Mailbox()) as port:
        outbox.send_due(db, on(settings, port))
    mail = box.delivered[0]
    assert mail["Message-ID"] == compose.message_id("test:0", settings.mail_from)
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "http://reportal.test/t/northside/issues/0" in mail.get_content()
    url = mail["List-Unsubscribe"].strip("<>")
    assert url == link_to(mail, "/unsubscribe/")
    # As sent: the URL itself in angle brackets, on one line (RFC 2369, RFC 8058); RFC 2047
    # encoded words there make mail programs offer no one-click unsubscribe.
    raw = dict(mail.raw_items())["List-Unsubscribe"]
    assert raw == f"<{url}>" and len(url) > 78
    assert url.startswith("http://reportal.test/t/northside/unsubscribe/")

    client = client_for(app, "reportal.test")
    page = client.get(url)
    assert page.status_code == 200 and "person0@example.org" in page.text
    with db.session() as s:  # looking is not unsubscribing
        assert s.scalars(select(MailSuppression)).first() is None
    done = client.post(url, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    with db.session() as s:
        assert [(m.email, m.scope) for m in s.scalars(select(MailSuppression))] == [
            ("person0@example.org", "kind:test_notice")]

    # The next notice of that kind to that address is dropped, not delivered.
    with db.session() as s:
        outbox.enqueue(s, key="test:again", kind="test_notice",
                              recipient="person0@example.org", locale="en", subject="Again",
                              body_text="x", tenant_id=world.portals["northside"].id)
    with smtp_server(box2 := Mailbox()) as port:
        report = outbox.send_due(db, on(settings, port))
    assert report.suppressed == 1 and box2.raw == []
    assert rows(db)["test:again"].last_error == outbox.SUPPRESSED


def test_unsubscribe_tokens_are_signed_for_that_purpose_only(settings, app, world):
    client = client_for(app, "northside.reportal.test")
    good = unsubscribe.make_token(settings.secret_key, "a@example.org", "all")
    assert unsubscribe.read_token(settings.secret_key, good) == ("a@example.org", "all")
    tampered = good[:-2] + ("AA" if not good.endswith("AA") else "BB")
    other_secret = unsubscribe.make_token("another-secret", "a@example.org", "all")
    csrf = CsrfSigner(settings.secret_key).token("northside")
    for token in (tampered, other_secret, csrf, "nonsense"):
        assert unsubscribe.read_token(settings.secret_key, token) is None
        assert client.post(f"/unsubscribe/{token}").status_code == 400


def test_sign_in_mail_is_never_suppressed():
    assert unsubscribe.scope_for("signin", "signin:abc") == "all"
    assert unsubscribe.scope_for("watch_new", "watch-new:7:12") == "watch:7"
    assert unsubscribe.scope_for("new_report", "new-report:1:2") == "kind:new_report"


def test_footer_and_language_header_follow_the_recipient(settings, db, world):
    queue(db, world, 1, locale="es")
    with smtp_server(box := Mailbox()) as port:
        outbox.send_due(db, on(settings, port))
    mail = box.delivered[0]
    assert mail["Content-Language"] == "es"
    assert "/unsubscribe/" in mail.get_content()


def test_background_sender_runs_inside_the_app(settings, db, world):
    from portal.app import create_app

    queue(db, world, 2)
    with smtp_server(box := Mailbox()) as port:
        app = create_app(dataclasses.replace(on(settings, port), background_sender=True))
        with TestClient(app):
            assert len(box.wait_for(2)) == 2
        app.state.db.engine.dispose()
    assert all(m.sent_at is not None for m in rows(db).values())


# -- rows that cannot become an email -------------------------------------------------------


def old_row(db, world, key: str, subject: str, recipient: str = "old@example.org") -> None:
    """A row written before subjects and addresses were kept to one line (no `enqueue`)."""
    with db.session() as s:
        s.add(OutboxMessage(key=key, kind="test_notice", recipient=recipient, locale="en",
                            subject=subject, body_text="Hello",
                            tenant_id=world.portals["northside"].id,
                            next_attempt_at=utcnow() - timedelta(minutes=5)))


def sign_in_link(db, world) -> None:
    from portal.staff import accounts

    with db.session() as s:
        accounts.request_sign_in(s, email="staff@example.org", tenant=world.portals["northside"],
                                 locale="en", secret_key="test-secret",
                                 link_for=lambda token: f"http://x/signin/confirm?token={token}")


def test_old_subjects_with_line_breaks_are_sent_on_one_line(settings, db, world):
    old_row(db, world, "old:crlf", "Pothole\r\nBcc: everyone@example.org")
    old_row(db, world, "old:u2028", "Pothole\u2028on Main St")
    sign_in_link(db, world)
    box = Mailbox()
    with smtp_server(box) as port:
        report = outbox.send_due(db, on(settings, port))
    assert (report.sent, report.failed) == (3, 0)
    subjects = {m["X-Reportal-Key"]: m["Subject"] for m in box.delivered}
    assert subjects["old:crlf"] == "Pothole Bcc: everyone@example.org"
    assert subjects["old:u2028"] == "Pothole on Main St"
    assert all(m["Bcc"] is None for m in box.delivered)


def test_a_message_that_cannot_be_composed_fails_alone(settings, db, world):
    old_row(db, world, "old:to-crlf", "Notice", recipient="a@example.org\r\nBcc: b@example.org")
    old_row(db, world, "old:to-u2028", "Notice", recipient="a\u2028b@example.org")
    sign_in_link(db, world)
    box = Mailbox()
    with smtp_server(box) as port:
        report = outbox.send_due(db, on(settings, port))
        assert (report.claimed, report.sent, report.failed) == (3, 1, 2)
        assert [m["To"] for m in box.delivered] == ["staff@example.org"]  # the link got out
        state = rows(db)
        for key in ("old:to-crlf", "old:to-u2028"):
            assert state[key].sent_at is None and state[key].attempts == 1
            assert state[key].last_error.startswith("compose: ValueError")
        # It is retried with backoff like any failure, and stops after MAX_ATTEMPTS.
        for attempt in range(2, outbox.MAX_ATTEMPTS + 1):
            later = utcnow() + outbox.backoff(attempt - 1) + timedelta(seconds=1)
            with db.session() as s:
                for m in s.scalars(select(OutboxMessage).where(OutboxMessage.sent_at.is_(None))):
                    m.next_attempt_at = later - timedelta(seconds=1)
            assert outbox.send_due(db, on(settings, port), now=later).failed == 2
        last = outbox.send_due(db, on(settings, port), now=utcnow() + timedelta(days=30))
        assert last.claimed == 0
    with db.session() as s:
        stopped = outbox.failed(s)
        assert [m.key for m in stopped] == ["old:to-crlf", "old:to-u2028"]
        assert all(m.attempts == outbox.MAX_ATTEMPTS for m in stopped)


def test_enqueue_keeps_a_subject_on_one_line_and_within_its_column(db, world):
    with db.session() as s:
        outbox.enqueue(s, key="k:long", kind="test_notice", recipient="a@example.org",
                       locale="en", subject="New:\r\n" + "x" * 400, body_text="B")
    with db.session() as s:
        subject = s.scalars(select(OutboxMessage.subject)).one()
    assert subject.startswith("New: x") and len(subject) == outbox.MAX_SUBJECT
    assert subject.endswith("…") and "\n" not in subject
