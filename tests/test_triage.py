"""Body staff at work: the queue's filters and bulk actions, status changes with comments and
photos, the reporter's notice in their language, reassigning with request type mapping, and
merging duplicates (votes counted once, watchers handed over)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from portal.models import (
    Body,
    Issue,
    IssueDuplicate,
    OutboxMessage,
    RequestType,
    Update,
    UpdateAuthor,
    User,
    utcnow,
)
from portal.reports import status, voting
from portal.staff import triage
from tests.conftest import client_for
from tests.factories import file_report, jpeg_bytes
from tests.http_support import csrf
from tests.staff_support import grant, sign_in


@pytest.fixture
def works(app, db, world):
    """A signed-in member of city-works' staff, on the northside portal."""
    grant(db, "crew@city.test", "staff", body="city-works")
    client = client_for(app, "northside.reportal.test")
    sign_in(client, db, "crew@city.test")
    return client


def _token(client, issue_id: int) -> str:  # noqa: ANN001
    return csrf(client.get(f"/staff/issues/{issue_id}").text)


def _report(db, lat: float = 1.9, **fields) -> int:  # noqa: ANN001, ANN003
    with db.session() as s:
        return file_report(s, "northside", lat, 1.0, **fields).id


def _mails(db, kind: str) -> list[OutboxMessage]:  # noqa: ANN001
    with db.session() as s:
        return list(s.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)
                              .order_by(OutboxMessage.id)))


def test_acknowledging_tells_the_reporter_in_their_language(works, db):
    issue_id = _report(db, email="vecina@example.org", locale="es", title="Bache grande")
    r = works.post(f"/staff/issues/{issue_id}/status", data={
        "csrf_token": _token(works, issue_id), "status": "acknowledged", "text": "Vamos"})
    assert r.status_code == 303
    with db.session() as s:
        row = s.scalars(select(Update).where(Update.kind == "status")).one()
        assert (row.old_status, row.new_status, row.internal) == ("open", "acknowledged", False)
        assert row.author_name == "city-works dept"  # the body speaks, not the person
        author = s.get(UpdateAuthor, row.id)
        assert s.get(User, author.user_id).email == "crew@city.test"
    [mail] = _mails(db, "status_changed")
    assert mail.recipient == "vecina@example.org" and mail.locale == "es"
    assert mail.key == f"status:{row.id}:reporter"
    assert "Bache grande" in mail.body_text and "Vamos" in mail.body_text
    assert f"/t/northside/issues/{issue_id}" in mail.body_text
    public = client_for(works.app, "northside.reportal.test").get(f"/issues/{issue_id}").text
    assert "Status changed to" in public and "Vamos" in public


def test_a_reply_keeps_the_status_and_tells_the_reporter(works, db):
    issue_id = _report(db, email="vecina@example.org", locale="es", title="Farola rota")
    works.post(f"/staff/issues/{issue_id}/status", data={
        "csrf_token": _token(works, issue_id), "status": "acknowledged"})
    page = works.get(f"/staff/issues/{issue_id}").text
    keep = re.search(r'<input type="radio" name="status" value=""[^>]*>', page).group(0)
    assert "checked" in keep  # after acknowledging, saving a reply must not reopen it
    r = works.post(f"/staff/issues/{issue_id}/status", data={
        "csrf_token": _token(works, issue_id), "status": "", "text": "Pedimos la pieza"})
    assert r.status_code == 303 and "done=reply" in r.headers["location"]
    with db.session() as s:
        assert s.get(Issue, issue_id).status == "acknowledged"
        reply = s.scalars(select(Update).where(Update.kind == "comment")).one()
        assert (reply.author_role, reply.author_name, reply.internal) == (
            "staff", "city-works dept", False)
    mail = _mails(db, "status_changed")[-1]
    assert mail.key == f"reply:{reply.id}:reporter" and mail.locale == "es"
    assert "Pedimos la pieza" in mail.body_text and "Farola rota" in mail.body_text
    public = client_for(works.app, "northside.reportal.test").get(f"/issues/{issue_id}").text
    assert "Pedimos la pieza" in public


