"""Announcements at the top of the home page, hidden per browser without JavaScript, and the
/announcements page with the archive."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal.models import Tenant, utcnow
from portal.staff import announcements
from tests.http_support import csrf


def _publish(db, title: str, **when) -> int:  # noqa: ANN001, ANN003
    with db.session() as s:
        portal = s.scalars(select(Tenant).where(Tenant.slug == "northside")).one()
        return announcements.publish(s, title={"en": title}, body_md={"en": f"About {title}"},
                                     tenant=portal, **when).id


def test_current_news_leads_the_home_page_and_a_browser_can_hide_it(client, db):
    now = utcnow()
    fair = _publish(db, "Street fair")
    _publish(db, "Road works", publish_at=now - timedelta(days=2),
             expire_at=now + timedelta(days=2))
    _publish(db, "Old closure", publish_at=now - timedelta(days=30),
             expire_at=now - timedelta(days=20))
    _publish(db, "Next week", publish_at=now + timedelta(days=7))
    home = client.get("/").text
    assert home.index("Street fair") < home.index('id="map-heading"')  # above the map
    assert "Road works" in home and "Old closure" not in home and "Next week" not in home

    r = client.post("/announcements/hide", data={"announcement": str(fair),
                                                 "csrf_token": csrf(home)})
    assert r.status_code == 303
    home = client.get("/").text
    assert "Street fair" not in home and "Road works" in home

    page = client.get("/announcements").text
    current, past = page.split('id="archive-heading"')
    assert "Street fair" in current and "Road works" in current  # hidden ones are here
    assert "Old closure" in past and "Old closure" not in current
    assert "Next week" not in page


def test_hiding_without_a_valid_token_or_id_changes_nothing(client, db):
    fair = _publish(db, "Street fair")
    r = client.post("/announcements/hide", data={"announcement": str(fair)})
    assert r.status_code == 303 and "hidden_news" not in r.headers.get("set-cookie", "")
    token = csrf(client.get("/").text)
    r = client.post("/announcements/hide", data={"announcement": "x; drop", "csrf_token": token})
    assert "hidden_news" not in r.headers.get("set-cookie", "")
    client.cookies.set("hidden_news", "garbage.-1.9999999999999999")
    assert "Street fair" in client.get("/").text
