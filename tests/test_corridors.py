"""Corridors: lines with a width in a portal's or a body's area file. A point within the
buffer is in the portal and routed to the body; a point just outside is not. Bad buffers and
geometries are refused in one line naming the file and the feature; the generator keeps
lines as corridors with --buffer."""

from __future__ import annotations

import json
import math

import pytest
from shapely.geometry import LineString, mapping
from sqlalchemy import select

from portal import cli
from portal.core import corridors, geo
from portal.core.errors import ConfigError
from portal.models import IssuePortal, Tenant
from portal.reports.routing import request_types_at
from portal.tenancy import tenant_dump, tenant_files
from tests.corridor_support import (
    BOX,
    LINE_LAT,
    M,
    build_commuters,
    line_feature,
    north_of_line,
    write_portal,
)
from tests.factories import file_report


@pytest.fixture
def commuters(world, session, settings, tmp_path):
    return build_commuters(session, tmp_path / "tenants", settings.themes_dir)


def test_a_metric_buffer_is_its_width_in_metres_at_any_latitude():
    for lat in (0.0, 41.3, 60.0):
        line = LineString([(10.0, lat - 0.01), (10.0, lat + 0.01)])  # north-south
        area = json.dumps(mapping(corridors.buffered(line, 60)))
        east = 1 / (M * math.cos(math.radians(lat)))  # degrees of longitude per metre
        for metres, inside in ((55, True), (59, True), (61, False), (65, False)):
            lon = 10.0 + metres * east
            assert geo.distance_m(lat, 10.0, lat, lon) == pytest.approx(metres, rel=0.01)
            assert geo.contains(area, lat, lon) is inside, (lat, metres)


def test_a_point_within_the_corridor_is_in_the_portal_and_one_outside_is_out(commuters,
                                                                              session):
    tenant, _body = commuters
    assert [c["key"] for c in tenant.corridors] == ["blue-line"]
    assert tenant.corridors[0]["name"] == {"en": "Blue shuttle"}
    inside = file_report(session, "commuters", *north_of_line(50), request_type="pothole")
    assert tenant.id in session.scalars(select(IssuePortal.tenant_id).where(
        IssuePortal.issue_id == inside.id)).all()
    with pytest.raises(Exception, match="outside"):
        file_report(session, "commuters", *north_of_line(70), request_type="pothole")
    # The map's outline (the display area) draws the corridor too.
    shown = tenant.display_area_geojson or tenant.area_geojson
    assert geo.contains(shown, *north_of_line(0, lon=4.09))


def test_routing_treats_a_buffered_body_corridor_like_any_area(commuters, session):
    tenant, body = commuters
    near = [rt.key for rt in request_types_at(session, tenant, *north_of_line(30))]
    beyond = [rt.key for rt in request_types_at(session, tenant, *north_of_line(50))]
    assert "shuttle-ops/bus-stop-sign" in near
    assert "shuttle-ops/bus-stop-sign" not in beyond
    assert "state-roads/pothole" in near and "state-roads/pothole" in beyond
    issue = file_report(session, "commuters", *north_of_line(30), request_type="bus-stop-sign")
    assert issue.body_id == body.id


def test_loading_a_portal_with_a_corridor_again_changes_nothing(commuters, session, settings,
                                                                 tmp_path):
    tenant, _body = commuters
    before = (tenant.area_geojson, tenant.corridors)
    tenant_files.load_portal(session, tmp_path / "tenants" / "portals" / "commuters",
                             settings.themes_dir)
    assert (tenant.area_geojson, tenant.corridors) == before


def test_dump_writes_the_corridors_back_and_they_load_the_same(commuters, session, settings,
                                                                tmp_path):
    tenant, _body = commuters
    out = tmp_path / "dumped"
    tenant_dump.dump_portal(tenant, out / "commuters")
    data = json.loads((out / "commuters" / "area.geojson").read_text())
    assert [f["properties"].get("id") for f in data["features"]] == [None, "blue-line"]
    again = tenant_files.load_portal(session, out / "commuters", settings.themes_dir)
    assert again.corridors == tenant.corridors
    assert geo.contains(again.area_geojson, *north_of_line(50))


@pytest.mark.parametrize(("buffer", "shown"), [
    (0, "0"), (-5, "-5"), (5000, "5000"), ("wide", "'wide'"), (True, "True")])
