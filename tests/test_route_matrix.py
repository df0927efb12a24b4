"""Every route of the app, for everyone, on both portals: nobody gets what is not theirs.

The routes come from the router itself (`app.routes`, Mounts included), so a route added
tomorrow fails `test_every_route_has_an_expectation` until EXPECTATIONS says who may use it.
Each cell — route and method × person (`ACTORS` in tests/matrix_world.py) × host (northside or
riverside) × target (this portal's thing, the other portal's, a hidden one…) — is one test:

- the status is the one the rule says for that kind of person;
- no response body carries the other portal's issue text, a private reporter's name or
  email, an internal note or hidden text, except to the people who may see them there;
- a refused write leaves the database as it was (row counts of every table, and a digest of
  the columns writes change); an allowed staff write runs on rows made for that cell, so
  the shared rows every cell reads never change.

Rules read as the product's policy: `section(...)` pages answer 403 to whoever may not use
them; `thing(...)` actions answer 403 to anonymous visitors and 404 to signed-in people
without the right (nothing about the thing is revealed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from starlette.routing import Mount, Route

from tests.matrix_world import (
    ACTORS,
    HOSTS,
    Scene,
    changed_tables,
    mutable_state,
    open_scene,
)


@pytest.fixture(scope="module")
def scene(database_url, static_dir, tmp_path_factory) -> Scene:  # noqa: ANN001
    # Each sign-out cell ends a real session and signs the actor in again: far more links
    # per address in an hour than the per-address mail cap allows a person.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("portal.staff.accounts.MAILS_PER_ADDRESS", 10_000)
        world = open_scene(database_url, static_dir, tmp_path_factory.mktemp("matrix"))
        yield world
    world.db.engine.dispose()


@dataclass(frozen=True)
class Who:
    """One person on one host pointing at one target, in the terms the rules use."""

    actor: str
    host: str
    target: str

    @property
    def anon(self) -> bool:
        return self.actor == "anonymous"

    @property
    def body_staff(self) -> bool:  # staff of city-works, the body of every seeded issue
        return self.actor == "staff_city"

    @property
    def any_staff(self) -> bool:
        return self.actor in ("staff_city", "staff_state")

    @property
    def admin(self) -> bool:  # of the portal whose host this is
        return self.actor == f"admin_{self.host}"

    @property
    def mod(self) -> bool:  # moderators and admins moderate
        return self.actor in (f"mod_{self.host}", f"admin_{self.host}")

    @property
    def office(self) -> bool:  # northside is a politician's portal; its admin is its office
        return self.host == "north" and self.actor in ("office_north", "admin_north")

    @property
    def here(self) -> bool:  # the target issue is in this portal (hidden or not)
        return self.target in ("own", "hidden")


Rule = Callable[[Who], int]


def everyone(status: int) -> Rule:
    return lambda w: status


def own_only(ok: int, refused: int = 404) -> Rule:
    return lambda w: ok if w.target == "own" else refused


def section(allowed: Callable[[Who], bool]) -> Rule:
    return lambda w: 200 if allowed(w) else 403


def thing(allowed: Callable[[Who], bool], ok: int = 303) -> Rule:
    return lambda w: 403 if w.anon else ok if allowed(w) else 404


def opens_staff_issue(w: Who) -> bool:
    return w.here and (w.body_staff or w.mod)


def manages(w: Who) -> bool:
    return w.here and w.body_staff


def moderates(w: Who) -> bool:
    return w.here and w.mod


def writes_news(w: Who) -> bool:
    return w.admin or w.any_staff


def publish_rule(w: Who) -> int:
    if not writes_news(w):
        return 403
    return 303 if (w.admin if w.target == "own" else w.body_staff) else 404


def withdraw_rule(w: Who) -> int:
    if not writes_news(w):
        return 403
    mine = (w.target == "own" and w.admin) or (w.target == "body" and w.body_staff)
    return 303 if mine else 404


def admin_form(w: Who) -> int:
    """A portal settings form sent with a bad value: refused as such to the portal's admin."""
    return 400 if w.admin else 403


def bulk_rule(w: Who) -> int:
    return 403 if not w.any_staff else 303 if manages(w) else 404


ISSUE = ("own", "alien", "hidden")
CHILD = ("own", "alien", "hidden", "mismatch")
TOKEN = ("own", "alien")
NONE = ("-",)


