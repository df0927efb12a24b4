"""Moderation: what moderators hide is gone from every public reader (pages, list, search,
API, media) but kept and audited; redaction removes words for good without recording them;
residents flag issues into their portal's queue, once each, past a honeypot and a limit."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.models import Flag, Issue, ModerationAction, Update, User
from portal.reports import status
from tests.conftest import client_for
from tests.factories import file_report, jpeg_bytes
from tests.http_support import csrf
from tests.staff_support import grant, sign_in


@pytest.fixture
def mod(app, db, world):
    grant(db, "mod@north.test", "moderator", portal="northside")
    client = client_for(app, "northside.reportal.test")
    sign_in(client, db, "mod@north.test")
    return client


@pytest.fixture
def public(app, world):
    return client_for(app, "northside.reportal.test")


def _issue(db, settings, **fields) -> int:  # noqa: ANN001, ANN003
    with db.session() as s:
        return file_report(s, "northside", 1.9, 1.0, description="Cracked kerb near number 12",
                           title="Kerbstone", photo=jpeg_bytes(), media_dir=settings.media_dir,
                           **fields).id


def _post(client, issue_id: int, path: str, **data: str):  # noqa: ANN001, ANN202
    token = csrf(client.get(f"/staff/issues/{issue_id}").text)
    return client.post(f"/staff/issues/{issue_id}/{path}", data={"csrf_token": token, **data})


def _visible_everywhere(public, issue_id: int) -> dict[str, bool]:  # noqa: ANN001
    api = public.get("/api/issues.geojson").json()
    return {
        "page": public.get(f"/issues/{issue_id}").status_code == 200,
        "home": f"/issues/{issue_id}\"" in public.get("/").text,
        "list": f"/issues/{issue_id}\"" in public.get("/issues").text,
        "search": f"/issues/{issue_id}\"" in public.get("/search?q=kerb").text,
        "api": issue_id in {f["properties"]["id"] for f in api["features"]},
    }


def test_a_hidden_issue_vanishes_from_every_public_reader(app, mod, public, db, settings):
    issue_id = _issue(db, settings)
    with db.session() as s:
        photo = s.get(Issue, issue_id).photo
    assert all(_visible_everywhere(public, issue_id).values())
    assert public.get(f"/media/{photo}.jpg").status_code == 200
    refused = _post(mod, issue_id, "hide", reason="")
    assert refused.status_code == 400 and 'id="hide_reason-error"' in refused.text
    assert _post(mod, issue_id, "hide", reason="Abusive").status_code == 303
    assert not any(_visible_everywhere(public, issue_id).values())
    riverside = client_for(app, "riverside.reportal.test")
    assert riverside.get(f"/issues/{issue_id}").status_code == 404
    for variant in ("", "-thumb"):
        assert public.get(f"/media/{photo}{variant}.jpg").status_code == 404
    assert "Hidden from the public" in mod.get(f"/staff/issues/{issue_id}").text
    with db.session() as s:
        [audit] = s.scalars(select(ModerationAction)).all()
        assert (audit.action, audit.reason, audit.issue_id) == ("hide", "Abusive", issue_id)
        assert s.get(User, audit.user_id).email == "mod@north.test"
    assert _post(mod, issue_id, "unhide", reason="Was fine").status_code == 303
    assert all(_visible_everywhere(public, issue_id).values())
    assert "Was fine" in mod.get("/staff/moderation").text


def test_a_hidden_comment_vanishes_from_the_issue_page(mod, public, db, settings):
    issue_id = _issue(db, settings)
    with db.session() as s:
        comment = status.add_comment(s, s.get(Issue, issue_id), "Buy cheap watches", "Spammer")
        comment_id = comment.id
    assert "cheap watches" in public.get(f"/issues/{issue_id}").text
    assert _post(mod, issue_id, f"updates/{comment_id}/hide", reason="spam").status_code == 303
    assert "cheap watches" not in public.get(f"/issues/{issue_id}").text
    staff_view = mod.get(f"/staff/issues/{issue_id}").text
    assert "cheap watches" in staff_view and "Show again" in staff_view
    with db.session() as s:
        assert s.get(Update, comment_id).hidden
        assert s.scalars(select(ModerationAction)).one().update_id == comment_id


def test_a_photo_can_be_taken_down_and_put_back(mod, public, db, settings):
    issue_id = _issue(db, settings)
    with db.session() as s:
        photo = s.get(Issue, issue_id).photo
    assert _post(mod, issue_id, "photo/hide", photo=photo, reason="A face").status_code == 303
    page = public.get(f"/issues/{issue_id}").text
    assert photo not in page
    assert public.get(f"/media/{photo}.jpg").status_code == 404
    assert public.get(f"/media/{photo}-thumb.jpg").status_code == 404
    with db.session() as s:
        action = s.scalars(select(ModerationAction)).one()
        assert action.photo == photo and "issue" in action.detail.split()
    back = _post(mod, issue_id, f"photo/{action.id}/restore", reason="Blurred now")
    assert back.status_code == 303
    assert photo in public.get(f"/issues/{issue_id}").text
    assert public.get(f"/media/{photo}.jpg").status_code == 200


def test_photos_of_hidden_updates_and_internal_ones_are_not_served(mod, public, db, settings):
    issue_id = _issue(db, settings)
    with db.session() as s:
        fixed = status.report_fixed(s, s.get(Issue, issue_id), "done", "", jpeg_bytes((50, 50)),
                                    settings.media_dir, settings.max_photo_bytes)
        fixed_id, digest = fixed.id, fixed.photo
    assert public.get(f"/media/{digest}-thumb.jpg").status_code == 200
    _post(mod, issue_id, f"updates/{fixed_id}/hide", reason="Not this place")
    assert public.get(f"/media/{digest}-thumb.jpg").status_code == 404
    assert public.get("/media/" + "0" * 40 + ".jpg").status_code == 404


def test_redaction_removes_words_for_good_and_records_no_copy(app, db, settings, public, world):
    grant(db, "crew@city.test", "staff", body="city-works")
    crew = client_for(app, "northside.reportal.test")
    sign_in(crew, db, "crew@city.test")
    issue_id = _issue(db, settings)
    with db.session() as s:
        comment = status.add_comment(s, s.get(Issue, issue_id), "Ring Jo on 555 0199", "Jo")
        comment_id = comment.id
    r = _post(crew, issue_id, "redact", target="issue:description", passage="number 12")
    assert r.status_code == 303
    r = _post(crew, issue_id, "redact", target=f"update:{comment_id}:text", passage="555 0199")
    assert r.status_code == 303
    page = public.get(f"/issues/{issue_id}").text
    assert "number 12" not in page and "555 0199" not in page
    assert "Cracked kerb near [redacted]" in page and "Ring Jo on [redacted]" in page
    assert f"/issues/{issue_id}\"" not in public.get("/search?q=number").text
    assert f"/issues/{issue_id}\"" in public.get("/search?q=cracked").text
    missing = _post(crew, issue_id, "redact", target="issue:description", passage="absent")
    assert missing.status_code == 400 and 'id="redact_passage-error"' in missing.text
    with db.session() as s:
        audits = s.scalars(select(ModerationAction).order_by(ModerationAction.id)).all()
        assert [a.detail for a in audits] == ["description: 1", "text: 1"]
        assert not any("555" in (a.detail + a.reason) or "12" in a.reason for a in audits)


def test_residents_flag_an_issue_into_their_portals_queue(app, mod, public, db, settings):
    issue_id = _issue(db, settings)
    page = public.get(f"/issues/{issue_id}").text
    assert "Flag as inappropriate" in page
    token = csrf(page)
    r = public.post(f"/issues/{issue_id}/flag", data={"csrf_token": token, "reason": "personal",
                                                      "text": "Shows a house number"})
    assert r.status_code == 303 and "done=flagged" in r.headers["location"]
    public.post(f"/issues/{issue_id}/flag", data={"csrf_token": token, "reason": "spam"})
    assert public.post(f"/issues/{issue_id}/flag", data={"reason": "spam"}).status_code == 303
    bot = client_for(app, "northside.reportal.test")
    bot.post(f"/issues/{issue_id}/flag", data={"csrf_token": csrf(bot.get(
        f"/issues/{issue_id}").text), "reason": "spam", "website": "http://spam.test"})
    with db.session() as s:
        flags = s.scalars(select(Flag)).all()
        assert [(f.reason, f.text) for f in flags] == [("personal", "Shows a house number")]
    queue = mod.get("/staff/moderation").text
    assert f"/staff/issues/{issue_id}\"" in queue and "Shows a house number" in queue
    grant(db, "mod@river.test", "moderator", portal="riverside")
    river = client_for(app, "riverside.reportal.test")
    sign_in(river, db, "mod@river.test")
    assert "Shows a house number" not in river.get("/staff/moderation").text
    # Hiding resolves the flags; so does dismissing.
    _post(mod, issue_id, "hide", reason="personal details")
    assert "Shows a house number" not in mod.get("/staff/moderation").text
    with db.session() as s:
        assert s.scalars(select(Flag)).one().resolution == "hidden"


def test_dismissing_flags(mod, public, db, settings):
    issue_id = _issue(db, settings)
    public.post(f"/issues/{issue_id}/flag", data={
        "csrf_token": csrf(public.get(f"/issues/{issue_id}").text), "reason": "other"})
    token = csrf(mod.get("/staff/moderation").text)
    r = mod.post(f"/staff/moderation/issues/{issue_id}/dismiss", data={"csrf_token": token})
    assert r.status_code == 303
    with db.session() as s:
        assert s.scalars(select(Flag)).one().resolution == "dismissed"
    assert public.get(f"/issues/{issue_id}").status_code == 200


def test_flags_are_rate_limited(app, public, db, settings):
    app.state.limiter.enabled = True
    ids = [_issue(db, settings) for _ in range(12)]
    token = csrf(public.get(f"/issues/{ids[0]}").text)
    outcomes = [public.post(f"/issues/{i}/flag", data={"csrf_token": token, "reason": "spam"})
                .headers["location"] for i in ids]
    assert sum("done=flagged" in o for o in outcomes) == 10
    assert sum("flag-limited" in o for o in outcomes) == 2
    with db.session() as s:
        assert len(s.scalars(select(Flag)).all()) == 10


def test_hidden_issues_cannot_be_flagged_or_voted_on(mod, public, db, settings):
    issue_id = _issue(db, settings)
    token = csrf(public.get(f"/issues/{issue_id}").text)
    _post(mod, issue_id, "hide", reason="spam")
    public.post(f"/issues/{issue_id}/flag", data={"csrf_token": token, "reason": "spam"})
    assert public.post(f"/issues/{issue_id}/vote", data={"csrf_token": token}).status_code == 404
    with db.session() as s:
        assert s.scalars(select(Flag)).all() == []
