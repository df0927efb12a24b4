"""Reporting by text message, through the real webhook routes over HTTP and the outbox,
with a test gateway adapter in place of Twilio's API (tests/sms_support.py)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from portal.app import create_app
from portal.models import Flag, Issue, OutboxMessage, SmsContact, SmsConversation, utcnow
from portal.sms import conversation, intake, phones
from portal.sms.gateways import Inbound, twilio_signature
from portal.staff import triage
from tests.conftest import client_for
from tests.factories import jpeg_bytes
from tests.sms_support import (
    ENVIRON,
    NORTH,
    NORTH_SYNC,
    RIVER,
    SYNC_SECRET,
    Phone,
    RecordingGateway,
    delivered,
    set_up_numbers,
)
from tests.staff_support import grant, sign_in


@pytest.fixture
def sms_app(settings, world, db, monkeypatch):  # noqa: ANN001, ANN201
    with db.session() as s:
        set_up_numbers(s, monkeypatch)
    # The photo server of these tests listens on loopback, as a city intranet would.
    application = create_app(dataclasses.replace(settings, open311_media_private=True))
    yield application
    application.state.db.engine.dispose()


@pytest.fixture
def north(sms_app):  # noqa: ANN001, ANN201
    return client_for(sms_app, "northside.reportal.test")


@pytest.fixture
def photo_url() -> Iterator[str]:
    body = jpeg_bytes((120, 90))

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/MM123/Media/ME456"
    server.shutdown()


def test_twilio_signature_matches_twilios_documented_example():
    params = [("CallSid", "CA1234567890ABCDE"), ("Caller", "+12349013030"),
              ("Digits", "1234"), ("From", "+12349013030"), ("To", "+18005551212")]
    assert twilio_signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2",
                            params) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


def test_unsigned_wrongly_signed_and_replayed_texts_are_refused(north, db):
    phone = Phone(north, "+15557770001")
    form = phone.form("Elm Park")
    assert phone.post(form, signature="").status_code == 403
    assert phone.post(form, signature="bm90IHRoZSBzaWduYXR1cmU=").status_code == 403
    forged = dict(form, Body="Oak Square")  # signed for another body
    assert phone.post(forged, signature=twilio_signature(
        phone.token, phone.url, list(form.items()))).status_code == 403
    with db.session() as s:
        assert s.scalars(select(OutboxMessage)).all() == []
    answer = phone.post(form)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/xml")
    assert "<Response></Response>" in answer.text  # nothing inline: replies go by the outbox
    assert phone.post(form).status_code == 409  # the same MessageSid again
    with db.session() as s:
        assert len(s.scalars(select(OutboxMessage)).all()) == 1
    assert north.post("/sms/twilio/15550009999", data=form).status_code == 404


def test_english_report_wrong_place_corrected_photo_and_status_texted_back(
        north, db, settings, photo_url):
    phone = Phone(north, "+1 (555) 777-0002")
    gateway = phone.gateway
    phone.text("Nowhere Lane")
    texts = delivered(db, settings, gateway, "+15557770002")
    assert texts[-1].startswith("Where is the problem?")
    assert "Other languages: 2 Español" in texts[-1]
    phone.text("Nowhere Lane")
    assert "No place was found for \"Nowhere Lane\"" in delivered(db, settings, gateway,
                                                                  "+15557770002")[-1]
    phone.text("10.5, 10.5")  # coordinates outside the portal
    assert "outside the Northside area" in delivered(db, settings, gateway, "+15557770002")[-1]
    phone.text("elm")
    assert "Did you mean 1) Elm Market 2) Elm Park?" in delivered(db, settings, gateway,
                                                                  "+15557770002")[-1]
    phone.text("2")
    ask = delivered(db, settings, gateway, "+15557770002")[-1]
    assert ask.startswith("Elm Park. What is the problem? 1) Pothole 2) Streetlight out")
    phone.text("7")
    assert delivered(db, settings, gateway, "+15557770002")[-1].startswith(
        "Reply with one of the numbers")
    phone.text("2")
    assert delivered(db, settings, gateway, "+15557770002")[-1] == (
        "Describe the problem in a few words.")
    phone.text("The lamp by the fountain is dark")
    assert "reply 0 to send the report without one" in delivered(
        db, settings, gateway, "+15557770002")[-1]
    phone.text("", media=(photo_url,))
    done = delivered(db, settings, gateway, "+15557770002")[-1]
    with db.session() as s:
        issue = s.scalars(select(Issue)).one()
        assert (issue.lat, issue.lon, issue.locale) == (2.0, 1.0, "en")
        assert issue.description == "The lamp by the fountain is dark"
        assert issue.request_type.code == "streetlight"
        assert issue.photo is not None and issue.reporter_email == ""
        issue_id = issue.id
    assert done.startswith(f"Thank you. Your report is #{issue_id}: "
                           f"http://reportal.test/t/northside/issues/{issue_id}")
    assert "reply STOP to stop" in done
    page = north.get(f"/issues/{issue_id}")
    assert "The lamp by the fountain is dark" in page.text and "555" not in page.text

    with db.session() as s:
        triage.set_status(s, s.get(Issue, issue_id), "closed", triage.Actor(None))
    assert delivered(db, settings, gateway, "+15557770002")[-1] == (
        f"Your report #{issue_id} is now: Closed (fixed). "
        f"http://reportal.test/t/northside/issues/{issue_id}")
    assert [to for _n, to, _t in gateway.sent] == ["+15557770002"] * len(gateway.sent)
    assert {n for n, _to, _t in gateway.sent} == {NORTH}


def test_spanish_report_whose_first_text_is_the_description(north, db, settings):
    phone = Phone(north, "+15557770003")
    gateway = phone.gateway
    phone.text("Hay un bache enorme frente a la escuela")
    assert delivered(db, settings, gateway, "+15557770003")[-1].startswith(
        "¿Dónde está el problema?")
    phone.text("Oak Square")
    assert "¿Cuál es el problema? 1) Bache 2) Señal de autopista" in delivered(
        db, settings, gateway, "+15557770003")[-1]
    phone.text("1")
    assert "responda 1 para usar: \"Hay un bache enorme frente a la escuela\"" in delivered(
        db, settings, gateway, "+15557770003")[-1]
    phone.text("1")
    phone.text("0")
    done = delivered(db, settings, gateway, "+15557770003")[-1]
    with db.session() as s:
        issue = s.scalars(select(Issue)).one()
        assert issue.description == "Hay un bache enorme frente a la escuela"
        assert issue.locale == "es" and issue.photo is None
    assert done.startswith(f"Gracias. Su reporte es el n.º {issue.id}")
    assert "ALTO" in done


def test_arabic_report_by_coordinates_on_another_portal(sms_app, db, settings):
    phone = Phone(client_for(sms_app, "riverside.reportal.test"), "+15557770004", to=RIVER)
    gateway = phone.gateway
    phone.text("مرحبا")
    assert delivered(db, settings, gateway, "+15557770004")[-1].startswith("أين المشكلة؟")
    phone.text("https://www.openstreetmap.org/?mlat=0.5&mlon=1.5#map=18/0.5/1.5")
    phone.text("1")
    phone.text("حفرة كبيرة في الطريق")
    phone.text("0")
    done = delivered(db, settings, gateway, "+15557770004")[-1]
    with db.session() as s:
        issue = s.scalars(select(Issue)).one()
        assert (issue.lat, issue.lon, issue.locale) == (0.5, 1.5, "ar")
        assert issue.origin_tenant_id == s.scalars(select(SmsContact.tenant_id)).one()
    assert f"#{issue.id}" in done and done.startswith("شكرا")
    assert {n for n, _to, _t in gateway.sent} == {RIVER}


def test_language_chosen_by_number_on_the_first_reply(north, db, settings):
    phone = Phone(north, "+15557770005")
    phone.text("hi")
    phone.text("2")
    assert delivered(db, settings, phone.gateway, "+15557770005")[-1].startswith(
        "¿Dónde está el problema?")


def test_stop_start_and_help_in_the_portals_languages(north, db, settings):
    phone = Phone(north, "+15557770006")
    gateway = phone.gateway
    phone.text("HELP")
    assert "Reply STOP to stop our texts, START to get them again" in delivered(
        db, settings, gateway, "+15557770006")[-1]
    phone.text("Elm Park")
    phone.text("alto")
    assert delivered(db, settings, gateway, "+15557770006")[-1].startswith(
        "No recibirá más mensajes de Portal Northside")
    phone.text("Oak Square")  # opted out: no answer, and the unfinished report is gone
    count = len(gateway.sent)
    assert len(delivered(db, settings, gateway, "+15557770006")) == count
    with db.session() as s:
        assert s.scalars(select(SmsConversation)).all() == []
    phone.text("START")
    assert delivered(db, settings, gateway, "+15557770006")[-1].startswith(
        "Texts from Northside Portal are on again")


def test_two_senders_interleaved_keep_their_own_reports(north, db, settings):
    gateway = RecordingGateway()
    ana = Phone(north, "+15557770007", gateway=gateway)
    ben = Phone(north, "+15557770008", gateway=gateway)
    ana.text("Elm Park")
    ben.text("Oak Square")
    ana.text("1")
    ben.text("2")
    ben.text("Light out all week")
    ana.text("Pothole near the gate")
    ana.text("0")
    ben.text("0")
    with db.session() as s:
        issues = {i.description: i for i in s.scalars(select(Issue))}
        assert (issues["Pothole near the gate"].lat, issues["Pothole near the gate"]
                .request_type.code) == (2.0, "pothole")
        assert (issues["Light out all week"].lat, issues["Light out all week"]
                .request_type.code) == (2.5, "highway-sign")
        ids = {d: i.id for d, i in issues.items()}
    assert f"#{ids['Pothole near the gate']}" in delivered(db, settings, gateway,
                                                           "+15557770007")[-1]
    assert f"#{ids['Light out all week']}" in delivered(db, settings, gateway,
                                                        "+15557770008")[-1]


def test_numbers_are_hashed_and_sealed_visible_to_staff_and_deletable(north, db, settings):
    Phone(north, "+15557770009").text("Elm Park")
    vault = phones.PhoneVault(settings)
    with db.session() as s:
        row = s.scalars(select(SmsContact)).one()
        assert "5557770009" not in row.phone_hash + row.phone_sealed
        assert vault.unseal(row.phone_sealed) == "+15557770009"
        assert phones.forget(s, vault, row.tenant_id, "+1 555 777 0009")
    with db.session() as s:
        assert s.scalars(select(SmsContact)).all() == []
        assert s.scalars(select(SmsConversation)).all() == []
    # The reply queued before the deletion fails for good rather than reach anyone.
    gateway = RecordingGateway()
    assert delivered(db, settings, gateway, "+15557770009") == []
    with db.session() as s:
        assert s.scalars(select(OutboxMessage.last_error)).one() == "the number was deleted"


def test_only_the_bodys_staff_see_the_number_of_a_report_by_text(sms_app, north, db):
    phone = Phone(north, "+15557770010")
    for body in ("Elm Park", "1", "A hole", "0"):
        phone.text(body)
    with db.session() as s:
        issue = s.scalars(select(Issue)).one()
        assert issue.body.slug == "city-works"
    grant(db, "crew@city.test", "staff", body="city-works")
    grant(db, "mod@north.test", "moderator", portal="northside")
    crew = client_for(sms_app, "northside.reportal.test")
    sign_in(crew, db, "crew@city.test")
    assert 'href="tel:+15557770010"' in crew.get(f"/staff/issues/{issue.id}").text
    moderator = client_for(sms_app, "northside.reportal.test")
    sign_in(moderator, db, "mod@north.test")
    page = moderator.get(f"/staff/issues/{issue.id}")
    assert page.status_code == 200 and "5557770010" not in page.text
    assert "5557770010" not in north.get(f"/issues/{issue.id}").text


def test_blocked_numbers_get_nothing_and_a_link_is_flagged(north, db, settings):
    vault = phones.PhoneVault(settings)
    with db.session() as s:
        tenant_id = s.scalars(select(SmsContact.tenant_id)).first()
    blocked = Phone(north, "+15557770011")
    blocked.text("Elm Park")
    with db.session() as s:
        contact = s.scalars(select(SmsContact)).one()
        tenant_id = contact.tenant_id
        phones.set_blocked(s, vault, tenant_id, "+15557770011", True)
    before = len(delivered(db, settings, blocked.gateway, "+15557770011"))
    blocked.text("1")
    assert len(delivered(db, settings, blocked.gateway, "+15557770011")) == before

    spammer = Phone(north, "+15557770012")
    for body in ("Oak Square", "1", "Cheap repairs at http://spam.example/deal", "0"):
        spammer.text(body)
    with db.session() as s:
        flag = s.scalars(select(Flag)).one()
        assert flag.reason == "spam" and flag.flagger_key == "sms-filter"


def test_an_unfinished_report_lapses(world, db, settings, monkeypatch):
    with db.session() as s:
        set_up_numbers(s, monkeypatch)
    vault = phones.PhoneVault(settings)
    filing = conversation.Filing(settings.media_dir, settings.max_photo_bytes, lambda url: b"")
    with db.session() as s:
        tenant = world.portals["northside"]
        tenant = s.get(type(tenant), tenant.id)
        config = tenant.sms_numbers[0]
        now = utcnow()
        intake.receive(s, tenant, config, Inbound("+15557770013", NORTH, "Elm Park", "m1"),
                       vault, filing, now)
        intake.receive(s, tenant, config, Inbound("+15557770013", NORTH, "1", "m2"), vault,
                       filing, now + timedelta(hours=2))
        texts = [m.body_text for m in s.scalars(select(OutboxMessage).order_by(
            OutboxMessage.id))]
    assert texts[-2] == "Your unfinished report had lapsed, so we start again."
    assert texts[-1].startswith("Where is the problem?")


def test_smssync_posts_and_fetches_its_texts(north, db):
    form = {"from": "+15557770014", "message": "Elm Park", "message_id": "abc-1",
            "sent_to": NORTH_SYNC, "secret": "wrong", "device_id": "1"}
    url = f"/sms/smssync/{NORTH_SYNC.lstrip('+')}"
    assert north.post(url, data=form).status_code == 403
    answer = north.post(url, data={**form, "secret": SYNC_SECRET})
    assert answer.status_code == 200 and answer.json() == {
        "payload": {"success": True, "error": None}}
    assert north.post(url, data={**form, "secret": SYNC_SECRET}).status_code == 409
    assert north.get(url, params={"task": "send", "secret": "wrong"}).status_code == 403
    tasks = north.get(url, params={"task": "send", "secret": SYNC_SECRET}).json()["payload"]
    [message] = tasks["messages"]
    assert message["to"] == "+15557770014"
    assert message["message"].startswith("Elm Park. What is the problem?")
    # Leased to the phone: a second poll does not hand it out again meanwhile.
    again = north.get(url, params={"task": "send", "secret": SYNC_SECRET}).json()
    assert again["payload"]["messages"] == []
    sent = north.post(url + f"?task=sent&secret={SYNC_SECRET}",
                      json={"queued_messages": [message["uuid"], "reportal-999999"]})
    assert sent.json() == {"message_uuids": [message["uuid"]]}
    with db.session() as s:
        assert s.scalars(select(OutboxMessage.sent_at)).one() is not None


def test_texts_past_the_per_number_limit_get_no_answer(settings, world, db, monkeypatch):
    with db.session() as s:
        set_up_numbers(s, monkeypatch)
    application = create_app(dataclasses.replace(settings, rate_limits=True))
    application.state.limiter.limits["sms_number"] = (2, 600.0)
    phone = Phone(client_for(application, "northside.reportal.test"), "+15557770015")
    for body in ("nowhere", "nowhere", "nowhere"):
        phone.text(body)
    with db.session() as s:
        assert len(s.scalars(select(OutboxMessage)).all()) == 2
    application.state.db.engine.dispose()
    assert ENVIRON  # the numbers' secrets came from the environment


def test_the_command_line_blocks_and_deletes_a_number(north, db, settings):
    Phone(north, "+15557770016").text("Elm Park")
    env = {"DATABASE_URL": settings.database_url, "PATH": "/usr/bin:/bin",
           "SECRET_KEY": settings.secret_key, "THEMES_DIR": str(settings.themes_dir)}

    def portal(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "portal.cli", "sms", *args,
                               "--tenant", "northside"], env=env, capture_output=True,
                              text=True, timeout=60)

    assert portal("block", "+1 555 777 0016").stdout.startswith("blocked:")
    with db.session() as s:
        assert s.scalars(select(SmsContact.blocked)).one() is True
    assert portal("forget", "+15557770016").stdout.startswith("deleted:")
    with db.session() as s:
        assert s.scalars(select(SmsContact)).all() == []
    again = portal("forget", "+15557770016")
    assert again.returncode == 1 and "no texts from that number" in again.stderr