@dataclass(frozen=True)
class Case:
    path: str  # filled from Scene.values
    rule: Rule
    targets: tuple[str, ...] = NONE
    form: dict = field(default_factory=dict)
    fresh: str = ""  # allowed writes run on new rows (see Scene.values)
    changes: Callable[[Who], bool] | bool = True  # an allowed write must change the database
    resign: bool = False  # the write ends the actor's sessions: sign in again after
    # (text, who): a 200 page holds `text` exactly for those `who` says (one status, two pages)
    shows: tuple[str, Callable[[Who], bool]] | None = None


STATUS = {"status": "acknowledged", "text": ""}
# Sent with "None of these: send my report": the world has issues at {lat},{lon}, and the
# "Is it one of these?" step is not what this case is about.
REPORT = {"lat": "{lat}", "lon": "{lon}", "request_type": "city-works/pothole",
          "description": "Deep hole here", "submission_key": "{key}", "nearby": "none"}
WIDGET_REPORT = {**REPORT, "lat": "{home_lat}", "lon": "{home_lon}"}

EXPECTATIONS: dict[str, Case] = {
    # -- tenant-free -------------------------------------------------------------------
    "GET /healthz": Case("/healthz", everyone(200)),
    "MOUNT /static": Case("/static/{static_file}", own_only(200), ("own", "forged")),
    "GET /embed.js": Case("/embed.js", everyone(200)),
    "GET /embed/{name}": Case("/embed/{embed_name}", own_only(200), ("own", "forged")),
    # -- public readers ----------------------------------------------------------------
    "GET /": Case("/", everyone(200)),
    "GET /issues": Case("/issues", everyone(200)),
    "GET /search": Case("/search?q=pothole", everyone(200)),
    "GET /places": Case("/places?q=main+street", everyone(200)),
    "GET /api/places": Case("/api/places?q=main", everyone(200)),
    "GET /api/place-name": Case("/api/place-name?lat={lat}&lon={lon}", own_only(200, 400), TOKEN),
    "GET /issues/{issue_id:int}": Case("/issues/{issue}", own_only(200), ISSUE),
    "GET /feed.atom": Case("/feed.atom", everyone(200)),
    "GET /announcements.atom": Case("/announcements.atom", everyone(200)),
    "GET /announcements": Case("/announcements", everyone(200)),
    # A browser's own preference (a cookie), no row: nothing in the database changes.
    "POST /announcements/hide": Case("/announcements/hide", everyone(303), TOKEN,
                                     {"announcement": "1"}, changes=False),
    "GET /dashboard": Case("/dashboard", everyone(200)),
    "GET /exports/issues.csv": Case("/exports/issues.csv", everyone(200)),
    "GET /exports/issues.geojson": Case("/exports/issues.geojson", everyone(200)),
    "GET /compare": Case("/compare", everyone(200)),
    "GET /compare.csv": Case("/compare.csv", everyone(200)),
    "GET /leaderboard": Case("/leaderboard", everyone(200)),
    "GET /api/issues.geojson": Case("/api/issues.geojson", everyone(200)),
    "GET /api/area.geojson": Case("/api/area.geojson", everyone(200)),
    "GET /api/request-types": Case("/api/request-types?lat={lat}&lon={lon}",
                                   own_only(200, 400), TOKEN),
    "GET /theme.css": Case("/theme.css", everyone(200)),
    "GET /logo.svg": Case("/logo.svg", everyone(404)),  # the test portals have no logo
    "GET /media/{file}.jpg": Case("/media/{photo}.jpg", own_only(200),
                                  ("own", "alien", "hidden", "taken_down")),
    # -- what anyone may do ------------------------------------------------------------
    "GET /report": Case("/report", everyone(200)),
    "POST /report": Case("/report", own_only(303, 400), TOKEN, REPORT),
    "GET /report/lite": Case("/report/lite", everyone(200)),
    "POST /report/lite": Case("/report/lite", own_only(303, 400), TOKEN, REPORT),
    # -- the installable app -------------------------------------------------------------
    "GET /manifest.webmanifest": Case("/manifest.webmanifest", everyone(200)),
    "GET /app-icon-{size}.png": Case("/app-icon-192.png", everyone(200)),
    "GET /sw.js": Case("/sw.js", everyone(200)),
    # -- text messages: a gateway's own signature, never a session; the test portals have
    # no phone numbers, so every number is unknown to them -------------------------------
    "GET /sms/{gateway:str}/{number:str}": Case("/sms/smssync/12035550100?task=send",
                                                 everyone(404)),
    "POST /sms/{gateway:str}/{number:str}": Case(
        "/sms/twilio/12035550100", everyone(404),
        form={"From": "+12035550199", "Body": "Pothole on Main St", "MessageSid": "SM1"}),
    "GET /report/nearby": Case("/report/nearby?lat={lat}&lon={lon}&type=city-works/pothole",
                               everyone(200)),
    "POST /issues/{issue_id:int}/vote": Case("/issues/{issue}/vote", own_only(303), ISSUE,
                                             changes=False),
    "POST /issues/{issue_id:int}/comments": Case("/issues/{issue}/comments", own_only(303),
                                                 ISSUE, {"text": "Same here", "author": ""}),
    "POST /issues/{issue_id:int}/fixed": Case("/issues/{issue}/fixed", own_only(303), ISSUE,
                                              {"text": "Looks filled", "author": ""}),
    # The matrix's issues are open: nothing to reopen (tests/test_reopen_requests.py).
    "POST /issues/{issue_id:int}/still-broken": Case(
        "/issues/{issue}/still-broken", own_only(400), ISSUE,
        {"text": "Still there", "author": ""}, changes=False),
    "POST /issues/{issue_id:int}/flag": Case("/issues/{issue}/flag", own_only(303), ISSUE,
                                             {"reason": "spam", "text": ""}),
    "GET /watch": Case("/watch?issue={issue}", everyone(200), ISSUE),
    "POST /watch": Case("/watch", own_only(303, 400), ISSUE, {
        "email": "{email}", "kind": "issue", "issue_id": "{issue}", "frequency": "instant"}),
    "GET /watch/confirm/{token}": Case("/watch/confirm/{watch_token}", own_only(200, 400),
                                       TOKEN),
    "POST /watch/confirm/{token}": Case("/watch/confirm/{watch_token}", own_only(200, 400),
                                        TOKEN, changes=False),
    "GET /watch/{token}/feed.atom": Case("/watch/{feed_token}/feed.atom", own_only(200),
                                         TOKEN),
    # A receipt's status link: this portal's shown issue only; no sign-in needed.
    "GET /reports/status/{token}": Case("/reports/status/{status_token}", own_only(200),
                                        ("own", "alien", "hidden", "forged")),
    "GET /unsubscribe/{token}": Case("/unsubscribe/{unsubscribe_token}", own_only(200, 400),
                                     ("own", "forged")),
    "POST /unsubscribe/{token}": Case("/unsubscribe/{unsubscribe_token}", own_only(200, 400),
                                      ("own", "forged"), changes=False),
    # -- widgets (the portal is named in the path) -------------------------------------
    "GET /w/{tenant}/map": Case("/w/{slug}/map", own_only(200), TOKEN),
    "GET /w/{tenant}/announcements": Case("/w/{slug}/announcements", own_only(200), TOKEN),
    "GET /w/{tenant}/report": Case("/w/{slug}/report", own_only(200), TOKEN),
    "POST /w/{tenant}/report": Case("/w/{slug}/report", own_only(303), TOKEN, WIDGET_REPORT),
    # The thank-you page names the issue only if it shows here, and never fails.
    "GET /w/{tenant}/stats": Case("/w/{slug}/stats", own_only(200), TOKEN),
    "GET /w/{tenant}/stats.svg": Case("/w/{slug}/stats.svg", own_only(200), TOKEN),
    # Only an issue this portal shows: another portal's or a hidden one is the same 404.
    "GET /w/{tenant}/issue": Case("/w/{home_slug}/issue?issue={issue}", own_only(200), ISSUE),
    "GET /w/{tenant}/report/sent/{issue_id:int}": Case(
        "/w/{home_slug}/report/sent/{issue}", everyone(200), ISSUE),
    "GET /staff/widgets": Case("/staff/widgets", everyone(200),
                                shows=("snippet-code", lambda w: w.admin)),
    "POST /staff/widgets": Case("/staff/widgets", everyone(400), form={"token": "wrong"}),
    # -- Open311: reads for everyone, scoped like the pages; writes need a key ----------
    "GET /open311": Case("/open311", everyone(200)),
    "GET /open311/v2/discovery.{format}": Case("/open311/v2/discovery.json", everyone(200)),
    "GET /open311/v2/services.{format}": Case("/open311/v2/services.xml", everyone(200)),
    "GET /open311/v2/services/{service_code}.{format}": Case(
        "/open311/v2/services/pothole.json", everyone(200)),
    "GET /open311/v2/requests.{format}": Case("/open311/v2/requests.json", everyone(200)),
    "GET /open311/v2/requests/{request_id}.{format}": Case(
        "/open311/v2/requests/{issue}.xml", own_only(200), ISSUE),
    "GET /open311/v2/tokens/{token}.{format}": Case("/open311/v2/tokens/o311-none.json",
                                                     everyone(404)),
    "GET /open311/v2/servicerequestupdates.{format}": Case(
        "/open311/v2/servicerequestupdates.xml", everyone(200)),
    # A session is no key: everyone is refused without one, and nothing is written.
    "POST /open311/v2/requests.{format}": Case(
        "/open311/v2/requests.json", everyone(403), form={
            "service_code": "pothole", "lat": "{lat}", "long": "{lon}",
            "description": "Deep hole here"}),
    "POST /open311/v2/servicerequestupdates.{format}": Case(
        "/open311/v2/servicerequestupdates.xml", everyone(403), form={
            "service_request_id": "{issue}", "status": "FIXED", "update_id": "m-1"}),
    "GET /staff/open311": Case("/staff/open311", section(lambda w: w.admin)),
    "POST /staff/open311": Case("/staff/open311", section(lambda w: w.admin),
                                form={"application": "Matrix app"}),
    "POST /staff/open311/{key_id:int}/revoke": Case(
        "/staff/open311/999999/revoke", lambda w: 404 if w.admin else 403, changes=False),
    # -- a portal's admins run it (`routes.staff_portal`): their own portal only.  Writes
    # here send a bad value, so the admin's cell proves the form is theirs (400, the
    # value named) without moving the settings every other cell reads.
    "GET /staff/portal": Case("/staff/portal", section(lambda w: w.admin)),
    "GET /staff/portal/staff": Case("/staff/portal/staff", section(lambda w: w.admin)),
    "GET /staff/portal/audit": Case("/staff/portal/audit", section(lambda w: w.admin)),
    "POST /staff/portal/branding": Case("/staff/portal/branding", admin_form,
                                        form={"theme": "no-such-theme"}),
    "POST /staff/portal/logo": Case("/staff/portal/logo", admin_form),
    "POST /staff/portal/languages": Case("/staff/portal/languages", admin_form,
                                         form={"default_language": "xx"}),
    "POST /staff/portal/origins": Case("/staff/portal/origins", admin_form,
                                       form={"origins": "javascript:alert(1)"}),
    "POST /staff/portal/request-types": Case("/staff/portal/request-types", admin_form),
    "POST /staff/portal/staff": Case("/staff/portal/staff", admin_form, form={
        "email": "not an address", "role": "admin", "place": ""}),
    "POST /staff/portal/staff/role": Case("/staff/portal/staff/role", admin_form, form={
        "email": "nobody@matrix.test", "place": "", "old": "admin", "role": "moderator"}),
    "POST /staff/portal/staff/remove": Case("/staff/portal/staff/remove", admin_form, form={
        "email": "nobody@matrix.test", "place": "", "role": "admin"}),
    "POST /staff/portal/audit/{change_id:int}/undo": Case(
        "/staff/portal/audit/999999/undo", lambda w: 404 if w.admin else 403, changes=False),
    # -- signing in and out ------------------------------------------------------------
    "GET /signin": Case("/signin", everyone(200)),
    "POST /signin": Case("/signin", everyone(200), form={"email": "{email}"}),
    "GET /signin/confirm": Case("/signin/confirm?token={signin_token}", own_only(200, 400),
                                TOKEN),
    "POST /signin/confirm": Case("/signin/confirm", own_only(303, 400), TOKEN,
                                 {"token": "{signin_token}"}, fresh="signin",
                                 resign=True),  # signing in as another ends this session
    "GET /account": Case("/account", lambda w: 303 if w.anon else 200),
    "POST /signout": Case("/signout", everyone(303), changes=False, resign=True),
    "POST /signout/everywhere": Case("/signout/everywhere", everyone(303), changes=False,
                                     resign=True),
    # -- staff sections ----------------------------------------------------------------
    "GET /staff": Case("/staff", section(lambda w: w.any_staff or w.mod or w.office)),
    "GET /staff/queue": Case("/staff/queue", section(lambda w: w.any_staff)),
    "GET /staff/moderation": Case("/staff/moderation", section(lambda w: w.mod)),
    "GET /staff/announcements": Case("/staff/announcements", section(writes_news)),
    "POST /staff/announcements": Case("/staff/announcements", publish_rule, ("own", "body"), {
        "author": "{author}", "title_en": "Hi", "body_en": "Text", "target": "all"},
        fresh="news"),
    "POST /staff/announcements/{announcement_id:int}/withdraw": Case(
        "/staff/announcements/{news}/withdraw", withdraw_rule, ("own", "alien", "body"),
        fresh="news"),
    # -- a politician's constituent desk (northside's office) --------------------------
    "GET /staff/constituents": Case("/staff/constituents", section(lambda w: w.office)),
    "GET /staff/constituents/{issue_id:int}": Case(
        "/staff/constituents/{issue}", thing(lambda w: w.office and w.target == "own", 200),
        ISSUE),
    "POST /staff/constituents/{issue_id:int}/follow-up": Case(
        "/staff/constituents/{issue}/follow-up", thing(lambda w: w.office and w.target == "own"),
        ISSUE, {"text": "Our office has asked about this"}, fresh="unit"),
    "POST /staff/constituents/{issue_id:int}/escalate": Case(
        "/staff/constituents/{issue}/escalate", thing(lambda w: w.office and w.target == "own"),
        ISSUE, {"text": "Please look"}, fresh="unit"),
    # -- the platform operators' pages: no actor here is an operator, so all are refused
    # (tests/test_operator_pages.py acts as one) ---------------------------------------
    "GET /operator": Case("/operator", section(lambda w: False)),
    "GET /operator/new": Case("/operator/new", section(lambda w: False)),
    "POST /operator/new": Case("/operator/new", section(lambda w: False), form={
        "slug": "matrix-new", "name_en": "Matrix", "action": "create",
        "drawn_geojson": '{{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}'}),
    "GET /operator/preview.css": Case("/operator/preview.css?theme=civic",
                                      section(lambda w: False)),
    "GET /operator/portals/{slug}": Case("/operator/portals/{slug}", section(lambda w: False),
                                         TOKEN),
    "GET /operator/bodies": Case("/operator/bodies", section(lambda w: False)),
    "POST /operator/bodies": Case("/operator/bodies", section(lambda w: False), form={
        "name_property": "name", "slug_template": "m-{{name}}", "request_types": "a: A"}),
    # Response templates: a body's staff, their own body's only (city-works' template is
    # shared by every cell, so writes aim at a template nobody has and change nothing).
    "GET /staff/templates": Case("/staff/templates", section(lambda w: w.any_staff)),
    "POST /staff/templates": Case("/staff/templates",
                                  lambda w: 303 if w.any_staff else 403,
                                  form={"title_en": "Matrix", "text_en": "On it"}),
    "GET /staff/templates/{template_id:int}": Case(
        "/staff/templates/{reply_template}",
        lambda w: 200 if w.body_staff else 404 if w.any_staff else 403),
    "POST /staff/templates/{template_id:int}": Case(
        "/staff/templates/999999", lambda w: 404 if w.any_staff else 403,
        form={"title_en": "Taken", "text_en": "Over"}, changes=False),
    "POST /staff/templates/{template_id:int}/delete": Case(
        "/staff/templates/999999/delete", lambda w: 404 if w.any_staff else 403,
        changes=False),
    "POST /staff/issues/{issue_id:int}/template": Case(
        "/staff/issues/{issue}/template", thing(manages, 200), ISSUE,
        {"template": "{reply_template}"}, changes=False),
    # -- one issue, staff side ---------------------------------------------------------
    "GET /staff/issues/{issue_id:int}": Case("/staff/issues/{issue}",
                                             thing(opens_staff_issue, 200), ISSUE),
    "POST /staff/queue/bulk": Case("/staff/queue/bulk", bulk_rule, ISSUE,
                                   {"issue": "{issue}", "action": "acknowledge"},
                                   fresh="unit"),
    "POST /staff/issues/{issue_id:int}/status": Case(
        "/staff/issues/{issue}/status", thing(manages), ISSUE, STATUS, fresh="unit"),
    "POST /staff/issues/{issue_id:int}/reopen": Case(
        "/staff/issues/{issue}/reopen", thing(manages, 400), ISSUE, {"decision": "accept"},
        changes=False),
    "POST /staff/issues/{issue_id:int}/note": Case(
        "/staff/issues/{issue}/note", thing(manages), ISSUE, {"text": "Crew booked"},
        fresh="unit"),
    "POST /staff/issues/{issue_id:int}/reassign": Case(
        "/staff/issues/{issue}/reassign", thing(manages), ISSUE,
        {"body": "{state_body}", "text": ""}, fresh="unit"),
    "POST /staff/issues/{issue_id:int}/duplicate": Case(
        "/staff/issues/{issue}/duplicate", thing(manages), ISSUE, {"original": "{original}"},
        fresh="unit"),
    "POST /staff/issues/{issue_id:int}/hide": Case(
        "/staff/issues/{issue}/hide", thing(moderates), ISSUE, {"reason": "abuse"},
        fresh="unit"),
    "POST /staff/issues/{issue_id:int}/unhide": Case(
        "/staff/issues/{issue}/unhide", thing(moderates), ISSUE, {"reason": "was fine"},
        fresh="unit"),
    "POST /staff/issues/{issue_id:int}/updates/{update_id:int}/hide": Case(
        "/staff/issues/{issue}/updates/{comment}/hide", thing(moderates), CHILD,
        {"reason": "phone"}, fresh="unit"),
    "POST /staff/issues/{issue_id:int}/updates/{update_id:int}/unhide": Case(
        "/staff/issues/{issue}/updates/{hidden_comment}/unhide", thing(moderates), CHILD,
        {"reason": "fine"}, fresh="unit"),
    "POST /staff/issues/{issue_id:int}/photo/hide": Case(
        "/staff/issues/{issue}/photo/hide", thing(moderates), ISSUE,
        {"photo": "{photo}", "reason": "face"}, fresh="photo-unit"),
    "POST /staff/issues/{issue_id:int}/photo/{action_id:int}/restore": Case(
        "/staff/issues/{issue}/photo/{takedown}/restore", thing(moderates), CHILD,
        {"reason": "blurred"}, fresh="photo-unit"),
    "POST /staff/issues/{issue_id:int}/redact": Case(
        "/staff/issues/{issue}/redact", thing(lambda w: w.here and (w.body_staff or w.mod)),
        CHILD, {"target": "update:{comment}:text", "passage": "Public"}, fresh="unit"),
    "POST /staff/moderation/issues/{issue_id:int}/dismiss": Case(
        "/staff/moderation/issues/{issue}/dismiss", thing(moderates), ISSUE, fresh="unit",
        changes=lambda w: w.target == "own"),  # hiding an issue resolved its flags
}


