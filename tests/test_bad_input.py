"""Bad input in every field of every public and staff form: a 4xx, the field's own error in the
page (or in the JSON of an API), and nothing written — the same number of rows in every table
and the same files in the media folder before and after.

The bad values: NUL, other C0 controls, DEL, C1 controls, the Unicode line and paragraph
separators and `\\r\\n` (bad in single-line fields only: multi-line fields keep them as line
breaks), over-long values, bytes that are not UTF-8 (percent-escaped and raw, urlencoded and
multipart), and empty and truncated photo files.

Runs on SQLite, and on PostgreSQL when TEST_DATABASE_URL is set (as `make test` does): there,
before these fixes, a NUL gave a 500 and a photo sent with it stayed on disk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import unescape
from urllib.parse import quote_plus

import pytest
from sqlalchemy import func, select, text

from portal.models import Base, Body, Issue, RequestType
from portal.reports import status
from portal.tenancy import admin_tokens
from tests.conftest import client_for
from tests.factories import file_report, jpeg_bytes, tenant
from tests.http_support import KEY, csrf, field_error
from tests.staff_support import grant, last_link, request_link, sign_in

CONTROL = "Remove the control characters from this field."
ONE_LINE = "Keep this on one line."
UNREADABLE = "Some characters in this field could not be read."
DAMAGED = "This form was damaged on its way."
ANY = ""  # a choice or a number: its own error, whatever it says


@dataclass(frozen=True)
class Bad:
    """One bad value, how it travels, and the error a single-line / multi-line field gives
    (None: not bad there, e.g. a line break in a multi-line field)."""

    label: str
    value: str | bytes
    line: str | None
    text: str | None
    encoding: str = "urlencoded"  # or "raw-urlencoded", "raw-multipart": value is bytes


BAD = [
    Bad("NUL", "Pot\x00hole", CONTROL, CONTROL),
    Bad("C0 escape", "Pot\x1b[2Jhole", CONTROL, CONTROL),
    Bad("C0 bell and backspace", "\x07Pot\x08hole", CONTROL, CONTROL),
    Bad("C0 vertical tab", "Pot\x0bhole", ONE_LINE, CONTROL),
    Bad("DEL", "Pothole\x7f", CONTROL, CONTROL),
    Bad("C1 CSI", "Pot\x9b31mhole", CONTROL, CONTROL),
    Bad("C1 NEL", "Pot\x85hole", ONE_LINE, CONTROL),
    Bad("U+2028", "Pot\u2028hole", ONE_LINE, None),
    Bad("U+2029", "Pot\u2029hole", ONE_LINE, None),
    Bad("CRLF", "Pothole\r\nBcc: everyone@example.org", ONE_LINE, None),
    Bad("lone CR", "Pot\rhole", ONE_LINE, None),
    Bad("invalid UTF-8, percent-escaped", b"Pot%FF%FEhole", UNREADABLE, UNREADABLE),
    Bad("a surrogate, percent-escaped", b"Pot%ED%A0%80hole", UNREADABLE, UNREADABLE),
    Bad("invalid UTF-8, raw bytes", b"Pot\xe2\x82hole", CONTROL, CONTROL, "raw-urlencoded"),
    Bad("invalid UTF-8 in a multipart part", b"Pot\xe2\x82hole", CONTROL, CONTROL,
        "raw-multipart"),
]


@dataclass(frozen=True)
class Field:
    name: str
    error: str  # the id of its error in the page: `<p class="field-error" id="{error}-error">`
    kind: str  # line, text, key (our hidden submission key), choice, photo, alert
    limit: int = 0  # over-long: limit + 1 characters
    too_long: str = ""  # the error for an over-long value ("" -> "under {limit} characters")


@dataclass
class Form:
    name: str
    page: str  # where the form is, for its tokens ({issue} {other} {update} filled in)
    action: str
    base: dict[str, str]
    fields: list[Field]
    staff: bool = False
    host: str = "northside.reportal.test"
    files: dict[str, tuple[str, bytes, str]] = field(default_factory=dict)


REPORT_BASE = {"lat": "1.5", "lon": "1.0", "request_type": "city-works/pothole",
               "description": "Deep pothole", "title": "Hole by the school", "name": "Ann",
               "email": "ann@example.org", "address": "12 Main St", "q_size": "Large"}
REPORT_FIELDS = [
    Field("title", "title", "line", 120), Field("name", "name", "line", 100),
    Field("email", "email", "line", 254), Field("address", "address", "line", 300),
    Field("description", "description", "text", 5000),
    Field("q_size", "answers", "text", 500),
    Field("submission_key", "submission_key", "key", 64, DAMAGED),
    Field("lat", "lat", "choice"), Field("lon", "lon", "choice"),
    Field("request_type", "request_type", "choice"),
    Field("photo", "photo", "photo"),
]
STAFF_NOTE = {"text": "Crew booked"}

FORMS = [
    Form("report", "/report", "/report", REPORT_BASE, REPORT_FIELDS),
    Form("widget report", "/w/northside/report", "/w/northside/report", REPORT_BASE,
         REPORT_FIELDS, host="127.0.0.1:8000"),
    Form("comment", "/issues/{issue}", "/issues/{issue}/comments",
         {"text": "Still there", "author": "Bo"},
         [Field("text", "text", "text", 2000), Field("author", "author", "line", 100),
          Field("submission_key", "submission_key", "key", 64, DAMAGED)]),
    Form("it's fixed", "/issues/{issue}", "/issues/{issue}/fixed",
         {"text": "Filled in today", "author": "Bo"},
         [Field("text", "fixed_text", "text", 2000),
          Field("author", "fixed_author", "line", 100),
          Field("submission_key", "fixed_submission_key", "key", 64, DAMAGED),
          Field("photo", "fixed_photo", "photo")]),
    Form("vote", "/issues/{issue}", "/issues/{issue}/vote", {},
         [Field("csrf_token", "This form has expired", "alert")]),
    Form("flag", "/issues/{issue}", "/issues/{issue}/flag", {"reason": "spam", "text": "Ads"},
         [Field("reason", "flag_reason", "choice"), Field("text", "flag_text", "text", 500)]),
    Form("watch a place", "/watch", "/watch",
         {"email": "cy@example.org", "kind": "circle", "lat": "1.5", "lon": "1.0",
          "radius": "500", "frequency": "instant"},
         [Field("email", "email", "line", 254, "like name@example.org"),
          Field("kind", "kind", "choice"), Field("lat", "lat", "choice"),
          Field("lon", "lon", "choice"), Field("radius", "radius", "choice"),
          Field("frequency", "frequency", "choice")]),
    Form("watch an issue", "/watch?issue={issue}", "/watch",
         {"email": "cy@example.org", "kind": "issue", "issue_id": "{issue}",
          "frequency": "daily"},
         [Field("issue_id", "issue", "choice")]),
    Form("sign-in", "/signin", "/signin", {"email": "di@example.org"},
         [Field("email", "email", "line", 254, "like name@example.org")]),
    Form("sign-in link", "/signin", "/signin/confirm", {"token": "{token}"},
         [Field("token", "This sign-in link", "alert")]),
    Form("staff note", "/staff/issues/{issue}", "/staff/issues/{issue}/note", STAFF_NOTE,
         [Field("text", "note_text", "text", 2000)], staff=True),
    Form("staff close", "/staff/issues/{issue}", "/staff/issues/{issue}/status",
         {"status": "closed", "text": "Filled"},
         [Field("status", "status", "choice"), Field("text", "text", "text", 2000),
          Field("photo", "photo", "photo")], staff=True),
    Form("staff reassign", "/staff/issues/{issue}", "/staff/issues/{issue}/reassign",
         {"body": "{state_roads}", "request_type": "{state_pothole}", "text": "Theirs"},
         [Field("body", "reassign_body", "choice"),
          Field("request_type", "reassign_request_type", "choice"),
          Field("text", "reassign_text", "text", 2000)], staff=True),
    Form("staff duplicate", "/staff/issues/{issue}", "/staff/issues/{issue}/duplicate",
         {"original": "{other}", "text": "Same hole"},
         [Field("original", "duplicate_original", "choice"),
          Field("text", "duplicate_text", "text", 2000)], staff=True),
    Form("moderation redact", "/staff/issues/{issue}", "/staff/issues/{issue}/redact",
         {"target": "issue:description", "passage": "pothole"},
         [Field("target", "redact_field", "choice"),
          Field("passage", "redact_passage", "line", 500, "do not appear")], staff=True),
    Form("moderation hide issue", "/staff/issues/{issue}", "/staff/issues/{issue}/hide",
         {"reason": "Spam"}, [Field("reason", "hide_reason", "line", 500)], staff=True),
    Form("moderation hide comment", "/staff/issues/{issue}",
         "/staff/issues/{issue}/updates/{update}/hide", {"reason": "Rude"},
         [Field("reason", "update_reason", "line", 500)], staff=True),
    Form("moderation hide photo", "/staff/issues/{issue}", "/staff/issues/{issue}/photo/hide",
         {"photo": "{photo}", "reason": "A face"},
         [Field("photo", "photo_photo", "choice"),
          Field("reason", "photo_reason", "line", 500)], staff=True),
    Form("announcement", "/staff/announcements", "/staff/announcements",
         {"author": "{voice}", "title_en": "Road works", "body_en": "Main St is *closed*.",
          "title_es": "", "body_es": "", "target": "circle", "lat": "2", "lon": "1",
          "radius": "500", "publish_at": "", "expire_at": ""},
         [Field("title_en", "title", "line", 200), Field("body_en", "body", "text", 10_000),
          Field("target", "target", "choice"), Field("lat", "place", "choice"),
          Field("lon", "place", "choice"), Field("radius", "radius", "choice"),
          Field("publish_at", "publish_at", "choice"),
          Field("expire_at", "expire_at", "choice")], staff=True),
    Form("widget generator unlock", "/staff/widgets", "/staff/widgets", {"token": "x"},
         [Field("token", "token", "choice")]),
]

PHOTOS = [("an empty file", b"", "This photo file is empty."),
          ("a truncated JPEG", jpeg_bytes((400, 300))[:600], "not a photo we can read")]


# -- arranging ------------------------------------------------------------------------------


@dataclass
class Place:
    """The rows the forms act on, and the values their fields refer to."""

    values: dict[str, str]


@pytest.fixture
def place(db, settings, world) -> Place:  # noqa: ANN001
    with db.session() as s:
        issue = file_report(s, "northside", 1.5, 1.0, description="Deep pothole by the school",
                            photo=jpeg_bytes(), media_dir=settings.media_dir)
        other = file_report(s, "northside", 1.6, 1.0, description="Another pothole")
        comment = status.add_comment(s, issue, "Rude words here", "Ed")
        state = s.scalars(select(Body).where(Body.slug == "state-roads")).one()
        state_pothole = s.scalars(select(RequestType).where(
            RequestType.body_id == state.id, RequestType.code == "pothole")).one()
        works = s.scalars(select(Body).where(Body.slug == "city-works")).one()
        admin_tokens.issue(tenant(s, "northside"))
        values = {"issue": str(issue.id), "other": str(other.id), "update": str(comment.id),
                  "photo": issue.photo, "state_roads": str(state.id),
                  "state_pothole": str(state_pothole.id), "voice": f"body:{works.id}"}
    grant(db, "works@city.test", "staff", body="city-works")
    grant(db, "mod@north.test", "moderator", portal="northside")
    return Place(values)


def _fill(template: str, place: Place) -> str:
    return template.format(**place.values)


def snapshot(db, settings) -> dict:  # noqa: ANN001
    """Rows in every table, and the files in the media folder."""
    with db.session() as s:
        counts = {t.name: s.scalar(select(func.count()).select_from(t))
                  for t in Base.metadata.sorted_tables}
        if s.get_bind().dialect.name == "sqlite":
            counts["issues_fts"] = s.scalar(text("SELECT count(*) FROM issues_fts"))
    media = settings.media_dir
    files = sorted(str(p.relative_to(media)) for p in media.rglob("*")) if media.exists() else []
    return {"rows": counts, "files": files}


def _client(app, db, form: Form, place: Place):  # noqa: ANN001, ANN202
    client = client_for(app, form.host)
    if form.staff:
        email = "mod@north.test" if form.name.startswith("moderation") else "works@city.test"
        sign_in(client, db, email)
    if form.name == "sign-in link":
        request_link(client, "di@example.org")
        place.values["token"] = last_link(db, "di@example.org")[1]
    return client


def _tokens(client, form: Form, place: Place) -> dict[str, str]:  # noqa: ANN001
    html = client.get(_fill(form.page, place)).text
    tokens = {"csrf_token": csrf(html)}
    if (key := KEY.search(html)) and form.name in ("report", "widget report", "comment",
                                                   "it's fixed"):
        tokens["submission_key"] = key.group(1) + ("-fixed" if form.name == "it's fixed" else "")
    return tokens


def _post(client, form: Form, place: Place, data: dict[str, str], bad: Bad | None = None,  # noqa: ANN001, ANN202
          name: str = "", files: dict | None = None):
    action = _fill(form.action, place)
    if bad is None or bad.encoding == "urlencoded" and isinstance(bad.value, str):
        return client.post(action, data=data, files=files or None)
    if bad.encoding == "raw-multipart":
        parts = {k: (None, v.encode()) for k, v in data.items() if k != name}
        parts[name] = (None, bad.value)
        return client.post(action, files=parts)
    pairs = [f"{quote_plus(k)}={quote_plus(v)}".encode() for k, v in data.items() if k != name]
    pairs.append(quote_plus(name).encode() + b"=" + bad.value)
    return client.post(action, content=b"&".join(pairs),
                       headers={"content-type": "application/x-www-form-urlencoded"})


def _shown(html: str, spec: Field) -> str:
    """The error the page shows for this field."""
    if spec.kind == "alert":
        found = re.findall(r'<div class="alert alert-error" role="alert">([^<]*)</div>', html)
        return unescape(" ".join(found))
    return unescape(field_error(html, spec.error))


def _cases(spec: Field) -> list[tuple[str, object, str]]:
    """(label, bad value, the error it must show) for one field."""
    if spec.kind == "photo":
        return [(label, data, message) for label, data, message in PHOTOS]
    cases = []
    for bad in BAD:
        expected = {"line": bad.line, "text": bad.text}.get(spec.kind, ANY)
        if spec.kind == "key":
            expected = DAMAGED if bad.line else None
        if spec.kind == "alert":
            expected = spec.error
        if expected is not None:
            cases.append((bad.label, bad, expected))
    if spec.limit:
        long_value = "x" * (spec.limit + 1)
        if spec.name == "email":
            long_value = "x" * spec.limit + "@example.org"
        cases.append(("over-long", long_value,
                      spec.too_long or f"under {spec.limit} characters"))
    return cases


CASES = [pytest.param(form, spec, id=f"{form.name}: {spec.name}")
         for form in FORMS for spec in form.fields]


@pytest.mark.parametrize("form,spec", CASES)
def test_a_bad_value_is_refused_with_the_fields_error_and_writes_nothing(
        app, db, settings, place, form, spec):  # noqa: ANN001
    client = _client(app, db, form, place)
    failures = []
    for label, value, expected in _cases(spec):
        data = {k: _fill(v, place) for k, v in form.base.items()}
        data.update(_tokens(client, form, place))
        before = snapshot(db, settings)
        if spec.kind == "photo":
            response = _post(client, form, place, data,
                             files={spec.name: ("photo.jpg", value, "image/jpeg")})
        elif isinstance(value, Bad):
            if isinstance(value.value, str):
                data[spec.name] = value.value
            response = _post(client, form, place, data, value, spec.name)
        else:
            data[spec.name] = value
            response = _post(client, form, place, data)
        after = snapshot(db, settings)
        shown = _shown(response.text, spec) if response.status_code < 500 else ""
        problems = []
        if not 400 <= response.status_code < 500:
            problems.append(f"answered {response.status_code}")
        if not shown or expected not in shown:
            problems.append(f"showed {shown!r}, expected {expected!r}")
        if after != before:
            changed = {k: (before["rows"][k], n) for k, n in after["rows"].items()
                       if before["rows"][k] != n}
            problems.append(f"wrote rows {changed} files "
                            f"{set(after['files']) ^ set(before['files'])}")
        if problems:
            failures.append(f"{label}: {'; '.join(problems)}")
    assert not failures, "\n".join(failures)


def test_a_report_with_a_photo_and_a_nul_in_its_title_leaves_no_file(client, db, settings):  # noqa: ANN001
    html = client.get("/report").text
    data = {**REPORT_BASE, "title": "Pot\x00hole", "csrf_token": csrf(html),
            "submission_key": KEY.search(html).group(1)}
    before = snapshot(db, settings)
    response = client.post("/report", data=data,
                           files={"photo": ("hole.jpg", jpeg_bytes((800, 600)), "image/jpeg")})
    assert response.status_code == 400 and field_error(response.text, "title") == CONTROL
    assert snapshot(db, settings) == before


# -- the same values, accepted where they are fine ------------------------------------------


def test_line_breaks_in_a_description_are_kept_as_newlines(client, db):  # noqa: ANN001
    data = {**REPORT_BASE, "description": "First line\r\nsecond\u2028third\rfourth",
            "title": "Tab\tseparated"}
    html = client.get("/report").text
    data.update(csrf_token=csrf(html), submission_key=KEY.search(html).group(1))
    assert client.post("/report", data=data).status_code == 303
    with db.session() as s:
        issue = s.scalars(select(Issue)).one()
        assert issue.description == "First line\nsecond\nthird\nfourth"
        assert issue.title == "Tab separated"
        assert issue.answers == {"size": "Large"}


# -- query strings: the search page, the map API, the staff queue ---------------------------


@pytest.mark.parametrize("bad", [b.value for b in BAD if b.line and isinstance(b.value, str)])
@pytest.mark.parametrize("name", ["q", "type"])
def test_search_and_api_refuse_control_characters_in_their_words(client, db, bad, name):  # noqa: ANN001
    page = client.get("/search", params={name: bad})
    assert page.status_code == 400 and field_error(page.text, name)
    api = client.get("/api/issues.geojson", params={name: bad})
    assert api.status_code == 400 and api.json()["errors"][name]


def test_the_staff_queue_refuses_a_type_with_a_nul(app, db, place):  # noqa: ANN001
    staff = client_for(app, "northside.reportal.test")
    sign_in(staff, db, "works@city.test")
    page = staff.get("/staff/queue", params={"type": "pot\x00hole"})
    assert page.status_code == 400 and CONTROL in unescape(field_error(page.text, "type"))


def test_an_issue_number_too_large_for_the_database_is_not_found(client, place):  # noqa: ANN001
    assert client.get("/issues/99999999999999999999999").status_code == 404