def test_a_reply_needs_words_and_carries_no_photo(works, db):
    issue_id = _report(db)
    empty = works.post(f"/staff/issues/{issue_id}/status", data={
        "csrf_token": _token(works, issue_id), "status": "", "text": "  "})
    assert empty.status_code == 400
    assert "Write a public reply, or choose a new status." in empty.text
    photo = works.post(f"/staff/issues/{issue_id}/status",
                       data={"csrf_token": _token(works, issue_id), "status": "",
                             "text": "Looking"},
                       files={"photo": ("fix.jpg", jpeg_bytes(), "image/jpeg")})
    assert photo.status_code == 400 and 'id="photo-error"' in photo.text
    assert "Looking" in photo.text  # what was typed comes back
    with db.session() as s:
        assert s.scalars(select(Update).where(Update.kind == "comment")).all() == []


def test_no_mail_for_anonymous_reports_or_internal_notes(works, db):
    issue_id = _report(db)
    works.post(f"/staff/issues/{issue_id}/note",
               data={"csrf_token": _token(works, issue_id), "text": "Internal"})
    works.post(f"/staff/issues/{issue_id}/status",
               data={"csrf_token": _token(works, issue_id), "status": "acknowledged"})
    assert _mails(db, "status_changed") == []


def test_closing_with_a_photo_confirms_residents_fix_reports(works, db, settings):
    issue_id = _report(db)
    with db.session() as s:
        status.report_fixed(s, s.get(Issue, issue_id), "All filled in", "Sam", None,
                            settings.media_dir, settings.max_photo_bytes)
    public = client_for(works.app, "northside.reportal.test")
    assert "not yet confirmed by staff" in public.get(f"/issues/{issue_id}").text
    queue = works.get("/staff/queue").text
    assert "Resident says fixed" in queue
    r = works.post(f"/staff/issues/{issue_id}/status",
                   data={"csrf_token": _token(works, issue_id), "status": "closed",
                         "text": "Repaired"},
                   files={"photo": ("fix.jpg", jpeg_bytes(exif_gps=True), "image/jpeg")})
    assert r.status_code == 303, r.text
    page = public.get(f"/issues/{issue_id}").text
    assert "confirmed by staff" in page and "not yet confirmed" not in page
    with db.session() as s:
        closing = s.scalars(select(Update).where(Update.new_status == "closed")).one()
        assert closing.photo
    assert f"/media/{closing.photo}-thumb.jpg" in page
    assert public.get(f"/media/{closing.photo}-thumb.jpg").status_code == 200
    # The pin stays on the map, closed.
    feature = public.get("/api/issues.geojson").json()["features"][0]
    assert feature["properties"]["status"] == "closed"


def test_a_bad_photo_or_step_changes_nothing(works, db):
    issue_id = _report(db)
    bad = works.post(f"/staff/issues/{issue_id}/status",
                     data={"csrf_token": _token(works, issue_id), "status": "closed"},
                     files={"photo": ("x.jpg", b"not a photo", "image/jpeg")})
    assert bad.status_code == 400 and 'id="photo-error"' in bad.text
    wrong = works.post(f"/staff/issues/{issue_id}/status",
                       data={"csrf_token": _token(works, issue_id), "status": "archived"})
    assert wrong.status_code == 400 and 'id="status-error"' in wrong.text
    with db.session() as s:
        assert s.get(Issue, issue_id).status == "open"
        assert s.scalars(select(Update).where(Update.kind == "status")).all() == []


def test_reopening(works, db):
    issue_id = _report(db)
    for step in ("closed", "open"):
        assert works.post(f"/staff/issues/{issue_id}/status", data={
            "csrf_token": _token(works, issue_id), "status": step}).status_code == 303
    with db.session() as s:
        assert s.get(Issue, issue_id).status == "open"


def test_bulk_actions_report_what_they_did(works, db):
    ids = [_report(db, lat=1.6 + n * 0.1) for n in range(3)]
    with db.session() as s:
        triage.set_status(s, s.get(Issue, ids[2]), "acknowledged", triage.Actor(None))
    token = csrf(works.get("/staff/queue").text)
    r = works.post("/staff/queue/bulk", data={"csrf_token": token, "issue": [str(i) for i in ids],
                                              "action": "acknowledge", "text": "Seen"})
    assert r.status_code == 303
    page = works.get(r.headers["location"]).text
    region = re.search(r'<div id="bulk-result"[^>]*aria-live="polite">(.*?)</div>', page, re.S)
    assert region and "Changed 2 issues; skipped 1" in region.group(1)
    with db.session() as s:
        assert [s.get(Issue, i).status for i in ids] == ["acknowledged"] * 3
    token = csrf(works.get("/staff/queue").text)
    works.post("/staff/queue/bulk", data={"csrf_token": token, "issue": [str(i) for i in ids],
                                          "action": "close"})
    with db.session() as s:
        assert [s.get(Issue, i).status for i in ids] == ["closed"] * 3