def route_keys(routes, prefix: str = "") -> list[str]:  # noqa: ANN001
    """"METHOD path" for every route, walking into Mounts (and any router that has routes)."""
    keys = []
    for route in routes:
        path = prefix + getattr(route, "path", "")
        if isinstance(route, Route):  # methods None: an endpoint class that takes any method
            keys += [f"{method} {path}" for method in sorted(route.methods or ["ANY"])]
        elif getattr(route, "routes", None):
            keys += route_keys(route.routes, path)
        elif isinstance(route, Mount):
            keys.append(f"MOUNT {path}")
        else:
            keys.append(f"{type(route).__name__} {path}")
    return keys


def expectation_key(route_key: str) -> str:
    """HEAD is answered by the GET handler, so it follows the GET expectation."""
    return "GET " + route_key[5:] if route_key.startswith("HEAD ") else route_key


def test_every_route_has_an_expectation(scene):
    keys = route_keys(scene.app.routes)
    missing = [f"add an expectation for {k}" for k in keys
               if expectation_key(k) not in EXPECTATIONS]
    assert not missing, "\n".join(missing)
    stale = sorted(set(EXPECTATIONS) - {expectation_key(k) for k in keys})
    assert not stale, f"expectations for routes that no longer exist: {stale}"


@dataclass(frozen=True)
class Cell:
    key: str
    method: str
    actor: str
    host: str
    target: str

    def __str__(self) -> str:
        return f"{self.method} {self.key.split(' ', 1)[1]} | {self.actor}@{self.host} -> " \
               f"{self.target}"


