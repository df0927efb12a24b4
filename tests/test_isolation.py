"""Each portal is a lens on its own area (FixMyStreet's restriction test, our way).

Two test-only portals overlap (lat 1..1.5) and a third lies far off. Rows are created in and
out of each; every reader of a portal — pages, list, API, search, issue URLs — must show
exactly the issues inside it, and one portal never reveals another's reporter contacts.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.core.errors import NotFound
from portal.models import Tenant
from portal.staff import portal_audit, portal_settings
from tests.conftest import client_for
from tests.factories import file_report

PLACES = {  # description -> (lat, lon)
    "north only": (2.5, 1.0),
    "overlap": (1.2, 1.0),
    "river only": (0.2, 1.0),
    "far away": (4.5, 4.5),
}
EXPECTED = {
    "northside": {"north only", "overlap"},
    "riverside": {"overlap", "river only"},
    "faraway": {"far away"},
}


@pytest.fixture
def reports(world, db):
    ids = {}
    with db.session() as s:
        for text, (lat, lon) in PLACES.items():
            portal = next(p for p, seen in EXPECTED.items() if text in seen)
            issue = file_report(s, portal, lat, lon, description=f"{text} report",
                                email=f"{text.replace(' ', '-')}@secret.test", name="Private")
            ids[text] = issue.id
    return ids


@pytest.mark.parametrize("portal", sorted(EXPECTED))
def test_every_reader_shows_only_issues_inside_the_portal(app, reports, portal):
    client = client_for(app, f"{portal}.reportal.test")
    expected = EXPECTED[portal]
    others = set(PLACES) - expected
    home = client.get("/").text
    listing = client.get("/issues").text
    found = client.get("/search?q=report").text
    api = client.get("/api/issues.geojson").json()
    api_texts = {f["properties"]["id"] for f in api["features"]}
    assert api_texts == {reports[t] for t in expected}
    for text in expected:
        assert f"/issues/{reports[text]}" in home
        assert f"/issues/{reports[text]}" in listing
        assert f"/issues/{reports[text]}" in found
        assert client.get(f"/issues/{reports[text]}").status_code == 200
    for text in others:
        for page in (home, listing, found):
            assert f"/issues/{reports[text]}\"" not in page
        assert client.get(f"/issues/{reports[text]}").status_code == 404


@pytest.mark.parametrize("portal", sorted(EXPECTED))
def test_reporter_contacts_never_appear_on_any_public_reader(app, reports, portal):
    client = client_for(app, f"{portal}.reportal.test")
    pages = [client.get(p).text for p in ("/", "/issues", "/search?q=report",
                                          "/api/issues.geojson")]
    pages += [client.get(f"/issues/{i}").text for i in reports.values()]
    for page in pages:
        assert "@secret.test" not in page and "Private" not in page


def test_same_issue_id_on_another_portal_is_a_plain_404(app, reports):
    client = client_for(app, "faraway.reportal.test")
    r = client.get(f"/issues/{reports['overlap']}")
    assert r.status_code == 404
    assert "Northside" not in r.text and "Riverside" not in r.text


def test_a_portals_audit_rows_are_its_own(app, world, db):
    """Configuration audit (`/staff/portal/audit`) is tenant-private: rows made on one portal
    are listed, read and undone there only."""
    with db.session() as s:
        portals = {t.slug: t for t in s.scalars(select(Tenant))}
        ids = {slug: portal_settings.set_embed_origins(s, t, None, f"https://{slug}.test").id
               for slug, t in portals.items()}
    with db.session() as s:
        for slug, tenant in portals.items():
            assert [c.id for c in portal_audit.changes(s, tenant)] == [ids[slug]]
            for other, change_id in ids.items():
                if other != slug:
                    with pytest.raises(NotFound):
                        portal_audit.get(s, tenant, change_id)
