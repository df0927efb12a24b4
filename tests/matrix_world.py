"""One world for the suites that walk every route at once (`tests/test_route_matrix.py`).

Two portals that do not overlap (northside and riverside, see `tests/worlds.py`), each with:

- a visible city-works issue with a private reporter, a photo, a public comment, a hidden
  comment, an internal note, an open flag and a "fixed" photo moderators took down;
- a hidden issue built the same way;
- a portal announcement, a confirmed portal watch (its feed), an unconfirmed one, and an unused
  sign-in link.

Northside is a politician's portal in the matrix (riverside stays a newspaper's): one more
issue there has a reporter who let its office contact them, whose name and email only the
body's staff and northside's office (`office_north`, and its admin) may see.

Every text a portal must keep to itself carries a unique marker string (`Marker`), and the
suite searches every response body for them. Eight people (`ACTORS`) are signed in on both
portals through the product's own sign-in (the emailed link); the resident has voted and
commented there. `Scene.fresh` makes the same rows again for a write that is allowed
to succeed, so the shared rows the other cells read never change state.
"""

from __future__ import annotations

import io
import itertools
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import quote

from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from portal.app import create_app
from portal.core.settings import REPO_ROOT, Settings
from portal.engagement import watching
from portal.mail import status_links, unsubscribe
from portal.models import (
    Announcement,
    Base,
    Body,
    Flag,
    Issue,
    LoginToken,
    ResponseTemplate,
    Tenant,
    Update,
    User,
    Vote,
    Watch,
)
from portal.reports import status
from portal.staff import announcements, moderation, triage
from tests.conftest import _clean
from tests.factories import file_report
from tests.http_support import csrf
from tests.staff_support import grant, last_link, request_link, sign_in
from tests.worlds import build_world
from widgets import loader

HOSTS = {"north": "northside", "river": "riverside"}  # host name -> portal slug
OTHER = {"north": "river", "river": "north"}
PLACES = {"north": (1.8, 1.0), "river": (0.2, 1.0)}  # (lat, lon) inside one portal only
BODY = "city-works"  # every seeded issue's body

ACTORS = {  # name -> (role, where); every role is held in exactly one place
    "anonymous": None,
    "resident": None,
    "staff_city": ("staff", {"body": "city-works"}),
    "staff_state": ("staff", {"body": "state-roads"}),
    "admin_north": ("admin", {"portal": "northside"}),
    "admin_river": ("admin", {"portal": "riverside"}),
    "mod_north": ("moderator", {"portal": "northside"}),
    "mod_river": ("moderator", {"portal": "riverside"}),
    "office_north": ("office", {"portal": "northside"}),  # northside is a politician's here
}


def host_name(host: str) -> str:
    return f"{HOSTS[host]}.reportal.test"


def email_of(actor: str) -> str:
    return f"{actor}@matrix-people.test"


@dataclass(frozen=True)
class Marker:
    """A string that may appear only on `host`'s portal, and there only to `readers`
    (None: everyone on that host)."""

    text: str
    host: str
    kind: str  # issue-text, private, office-contact, internal, hidden, news
    readers: frozenset[str] | None = None

    def forms(self) -> tuple[bytes, ...]:
        return tuple({self.text.encode(), quote(self.text).encode(),
                      quote(self.text, safe="").encode(),
                      self.text.replace("@", "&#64;").encode()})


@dataclass
class Unit:
    """One issue with everything around it that a route can point at."""

    issue: int
    photo: str  # the issue's own photo, shown while the issue is
    comment: int  # a public comment
    hidden_comment: int  # a comment moderators hid
    takedown: int  # the moderation action that took `takedown_photo` down
    takedown_photo: str


@dataclass
class Bundle:
    """What one portal holds for the matrix to point at."""

    visible: Unit
    hidden: Unit
    original: int  # another visible issue, for "mark as duplicate"
    news: int  # the portal's announcement
    body_news: int  # a city-works announcement shown on it