def test_a_bad_buffer_is_refused_in_one_line_naming_the_file_and_feature(
        world, session, settings, tmp_path, buffer, shown):
    folder = write_portal(tmp_path / "tenants", [BOX, line_feature(
        [[4.01, LINE_LAT], [4.10, LINE_LAT]], buffer_m=buffer)], slug="bad-buffer")
    with pytest.raises(ConfigError) as exc:
        tenant_files.load_portal(session, folder, settings.themes_dir)
    message = str(exc.value)
    assert "\n" not in message
    assert message == (f"{folder / 'area.geojson'} feature 2: buffer_m must be a number of "
                       f"metres above 0 and at most 1000, not {shown}")
    assert session.scalars(select(Tenant).where(Tenant.slug == "bad-buffer")).first() is None


def test_a_point_or_a_zero_length_line_is_refused_naming_the_feature(world, session, settings,
                                                                      tmp_path):
    point = {"type": "Feature", "properties": {},
             "geometry": {"type": "Point", "coordinates": [4.01, 4.01]}}
    folder = write_portal(tmp_path / "tenants", [BOX, point], slug="with-point")
    with pytest.raises(ConfigError, match=r"feature 2: an area feature must be a Polygon, "
                                          r"MultiPolygon, LineString or MultiLineString, "
                                          r"not Point$"):
        tenant_files.load_portal(session, folder, settings.themes_dir)
    folder = write_portal(tmp_path / "tenants", [BOX, line_feature(
        [[4.01, 4.01], [4.01, 4.01]])], slug="with-dot")
    with pytest.raises(ConfigError, match="feature 2: a corridor needs a line of two or more"):
        tenant_files.load_portal(session, folder, settings.themes_dir)


def test_a_corridor_without_buffer_m_gets_the_stated_default(world, session, settings,
                                                              tmp_path):
    folder = write_portal(tmp_path / "tenants", [BOX, line_feature(
        [[4.01, LINE_LAT], [4.10, LINE_LAT]], name="Path")], slug="default-width")
    tenant = tenant_files.load_portal(session, folder, settings.themes_dir)
    assert tenant.corridors[0]["buffer_m"] == corridors.DEFAULT_BUFFER_M == 50
    assert tenant.corridors[0]["key"] == "path"
    assert geo.contains(tenant.area_geojson, *north_of_line(45))
    assert not geo.contains(tenant.area_geojson, *north_of_line(55))


def test_tenants_new_keeps_lines_as_corridors_with_buffer(world, settings, db, tmp_path,
                                                          monkeypatch, capsys):
    source = tmp_path / "route.geojson"
    source.write_text(json.dumps({"type": "FeatureCollection", "features": [
        BOX, line_feature([[4.01, LINE_LAT], [4.10, LINE_LAT]], name="Blue shuttle")]}))
    for name, value in {"DATABASE_URL": settings.database_url, "LANG": "C",
                        "THEMES_DIR": str(settings.themes_dir),
                        "TENANTS_DIR": str(tmp_path / "made"),
                        "BASE_DOMAIN": "reportal.test"}.items():
        monkeypatch.setenv(name, value)
    args = ["tenants", "new", "shuttle", "--kind", "university", "--area", str(source),
            "--name", "Shuttle (test)"]
    assert cli.main(args) == 0
    assert "feature 2 is a line: left out (to keep lines as corridors, give --buffer " \
           "METRES)" in capsys.readouterr().out
    for bad in ("0", "2km", "many"):
        assert cli.main([*args, "--force", "--buffer", bad]) == 1
        err = capsys.readouterr().err
        assert "a corridor buffer is a distance above 0 and at most 1000 m" in err
        assert len(err.strip().splitlines()) == 1
    assert cli.main([*args, "--force", "--buffer", "60m"]) == 0, capsys.readouterr().err
    written = json.loads((tmp_path / "made" / "portals" / "shuttle" / "area.geojson")
                         .read_text())
    assert [f["geometry"]["type"] for f in written["features"]] == ["Polygon", "LineString"]
    assert written["features"][1]["properties"] == {"name": "Blue shuttle", "buffer_m": 60.0}
    with db.session() as session:
        tenant = session.scalars(select(Tenant).where(Tenant.slug == "shuttle")).one()
        assert geo.contains(tenant.area_geojson, *north_of_line(55))
        assert not geo.contains(tenant.area_geojson, *north_of_line(65))
