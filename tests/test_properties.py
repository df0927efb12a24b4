"""No input makes a server error: Hypothesis posts arbitrary forms and asks arbitrary queries.

Over the public forms (report, report widget, comment, "it's fixed", flag, watch, sign-in and
its confirmation) as URL-encoded fields, raw bodies (invalid UTF-8 included) and arbitrary
multipart, and over the query parameters of the map API and every reader sharing its parser:
each answer is below 500 and shows no traceback. Following the API's `next` links visits every
matching issue exactly once.

The budget is fixed and the examples derandomized, so a run is quick and repeatable. The world
is the route matrix's (tests/matrix_world.py), built once for the module.
"""

from __future__ import annotations

import json
import string
from urllib.parse import parse_qsl, urlencode

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from portal.reports import status
from tests.factories import file_report
from tests.matrix_world import PLACES, Scene, open_scene

BUDGET = settings(max_examples=40, deadline=None, derandomize=True, database=None,
                  suppress_health_check=[HealthCheck.function_scoped_fixture,
                                         HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def scene(database_url, static_dir, tmp_path_factory) -> Scene:  # noqa: ANN001
    world = open_scene(database_url, static_dir, tmp_path_factory.mktemp("properties"))
    yield world
    world.db.engine.dispose()


def no_server_error(response) -> None:  # noqa: ANN001
    assert response.status_code < 500, response.text[:500]
    assert "Traceback" not in response.text


# Inputs that gave a 500 before field validation (NUL reaching a PostgreSQL text column, a
# 65-character submission key in a 64-character column, digits `int()` refuses): posted one
# by one below, besides the random examples, so they stay fixed.
ONCE_FAILED_NUL = {
    "report": {"description", "title", "name", "address", "submission_key"},
    "widget report": {"description", "title", "name", "address", "submission_key"},
    "comment": {"text", "author", "submission_key"},
    "fixed": {"text", "author", "submission_key"},
    "flag": {"text"},
}


ONCE_FAILED = {  # name -> (form, the fields that differ from a valid post)
    **{f"{form}-{field}-NUL": (form, {field: "a\x00b"})
       for form, fields in ONCE_FAILED_NUL.items() for field in sorted(fields)},
    "comment-submission_key-65-chars": ("comment", {"submission_key": "k" * 65}),
    "fixed-submission_key-65-chars": ("fixed", {"submission_key": "k" * 65}),
    "watch-issue_id-superscript-2": ("watch", {"kind": "issue", "issue_id": "²"}),
}
VALID = {"report": {"lat": "1.8", "lon": "1.0", "request_type": "city-works/pothole",
                    "description": "A hole"},
         "widget report": {"lat": "1.8", "lon": "1.0", "request_type": "pothole",
                           "description": "A hole"},
         "comment": {"text": "Same here"}, "fixed": {"text": "Filled"},
         "flag": {"reason": "spam"},
         "watch": {"email": "w@example.org", "kind": "circle", "lat": "1.8", "lon": "1.0",
                   "radius": "500", "frequency": "daily"}}


@pytest.mark.parametrize(("form", "fields"), [
    pytest.param(form, fields, id=name) for name, (form, fields) in ONCE_FAILED.items()])
def test_inputs_that_once_gave_a_500_answer_with_a_4xx(scene, form, fields):
    posted = {**VALID[form], **fields, "csrf_token": _token(scene)}
    response = _client(scene).post(_path(scene, FORMS[form][0]), data=posted)
    no_server_error(response)
    assert 400 <= response.status_code < 500


def test_the_watch_page_with_unparsable_digits_is_no_server_error(scene):
    """GET /watch?issue=² parses the issue number as the watch form does."""
    no_server_error(_client(scene).get("/watch", params={"issue": "²"}))


def urlencoded_fields(body: bytes) -> list[tuple[str, str]]:
    """What Starlette makes of a URL-encoded body (Latin-1, then percent-decoding)."""
    return parse_qsl(body.decode("latin-1"), keep_blank_values=True)


# -- values ------------------------------------------------------------------------------

LAT, LON = PLACES["north"]
numbers = st.one_of(
    st.integers(min_value=-10**30, max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["", "-0", "1e999", "0x10", "1_000", " 1 ", "١٢", "NaN", "-inf", "1,5"]),
)
texts = st.text(max_size=300)
# Digits int() refuses though str.isdigit() accepts them, right-to-left marks, long runs.
odd = st.sampled_from(["", " ", "²", "①", "٣", "１２", "\u202e", "😀" * 80, "a" * 5001])
values = st.one_of(texts, numbers, odd)
names = st.one_of(st.text(max_size=20), st.sampled_from(
    ["csrf_token", "photo", "q_depth", "q_", "submission_key", "website", "issue", "token"]))
extra_fields = st.dictionaries(names, values, max_size=4)


def maybe(valid: str) -> st.SearchStrategy[str]:
    """The valid value half the time, so a form gets past one check and on to the next."""
    return st.one_of(st.just(valid), values)


FORMS = {  # what each public form posts, field by field
    "report": ("/report", {
        "lat": maybe(str(LAT)), "lon": maybe(str(LON)),
        "request_type": maybe("city-works/pothole"), "description": maybe("A hole"),
        "title": values, "name": values, "email": maybe("me@example.org"),
        "show_name": maybe("1"), "address": values, "q_depth": values, "website": st.just(""),
        "submission_key": values}),
    "widget report": ("/w/northside/report", {
        "lat": maybe(str(LAT)), "lon": maybe(str(LON)),
        "request_type": maybe("pothole"), "description": maybe("A hole"), "email": values}),
    "comment": ("/issues/{issue}/comments", {
        "text": maybe("Same here"), "author": values, "submission_key": values}),
    "fixed": ("/issues/{issue}/fixed", {"text": values, "author": values}),
    "flag": ("/issues/{issue}/flag", {"reason": maybe("spam"), "text": values}),
    "watch": ("/watch", {
        "email": maybe("w@example.org"), "kind": maybe("circle"), "lat": maybe(str(LAT)),
        "lon": maybe(str(LON)), "radius": maybe("500"), "frequency": maybe("daily"),
        "issue_id": values}),
    "signin": ("/signin", {"email": maybe("someone@example.org")}),
    "signin confirm": ("/signin/confirm", {"token": values}),
}


def _path(scene: Scene, template: str) -> str:
    return template.format(issue=scene.bundles["north"].visible.issue)


def _client(scene: Scene):  # noqa: ANN202 - a TestClient
    return scene.client("anonymous", "north")


def _token(scene: Scene) -> str:
    return scene.csrf[("anonymous", "north")]


# -- forms -------------------------------------------------------------------------------

@pytest.mark.parametrize("form", list(FORMS))
@given(data=st.data())
@BUDGET
def test_any_field_values_get_an_answer(scene, form, data):
    template, fields = FORMS[form]
    posted = {name: data.draw(strategy, label=name) for name, strategy in fields.items()}
    posted.update(data.draw(extra_fields, label="extra"))
    posted["csrf_token"] = _token(scene)
    no_server_error(_client(scene).post(_path(scene, template), data=posted))


raw_bytes = st.one_of(
    st.binary(max_size=400),
    st.lists(st.tuples(st.binary(max_size=12), st.binary(max_size=60)), max_size=6).map(
        lambda pairs: b"&".join(k + b"=" + v for k, v in pairs)),
    st.sampled_from([b"description=\xff\xfe\xfd", b"text=%ff%fe%00", b"email=%C0%AF@x.org",
                     b"=&=&&==", b"a" * 3000, b"text=" + "é".encode("latin-1") * 50]),
)


@pytest.mark.parametrize("form", list(FORMS))
@given(body=raw_bytes)
@BUDGET
def test_any_urlencoded_body_gets_an_answer(scene, form, body):
    template, _fields = FORMS[form]
    token = urlencode({"csrf_token": _token(scene)}).encode()
    response = _client(scene).post(
        _path(scene, template), content=token + b"&" + body,
        headers={"content-type": "application/x-www-form-urlencoded"})
    no_server_error(response)


BOUNDARY = "hypothesisboundary"
part = st.tuples(
    st.one_of(names, st.just("photo")),
    st.one_of(st.none(), st.text(max_size=30)),  # a filename makes it a file
    st.one_of(st.none(), st.sampled_from(["image/jpeg", "text/plain", "", "x/\x00"])),
    st.one_of(st.binary(max_size=300), st.sampled_from([b"\xff\xd8\xff\xe0" + b"\x00" * 40,
                                                        b"GIF89a", b"\x89PNG\r\n\x1a\n"])),
)


def _quoted(text: str) -> bytes:
    return text.replace("\\", "\\\\").replace('"', '\\"').encode("utf-8", "surrogatepass")


def multipart_body(token: str, parts: list[tuple]) -> bytes:
    chunks = [f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
              f"{token}\r\n".encode()]
    for name, filename, content_type, content in parts:
        head = b'Content-Disposition: form-data; name="' + _quoted(name) + b'"'
        if filename is not None:
            head += b'; filename="' + _quoted(filename) + b'"'
        if content_type is not None:
            head += b"\r\nContent-Type: " + content_type.encode("utf-8", "surrogatepass")
        chunks.append(b"--" + BOUNDARY.encode() + b"\r\n" + head + b"\r\n\r\n" + content
                      + b"\r\n")
    return b"".join(chunks) + f"--{BOUNDARY}--\r\n".encode()


@pytest.mark.parametrize("form", list(FORMS))
@given(parts=st.lists(part, max_size=5), broken=st.one_of(st.none(), st.binary(max_size=80)))
@example(parts=[("photo", "x.jpg", "image/jpeg", b"\xff\xd8\xff\xe0not a jpeg")], broken=None)
@example(parts=[], broken=b"--hypothesisboundary\r\nContent-Disposition: form-data\r\n\r\n")
@BUDGET
def test_any_multipart_body_gets_an_answer(scene, form, parts, broken):
    template, _fields = FORMS[form]
    body = multipart_body(_token(scene), parts) if broken is None else broken
    response = _client(scene).post(
        _path(scene, template), content=body,
        headers={"content-type": f"multipart/form-data; boundary={BOUNDARY}"})
    no_server_error(response)


# -- query parameters ----------------------------------------------------------------------

def joined(count: int) -> st.SearchStrategy[str]:
    return st.lists(numbers, min_size=count - 1, max_size=count + 1).map(",".join)


params = st.fixed_dictionaries({}, optional={
    "bbox": st.one_of(joined(4), values),
    "status": st.one_of(st.sampled_from(["open", "closed", "acknowledged", "archived"]), values),
    "type": st.one_of(st.sampled_from(["pothole", "city-works/pothole", "/", "a/b/c"]), values),
    "zoom": st.one_of(numbers, values),
    "page": st.one_of(numbers, values),
    "per_page": st.one_of(numbers, values),
    "limit": st.one_of(numbers, values),
    "next": values,
    "q": values,
    "since": st.one_of(st.dates().map(str), values),
    "until": st.one_of(st.dates().map(str), values),
    "near": st.one_of(joined(2), values),
    "radius": st.one_of(numbers, values),
    "lat": st.one_of(numbers, values),
    "lon": st.one_of(numbers, values),
    "center": st.one_of(joined(2), values),
    "body": st.one_of(st.sampled_from(["city-works", "nowhere"]), values),
    "lang": st.one_of(st.sampled_from(["en", "es", "ar"]), values),
    "issue": st.one_of(st.integers(0, 10).map(str), values),
})
unknown = st.lists(st.tuples(st.text(string.printable, max_size=10), values), max_size=3)
repeated = st.lists(st.tuples(st.sampled_from(["status", "type", "bbox", "page"]), values),
                    max_size=4)

READERS = ["/api/issues.geojson", "/issues", "/search", "/", "/api/request-types", "/report",
           "/watch", "/w/northside/map", "/dashboard", "/exports/issues.geojson"]


@pytest.mark.parametrize("reader", READERS)
@given(query=params, extra=unknown, again=repeated)
@example(query={"page": "1" * 400}, extra=[], again=[])
@example(query={"bbox": "nan,nan,nan,nan"}, extra=[], again=[])
@example(query={"near": "1.8,1.0", "radius": "nan"}, extra=[], again=[])
@BUDGET
def test_any_query_gets_an_answer(scene, reader, query, extra, again):
    pairs = list(query.items()) + extra + again
    no_server_error(_client(scene).get(reader, params=pairs))


@given(raw=st.binary(max_size=120))
@BUDGET
def test_any_raw_query_string_gets_an_answer(scene, raw):
    """Bytes the client would never send: percent-escapes of anything, invalid UTF-8."""
    query = "".join(f"%{b:02X}" if chr(b) not in "=&" else chr(b) for b in raw)
    no_server_error(_client(scene).get(f"/api/issues.geojson?{query}"))


PAGED = (2.6, 0.3)  # (lat, lon) in northside where only the fixture below reports


@pytest.fixture(scope="module")
def paged(scene) -> str:  # noqa: ANN001
    """Eleven issues in a corner of northside, some acknowledged or closed: a bbox query."""
    with scene.db.session() as s:
        for n in range(11):
            issue = file_report(s, "northside", PAGED[0], PAGED[1], description=f"Page {n}")
            for new in ("acknowledged", "closed")[: n % 3]:
                status.change_status(s, issue, new, author="Desk")
    lat, lon = PAGED
    return f"{lon - 0.01},{lat - 0.01},{lon + 0.01},{lat + 0.01}"


@given(per_page=st.integers(1, 12), statuses=st.lists(
    st.sampled_from(["open", "acknowledged", "closed"]), max_size=2, unique=True))
@BUDGET
def test_next_links_visit_every_matching_issue_once(scene, paged, per_page, statuses):
    client = _client(scene)
    link = "/api/issues.geojson?" + urlencode(
        [("bbox", paged), ("per_page", per_page)] + [("status", s) for s in statuses])
    first = json.loads(client.get(link).content)
    seen: list[int] = []
    for number in range(1, first["pages"] + 1):
        assert link, f"page {number - 1} of {first['pages']} has no next link"
        response = client.get(link)
        assert response.status_code == 200, response.text
        page = json.loads(response.content)
        assert page["page"] == number
        seen += [f["properties"]["id"] for f in page["features"]]
        link = page.get("next", "")
    assert not link, "the last page links to another"
    assert len(seen) == len(set(seen)) == first["total"]
    counts = {"open": 4, "acknowledged": 4, "closed": 3}  # n % 3 of the eleven
    assert first["total"] == (sum(counts[s] for s in statuses) if statuses else 11)
    assert first["pages"] == max(1, -(-first["total"] // per_page))