@dataclass(repr=False)
class Scene:
    """The app, its rows and its people, and how a cell turns a target into ids and tokens."""

    app: object
    db: object
    settings: object
    bundles: dict[str, Bundle]
    markers: list[Marker]
    watch_token: dict[str, str]  # host -> a confirm link token (of an unconfirmed watch)
    feed_token: dict[str, str]  # host -> a confirmed watch's feed token
    unsubscribe_token: str  # for a watch kept for the unsubscribe routes only
    signin_token: dict[str, str]  # host -> an unused sign-in link token issued there
    cookies: dict[tuple[str, str], dict] = field(default_factory=dict)  # (actor, host)
    csrf: dict[tuple[str, str], str] = field(default_factory=dict)
    body_ids: dict[str, int] = field(default_factory=dict)
    static_file: str = ""
    desk_issue: int = 0  # northside's issue whose reporter its office may contact
    reply_template: int = 0  # a city-works response template, read by the cells only
    counter: itertools.count = field(default_factory=lambda: itertools.count(1))

    def __repr__(self) -> str:  # pytest and Hypothesis print a failing test's arguments
        return "<matrix scene>"

    def _repr_pretty_(self, printer, cycle: bool) -> None:  # noqa: ANN001 - Hypothesis' own
        printer.text(repr(self))

    # -- clients -----------------------------------------------------------------------

    def client(self, actor: str, host: str) -> TestClient:
        """A browser for one request: the actor's cookies on that host, nothing kept after."""
        return TestClient(self.app, base_url=f"http://{host_name(host)}",
                          follow_redirects=False, cookies=self.cookies.get((actor, host), {}))

    def sign_in_everywhere(self, actor: str) -> None:
        for host in HOSTS:
            client = TestClient(self.app, base_url=f"http://{host_name(host)}",
                                follow_redirects=False)
            if actor != "anonymous":
                sign_in(client, self.db, email_of(actor))
            self.cookies[(actor, host)] = dict(client.cookies)
            self.csrf[(actor, host)] = csrf(client.get("/signin").text)

    def fresh_signin_token(self, host: str) -> str:
        email = f"fresh{next(self.counter)}@matrix-people.test"
        client = TestClient(self.app, base_url=f"http://{host_name(host)}",
                            follow_redirects=False)
        assert request_link(client, email).status_code == 200
        return last_link(self.db, email)[1]

    # -- rows --------------------------------------------------------------------------

    def photo(self) -> bytes:
        """A JPEG no other row has (photos are stored by content digest)."""
        n = next(self.counter)
        img = Image.new("RGB", (40 + n % 50, 30 + n // 50 % 50), (n * 37 % 256, n * 11 % 256,
                                                                 n * 5 % 256))
        out = io.BytesIO()
        img.save(out, "JPEG")
        return out.getvalue()

    def unit(self, s: Session, host: str, hidden: bool, mark: str = "",
             photos: bool = True) -> tuple[Unit, dict]:
        """An issue and its children; `mark` (when given) names the marker strings used.
        Without `photos` it is quicker to make, for writes that touch no photo."""
        portal = s.scalars(select(Tenant).where(Tenant.slug == HOSTS[host])).one()
        lat, lon = PLACES[host]
        words = {name: f"{mark}{name}" if mark else f"plain {name} {next(self.counter)}"
                 for name in ("title", "desc", "email", "name", "comment", "hidden", "note")}
        email = (f"{words['email'].lower()}@reporters.test" if mark
                 else f"plain{next(self.counter)}@reporters.test")
        issue = file_report(
            s, HOSTS[host], lat, lon, title=words["title"],
            description=f"Deep pothole {words['desc']} by the school", email=email,
            name=f"Reporter {words['name']}", photo=self.photo() if photos else None,
            media_dir=self.settings.media_dir)
        comment = status.add_comment(s, issue, f"Public comment {words['comment']}", "Neighbour")
        secret = status.add_comment(s, issue, f"Hidden comment {words['hidden']}", "Troll")
        moderation.set_update_hidden(s, secret, True, portal, None, "abuse")
        triage.add_note(s, issue, f"Internal note {words['note']}", triage.Actor(None))
        takedown, takedown_photo = 0, ""
        if photos:
            fix = status.report_fixed(s, issue, "Fixed, see photo", "", self.photo(),
                                      self.settings.media_dir, self.settings.max_photo_bytes)
            takedown_photo = fix.photo
            takedown = moderation.hide_photo(s, issue, takedown_photo, portal, None,
                                             "a face").id
        moderation.flag(s, portal, issue, "other", "Please look", f"v:flagger{issue.id}")
        if hidden:
            moderation.hide_issue(s, issue, portal, None, "spam")
        unit = Unit(issue.id, issue.photo or "", comment.id, secret.id, takedown, takedown_photo)
        return unit, {**words, "email": email}

    def news(self, s: Session, host: str, title: str) -> tuple[int, int]:
        """(a portal announcement, a city-works one) shown on `host`'s portal."""
        portal = s.scalars(select(Tenant).where(Tenant.slug == HOSTS[host])).one()
        city = s.scalars(select(Body).where(Body.slug == BODY)).one()
        news = announcements.publish(s, title={"en": title}, body_md={"en": "Hello"},
                                     tenant=portal)
        body_news = announcements.publish(s, title={"en": f"Works {next(self.counter)}"},
                                          body_md={"en": "Digging"}, body=city)
        return news.id, body_news.id

    def bundle(self, s: Session, host: str, mark: str) -> tuple[Bundle, dict]:
        visible, seen = self.unit(s, host, False, mark)
        hidden, hidden_words = self.unit(s, host, True, mark + "H")
        lat, lon = PLACES[host]
        original = file_report(s, HOSTS[host], lat, lon, description="The same hole again")
        news, body_news = self.news(s, host, f"{mark}news")
        return (Bundle(visible, hidden, original.id, news, body_news),
                {"visible": seen, "hidden": hidden_words, "news": f"{mark}news"})

    def fresh(self, host: str, target: str, what: str) -> Bundle:
        """This portal's rows again, made for one allowed write: the unit it points at
        (`what` "unit", or "photo-unit" when the write touches photos) or the news."""
        shared = self.bundles[host]
        with self.db.session() as s:
            if what == "news":
                news, body_news = self.news(s, host, f"News {next(self.counter)}")
                return replace(shared, news=news, body_news=body_news)
            unit = self.unit(s, host, target == "hidden", photos=what == "photo-unit")[0]
            return replace(shared, **{"hidden" if target == "hidden" else "visible": unit})

    # -- what a route's path and form are filled with ----------------------------------

    def values(self, host: str, target: str, fresh: str = "") -> dict:
        """Ids and tokens for one cell. Targets: `own` (a thing of this portal), `alien`
        (the other portal's), `hidden` (this portal's hidden issue), `mismatch` (this
        portal's issue with the other portal's child row), `taken_down` (a photo moderators
        took down here), `body` (city-works' news or voice), `forged` (a token nobody
        issued). `fresh` ("unit", "photo-unit", "news", "signin") points at rows made for
        this cell alone (see `fresh`)."""
        other = OTHER[host]
        mine = (self.fresh(host, target, fresh) if fresh in ("unit", "photo-unit", "news")
                else self.bundles[host])
        theirs = self.bundles[other]
        unit = {"hidden": mine.hidden, "alien": theirs.visible}.get(target, mine.visible)
        child = theirs.visible if target == "mismatch" else unit
        away = target == "alien"
        lat, lon = PLACES[other if away else host]
        n = next(self.counter)
        signin = self.fresh_signin_token(host) if fresh == "signin" else self.signin_token[host]
        photo = {"taken_down": mine.visible.takedown_photo,
                 "forged": "0" * 40}.get(target, unit.photo)
        return {
            "issue": unit.issue, "comment": child.comment, "hidden_comment": child.hidden_comment,
            "photo": photo, "takedown": child.takedown, "original": mine.original,
            "news": {"alien": theirs.news, "body": mine.body_news}.get(target, mine.news),
            "author": f"body:{self.body_ids[BODY]}" if target == "body" else "portal",
            "state_body": self.body_ids["state-roads"],
            "reply_template": self.reply_template,
            "slug": HOSTS[other if away else host], "home_slug": HOSTS[host],
            "lat": lat, "lon": lon, "home_lat": PLACES[host][0], "home_lon": PLACES[host][1],
            "watch_token": self.watch_token[other if away else host],
            "feed_token": self.feed_token[other if away else host],
            "signin_token": self.signin_token[other] if away else signin,
            "status_token": status_links.make_token(
                "forged-" + self.settings.secret_key if target == "forged"
                else self.settings.secret_key, unit.issue, HOSTS[other if away else host]),
            "unsubscribe_token": "forged" + self.unsubscribe_token[6:]
            if target == "forged" else self.unsubscribe_token,
            "embed_name": "v1.000000000000.js" if target == "forged" else
            loader.current().versioned_name,
            "static_file": "css/none.css" if target == "forged" else self.static_file,
            "email": f"cell{n}@matrix-people.test", "key": f"matrix-cell-{n}",
        }


