"""Every change a portal shows moves its data version in the same transaction, and the map API's
cache and ETag follow that version: what a moderator removed is never served again, by any
process, and a change on one portal leaves the others' caches alone."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import column, event, insert, select, table, update
from starlette.datastructures import QueryParams

from portal.app import create_app
from portal.core.db import Database
from portal.core.migrate import config, upgrade
from portal.models import Body, Issue, PortalDataVersion, Tenant, Update, User, Vote
from portal.reports import listing, status, voting
from portal.staff import accounts, announcement_authoring, announcements, moderation, triage
from portal.tenancy import data_version, membership, tenant_files
from tests.conftest import client_for
from tests.factories import file_report, tenant
from tests.http_support import csrf
from tests.staff_support import grant, sign_in
from tests.worlds import box

NORTH_ONLY = (1.9, 1.0)  # lat, lon: northside (lat 1..3), not riverside (lat -1..1.5); city-works
RIVER_ONLY = (0.2, 1.0)
OVERLAP = (1.2, 1.0)  # both
API = "/api/issues.geojson"


def version(db: Database, slug: str) -> int:
    with db.session() as s:
        return data_version.current(s, tenant(s, slug).id)


def versions(db: Database) -> dict[str, int]:
    return {slug: version(db, slug) for slug in ("northside", "riverside", "faraway")}


def report(db: Database, where: tuple[float, float] = NORTH_ONLY, **fields: str) -> int:
    fields.setdefault("title", "Kerbstone loose")
    with db.session() as s:
        return file_report(s, "northside" if where[0] > 1.0 else "riverside", *where,
                           **fields).id


# --- every kind of visible change -------------------------------------------------------------

@dataclass
class Change:
    """Rows arranged (committed) first, then one change, then what the map shows after it."""

    arrange: Callable[[Database, Path], dict]
    act: Callable[..., object]
    shows: Callable[[str], bool] = lambda body: True


def _issue(db: Database, _folder: Path) -> dict:
    return {"issue": report(db, description="Deep hole by the bus stop")}


def _issue_with_comment(db: Database, folder: Path) -> dict:
    ids = _issue(db, folder)
    with db.session() as s:
        ids["comment"] = status.add_comment(s, s.get(Issue, ids["issue"]), "Rude words here").id
    return ids


def _phone_in_title(db: Database, _folder: Path) -> dict:
    return {"issue": report(db, title="Ring 555 0142 now")}


def _two_issues(db: Database, _folder: Path) -> dict:
    dup, original = report(db, title="Second report"), report(db, title="First report")
    with db.session() as s:
        voting.vote(s, s.get(Issue, dup), "v:dup")
    return {"dup": dup, "original": original}


def _issue_and_area(db: Database, folder: Path) -> dict:
    return {**_issue(db, folder), "folder": folder}


def _announcement(db: Database, folder: Path) -> dict:
    with db.session() as s:
        accounts.add_role(s, "admin@north.test", "admin", tenant=tenant(s, "northside"))
        row = announcements.publish(s, title={"en": "Street fair"}, body_md={"en": "Come"},
                                    tenant=tenant(s, "northside"))
        return {"announcement": row.id}


def _shrink_northside(s, ids: dict, themes: Path) -> None:  # noqa: ANN001
    folder = ids["folder"] / "portals" / "northside"
    (folder / "area.geojson").write_text(json.dumps(box(0, 1, 2, 1.8)))  # lat 1.9 now outside
    tenant_files.load_portal(s, folder, themes)


def _withdraw(s, ids: dict, _themes: Path) -> None:  # noqa: ANN001
    admin = s.scalars(select(User).where(User.email == "admin@north.test")).one()
    assert announcement_authoring.withdraw(s, admin, tenant(s, "northside"),
                                           ids["announcement"]) is not None


def _props(body: str) -> list[dict]:
    return [f["properties"] for f in json.loads(body)["features"]]


CHANGES = {
    "report": Change(lambda db, f: {}, lambda s, ids, t: file_report(
        s, "northside", *NORTH_ONLY, title="Fresh pothole"), lambda b: "Fresh pothole" in b),
    "status change": Change(_issue, lambda s, ids, t: triage.set_status(
        s, s.get(Issue, ids["issue"]), "acknowledged", triage.Actor(None)),
        lambda b: _props(b)[0]["status"] == "acknowledged"),
    "vote": Change(_issue, lambda s, ids, t: voting.vote(s, s.get(Issue, ids["issue"]), "v:1"),
                   lambda b: _props(b)[0]["votes"] == 1),
    "comment": Change(_issue, lambda s, ids, t: status.add_comment(
        s, s.get(Issue, ids["issue"]), "Still there")),
    "hide issue": Change(_issue, lambda s, ids, t: moderation.hide_issue(
        s, s.get(Issue, ids["issue"]), tenant(s, "northside"), None, "Abusive"),
        lambda b: "Kerbstone" not in b and _props(b) == []),
    "hide comment": Change(_issue_with_comment, lambda s, ids, t: moderation.set_update_hidden(
        s, s.get(Update, ids["comment"]), True, tenant(s, "northside"), None, "Rude")),
    "redact": Change(_phone_in_title, lambda s, ids, t: moderation.redact(
        s, s.get(Issue, ids["issue"]), "title", "555 0142", tenant(s, "northside"), None),
        lambda b: "555 0142" not in b and "Ring [redacted] now" in b),
    "merge duplicate": Change(_two_issues, lambda s, ids, t: triage.mark_duplicate(
        s, s.get(Issue, ids["dup"]), s.get(Issue, ids["original"]), triage.Actor(None)),
        lambda b: {(p["title"], p["status"], p["votes"]) for p in _props(b)} == {
            ("Second report", "closed", 0), ("First report", "open", 1)}),
    "reassign": Change(_issue, lambda s, ids, t: triage.reassign(
        s, s.get(Issue, ids["issue"]),
        s.scalars(select(Body).where(Body.slug == "state-roads")).one(), triage.Actor(None)),
        lambda b: _props(b)[0]["type_name"] == "Pothole (state road)"),
    "it's fixed": Change(_issue, lambda s, ids, t: status.report_fixed(
        s, s.get(Issue, ids["issue"]), "Filled in today", "", None, Path("/nonexistent"), 1)),
    "portal area change": Change(_issue_and_area, _shrink_northside,
                                 lambda b: "Kerbstone" not in b and _props(b) == []),
    "announcement publish": Change(lambda db, f: {}, lambda s, ids, t: announcements.publish(
        s, title={"en": "Street fair"}, body_md={"en": "Come"}, tenant=tenant(s, "northside"))),
    "announcement withdraw": Change(_announcement, _withdraw),
}


@pytest.mark.parametrize("kind", list(CHANGES))
def test_every_visible_change_moves_the_version_in_its_transaction_and_the_api_follows(
        kind, client, db, settings, world, tmp_path):
    change = CHANGES[kind]
    ids = change.arrange(db, tmp_path / "tenants")
    first = client.get(API)
    assert first.status_code == 200
    assert client.get(API, headers={"if-none-match": first.headers["etag"]}).status_code == 304
    before = version(db, "northside")

    with db.sessions() as s:
        # pysqlite opens its transaction at the first write; a SAVEPOINT before that (a vote's)
        # commits when released. Write first, so the rollback below covers the whole change.
        s.execute(update(Tenant).where(Tenant.id == -1).values(slug="none"))
        change.act(s, ids, settings.themes_dir)
        s.flush()
        assert data_version.current(s, tenant(s, "northside").id) > before  # in the transaction
        s.rollback()
    assert version(db, "northside") == before  # rolled back with the change
    assert client.get(API, headers={"if-none-match": first.headers["etag"]}).status_code == 304

    with db.session() as s:
        change.act(s, ids, settings.themes_dir)
    assert version(db, "northside") > before
    after = client.get(API, headers={"if-none-match": first.headers["etag"]})
    assert after.status_code == 200 and after.headers["etag"] != first.headers["etag"]
    assert change.shows(after.text), after.text


# --- the regression: a redacted phone number, over HTTP --------------------------------------

@pytest.fixture
def moderator(app, db, world):  # noqa: ANN001, ANN201
    grant(db, "mod@north.test", "moderator", portal="northside")
    browser = client_for(app, "northside.reportal.test")
    sign_in(browser, db, "mod@north.test")
    return browser


def _redact(browser, issue_id: int, target: str, passage: str) -> None:  # noqa: ANN001
    token = csrf(browser.get(f"/staff/issues/{issue_id}").text)
    r = browser.post(f"/staff/issues/{issue_id}/redact",
                     data={"csrf_token": token, "target": target, "passage": passage})
    assert r.status_code == 303, r.text


def test_a_redacted_phone_number_is_not_served_or_confirmed_by_the_map_api(
        app, moderator, db, world):
    issue_id = report(db, title="Kerb, ring 2035550142",
                      description="Loose kerb, call me on 2035550142 after six")
    public = client_for(app, "northside.reportal.test")
    plain = public.get(API)
    assert "2035550142" in plain.text
    assert public.get(API, headers={"if-none-match": plain.headers["etag"]}).status_code == 304

    _redact(moderator, issue_id, "issue:title", "2035550142")
    fresh = public.get(API, headers={"if-none-match": plain.headers["etag"]})
    assert fresh.status_code == 200
    assert "2035550142" not in fresh.text and "Kerb, ring [redacted]" in fresh.text

    found = public.get(f"{API}?q=2035550142")  # still in the description
    assert found.json()["total"] == 1
    _redact(moderator, issue_id, "issue:description", "2035550142")
    again = public.get(f"{API}?q=2035550142", headers={"if-none-match": found.headers["etag"]})
    assert again.status_code == 200 and again.json()["total"] == 0


def test_two_app_instances_both_see_the_new_version(app, moderator, db, settings, world):
    issue_id = report(db, title="Ring 555 0142")
    other_app = create_app(settings)  # another process: its own body cache, the same database
    try:
        one = client_for(app, "northside.reportal.test")
        two = client_for(other_app, "northside.reportal.test")
        warm = [one.get(API), two.get(API)]
        assert warm[0].headers["etag"] == warm[1].headers["etag"]
        assert all("555 0142" in r.text for r in warm)

        _redact(moderator, issue_id, "issue:title", "555 0142")
        after = [c.get(API, headers={"if-none-match": warm[0].headers["etag"]})
                 for c in (one, two)]
        assert [r.status_code for r in after] == [200, 200]
        assert after[0].headers["etag"] == after[1].headers["etag"] != warm[0].headers["etag"]
        assert all("555 0142" not in r.text and "[redacted]" in r.text for r in after)
    finally:
        other_app.state.db.engine.dispose()


# --- which portals move ----------------------------------------------------------------------

def test_a_change_moves_only_the_portals_that_show_the_issue(db, world):
    north, both = report(db, NORTH_ONLY), report(db, OVERLAP)
    start = versions(db)
    with db.session() as s:
        status.add_comment(s, s.get(Issue, north), "Still there")
    assert versions(db) == {**start, "northside": start["northside"] + 1}
    with db.session() as s:
        voting.vote(s, s.get(Issue, both), "v:2")
    moved = versions(db)
    assert moved["northside"] > start["northside"] + 1 and moved["riverside"] > start["riverside"]
    assert moved["faraway"] == start["faraway"]


def test_an_issue_moving_between_portals_moves_both(db, world):
    issue_id = report(db, NORTH_ONLY)
    start = versions(db)
    with db.session() as s:
        issue = s.get(Issue, issue_id)
        issue.lat = RIVER_ONLY[0]
        membership.record_issue(s, issue)
    moved = versions(db)
    assert moved["northside"] > start["northside"] and moved["riverside"] > start["riverside"]
    assert moved["faraway"] == start["faraway"]


def test_bulk_statements_and_flushes_that_move_rows_to_another_issue_move_both_sides(db, world):
    north, river = report(db, NORTH_ONLY), report(db, RIVER_ONLY)
    with db.session() as s:
        voting.vote(s, s.get(Issue, north), "v:a")
        voting.vote(s, s.get(Issue, north), "v:b")
    start = versions(db)
    with db.session() as s:  # a bulk UPDATE: no flush sees it
        s.execute(update(Vote).where(Vote.voter_key == "v:a").values(issue_id=river)
                  .execution_options(synchronize_session=False))
    bulk = versions(db)
    assert bulk["northside"] > start["northside"] and bulk["riverside"] > start["riverside"]
    with db.session() as s:  # the same through the ORM
        s.scalars(select(Vote).where(Vote.voter_key == "v:b")).one().issue_id = river
    flushed = versions(db)
    assert flushed["northside"] > bulk["northside"] and flushed["riverside"] > bulk["riverside"]
    assert flushed["faraway"] == start["faraway"]
    with db.session() as s:  # an ORM bulk UPDATE by primary key has no WHERE of its own
        s.execute(update(Issue), [{"id": river, "title": "Renamed"}])
    assert versions(db) == {**flushed, "riverside": flushed["riverside"] + 1}


def test_deleting_an_issue_moves_the_portals_it_was_on(db, world):
    issue_id = report(db, OVERLAP)
    start = versions(db)
    with db.session() as s:
        s.delete(s.get(Issue, issue_id))
    moved = versions(db)
    assert moved["northside"] > start["northside"] and moved["riverside"] > start["riverside"]


def test_an_insert_whose_rows_cannot_be_read_is_refused(db, world):
    issue_id = report(db)
    with db.session() as s, pytest.raises(data_version.UntrackedStatement):
        s.execute(insert(Vote).from_select(["issue_id", "voter_key", "created_at"],
                                           select(Vote.issue_id, Vote.voter_key, Vote.created_at)
                                           .where(Vote.issue_id == issue_id)))


def test_every_portal_has_its_version_from_the_flush_that_creates_it(db, world):
    with db.session() as s:
        rows = dict(s.execute(select(PortalDataVersion.tenant_id,
                                      PortalDataVersion.version)).all())
        assert set(rows) == set(s.scalars(select(Tenant.id))) and set(rows.values()) == {1}


def test_the_migration_gives_existing_portals_a_version(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    command.upgrade(config(url), "0003")
    command.upgrade(config(url), "0004")
    database = Database(url)
    # The columns of 0004's tenants table only: the model has gained columns since, with
    # defaults the insert would name.
    values = dict(
        slug="old", kind="city", name='{"en": "Old"}', area_name="{}", default_language="en",
        languages='["en"]', theme="civic", tokens="{}", logo_svg="", tile_url="",
        tile_attribution="", allow_anonymous=True, embed_origins="[]", admin_token_hash="",
        area_geojson="{}", min_lon=0, min_lat=0, max_lon=1, max_lat=1)
    old_tenants = table("tenants", *(column(name) for name in values))
    with database.engine.begin() as conn:
        conn.execute(old_tenants.insert().values(**values))
    upgrade(url)
    with database.session() as s:
        assert data_version.current(s, tenant(s, "old").id) == 1
        assert s.scalar(select(PortalDataVersion.version)) == 1
    database.engine.dispose()


# --- the cache --------------------------------------------------------------------------------

def test_a_cache_hit_reads_one_version_row_and_no_issue(app, client, db, world):
    report(db)
    statements: list[str] = []
    engine = app.state.db.engine

    def seen(_conn, _cursor, statement, *_args) -> None:  # noqa: ANN001
        statements.append(statement)

    first = client.get(API)
    # The page cache keeps a shared page from its second answer (the first tells it the path
    # is one); the body cache behind it from the first.
    assert client.get(API).content == first.content
    event.listen(engine, "before_cursor_execute", seen)
    try:
        hit = client.get(API)
        not_modified = client.get(API, headers={"if-none-match": first.headers["etag"]})
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert hit.status_code == 200 and hit.content == first.content
    assert not_modified.status_code == 304
    assert len(statements) == 2, statements
    assert all("portal_data_versions" in q and "issues" not in q for q in statements)


def test_the_cache_key_carries_the_portal(app, client, db, world):
    report(db, NORTH_ONLY, title="North only")
    report(db, RIVER_ONLY, title="River only")
    riverside = client_for(app, "riverside.reportal.test")
    assert version(db, "northside") == version(db, "riverside")  # the portal tells them apart
    north, river = client.get(API), riverside.get(API)
    assert "North only" in north.text and "North only" not in river.text
    assert north.headers["etag"] != river.headers["etag"]
    assert riverside.get(API, headers={"if-none-match": north.headers["etag"]}).status_code == 200
    assert all(key[0] in {t.id for t in world.portals.values()}
               for key in app.state.geojson_bodies.items)


def test_the_body_cache_is_bounded_least_recently_used_first():
    from portal.routes.api import BodyCache

    cache = BodyCache(size=2, max_bytes=10)
    cache.put((1, 1, "a"), b"aaa")
    cache.put((1, 1, "b"), b"bbb")
    assert cache.get((1, 1, "a")) == b"aaa"  # now the most recent
    cache.put((1, 1, "c"), b"ccc")
    assert list(cache.items) == [(1, 1, "a"), (1, 1, "c")]
    cache.put((2, 1, "a"), b"dddddddd")  # 11 bytes with "ccc": the older goes
    assert list(cache.items) == [(2, 1, "a")] and cache.bytes == 8
    cache.put((3, 1, "a"), b"x" * 11)  # bigger than the whole cache: not kept
    assert (3, 1, "a") not in cache.items


def test_the_normalised_query_reads_back_the_same_filters_and_ignores_spelling(client, db, world):
    query = ("status=open&status=closed&type=pothole&bbox=1.5,2.5,0.5,1.0&q=hole&since=2025-01-01"
             "&until=2025-12-31&near=1.5,1.0&radius=900&page=2&per_page=20&zoom=14"
             "&after=2025-06-01T10:00:00%2B00:00~17&before=2025-06-02T10:00:00%2B00:00~40")
    filters = listing.parse_filters(QueryParams(query), default_per_page=500)
    unset = listing.IssueFilters(per_page=500)
    assert not filters.errors and all(
        getattr(filters, name) != getattr(unset, name) for name in vars(unset) if name != "errors")
    items = listing.query_items(filters)
    assert listing.parse_filters(QueryParams(items), default_per_page=500) == filters

    report(db)
    a = client.get(f"{API}?per_page=5&status=open&junk=1")
    b = client.get(f"{API}?status=open&per_page=5")
    assert a.headers["etag"] == b.headers["etag"]
