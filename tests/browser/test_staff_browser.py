"""A staff member in a real browser: sign in from the emailed link, work the queue, and the
pages pass axe-core with no serious or critical violations."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.conftest import axe_violations, screenshot
from tests.factories import file_report
from tests.staff_support import grant, last_link


def test_staff_sign_in_from_the_mail_and_work_the_queue(live_server, page, db):
    with db.session() as s:
        ids = [file_report(s, "northside", 1.6 + n * 0.1, 1.0, description=f"Hole {n}",
                           email=f"reporter{n}@example.org").id for n in range(3)]
    grant(db, "crew@city.test", "staff", body="city-works")
    base = f"{live_server.url}/t/northside"

    page.goto(f"{base}/signin")
    assert axe_violations(page) == []
    page.fill("#signin-email", "crew@city.test")
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.locator("h1")).to_have_text("Check your email")

    link, token = last_link(db, "crew@city.test")
    assert "/t/northside/signin/confirm?token=" in link  # the public URL, not the test host
    page.goto(f"{base}/signin/confirm?token={token}")
    page.click("#finish-signin")
    expect(page).to_have_url(re.compile(r"/t/northside/staff$"))
    page.get_by_role("link", name="Your bodies' issues in this portal's area").click()

    expect(page.locator("table.queue tbody tr")).to_have_count(3)
    violations = axe_violations(page)
    assert violations == [], violations
    page.get_by_label(f"Select issue {ids[0]}").check()
    page.get_by_label(f"Select issue {ids[1]}").check()
    page.get_by_label("Close as fixed").check()
    page.get_by_label("Public comment (optional)").fill("Filled this morning")
    page.click("#bulk-apply")
    expect(page.locator("#bulk-result")).to_contain_text("Changed 2 issues; skipped 0")
    expect(page.locator("table.queue tbody tr")).to_have_count(1)  # open work only
    assert axe_violations(page) == []
    screenshot(page, "staff-queue.png")

    page.get_by_role("link", name=re.compile(f"#{ids[2]} ")).click()
    expect(page.locator(".contact")).to_contain_text("reporter2@example.org")
    violations = axe_violations(page)
    assert violations == [], violations
    page.get_by_label("Acknowledge").check()
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".notice-region")).to_contain_text("The status was changed")
    # After acknowledging, the form keeps the status unless told otherwise: a reply typed
    # and saved must not reopen the issue.
    expect(page.get_by_label(re.compile("Keep the status"))).to_be_checked()
    page.get_by_label("Public reply (optional with a new status)").fill("The part is ordered")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".notice-region")).to_contain_text("Your public reply was posted")
    expect(page.locator(".history")).to_contain_text("The part is ordered")
    assert not page.errors


def test_a_template_fills_the_public_reply_in_place(live_server, page, db):
    from portal.models import Body, ResponseTemplate

    with db.session() as s:
        issue_id = file_report(s, "northside", 1.9, 1.0, description="Hole").id
        body_id = s.scalars(select(Body.id).where(Body.slug == "city-works")).one()
        s.add(ResponseTemplate(body_id=body_id, title={"en": "Crew booked"},
                               text={"en": "A crew is booked for this week."},
                               status="acknowledged"))
    grant(db, "crew@city.test", "staff", body="city-works")
    base = f"{live_server.url}/t/northside"
    page.goto(f"{base}/signin")
    page.fill("#signin-email", "crew@city.test")
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.locator("h1")).to_have_text("Check your email")
    page.goto(f"{base}/signin/confirm?token={last_link(db, 'crew@city.test')[1]}")
    page.click("#finish-signin")
    expect(page).to_have_url(re.compile(r"/t/northside/staff$"))
    expect(page.get_by_role("link", name="Response templates", exact=True)).to_be_visible()

    page.goto(f"{base}/staff/issues/{issue_id}")
    expect(page.locator("#status-template-insert")).to_be_hidden()  # the script does it
    page.get_by_label("Use a template").select_option(label="Crew booked")
    expect(page.locator("#status-text")).to_have_value("A crew is booked for this week.")
    expect(page.get_by_label("Acknowledge")).to_be_checked()
    violations = axe_violations(page)
    assert violations == [], violations
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".alert-success")).to_contain_text("The status was changed.")
    expect(page.locator("#history")).to_contain_text("A crew is booked for this week.")

    page.goto(f"{base}/staff/templates")
    expect(page.locator(".response-template")).to_contain_text("Crew booked")
    violations = axe_violations(page)
    assert violations == [], violations
    screenshot(page, "staff-templates.png")
    assert not page.errors