STATE_COLUMNS = {  # what a write could change, per table (row counts cover the rest)
    Issue: (Issue.id, Issue.status, Issue.title, Issue.description, Issue.address,
            Issue.hidden, Issue.vote_count, Issue.body_id, Issue.request_type_id,
            Issue.photo, Issue.updated_at, Issue.reporter_email, Issue.reporter_name),
    Update: (Update.id, Update.issue_id, Update.text, Update.author_name, Update.hidden,
             Update.internal, Update.photo, Update.new_status),
    Vote: (Vote.id, Vote.issue_id, Vote.voter_key),
    Flag: (Flag.id, Flag.resolved_at, Flag.resolution),
    Watch: (Watch.id, Watch.confirmed_at, Watch.ended_at, Watch.frequency, Watch.locale),
    Announcement: (Announcement.id, Announcement.expire_at, Announcement.publish_at),
    User: (User.id, User.last_sign_in_at, User.name),
    LoginToken: (LoginToken.id, LoginToken.used_at),
    ResponseTemplate: (ResponseTemplate.id, ResponseTemplate.body_id,
                       ResponseTemplate.updated_at),
}


def _state_queries(db) -> list[tuple[str, str]]:  # noqa: ANN001
    """(name, SQL) pairs, compiled once: the state is read before and after every write."""
    dialect = db.engine.dialect
    counts = select(*(select(func.count()).select_from(t).scalar_subquery().label(t.name)
                      for t in Base.metadata.sorted_tables))
    queries = [("counts", str(counts.compile(dialect=dialect)))]
    for model, cols in STATE_COLUMNS.items():
        stmt = select(*cols).order_by(cols[0])
        queries.append((f"{model.__tablename__}*", str(stmt.compile(dialect=dialect))))
    return queries