def test_bulk_with_one_foreign_issue_changes_nothing(works, db):
    mine = _report(db)
    theirs = _report(db, lat=2.5, request_type="highway-sign")  # state-roads
    token = csrf(works.get("/staff/queue").text)
    r = works.post("/staff/queue/bulk", data={"csrf_token": token, "action": "close",
                                              "issue": [str(mine), str(theirs)]})
    assert r.status_code == 404
    with db.session() as s:
        assert s.get(Issue, mine).status == "open" and s.get(Issue, theirs).status == "open"


def test_queue_filters_and_sorting(works, db):
    old = _report(db, lat=1.6, description="Old hole")
    light = _report(db, lat=1.7, request_type="streetlight", description="Dark corner")
    popular = _report(db, lat=1.8, description="Popular hole")
    done = _report(db, lat=1.9, description="Done hole")
    with db.session() as s:
        s.execute(update(Issue).where(Issue.id == old).values(
            created_at=utcnow() - timedelta(days=40)))
        for n in range(3):
            voting.vote(s, s.get(Issue, popular), f"v:{n}")
        triage.set_status(s, s.get(Issue, done), "closed", triage.Actor(None))

    def shown(query: str) -> list[int]:
        page = works.get("/staff/queue" + query).text
        return [int(i) for i in re.findall(r'name="issue" value="(\d+)"', page)]

    assert shown("") == [old, light, popular]  # open work, oldest first
    assert shown("?filtered=1") == [old, light, popular, done]  # no status ticked: all
    assert shown("?filtered=1&status=closed") == [done]
    assert shown("?type=streetlight") == [light]
    assert shown("?min_age=30") == [old]
    assert shown("?max_age=30") == [light, popular]
    assert shown("?min_votes=2") == [popular]
    assert shown("?sort=votes")[0] == popular
    assert shown("?sort=newest") == [popular, light, old]
    assert shown("?bbox=0.5,1.65,1.5,1.75") == [light]
    bad = works.get("/staff/queue?bbox=nonsense")
    assert bad.status_code == 400 and 'id="bbox-error"' in bad.text


def test_hidden_issues_stay_out_of_the_queue_unless_asked_for(works, db, world):
    issue_id = _report(db)
    with db.session() as s:
        s.get(Issue, issue_id).hidden = True
    assert f'name="issue" value="{issue_id}"' not in works.get("/staff/queue").text
    assert f'name="issue" value="{issue_id}"' in works.get("/staff/queue?hidden=1").text


def test_reassigning_maps_the_request_type_by_code(app, works, db):
    issue_id = _report(db, email="rep@example.org")
    with db.session() as s:
        state = s.scalars(select(Body).where(Body.slug == "state-roads")).one()
        state_id = state.id
    page = works.get(f"/staff/issues/{issue_id}").text
    assert "campus-fac" not in page  # not a body covering this place
    r = works.post(f"/staff/issues/{issue_id}/reassign", data={
        "csrf_token": _token(works, issue_id), "body": str(state_id), "text": "Their road"})
    assert r.status_code == 303 and r.headers["location"].startswith("/staff/queue")
    with db.session() as s:
        issue = s.get(Issue, issue_id)
        assert issue.body_id == state_id
        assert (issue.request_type.body_id, issue.request_type.code) == (state_id, "pothole")
        row = s.scalars(select(Update).where(Update.kind == "reassigned")).one()
        assert not row.internal and row.text == "Their road"
    # The new body gets the report; the old staff lose the issue, the new staff gain it.
    assert [m.recipient for m in _mails(db, "new_report")] == [
        "city-works@bodies.test", "state-roads@bodies.test"]
    assert works.get(f"/staff/issues/{issue_id}").status_code == 404
    grant(db, "road@state.test", "staff", body="state-roads")
    state_client = client_for(app, "northside.reportal.test")
    sign_in(state_client, db, "road@state.test")
    assert "rep@example.org" in state_client.get(f"/staff/issues/{issue_id}").text
    public = client_for(app, "northside.reportal.test").get(f"/issues/{issue_id}").text
    assert "Passed on to the body responsible" in public and "state-roads dept" in public


