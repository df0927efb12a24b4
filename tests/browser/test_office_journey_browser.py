"""A council member's office in a real browser: a neighbour follows an issue on the city's
portal, the office finds it on its constituent desk, follows up, and the neighbour's mail
(with its one-click unsubscribe) and the city's issue page both carry the note. Every page
passes axe-core (WCAG 2.2 AA tags) with no serious or critical violations.

Riverside is made a politician's portal; the issue lies where it overlaps northside (a city).
"""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from portal.mail.compose import compose
from portal.models import OutboxMessage
from tests.browser.conftest import axe_violations, screenshot
from tests.factories import file_report, tenant
from tests.staff_support import grant, last_link

NOTE = "Our office has asked Public Works about this"


def outbox_to(db, email: str, kind: str) -> list[OutboxMessage]:  # noqa: ANN001
    with db.session() as s:
        return list(s.scalars(select(OutboxMessage).where(
            OutboxMessage.recipient == email, OutboxMessage.kind == kind)))


def local(url: str, live_server) -> str:  # noqa: ANN001
    """A link from a mail (under the public URL) on the live test server."""
    return live_server.url + url[url.index("/t/"):]


def test_the_office_follows_up_and_the_watcher_gets_the_mail(live_server, page, db, settings):
    with db.session() as s:
        tenant(s, "riverside").kind = "politician"
        issue = file_report(s, "riverside", 1.2, 1.0, title="Dark corner",
                            description="The streetlight at the corner is out",
                            request_type="streetlight", email="ana@voters.test",
                            name="Ana Voter", office_contact=True)
        issue_id = issue.id
    grant(db, "aide@rivera.test", "office", portal="riverside")
    city, office = f"{live_server.url}/t/northside", f"{live_server.url}/t/riverside"

    # A neighbour follows the issue on the city's portal.
    page.goto(f"{city}/watch?issue={issue_id}")
    page.get_by_label("Your email").fill("neighbour@example.org")
    page.get_by_role("button", name="Send me the confirmation link").click()
    expect(page.locator(".alert-success")).to_contain_text("Check your email")
    [confirm] = outbox_to(db, "neighbour@example.org", "watch_confirm")
    link = re.search(r"\S+/watch/confirm/\S+", confirm.body_text).group(0)
    page.goto(city + link[link.index("/watch/confirm/"):])
    page.get_by_role("button", name="Yes, confirm my watch").click()
    expect(page.locator("h1")).to_have_text("Your watch is on")

    # The office signs in from its mail and finds the issue on its desk.
    page.goto(f"{office}/signin")
    page.fill("#signin-email", "aide@rivera.test")
    page.get_by_role("button", name="Email me a sign-in link").click()
    page.goto(local(last_link(db, "aide@rivera.test")[0], live_server))
    page.click("#finish-signin")
    page.get_by_role("link", name="Constituents").first.click()
    expect(page.locator("h1")).to_have_text("Constituents")
    row = page.locator("table.queue tbody tr", has_text=f"#{issue_id} Dark corner")
    expect(row).to_contain_text("ana@voters.test")  # she let the office contact her
    violations = axe_violations(page)
    assert violations == [], violations
    screenshot(page, "office-constituents.png")

    row.get_by_role("link", name=f"#{issue_id} Dark corner").click()
    page.get_by_label("A public note from the office").fill(NOTE)
    page.get_by_role("button", name="Post the follow-up").click()
    expect(page.locator(".notice-region")).to_contain_text("Your follow-up is on the issue")
    expect(page.locator("#history")).to_contain_text(NOTE)
    violations = axe_violations(page)
    assert violations == [], violations

    # The city's own page of the issue shows the note, marked as the office's.
    page.goto(f"{city}/issues/{issue_id}")
    history = page.locator("#history .update-office_note")
    expect(history).to_contain_text("Follow-up from Riverside Portal")
    expect(history).to_contain_text(NOTE)
    assert "ana@voters.test" not in page.content()
    violations = axe_violations(page)
    assert violations == [], violations

    # The neighbour's mail, as it will be sent, and its one-click unsubscribe.
    [notice] = outbox_to(db, "neighbour@example.org", "watch_office")
    with db.session() as s:
        mail = compose(s, settings, s.get(OutboxMessage, notice.id))
    text = mail.get_content()
    assert NOTE in text and f"/issues/{issue_id}" in text
    assert mail["Subject"].startswith("Riverside Portal followed up on Dark corner")
    stop = re.search(r"Unsubscribe with one click: (\S+)", text).group(1)
    page.goto(local(stop, live_server))
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.locator("h1")).to_have_text("You are unsubscribed")