def _cells() -> list[Cell]:
    """Every route × method × person × host × target; HEAD (answered by the GET handler,
    without a body) on one host only, to keep the run short."""
    cells = []
    for key, case in EXPECTATIONS.items():
        kind = key.split(" ")[0]
        methods = {"GET": ["GET", "HEAD"], "MOUNT": ["GET", "HEAD"],
                   "ANY": ["GET", "POST"]}.get(kind, [kind])
        for method in methods:
            for actor in ACTORS:
                for host in HOSTS if method != "HEAD" else ["north"]:
                    cells += [Cell(key, method, actor, host, t) for t in case.targets]
    return cells


CELLS = _cells()


def _fill(template: str, values: dict) -> str:
    return template.format(**values)


def leaks(scene: Scene, body: bytes, actor: str, host: str) -> list[str]:
    """Markers in `body` that this person on this host must not see."""
    found = []
    for marker in scene.markers:
        allowed = marker.host == host and (marker.readers is None or actor in marker.readers)
        if not allowed and any(form in body for form in marker.forms()):
            found.append(f"{marker.kind} of {marker.host}: {marker.text}")
    return found


READS = ("GET", "HEAD")


def _send(scene: Scene, cell: Cell, case: Case, values: dict):  # noqa: ANN202 - a Response
    client = scene.client(cell.actor, cell.host)
    path = _fill(case.path, values)
    if cell.method in READS:
        return client.request(cell.method, path)
    form = {k: _fill(v, values) for k, v in case.form.items()}
    form["csrf_token"] = scene.csrf[(cell.actor, cell.host)]  # their own, valid token
    response = client.request(cell.method, path, data=form)
    if case.resign and cell.actor != "anonymous" and response.status_code < 400:
        scene.sign_in_everywhere(cell.actor)  # a refused write ended nothing
    return response