def test_reassigning_with_a_chosen_type_or_refusing_a_missing_one(works, db):
    issue_id = _report(db, lat=1.95, request_type="streetlight")  # state-roads has none
    with db.session() as s:
        state = s.scalars(select(Body).where(Body.slug == "state-roads")).one()
        sign = s.scalars(select(RequestType).where(RequestType.body_id == state.id,
                                                   RequestType.code == "highway-sign")).one()
        campus = s.scalars(select(Body).where(Body.slug == "campus-fac")).one()
        state_id, sign_id, campus_id = state.id, sign.id, campus.id
    refused = works.post(f"/staff/issues/{issue_id}/reassign", data={
        "csrf_token": _token(works, issue_id), "body": str(state_id)})
    assert refused.status_code == 400 and 'id="reassign_request_type-error"' in refused.text
    outside = works.post(f"/staff/issues/{issue_id}/reassign", data={
        "csrf_token": _token(works, issue_id), "body": str(campus_id)})
    assert outside.status_code == 400
    chosen = works.post(f"/staff/issues/{issue_id}/reassign", data={
        "csrf_token": _token(works, issue_id), "body": str(state_id),
        "request_type": str(sign_id)})
    assert chosen.status_code == 303
    with db.session() as s:
        assert s.get(Issue, issue_id).request_type_id == sign_id


def test_marking_a_duplicate_moves_votes_once_and_closes_it(app, works, db):
    original = _report(db, lat=1.8, description="The hole")
    dup = _report(db, lat=1.81, description="Same hole again", email="second@example.org")
    with db.session() as s:
        for key in ("v:both", "v:orig-only"):
            voting.vote(s, s.get(Issue, original), key)
        for key in ("v:both", "v:dup-only", "v:dup-two"):
            voting.vote(s, s.get(Issue, dup), key)
    r = works.post(f"/staff/issues/{dup}/duplicate", data={
        "csrf_token": _token(works, dup), "original": f"#{original}", "text": "Known"})
    assert r.status_code == 303, r.text
    with db.session() as s:
        o, d = s.get(Issue, original), s.get(Issue, dup)
        assert (o.vote_count, d.vote_count) == (4, 0)
        assert d.status == "closed" and o.status == "open"
        assert s.get(IssueDuplicate, dup).original_id == original
        assert voting.has_voted(s, o, "v:dup-two")
    public = client_for(app, "northside.reportal.test").get(f"/issues/{dup}").text
    assert f'href="/issues/{original}"' in public
    [mail] = _mails(db, "status_changed")
    assert mail.recipient == "second@example.org" and f"/issues/{original}" in mail.body_text


def test_duplicates_follow_chains_and_refuse_themselves(works, db, world):
    first, second, third = (_report(db, lat=1.6 + n * 0.1) for n in range(3))
    far = None
    with db.session() as s:
        far = file_report(s, "riverside", 0.2, 1.0).id  # city-works, but not on northside
    assert works.post(f"/staff/issues/{second}/duplicate", data={
        "csrf_token": _token(works, second), "original": str(first)}).status_code == 303
    assert works.post(f"/staff/issues/{third}/duplicate", data={
        "csrf_token": _token(works, third), "original": str(second)}).status_code == 303
    with db.session() as s:
        assert s.get(IssueDuplicate, third).original_id == first
    for target in (str(first), str(far), "abc"):
        r = works.post(f"/staff/issues/{first}/duplicate", data={
            "csrf_token": _token(works, first), "original": target})
        assert r.status_code == 400 and 'id="duplicate_original-error"' in r.text
    with db.session() as s:
        assert s.get(Issue, first).status == "open"


def test_duplicates_hand_their_watchers_to_the_original(works, db):
    watching = pytest.importorskip("portal.engagement.watching")
    if not hasattr(watching, "move_watchers"):
        pytest.skip("portal.engagement.watching has no move_watchers yet")
    calls = []
    original, dup = _report(db, lat=1.8), _report(db, lat=1.81)
    real = watching.move_watchers
    try:
        watching.move_watchers = lambda session, a, b: calls.append((a.id, b.id))
        works.post(f"/staff/issues/{dup}/duplicate", data={
            "csrf_token": _token(works, dup), "original": str(original)})
    finally:
        watching.move_watchers = real
    assert calls == [(dup, original)]


def test_reopening_a_duplicate_unlinks_it(works, db):
    original, dup = _report(db, lat=1.8), _report(db, lat=1.81)
    works.post(f"/staff/issues/{dup}/duplicate", data={
        "csrf_token": _token(works, dup), "original": str(original)})
    works.post(f"/staff/issues/{dup}/status", data={
        "csrf_token": _token(works, dup), "status": "open"})
    with db.session() as s:
        assert s.get(IssueDuplicate, dup) is None