_QUERIES: dict[int, list[tuple[str, str]]] = {}


def mutable_state(db) -> dict:  # noqa: ANN001
    """Row counts of every table, plus a digest of the columns a write could change."""
    if id(db) not in _QUERIES:
        _QUERIES[id(db)] = _state_queries(db)
    queries = _QUERIES[id(db)]
    state: dict = {}
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        for name, sql in queries:
            cursor.execute(sql)
            rows = cursor.fetchall()
            if name == "counts":
                state.update(zip((t.name for t in Base.metadata.sorted_tables), rows[0],
                                 strict=True))
            else:
                state[name] = hash(tuple(map(tuple, rows)))
        cursor.close()
    finally:
        raw.close()
    return state


def changed_tables(before: dict, after: dict) -> list[str]:
    return sorted(k for k in before if before[k] != after.get(k))


def build_scene(app, db, settings) -> Scene:  # noqa: ANN001
    """Seed both portals, then sign everyone in on both through the product's sign-in."""
    scene = Scene(app, db, settings, {}, [], {}, {}, "", {})
    manifest = json.loads((settings.static_build_dir / "manifest.json").read_text())
    scene.static_file = manifest["css/portal.css"]
    with db.session() as s:
        scene.body_ids = {b.slug: b.id for b in s.scalars(select(Body))}
        template = ResponseTemplate(body_id=scene.body_ids[BODY], title={"en": "Matrix reply"},
                                    text={"en": "We are on it."})
        s.add(template)
        s.flush()
        scene.reply_template = template.id
        for host in HOSTS:
            mark = f"Qz{host[:2]}"
            bundle, words = scene.bundle(s, host, mark)
            scene.bundles[host] = bundle
            v, h = words["visible"], words["hidden"]
            staff = frozenset({"staff_city"})
            openers = frozenset({"staff_city", f"mod_{host}", f"admin_{host}"})
            scene.markers += [Marker(v["title"], host, "issue-text"),
                              Marker(v["desc"], host, "issue-text"),
                              Marker(v["comment"], host, "issue-text"),
                              Marker(words["news"], host, "news"),
                              Marker(v["email"], host, "private", staff),
                              Marker(v["name"], host, "private", staff),
                              Marker(h["email"], host, "private", staff),
                              Marker(h["name"], host, "private", staff),
                              Marker(v["note"], host, "internal", openers),
                              Marker(h["note"], host, "internal", openers),
                              Marker(v["hidden"], host, "hidden", openers),
                              *(Marker(h[k], host, "hidden", openers)
                                for k in ("title", "desc", "comment", "hidden"))]
            if host == "north":  # a reporter the politician's office may contact
                lat, lon = PLACES[host]
                desk = file_report(s, HOSTS[host], lat, lon, description="Broken bench",
                                   email=f"{mark}desk@reporters.test".lower(),
                                   name=f"Reporter {mark}desk", office_contact=True)
                scene.desk_issue = desk.id
                office = frozenset({"staff_city", "office_north", "admin_north"})
                scene.markers += [Marker(desk.reporter_email, host, "office-contact", office),
                                  Marker(desk.reporter_name, host, "office-contact", office)]
            portal = s.scalars(select(Tenant).where(Tenant.slug == HOSTS[host])).one()
            secret = settings.secret_key
            for kind, confirmed in (("portal", True), ("unconfirmed", False)):
                form = watching.WatchForm(email=f"{kind}-{host}@watchers.test", kind="portal")
                watch = watching.create_watch(s, portal, form, secret)
                if confirmed:
                    watching.confirm_watch(s, portal, watching.confirm_token(secret, watch),
                                           secret)
                    scene.feed_token[host] = watch.feed_token
                else:
                    scene.watch_token[host] = watching.confirm_token(secret, watch)
        portal = s.scalars(select(Tenant).where(Tenant.slug == "northside")).one()
        kept = watching.create_watch(s, portal, watching.WatchForm(
            email="stop@watchers.test", kind="portal"), settings.secret_key)
        scene.unsubscribe_token = unsubscribe.make_token(settings.secret_key, kept.email,
                                                         f"watch:{kept.id}")
    for actor, role in ACTORS.items():
        if role is not None:
            grant(db, email_of(actor), role[0], **role[1])
        scene.sign_in_everywhere(actor)
    for host in HOSTS:
        scene.signin_token[host] = scene.fresh_signin_token(host)
        unit = scene.bundles[host].visible
        client = scene.client("resident", host)
        token = scene.csrf[("resident", host)]
        assert client.post(f"/issues/{unit.issue}/vote",
                           data={"csrf_token": token}).status_code == 303
        assert client.post(f"/issues/{unit.issue}/comments", data={
            "csrf_token": token, "text": "Me too", "author": "Res"}).status_code == 303
    return scene


def open_scene(database_url: str, static_dir: Path, folder: Path) -> Scene:
    """A fresh app and database for one test module, seeded and signed in (see above)."""
    settings = Settings(
        database_url=database_url, secret_key="matrix-test-secret-of-at-least-32-random-bytes",
        https_only_cookies=False, base_domain="reportal.test", public_url="http://reportal.test",
        media_dir=folder / "media",
        static_build_dir=static_dir, tenants_dir=REPO_ROOT / "tenants",
        themes_dir=REPO_ROOT / "themes", rate_limits=False)
    app = create_app(settings)
    db = app.state.db
    _clean(db)
    with db.session() as s:
        build_world(s, folder / "tenants", settings.themes_dir)
        s.scalars(select(Tenant).where(Tenant.slug == "northside")).one().kind = "politician"
    return build_scene(app, db, settings)