@pytest.mark.parametrize("cell", CELLS, ids=str)
def test_route_matrix(scene, cell):
    case = EXPECTATIONS[cell.key]
    who = Who(cell.actor, cell.host, cell.target)
    expected = case.rule(who)
    allowed_write = cell.method not in READS and expected < 400
    values = scene.values(cell.host, cell.target, case.fresh if allowed_write else "")
    # Reads are checked for writes once per route; writes always.
    check_db = cell.method not in READS or (cell.actor == "anonymous" and cell.host == "north")
    before = mutable_state(scene.db) if check_db else None
    response = _send(scene, cell, case, values)
    problems = []
    if response.status_code != expected:
        problems.append(f"status {response.status_code}, expected {expected}")
    if cell.method == "HEAD" and response.content:
        problems.append("HEAD answered with a body")
    if case.shows and response.status_code == 200 and cell.method == "GET":
        text, who_sees = case.shows
        if (text in response.text) != who_sees(who):
            problems.append(f"{text!r} {'shown' if text in response.text else 'not shown'}")
    seen = response.content + response.headers.get("location", "").encode()
    problems += [f"leaks {m}" for m in leaks(scene, seen, cell.actor, cell.host)]
    if check_db:
        changed = changed_tables(before, mutable_state(scene.db))
        if not allowed_write and changed:
            problems.append(f"refused or read-only, yet changed {changed}")
        must_change = case.changes(who) if callable(case.changes) else case.changes
        if allowed_write and must_change and response.status_code == expected and not changed:
            problems.append("allowed write changed nothing")
    assert not problems, f"{cell}: " + "; ".join(problems) + f"\n{response.text[:300]}"

