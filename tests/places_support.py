"""Real places for the gazetteer's tests, read from ../shared/data (never copied here).

- `boston`: a test portal over Boston's 26 neighbourhoods (their outlines as the portal's
  area and as its named areas), with the Boston 311 cases' addresses written out as an
  OpenAddresses CSV and loaded through `portal places import`'s own function.
- `new-haven`: the repository's demo tenants as shipped (`tenants/`), with their named
  places (`places.geojson`).

The New Haven SeeClickFix file carries points but no addresses, so New Haven's address
points cannot come from it; its points serve the reverse look-ups instead.
"""

from __future__ import annotations

import csv
import html
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from portal.core.settings import REPO_ROOT
from portal.models import Tenant
from portal.places import addresses, named_areas
from portal.tenancy import tenant_files

DATA = REPO_ROOT.parent / "shared" / "data"
if not DATA.is_dir():
    DATA = Path("/work/shared/data")
BOSTON_311 = DATA / "boston_311_open_cases_2025.csv"
BOSTON_HOODS = DATA / "boston_neighborhoods.geojson"
NEW_HAVEN_HOODS = DATA / "new_haven_neighborhoods.geojson"
NEW_HAVEN_ISSUES = DATA / "new_haven_seeclickfix_issues_2008_2015.csv"
OA_COLUMNS = ["LON", "LAT", "NUMBER", "STREET", "UNIT", "CITY", "DISTRICT", "REGION",
              "POSTCODE", "ID", "HASH"]


def need_data(*files: Path) -> None:
    missing = [f.name for f in files if not f.is_file()]
    if missing:
        pytest.skip(f"shared data not present ({', '.join(missing)}): see tests/SOURCES.md")


@dataclass(frozen=True)
class Case:
    """One Boston 311 case: its street address (or crossing) and point."""

    number: str
    street: str
    lat: float
    lon: float
    crossing: tuple[str, str] | None = None


def boston_cases() -> list[Case]:
    cases = []
    with BOSTON_311.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if not row["latitude"] or not row["longitude"]:
                continue
            text = " ".join(html.unescape(row["location_street_name"]).split())
            lat, lon = float(row["latitude"]), float(row["longitude"])
            if text.startswith("INTERSECTION"):
                a, _, b = text.removeprefix("INTERSECTION").strip().partition(" & ")
                cases.append(Case("", "", lat, lon, (a.strip(), b.strip())))
                continue
            first, _, rest = text.partition(" ")
            if rest and first[:1].isdigit():
                cases.append(Case(first, rest, lat, lon))
    return cases


def write_openaddresses(path: Path, cases: list[Case]) -> int:
    """The address cases as an OpenAddresses CSV; returns how many rows were written."""
    rows = [c for c in cases if c.crossing is None]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, OA_COLUMNS)
        writer.writeheader()
        for n, c in enumerate(rows):
            writer.writerow({"LON": c.lon, "LAT": c.lat, "NUMBER": c.number, "STREET": c.street,
                             "UNIT": "", "CITY": "Boston", "DISTRICT": "", "REGION": "MA",
                             "POSTCODE": "", "ID": str(n), "HASH": ""})
    return len(rows)


def build_boston(session: Session, folder: Path, themes_dir: Path) -> Tenant:
    """The Boston test portal (and a body there), its named areas and address points."""
    need_data(BOSTON_311, BOSTON_HOODS)
    hoods = json.loads(BOSTON_HOODS.read_text(encoding="utf-8"))
    body = folder / "bodies" / "boston-works"
    body.mkdir(parents=True)
    (body / "area.geojson").write_text(json.dumps(hoods))
    (body / "body.json").write_text(json.dumps({
        "slug": "boston-works", "name": {"en": "Boston works (test)"},
        "contact_email": "works@boston.test",
        "request_types": [{"code": "sidewalk", "name": {"en": "Sidewalk", "es": "Acera"}}]}))
    portal = folder / "portals" / "boston"
    portal.mkdir(parents=True)
    (portal / "area.geojson").write_text(json.dumps(hoods))
    (portal / "portal.json").write_text(json.dumps({
        "slug": "boston", "kind": "city", "name": {"en": "Boston (test)", "es": "Boston"},
        "area_name": {"en": "Boston"}, "languages": ["en", "es"], "tile_url": ""}))
    places = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": f["geometry"],
         "properties": {"name": {"en": f["properties"]["name"]}}} for f in hoods["features"]]}
    (portal / "places.geojson").write_text(json.dumps(places))
    _bodies, portals = tenant_files.load_all(session, folder, themes_dir)
    tenant = portals[0]
    named_areas.load_portal_places(session, tenant, portal)
    csv_path = folder / "boston-addresses.csv"
    write_openaddresses(csv_path, boston_cases())
    addresses.import_addresses(session, tenant, csv_path)
    session.flush()
    return tenant


def build_new_haven(session: Session, themes_dir: Path) -> Tenant:
    """The shipped demo tenants with their named places; returns the `new-haven` portal."""
    folder = REPO_ROOT / "tenants"
    _bodies, portals = tenant_files.load_all(session, folder, themes_dir)
    for portal in portals:
        named_areas.load_portal_places(session, portal, folder / "portals" / portal.slug)
    session.flush()
    return next(p for p in portals if p.slug == "new-haven")
