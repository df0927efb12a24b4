"""The permission matrix: every staff page and action, for the right role, the same role in a
foreign body or portal, the other roles, a signed-in resident and an anonymous visitor.

Only the right ones succeed; everyone else gets 403 or 404 and the database is unchanged,
row for row. Every state change also refuses a missing or someone else's CSRF token.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from portal.models import Base, Body, Issue, ModerationAction, Tenant, Update
from portal.reports import status
from portal.staff import announcements, moderation
from tests.conftest import client_for
from tests.factories import file_report, jpeg_bytes
from tests.http_support import csrf
from tests.staff_support import grant, sign_in

ACTORS = {
    "staff_city": ("staff", {"body": "city-works"}),
    "staff_state": ("staff", {"body": "state-roads"}),
    "mod_north": ("moderator", {"portal": "northside"}),
    "mod_river": ("moderator", {"portal": "riverside"}),
    "admin_north": ("admin", {"portal": "northside"}),
    "admin_river": ("admin", {"portal": "riverside"}),
    "resident": (None, {}),
    "anonymous": (None, {}),
}
MODERATORS = {"mod_north", "admin_north"}


@dataclass
class Scene:
    issue: int  # city-works pothole on northside, with photo, comment and a flag
    original: int  # another city-works issue on northside
    hidden: int  # a hidden city-works issue on northside
    photo: str
    comment: int
    taken_down: int  # a moderation action that took a photo down
    portal_news: int
    body_news: int
    state_body: int


@pytest.fixture
def scene(db, world, settings) -> Scene:
    with db.session() as s:
        north = s.scalars(select(Tenant).where(Tenant.slug == "northside")).one()
        issue = file_report(s, "northside", 1.9, 1.0, email="reporter@private.test",
                            name="Pat Reporter", photo=jpeg_bytes(),
                            media_dir=settings.media_dir)
        comment = status.add_comment(s, issue, "Call me on 555-0100", "Neighbour")
        moderation.flag(s, north, issue, "personal", "phone number", "v:someone")
        original = file_report(s, "northside", 1.8, 1.0, description="Same hole")
        hidden = file_report(s, "northside", 1.7, 1.0, description="Spam spam")
        moderation.hide_issue(s, hidden, north, None, "spam")
        other = file_report(s, "northside", 1.6, 1.0, photo=jpeg_bytes((90, 70)),
                            media_dir=settings.media_dir)
        action = moderation.hide_photo(s, other, other.photo, north, None, "a face")
        city = s.scalars(select(Body).where(Body.slug == "city-works")).one()
        state = s.scalars(select(Body).where(Body.slug == "state-roads")).one()
        portal_news = announcements.publish(s, title={"en": "Portal news"},
                                            body_md={"en": "Hello"}, tenant=north)
        body_news = announcements.publish(s, title={"en": "Works news"},
                                          body_md={"en": "Digging"}, body=city)
        return Scene(issue.id, original.id, hidden.id, issue.photo, comment.id, action.id,
                     portal_news.id, body_news.id, state.id)


def snapshot(db) -> dict:  # noqa: ANN001
    """Every row of every table, to prove a refused request changed nothing."""
    with db.engine.connect() as conn:
        return {t.name: sorted(map(repr, conn.execute(select(t)).all()))
                for t in Base.metadata.sorted_tables}


def actor_client(app, db, actor: str):  # noqa: ANN001, ANN201
    client = client_for(app, "northside.reportal.test")
    role, where = ACTORS[actor]
    email = f"{actor}@people.test"
    if role:
        grant(db, email, role, **where)
    if actor != "anonymous":
        sign_in(client, db, email)
    return client


def own_token(client) -> str:  # noqa: ANN001
    """A CSRF token valid for whoever this client is (signed in or not)."""
    return csrf(client.get("/signin").text)


PAGES = {  # path template -> who may open it (everyone else: 403, or 404 for a thing)
    "/staff": {"staff_city", "staff_state", "mod_north", "admin_north"},
    "/staff/queue": {"staff_city", "staff_state"},
    "/staff/issues/{issue}": {"staff_city", "mod_north", "admin_north"},
    "/staff/issues/{hidden}": {"staff_city", "mod_north", "admin_north"},
    "/staff/moderation": MODERATORS,
    "/staff/announcements": {"staff_city", "staff_state", "admin_north"},
}

ACTIONS = {  # name -> (path template, form, who may do it)
    "acknowledge": ("/staff/issues/{issue}/status", {"status": "acknowledged"},
                    {"staff_city"}),
    "close": ("/staff/issues/{issue}/status", {"status": "closed", "text": "Filled"},
              {"staff_city"}),
    "note": ("/staff/issues/{issue}/note", {"text": "Crew booked"}, {"staff_city"}),
    "reassign": ("/staff/issues/{issue}/reassign", {"body": "{state_body}"}, {"staff_city"}),
    "duplicate": ("/staff/issues/{issue}/duplicate", {"original": "{original}"},
                  {"staff_city"}),
    "bulk": ("/staff/queue/bulk", {"issue": "{issue}", "action": "acknowledge"},
             {"staff_city"}),
    "hide": ("/staff/issues/{issue}/hide", {"reason": "abuse"}, MODERATORS),
    "unhide": ("/staff/issues/{hidden}/unhide", {"reason": "was fine"}, MODERATORS),
    "hide_comment": ("/staff/issues/{issue}/updates/{comment}/hide", {"reason": "phone"},
                     MODERATORS),
    "hide_photo": ("/staff/issues/{issue}/photo/hide", {"photo": "{photo}", "reason": "face"},
                   MODERATORS),
    "restore_photo": ("/staff/issues/{taken_down_issue}/photo/{taken_down}/restore",
                      {"reason": "blurred"}, MODERATORS),
    "redact": ("/staff/issues/{issue}/redact", {"target": "issue:description",
                                                 "passage": "deep"},
               {"staff_city"} | MODERATORS),
    "redact_comment": ("/staff/issues/{issue}/redact", {"target": "update:{comment}:text",
                                                         "passage": "555-0100"},
                       {"staff_city"} | MODERATORS),
    "dismiss_flags": ("/staff/moderation/issues/{issue}/dismiss", {}, MODERATORS),
    "announce_portal": ("/staff/announcements", {"author": "portal", "title_en": "Hi",
                                                 "body_en": "Text", "target": "all"},
                        {"admin_north"}),
    "announce_body": ("/staff/announcements", {"author": "body:{city_body}", "title_en": "Hi",
                                               "body_en": "Text", "target": "all"},
                      {"staff_city"}),
    "withdraw_portal_news": ("/staff/announcements/{portal_news}/withdraw", {},
                             {"admin_north"}),
    "withdraw_body_news": ("/staff/announcements/{body_news}/withdraw", {}, {"staff_city"}),
}


def _values(db, scene: Scene) -> dict:  # noqa: ANN001
    with db.session() as s:
        city = s.scalars(select(Body).where(Body.slug == "city-works")).one()
        taken = s.get(ModerationAction, scene.taken_down)
        return {**scene.__dict__, "city_body": city.id, "taken_down_issue": taken.issue_id}


def _fill(template: str, values: dict) -> str:
    return template.format(**values)


@pytest.mark.parametrize("page", list(PAGES))
def test_staff_pages(app, db, scene, page):
    path = _fill(page, _values(db, scene))
    for actor in ACTORS:
        response = actor_client(app, db, actor).get(path)
        if actor in PAGES[page]:
            assert response.status_code == 200, actor
        elif actor == "anonymous":
            assert response.status_code == 403 and "Sign in" in response.text
        else:
            assert response.status_code in (403, 404), actor
        if response.status_code != 200:
            assert "reporter@private.test" not in response.text


def _attempt(app, db, scene: Scene, action: str, actor: str):  # noqa: ANN202
    client = actor_client(app, db, actor)
    values = _values(db, scene)
    path, form, _allowed = ACTIONS[action]
    data = {k: _fill(v, values) for k, v in form.items()}
    data["csrf_token"] = own_token(client)
    before = snapshot(db)
    response = client.post(_fill(path, values), data=data)
    return response, before != snapshot(db)


@pytest.mark.parametrize("action", list(ACTIONS))
def test_staff_actions_refused_to_everyone_else(app, db, scene, action):
    for actor in sorted(set(ACTORS) - ACTIONS[action][2]):
        response, changed = _attempt(app, db, scene, action, actor)
        assert response.status_code in (403, 404), (actor, response.status_code)
        assert not changed, actor


@pytest.mark.parametrize(("action", "actor"), [
    (action, actor) for action, (_p, _f, allowed) in ACTIONS.items() for actor in sorted(allowed)
])
def test_staff_actions_done_by_the_right_role(app, db, scene, action, actor):
    response, changed = _attempt(app, db, scene, action, actor)
    assert response.status_code == 303, response.text
    assert changed


@pytest.mark.parametrize("action", list(ACTIONS))
def test_every_action_needs_its_own_csrf_token(app, db, scene, action):
    path, form, allowed = ACTIONS[action]
    actor = sorted(allowed)[0]
    client = actor_client(app, db, actor)
    values = _values(db, scene)
    data = {k: _fill(v, values) for k, v in form.items()}
    stranger_token = own_token(client_for(app, "northside.reportal.test"))
    before = snapshot(db)
    for token in (None, "forged", stranger_token):
        attempt = dict(data) if token is None else {**data, "csrf_token": token}
        response = client.post(_fill(path, values), data=attempt)
        assert response.status_code == 403, (token, response.status_code)
    assert snapshot(db) == before


def test_roles_elsewhere_open_nothing_here(app, db, scene):
    """Staff of a body see its issues on every portal covering them, and nothing else."""
    client = actor_client(app, db, "staff_city")
    river = client_for(app, "riverside.reportal.test")
    sign_in(river, db, "staff_city@people.test")  # a session counts on its own portal only
    with db.session() as s:
        river_issue = file_report(s, "riverside", 0.2, 1.0, email="river@private.test")
        faraway = file_report(s, "faraway", 4.5, 4.5, request_type="highway-sign")
        ids = (river_issue.id, faraway.id)
    assert river.get(f"/staff/issues/{ids[0]}").status_code == 200
    assert "river@private.test" in river.get(f"/staff/issues/{ids[0]}").text
    # Issue A is not in riverside's area: not there, even for its own body's staff.
    assert river.get(f"/staff/issues/{scene.issue}").status_code == 404
    assert client.get(f"/staff/issues/{ids[0]}").status_code == 404
    # Another body's issue is never theirs.
    far = client_for(app, "faraway.reportal.test")
    sign_in(far, db, "staff_city@people.test")
    assert far.get(f"/staff/issues/{ids[1]}").status_code == 404


def test_a_person_can_hold_roles_in_several_places(app, db, scene):
    email = "many@people.test"
    grant(db, email, "staff", body="state-roads")
    grant(db, email, "moderator", portal="riverside")
    grant(db, email, "staff", body="city-works")
    client = client_for(app, "northside.reportal.test")
    sign_in(client, db, email)
    assert client.get(f"/staff/issues/{scene.issue}").status_code == 200
    assert client.get("/staff/moderation").status_code == 403  # moderator elsewhere only
    river = client_for(app, "riverside.reportal.test")
    sign_in(river, db, email)
    assert river.get("/staff/moderation").status_code == 200


def test_contact_details_only_for_the_responsible_body(app, db, scene):
    page = actor_client(app, db, "staff_city").get(f"/staff/issues/{scene.issue}").text
    assert "reporter@private.test" in page and "Pat Reporter" in page
    for actor in ("mod_north", "admin_north"):
        page = actor_client(app, db, actor).get(f"/staff/issues/{scene.issue}").text
        assert "reporter@private.test" not in page and "Pat Reporter" not in page
    public = client_for(app, "northside.reportal.test").get(f"/issues/{scene.issue}").text
    assert "reporter@private.test" not in public


def test_the_header_offers_staff_only_where_there_is_something(app, db, scene):
    assert ">Staff<" in actor_client(app, db, "mod_north").get("/").text
    assert ">Staff<" not in actor_client(app, db, "mod_river").get("/").text
    assert ">Staff<" not in actor_client(app, db, "resident").get("/").text
    assert ">Sign in<" in actor_client(app, db, "anonymous").get("/").text


def test_the_queue_shows_only_the_bodys_issues(app, db, scene):
    with db.session() as s:
        sign = file_report(s, "northside", 2.8, 1.0, request_type="highway-sign",
                           description="Sign knocked over")
        sign_id = sign.id
        assert s.get(Issue, sign_id).body.slug == "state-roads"
    city = actor_client(app, db, "staff_city").get("/staff/queue").text
    state = actor_client(app, db, "staff_state").get("/staff/queue").text
    assert f"/staff/issues/{scene.issue}\"" in city and f"/staff/issues/{sign_id}\"" not in city
    assert f"/staff/issues/{sign_id}\"" in state and f"/staff/issues/{scene.issue}\"" not in state


def test_internal_notes_are_for_staff_only(app, db, scene):
    client = actor_client(app, db, "staff_city")
    token = own_token(client)
    client.post(f"/staff/issues/{scene.issue}/note",
                data={"csrf_token": token, "text": "Key under the mat"})
    assert "Key under the mat" in client.get(f"/staff/issues/{scene.issue}").text
    public = client_for(app, "northside.reportal.test")
    assert "Key under the mat" not in public.get(f"/issues/{scene.issue}").text
    assert "Key under the mat" not in public.get("/api/issues.geojson").text
    with db.session() as s:
        note = s.scalars(select(Update).where(Update.kind == "note")).one()
        assert note.internal