def test_markers_show_where_they_belong(scene):
    """The leak search can fail: each kind of marker is in the pages of those who may see it."""
    unit = scene.bundles["north"].visible
    public = scene.client("anonymous", "north").get(f"/issues/{unit.issue}").content
    staff = scene.client("staff_city", "north").get(f"/staff/issues/{unit.issue}").content
    mod = scene.client("mod_north", "north").get(f"/staff/issues/{unit.issue}").content
    news = scene.client("anonymous", "north").get("/announcements.atom").content
    north = [m for m in scene.markers if m.host == "north"]
    hidden_issue = f"/staff/issues/{scene.bundles['north'].hidden.issue}"
    staff += scene.client("staff_city", "north").get(hidden_issue).content
    mod += scene.client("mod_north", "north").get(hidden_issue).content
    desk = scene.client("office_north", "north").get(
        f"/staff/constituents/{scene.desk_issue}").content
    for marker in north:
        pages = {"issue-text": [public], "news": [news], "private": [staff],
                 "office-contact": [desk],
                 "internal": [staff, mod], "hidden": [staff, mod]}[marker.kind]
        assert all(any(f in page for f in marker.forms()) for page in pages), marker
    assert not leaks(scene, public + news, "anonymous", "north")
    assert leaks(scene, staff, "mod_north", "north")  # contact details: body staff only
    assert leaks(scene, desk, "staff_state", "north")  # consented contacts: the office only
    assert leaks(scene, public, "anonymous", "river")  # north's text is not river's


