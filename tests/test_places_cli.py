"""`portal tenants load` brings each portal's named places; `portal places import` its
address points from an OpenAddresses CSV; `portal places backfill` names older issues."""

from __future__ import annotations

import json

from sqlalchemy import select

from portal.models import Issue, Tenant
from portal.places import gazetteer
from tests.factories import file_report
from tests.test_cli import portal
from tests.worlds import write_files


def test_load_import_and_backfill_from_the_command_line(settings, db, session, tmp_path):
    folder = tmp_path / "tenants"
    write_files(folder)
    (folder / "portals" / "northside" / "places.geojson").write_text(json.dumps({
        "type": "FeatureCollection", "features": [{
            "type": "Feature", "properties": {"name": {"en": "Old Town", "es": "Casco Viejo"}},
            "geometry": {"type": "Polygon", "coordinates": [[[0, 1], [1, 1], [1, 2], [0, 2],
                                                             [0, 1]]]}}]}))
    loaded = portal(settings, "tenants", "load", tenants_dir=folder)
    assert loaded.returncode == 0, loaded.stderr
    csv_path = tmp_path / "oa.csv"
    csv_path.write_text("LON,LAT,NUMBER,STREET,UNIT,CITY,DISTRICT,REGION,POSTCODE,ID,HASH\n"
                        "0.5,1.5,12,Mill Lane,,,,,,1,\n9,9,1,Far Road,,,,,,2,\n")
    imported = portal(settings, "places", "import", str(csv_path), "--tenant", "northside")
    assert imported.returncode == 0, imported.stderr
    assert "address points added: 1" in imported.stdout
    assert "outside the portal's area, skipped: 1" in imported.stdout
    northside = session.scalars(select(Tenant).where(Tenant.slug == "northside")).one()
    assert [s.label for s in gazetteer.suggest(session, northside, "casco", "es")] == [
        "Casco Viejo"]
    issue = file_report(session, "northside", 1.5, 0.5)
    assert issue.place_name == "12 Mill Lane, Old Town"
    issue.place_name = ""
    session.commit()
    backfilled = portal(settings, "places", "backfill")
    assert backfilled.returncode == 0 and "issues given a place name: 1" in backfilled.stdout
    session.expire_all()
    assert session.get(Issue, issue.id).place_name == "12 Mill Lane, Old Town"
    missing = portal(settings, "places", "import", "/nope.csv", "--tenant", "northside")
    assert missing.returncode == 1 and "no such file: /nope.csv" in missing.stderr
