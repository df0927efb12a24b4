"""End to end with a real SMTP server in the test process: a resident reports, the body's
email arrives, staff sign in from the emailed link, acknowledge, the reporter and a watcher
hear about it, staff close it with a photo, and the closed pin stays on the map."""

from __future__ import annotations

import dataclasses
import re
from urllib.parse import urlsplit

from portal.mail import outbox
from portal.models import Body
from portal.staff import accounts
from tests.conftest import client_for
from tests.factories import jpeg_bytes
from tests.http_support import csrf
from tests.mail_support import Mailbox, link_to, smtp_server

PLACE = ("1.4", "1.0")  # northside, city-works' area
BODY_MAIL = "city-works@bodies.test"
STAFF = "crew@city-works.test"
REPORTER = "resident@example.org"
WATCHER = "neighbour@example.org"


def test_report_acknowledge_close_with_real_mail(app, world, db, settings):
    box = Mailbox()
    with smtp_server(box) as port:
        mail_settings = dataclasses.replace(settings, smtp_port=port)

        def deliver() -> None:
            report = outbox.drain(db, mail_settings)
            assert report.failed == 0

        with db.session() as s:
            accounts.add_role(s, STAFF, "staff", body=s.get(Body, world.bodies["city-works"].id))
        resident = client_for(app, "northside.reportal.test")
        # Links in mail point at PUBLIC_URL (http://reportal.test/t/northside/...).
        browser = client_for(app, "reportal.test")

        # A neighbour watches the street (and confirms from the email).
        page = resident.get("/watch")
        resident.post("/watch", data={
            "csrf_token": csrf(page.text), "email": WATCHER, "kind": "circle",
            "lat": PLACE[0], "lon": PLACE[1], "radius": "500", "frequency": "instant"})
        deliver()
        confirm = link_to(box.to(WATCHER)[-1], "/watch/confirm/")
        assert browser.post(confirm).status_code == 200

        # 1. A resident reports.
        form = resident.get("/report", params={"lat": PLACE[0], "lon": PLACE[1]})
        key = re.search(r'name="submission_key" value="([^"]+)"', form.text).group(1)
        sent = resident.post("/report", data={
            "csrf_token": csrf(form.text), "submission_key": key, "lat": PLACE[0],
            "lon": PLACE[1], "request_type": "city-works/pothole",
            "description": "Deep pothole by the bus stop", "title": "Pothole at the stop",
            "name": "Rita Resident", "email": REPORTER})
        assert sent.status_code == 303
        issue_id = int(re.search(r"/issues/(\d+)", sent.headers["location"]).group(1))

        # 2. The body's email arrives with what staff need, the watcher hears too.
        deliver()
        [to_body] = box.to(BODY_MAIL)
        text = to_body.get_content()
        assert "Deep pothole by the bus stop" in text and REPORTER in text
        assert "Rita Resident" in text and f"#{issue_id}" in to_body["Subject"]
        assert len(box.to(WATCHER)) == 2  # the confirmation, then the new report
        # The reporter's receipt links to the report's status: it opens without signing in
        # and shows nothing of the reporter's contact.
        [receipt] = box.to(REPORTER)
        assert f"#{issue_id}" in receipt["Subject"]
        assert "Pothole at the stop" in receipt.get_content()
        status_link = link_to(receipt, "/reports/status/")
        stranger = client_for(app, "reportal.test")
        status_page = stranger.get(status_link)
        assert status_page.status_code == 200 and "Pothole at the stop" in status_page.text
        assert REPORTER not in status_page.text and "Rita Resident" not in status_page.text

        # 3. A staff member signs in from the link in that email.
        staff_link = link_to(to_body, f"/staff/issues/{issue_id}")
        assert browser.get(staff_link).status_code == 403  # sign in first
        base = staff_link.split("/staff/")[0]
        signin = browser.get(f"{base}/signin")
        browser.post(f"{base}/signin", data={"csrf_token": csrf(signin.text), "email": STAFF})
        deliver()
        magic = link_to(box.to(STAFF)[-1], "/signin/confirm")
        confirm_page = browser.get(magic)
        token = re.search(r'name="token" value="([^"]+)"', confirm_page.text).group(1)
        signed_in = browser.post(urlsplit(magic)._replace(query="").geturl(),
                                 data={"csrf_token": csrf(confirm_page.text), "token": token})
        assert signed_in.status_code == 303

        # 4. They acknowledge it.
        issue_page = browser.get(staff_link)
        assert issue_page.status_code == 200 and REPORTER in issue_page.text
        done = browser.post(f"{staff_link}/status", data={
            "csrf_token": csrf(issue_page.text), "status": "acknowledged",
            "text": "Crew booked for Tuesday"})
        assert done.status_code == 303

        # 5. The reporter and the watcher get the status email.
        deliver()
        to_reporter = box.to(REPORTER)
        assert len(to_reporter) == 2 and "Acknowledged" in to_reporter[-1]["Subject"]
        status_page = stranger.get(status_link).text
        assert "Acknowledged" in status_page and "Crew booked for Tuesday" in status_page
        watcher_news = box.to(WATCHER)[-1]
        assert "Acknowledged" in watcher_news["Subject"]
        assert "Crew booked for Tuesday" in watcher_news.get_content()

        # 6. Staff close it with a photo.
        issue_page = browser.get(staff_link)
        closed = browser.post(f"{staff_link}/status", data={
            "csrf_token": csrf(issue_page.text), "status": "closed", "text": "Filled"},
            files={"photo": ("after.jpg", jpeg_bytes(), "image/jpeg")})
        assert closed.status_code == 303
        deliver()
        assert "Closed" in box.to(REPORTER)[-1]["Subject"]
        assert "Closed" in box.to(WATCHER)[-1]["Subject"]

    # 7. The pin shows closed on the map, and the issue stays visible.
    geojson = resident.get("/api/issues.geojson").json()
    [feature] = [f for f in geojson["features"] if f["properties"]["id"] == issue_id]
    assert feature["properties"]["status"] == "closed"
    public = resident.get(f"/issues/{issue_id}")
    assert public.status_code == 200 and "Closed (fixed)" in public.text
    assert re.search(r'<img src="[^"]+-thumb\.jpg"', public.text)  # the closing photo
    # Nobody got any message twice.
    assert len(box.raw) == len(box.delivered)