def _readers(scene: Scene, issue: int) -> list[str]:
    """Every public reader of northside that shows an issue's text."""
    return ["/", "/issues", "/search?q=pothole", "/feed.atom", "/exports/issues.csv",
            "/exports/issues.geojson", f"/watch/{scene.feed_token['north']}/feed.atom",
            f"/watch?issue={issue}", f"/issues/{issue}"]


def _thanks_links_to(client, issue: int) -> bool:  # noqa: ANN001
    """The report widget's thank-you page links to the issue only while it is shown."""
    return f'/issues/{issue}"' in client.get(f"/w/northside/report/sent/{issue}").text


def _moderate(scene: Scene, path: str, form: dict) -> None:
    response = scene.client("mod_north", "north").post(
        path, data={**form, "csrf_token": scene.csrf[("mod_north", "north")]})
    assert response.status_code == 303, response.text


def _dashboard_total(client) -> int:  # noqa: ANN001
    html = client.get("/dashboard").text
    return int(html.split('data-figure="total">', 1)[1].split("<", 1)[0].replace(",", ""))


def test_a_hidden_issue_leaves_every_reader_and_the_cached_map(scene):
    with scene.db.session() as s:
        unit, words = scene.unit(s, "north", False, "QzGone")
    client = scene.client("anonymous", "north")
    paths = _readers(scene, unit.issue) + ["/api/issues.geojson"]
    for path in paths:  # the map's API body is now cached by its ETag
        assert words["title"] in client.get(path).text, path
    assert client.get(f"/media/{unit.photo}.jpg").status_code == 200
    assert _thanks_links_to(client, unit.issue)
    total = _dashboard_total(client)

    _moderate(scene, f"/staff/issues/{unit.issue}/hide", {"reason": "abuse"})

    for path in paths:
        response = client.get(path)
        assert words["title"] not in response.text and words["desc"] not in response.text, path
    assert client.get(f"/issues/{unit.issue}").status_code == 404
    assert client.get(f"/media/{unit.photo}.jpg").status_code == 404
    assert not _thanks_links_to(client, unit.issue)
    assert _dashboard_total(client) == total - 1


def test_redacted_text_leaves_every_reader(scene):
    with scene.db.session() as s:
        unit, words = scene.unit(s, "north", False, "QzCut")
    client = scene.client("anonymous", "north")
    paths = _readers(scene, unit.issue)
    for path in paths:
        assert words["title"] in client.get(path).text, path

    for column, word in (("title", "title"), ("description", "desc")):
        _moderate(scene, f"/staff/issues/{unit.issue}/redact",
                  {"target": f"issue:{column}", "passage": words[word]})

    for path in paths:
        text = client.get(path).text
        assert words["title"] not in text and words["desc"] not in text, path
    assert "[redacted]" in client.get(f"/issues/{unit.issue}").text


def test_the_cached_map_api_forgets_redacted_text(scene):
    with scene.db.session() as s:
        unit, words = scene.unit(s, "north", False, "QzApi")
    client = scene.client("anonymous", "north")
    assert words["title"] in client.get("/api/issues.geojson").text  # cached by its ETag now

    _moderate(scene, f"/staff/issues/{unit.issue}/redact",
              {"target": "issue:title", "passage": words["title"]})

    assert words["title"] not in client.get("/api/issues.geojson").text
