"""Announcements from the staff area: per language, timed, targeted, sanitised, withdrawable;
a portal's admins speak for the portal and a body's staff for the body."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.models import Announcement, AnnouncementPortal, Body, Tenant, utcnow
from tests.conftest import client_for
from tests.http_support import csrf
from tests.staff_support import grant, sign_in


@pytest.fixture
def admin(app, db, world):
    grant(db, "admin@north.test", "admin", portal="northside")
    client = client_for(app, "northside.reportal.test")
    sign_in(client, db, "admin@north.test")
    return client


@pytest.fixture
def crew(app, db, world):
    grant(db, "crew@city.test", "staff", body="city-works")
    client = client_for(app, "northside.reportal.test")
    sign_in(client, db, "crew@city.test")
    return client


def _publish(client, **fields: str):  # noqa: ANN001, ANN202
    token = csrf(client.get("/staff/announcements").text)
    data = {"csrf_token": token, "target": "all", **fields}
    return client.post("/staff/announcements", data=data)


def _portals(db, title: str) -> set[str]:  # noqa: ANN001
    with db.session() as s:
        row = s.scalars(select(Announcement)).all()
        row = next(a for a in row if title in a.title.values())
        ids = s.scalars(select(AnnouncementPortal.tenant_id).where(
            AnnouncementPortal.announcement_id == row.id)).all()
        return {s.get(Tenant, i).slug for i in ids}


def test_an_admin_writes_in_two_languages(app, admin, db):
    r = _publish(admin, author="portal", title_en="Street fair", body_en="Come **along**",
                 title_es="Feria", body_es="Ven <script>alert(1)</script>[x](javascript:alert(1))")
    assert r.status_code == 303
    public = client_for(app, "northside.reportal.test")
    home = public.get("/").text
    assert "Street fair" in home and "<strong>along</strong>" in home
    spanish = public.get("/?lang=es").text
    assert "Feria" in spanish and "<script>" not in spanish and "javascript:" not in spanish
    assert _portals(db, "Street fair") == {"northside"}
    assert "Street fair" not in client_for(app, "riverside.reportal.test").get("/").text


def test_publish_and_expiry_times(app, admin, db):
    later = (utcnow() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    _publish(admin, author="portal", title_en="Tomorrow's news", body_en="x", publish_at=later)
    bad = _publish(admin, author="portal", title_en="Backwards", body_en="x",
                   expire_at=(utcnow() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"))
    assert bad.status_code == 400 and 'id="expire_at-error"' in bad.text
    garbage = _publish(admin, author="portal", title_en="Garbage", body_en="x",
                       publish_at="next tuesday")
    assert garbage.status_code == 400 and 'id="publish_at-error"' in garbage.text
    home = client_for(app, "northside.reportal.test").get("/").text
    assert "Tomorrow&#39;s news" not in home and "Tomorrow's news" not in home
    with db.session() as s:
        assert [a.title["en"] for a in s.scalars(select(Announcement))] == ["Tomorrow's news"]


def test_an_empty_announcement_is_refused(admin, db):
    r = _publish(admin, author="portal", title_en=" ", body_en="")
    assert r.status_code == 400 and 'id="title-error"' in r.text
    with db.session() as s:
        assert s.scalars(select(Announcement)).all() == []


def test_body_staff_announce_to_their_whole_area(app, crew, db):
    with db.session() as s:
        city = s.scalars(select(Body).where(Body.slug == "city-works")).one()
    r = _publish(crew, author=f"body:{city.id}", title_en="Water off", body_en="Tuesday")
    assert r.status_code == 303
    assert _portals(db, "Water off") == {"northside", "riverside"}  # all city-works touches
    assert "Water off" in client_for(app, "riverside.reportal.test").get("/").text


def test_targeting_a_circle_or_a_named_area(app, admin, db):
    r = _publish(admin, author="portal", title_en="Near the park", body_en="x",
                 target="circle", lat="2.5", lon="1.0", radius="300")
    assert r.status_code == 303
    assert _portals(db, "Near the park") == {"northside"}
    outside = _publish(admin, author="portal", title_en="Far", body_en="x", target="circle",
                       lat="4.5", lon="4.5", radius="300")
    assert outside.status_code == 400 and 'id="place-error"' in outside.text
    with db.session() as s:
        campus = s.scalars(select(Body).where(Body.slug == "campus-fac")).one()
        state = s.scalars(select(Body).where(Body.slug == "state-roads")).one()
    page = admin.get("/staff/announcements").text
    assert f'value="area:{state.id}"' in page  # state-roads covers northside
    assert f'value="area:{campus.id}"' not in page  # campus lies outside northside
    r = _publish(admin, author="portal", title_en="Whole state area", body_en="x",
                 target=f"area:{state.id}")
    assert r.status_code == 303
    assert _portals(db, "Whole state area") == {"northside"}  # a portal speaks on its own portal
    refused = _publish(admin, author="portal", title_en="Campus", body_en="x",
                       target=f"area:{campus.id}")
    assert refused.status_code == 400


def test_withdrawing_ends_an_announcement_now(app, admin, db):
    _publish(admin, author="portal", title_en="Short lived", body_en="x")
    with db.session() as s:
        row_id = s.scalars(select(Announcement)).one().id
    token = csrf(admin.get("/staff/announcements").text)
    r = admin.post(f"/staff/announcements/{row_id}/withdraw", data={"csrf_token": token})
    assert r.status_code == 303
    assert "Short lived" not in client_for(app, "northside.reportal.test").get("/").text


def test_no_one_speaks_for_someone_else(admin, crew, db):
    with db.session() as s:
        state = s.scalars(select(Body).where(Body.slug == "state-roads")).one()
    assert _publish(crew, author="portal", title_en="x", body_en="y").status_code == 404
    assert _publish(crew, author=f"body:{state.id}", title_en="x", body_en="y").status_code == 404
    assert _publish(admin, author=f"body:{state.id}", title_en="x",
                    body_en="y").status_code == 404
    with db.session() as s:
        assert s.scalars(select(Announcement)).all() == []


def test_the_form_opens_only_the_default_language_and_those_written(app, admin, db):
    form = admin.get("/staff/announcements").text
    blocks = form.count('<details class="language-block"')
    assert blocks == 2  # northside: en, es
    assert '<details class="language-block" lang="en" open>' in form
    assert '<details class="language-block" lang="es">' in form
    # Sent back with an error, a language already written stays open.
    r = _publish(admin, author="portal", title_es="Feria", body_es="Ven",
                 publish_at="next tuesday")
    assert r.status_code == 400
    assert '<details class="language-block" lang="es" open>' in r.text and "Feria" in r.text
