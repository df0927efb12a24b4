"""The shipped demo: tenants and themes load cleanly, read well, route sensibly, seed a map.

These run against the real files in tenants/ and themes/, so a broken demo definition (a
colour that fails contrast, a typo in a language code, an outline that moved) fails here
before anyone runs `portal tenants load`.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.core import geo
from portal.core.errors import ConfigError
from portal.data.demo import seed_demo_issues
from portal.models import STATUSES, Base, Issue, IssuePortal, Tenant, Vote
from portal.reports.listing import offered_types
from portal.reports.routing import request_types_at
from portal.tenancy import tenant_files, themes
from tests.factories import file_report

REPO = Path(__file__).resolve().parents[1]
THEMES = REPO / "themes"
TENANTS = REPO / "tenants"
PORTALS = sorted(p.name for p in (TENANTS / "portals").iterdir() if p.is_dir())
THEME_NAMES = sorted(p.name for p in THEMES.iterdir() if (p / "theme.json").is_file())
STATUS_TOKENS = ("color-open", "color-acknowledged", "color-closed", "color-archived")

# Places picked on the shipped outlines (checked below, so a changed outline fails loudly).
FAIR_HAVEN = (41.3100, -72.8900)  # in the city, outside Downtown
COUNTY_ONLY = (41.4000, -73.0500)  # New Haven County, outside the city
DOWNTOWN = (41.3075, -72.9270)  # the stand-in campus


def snapshot(session) -> dict[str, list[tuple]]:
    session.flush()
    return {
        table.name: sorted(tuple(map(repr, row)) for row in session.execute(select(table)))
        for table in Base.metadata.sorted_tables
    }


@pytest.fixture
def demo(session, settings):
    tenant_files.load_all(session, settings.tenants_dir, settings.themes_dir)
    session.flush()
    return session


def portal(session, slug: str) -> Tenant:
    return session.scalars(select(Tenant).where(Tenant.slug == slug)).one()


def test_shipped_tenants_load_and_loading_again_changes_nothing(session, settings):
    bodies, portals = tenant_files.load_all(session, settings.tenants_dir, settings.themes_dir)
    assert sorted(b.slug for b in bodies) == [
        "campus-facilities", "ct-dot", "nhv-parks", "nhv-public-works"]
    assert sorted(p.slug for p in portals) == ["campus", "new-haven", "register", "ward-7"]
    before = snapshot(session)
    tenant_files.load_all(session, settings.tenants_dir, settings.themes_dir)
    assert snapshot(session) == before


@pytest.mark.parametrize("name", THEME_NAMES)
def test_each_theme_defines_every_token_and_badges_read_on_white(name):
    tokens = themes.load_theme(THEMES, name)  # refuses missing tokens and failing text pairs
    assert set(tokens) == set(themes.TOKENS)
    for token in STATUS_TOKENS:  # pins and badges carry white text
        assert themes.contrast(tokens[token], "#ffffff") >= 4.5, token
    assert themes.contrast(tokens["color-focus"], tokens["color-bg"]) >= 3, "focus ring"


def test_the_three_named_themes_ship():
    assert {"civic", "campus", "press"} <= set(THEME_NAMES)
    assert "serif" in themes.load_theme(THEMES, "press")["font-family"]


@pytest.mark.parametrize("slug", PORTALS)
def test_each_portal_reads_well_and_names_itself_in_every_language(slug):
    folder = TENANTS / "portals" / slug
    data = json.loads((folder / "portal.json").read_text(encoding="utf-8"))
    tokens = themes.resolved_tokens(THEMES, data["theme"], data["tokens"])
    for fg, bg in themes.TEXT_PAIRS:
        assert themes.contrast(tokens[fg], tokens[bg]) >= 4.5, (fg, bg)
    for language in data["languages"]:
        assert data["name"].get(language), f"{slug} has no name in {language}"
        assert data["area_name"].get(language), f"{slug} has no area name in {language}"
    logo = (folder / "logo.svg").read_text(encoding="utf-8")
    assert len(logo.encode()) < 2048 and 'role="img"' in logo and "<title" in logo
    assert "<script" not in logo.lower()


def test_outlines_stay_small():
    for path in TENANTS.glob("*/*/area.geojson"):
        assert path.stat().st_size < 30_000, path


def test_a_portal_whose_overrides_break_contrast_is_refused_naming_the_pair(
        session, settings, tmp_path):
    folder = tmp_path / "bad-contrast"
    shutil.copytree(TENANTS / "portals" / "ward-7", folder)
    data = json.loads((folder / "portal.json").read_text(encoding="utf-8"))
    data.update(slug="bad-contrast", hosts=["bad.example.test"],
                tokens={"color-primary": "#ffd54f"})  # white text on pale yellow
    (folder / "portal.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        tenant_files.load_portal(session, folder, settings.themes_dir)
    assert "color-on-primary" in str(exc.value) and "color-primary" in str(exc.value)
    assert session.scalars(select(Tenant).where(Tenant.slug == "bad-contrast")).first() is None


def test_the_demo_places_lie_where_the_routing_tests_expect(demo):
    city, campus, county = (portal(demo, s) for s in ("new-haven", "campus", "register"))
    assert geo.contains(city.area_geojson, *FAIR_HAVEN)
    assert not geo.contains(campus.area_geojson, *FAIR_HAVEN)
    assert not geo.contains(city.area_geojson, *COUNTY_ONLY)
    assert geo.contains(county.area_geojson, *COUNTY_ONLY)
    assert geo.contains(campus.area_geojson, *DOWNTOWN)


def test_a_pothole_in_the_city_goes_to_city_public_works(demo):
    issue = file_report(demo, "register", *FAIR_HAVEN, request_type="pothole")
    assert issue.body.slug == "nhv-public-works"


def test_a_pothole_in_the_county_outside_the_city_goes_to_the_state(demo):
    issue = file_report(demo, "register", *COUNTY_ONLY, request_type="pothole")
    assert issue.body.slug == "ct-dot"


def test_a_streetlight_downtown_goes_to_campus_facilities_on_the_campus_portal(demo):
    issue = file_report(demo, "campus", *DOWNTOWN, request_type="streetlight")
    assert issue.body.slug == "campus-facilities"


def test_the_city_portal_offers_the_city_bodies_types_downtown_named_as_they_name_them(demo):
    # Downtown lies inside the campus body too, but the city's residents report to the city.
    offered = request_types_at(demo, portal(demo, "new-haven"), *DOWNTOWN)
    names = {rt.code: rt.name["en"] for rt in offered}
    assert names["streetlight"] == "Streetlight out"
    assert "building-maintenance" not in names and "bike-rack" not in names
    assert {rt.body.slug for rt in offered} <= {"nhv-public-works", "nhv-parks", "ct-dot"}
    assert len(names) == len(offered)  # each code once
    issue = file_report(demo, "new-haven", *DOWNTOWN, request_type="streetlight")
    assert issue.body.slug == "nhv-public-works"
    elsewhere = file_report(demo, "new-haven", *FAIR_HAVEN, request_type="streetlight")
    assert elsewhere.body.slug == "nhv-public-works"


def test_each_portals_filter_lists_each_code_once_named_by_the_body_serving_most_of_it(demo):
    for slug in PORTALS:
        codes = [t.code for t in offered_types(demo, portal(demo, slug))]
        assert len(codes) == len(set(codes)), slug
    city = {t.code: t.name["en"] for t in offered_types(demo, portal(demo, "new-haven"))}
    assert city["streetlight"] == "Streetlight out" and "building-maintenance" not in city
    county = {t.code: t.name["en"] for t in offered_types(demo, portal(demo, "register"))}
    assert county["streetlight"] == "Streetlight out"  # not the campus body's "Campus light out"
    campus = {t.code: t.name["en"] for t in offered_types(demo, portal(demo, "campus"))}
    assert campus["streetlight"] == "Campus light out"


def test_demo_issues_show_every_status_and_seeding_twice_adds_nothing(demo, settings):
    added = seed_demo_issues(demo, settings, count_per_portal=16)
    assert added == 16 * len(PORTALS)
    assert seed_demo_issues(demo, settings, count_per_portal=16) == 0
    assert demo.scalar(select(func.count(Issue.id))) == added

    for slug in PORTALS:
        tenant = portal(demo, slug)
        shown = set(demo.scalars(
            select(Issue.status).join(IssuePortal, IssuePortal.issue_id == Issue.id)
            .where(IssuePortal.tenant_id == tenant.id)))
        assert shown == set(STATUSES), slug
    issues = demo.scalars(select(Issue)).all()
    assert any(i.public_name for i in issues) and any(not i.reporter_name for i in issues)
    assert all(i.submission_key.startswith("demo:") for i in issues)
    votes = demo.scalar(select(func.count(Vote.id)))
    assert votes == sum(i.vote_count for i in issues) > 0
    spread = {i.created_at.year * 12 + i.created_at.month for i in issues}
    assert max(spread) - min(spread) >= 12  # history spread over more than a year
    # Search recall on the same seed (seeding again would double this test's time).
    search_finds_every_demo_pothole_by_its_type_in_english_and_spanish(demo)



def search_finds_every_demo_pothole_by_its_type_in_english_and_spanish(demo):
    from starlette.datastructures import QueryParams

    from portal.reports import listing

    city = portal(demo, "register")  # the county: every portal's demo issues lie in it
    shown = demo.scalars(select(Issue).join(IssuePortal, IssuePortal.issue_id == Issue.id)
                         .where(IssuePortal.tenant_id == city.id, Issue.hidden.is_(False))).all()
    potholes = {i.id for i in shown if i.request_type.code == "pothole"}
    # Some never say "pothole": they are listed under the type's name alone.
    unsaid = {i.id for i in shown if i.request_type.code == "pothole"
              and "pothole" not in f"{i.title} {i.description}".lower()}
    assert potholes and unsaid

    def found(words: str) -> set[int]:
        f = listing.parse_filters(QueryParams({"q": words, "per_page": "500"}))
        return {i.id for i in listing.fetch_page(demo, city, f).issues}

    assert potholes <= found("pothole")
    assert potholes <= found("Potholes")
    assert potholes <= found("bache")
    assert found("pothole") <= potholes | {i.id for i in shown if "pothole" in (
        f"{i.title} {i.description}".lower())}


def test_demo_content_is_complete_in_every_language_its_portals_declare(session, settings,
                                                                       caplog):
    bodies, portals = tenant_files.load_all(session, settings.tenants_dir, settings.themes_dir)
    gaps = [gap for p in portals for gap in tenant_files.content_gaps(bodies, p)]
    assert gaps == []
    assert "has no text in" not in caplog.text
    # And a gap is reported: a type named in English only, on a ten-language portal.
    city = next(p for p in portals if p.slug == "new-haven")
    works = next(b for b in bodies if b.slug == "nhv-public-works")
    works.request_types[0].help = {"en": "Only English"}
    gaps = tenant_files.content_gaps(bodies, city)
    assert gaps == [f"portal new-haven: request type nhv-public-works/"
                    f"{works.request_types[0].code}'s help has no text in es, zh_Hans, vi, "
                    "ar, ht, pt_BR, fr, ko, ru"]
