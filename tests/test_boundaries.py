"""Boundary files on the way in (portal.tenancy.boundaries): what an operator's file becomes.

Plain-function tests: formats, coordinate systems, swapped axes, repairs, bombs, and the
promise that a simplified outline never changes where a point routes."""

from __future__ import annotations

import io
import json
import random
import zipfile
from pathlib import Path

import pytest
import shapefile
import shapely
from pyproj import CRS, Transformer
from shapely.geometry import box, mapping, shape

from portal.core import geo
from portal.core.i18n import translate
from portal.tenancy import boundaries
from portal.tenancy.boundaries import BoundaryError, read_layer
from portal.tenancy.brand_colours import nearest_passing_shade
from portal.tenancy.themes import contrast

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
if not DATA.is_dir():
    DATA = Path("/work/shared/data")
BOSTON = DATA / "boston_neighborhoods.geojson"
NEW_HAVEN = DATA / "new_haven_neighborhoods.geojson"
needs_data = pytest.mark.skipif(not BOSTON.is_file(), reason="the shared boundary files "
                                "(../shared/data, see SOURCES.md) are not on this machine")

# A few blocks of Manhattan, lon/lat.
MANHATTAN = box(-73.99, 40.74, -73.97, 40.76)


def collection(*geometries, **properties) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": f"part {i}", **properties},
         "geometry": mapping(g)} for i, g in enumerate(geometries)]}).encode()


def swapped(geom):
    return shapely.transform(geom, lambda xy: xy[:, ::-1])


def notes(layer) -> list[str]:
    return [translate(n) for n in layer.notes]


def test_latitude_first_file_is_refused_with_the_fix_offered_and_the_fix_works():
    data = collection(swapped(MANHATTAN))  # (40.7, -73.9): a "latitude" of -73.9
    with pytest.raises(BoundaryError) as refused:
        read_layer("district.geojson", data)
    message = str(refused.value)
    assert "district.geojson" in message and "look swapped" in message
    assert "--swap-axes" in message
    fixed = read_layer("district.geojson", data, swap_axes=True)
    assert fixed.features[0].geometry.equals(MANHATTAN)


def test_latitude_past_ninety_is_refused_as_swapped():
    sf = box(-122.5, 37.7, -122.4, 37.8)
    with pytest.raises(BoundaryError, match="look swapped"):
        read_layer("sf.geojson", collection(swapped(sf)))


def test_coordinates_out_of_range_are_refused_and_the_crs_asked_for():
    projected = box(980000, 200000, 990000, 210000)  # feet, but nothing says so
    with pytest.raises(BoundaryError) as refused:
        read_layer("nyc.geojson", collection(projected))
    assert "outside ±180° longitude / ±90° latitude" in str(refused.value)
    assert "--crs" in str(refused.value)


def test_a_self_intersecting_polygon_is_repaired_and_the_repair_reported():
    bow_tie = shapely.Polygon([(-73.99, 40.74), (-73.97, 40.76), (-73.97, 40.74),
                               (-73.99, 40.76), (-73.99, 40.74)])
    assert not bow_tie.is_valid
    layer = read_layer("bow.geojson", collection(bow_tie))
    geom = layer.features[0].geometry
    assert geom.is_valid and geom.geom_type == "MultiPolygon" and len(geom.geoms) == 2
    assert geom.area == pytest.approx(MANHATTAN.area / 2)  # the two triangles of the bow tie
    assert notes(layer) == ["feature 1 (part 0) was not a valid polygon "
                            "(Self-intersection[-73.98 40.75]): repaired"]


def test_lines_and_points_are_left_out_and_said_so():
    layer = read_layer("mixed.geojson", collection(MANHATTAN, shapely.Point(-73.98, 40.75)))
    assert len(layer.features) == 1
    assert notes(layer) == ["feature 2 is a Point, not an area: left out"]
    with pytest.raises(BoundaryError, match="no Polygon or MultiPolygon"):
        read_layer("points.geojson", collection(shapely.Point(-73.98, 40.75)))


def test_a_geojson_file_in_new_york_state_plane_is_reprojected():
    to_2263 = Transformer.from_crs("EPSG:4326", "EPSG:2263", always_xy=True)
    feet = shapely.transform(MANHATTAN.segmentize(0.001),
                             lambda x, y: to_2263.transform(x, y), interleaved=False)
    doc = json.loads(collection(feet))
    doc["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::2263"}}
    layer = read_layer("nyc.geojson", json.dumps(doc).encode())
    assert layer.crs == "EPSG:2263"
    assert "reprojected from EPSG:2263" in notes(layer)[0]
    back = layer.features[0].geometry
    assert back.symmetric_difference(MANHATTAN).area < 1e-6 * MANHATTAN.area + 1e-9
    for got, want in zip(back.bounds, MANHATTAN.bounds, strict=True):
        assert got == pytest.approx(want, abs=1e-6)


def test_a_crs_that_cannot_be_read_is_refused_by_name():
    doc = json.loads(collection(MANHATTAN))
    doc["crs"] = {"type": "name", "properties": {"name": "EPSG:999999"}}
    with pytest.raises(BoundaryError) as refused:
        read_layer("odd.geojson", json.dumps(doc).encode())
    assert "'EPSG:999999'" in str(refused.value) and "WGS 84" in str(refused.value)


def shapefile_zip(geoms: list, records: list[dict], prj: str | None = None) -> bytes:
    shp, shx, dbf = io.BytesIO(), io.BytesIO(), io.BytesIO()
    with shapefile.Writer(shp=shp, shx=shx, dbf=dbf, shapeType=shapefile.POLYGON) as writer:
        for name in records[0]:
            writer.field(name, "C", size=40)
        for geom, record in zip(geoms, records, strict=True):
            writer.shape(mapping(geom))
            writer.record(**record)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("districts/districts.shp", shp.getvalue())
        archive.writestr("districts/districts.shx", shx.getvalue())
        archive.writestr("districts/districts.dbf", dbf.getvalue())
        if prj:
            archive.writestr("districts/districts.prj", prj)
    return out.getvalue()


def test_a_zipped_shapefile_gives_its_features_with_their_properties():
    west, east = box(-73.99, 40.74, -73.98, 40.76), box(-73.98, 40.74, -73.97, 40.76)
    data = shapefile_zip([west, east], [{"district": "1", "member": "Ana"},
                                        {"district": "2", "member": "Bo"}])
    layer = read_layer("districts.zip", data)
    assert [f.properties for f in layer.features] == [{"district": "1", "member": "Ana"},
                                                      {"district": "2", "member": "Bo"}]
    assert layer.features[0].geometry.equals(west)
    assert boundaries.merged(layer).equals(MANHATTAN.union(box(-73.99, 40.74, -73.97, 40.76)))


def test_a_zipped_shapefile_with_a_state_plane_prj_is_reprojected():
    to_2263 = Transformer.from_crs("EPSG:4326", "EPSG:2263", always_xy=True)
    feet = shapely.transform(MANHATTAN, lambda x, y: to_2263.transform(x, y), interleaved=False)
    prj = CRS.from_epsg(2263).to_wkt("WKT1_ESRI")
    layer = read_layer("nyc.zip", shapefile_zip([feet], [{"name": "Midtown"}], prj=prj))
    assert "reprojected from" in notes(layer)[0]
    assert layer.features[0].geometry.symmetric_difference(MANHATTAN).area < 1e-4 * MANHATTAN.area


def test_zip_bombs_too_many_members_and_huge_files_are_refused_unread():
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a.shp", b"\0" * (30 * 1024 * 1024))
    assert len(bomb.getvalue()) < 100_000
    with pytest.raises(BoundaryError, match="zip bomb"):
        read_layer("bomb.zip", bomb.getvalue())
    many = io.BytesIO()
    with zipfile.ZipFile(many, "w") as archive:
        for i in range(60):
            archive.writestr(f"{i}.txt", b"x")
    with pytest.raises(BoundaryError, match="holds 60 files"):
        read_layer("many.zip", many.getvalue())
    with pytest.raises(BoundaryError, match="at most 20 MB"):
        read_layer("huge.geojson", b" " * (boundaries.MAX_FILE_BYTES + 1))
    with pytest.raises(BoundaryError, match="not a zip file"):
        read_layer("fake.zip", b"PK not really")


KML = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document>
 <Placemark><name>Ward 1</name>
  <ExtendedData><Data name="member"><value>Ana</value></Data></ExtendedData>
  <Polygon><outerBoundaryIs><LinearRing><coordinates>
   -73.99,40.74,0 -73.98,40.74,0 -73.98,40.76,0 -73.99,40.76,0 -73.99,40.74,0
  </coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>
 <Placemark><name>Ward 2</name><MultiGeometry>
  <Polygon><outerBoundaryIs><LinearRing><coordinates>
   -73.98,40.74 -73.97,40.74 -73.97,40.76 -73.98,40.76 -73.98,40.74
  </coordinates></LinearRing></outerBoundaryIs>
  <innerBoundaryIs><LinearRing><coordinates>
   -73.976,40.748 -73.974,40.748 -73.974,40.752 -73.976,40.752 -73.976,40.748
  </coordinates></LinearRing></innerBoundaryIs></Polygon>
  <Polygon><outerBoundaryIs><LinearRing><coordinates>
   -73.96,40.74 -73.95,40.74 -73.95,40.75 -73.96,40.74
  </coordinates></LinearRing></outerBoundaryIs></Polygon></MultiGeometry></Placemark>
 <Placemark><name>A pin</name><Point><coordinates>-73.98,40.75</coordinates></Point></Placemark>
</Document></kml>"""


def test_a_kml_file_gives_its_placemarks_with_names_data_and_holes():
    layer = read_layer("wards.kml", KML.encode())
    assert [f.properties for f in layer.features] == [{"name": "Ward 1", "member": "Ana"},
                                                      {"name": "Ward 2"}]
    ward1, ward2 = (f.geometry for f in layer.features)
    assert ward1.equals(box(-73.99, 40.74, -73.98, 40.76))
    assert ward2.geom_type == "MultiPolygon" and len(ward2.geoms[0].interiors) == 1
    assert not geo.contains(json.dumps(mapping(ward2)), 40.75, -73.975)  # in the hole
    picked = boundaries.pick(layer, ["ward 2"])
    assert [f.properties["name"] for f in picked.features] == ["Ward 2"]
    with pytest.raises(BoundaryError, match="no feature has name = ward 9"):
        boundaries.pick(layer, ["Ward 9"])


def test_kml_with_entities_is_refused():
    laughs = ('<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY a "aaaaaaaaaa">'
              '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><kml><Placemark><name>&b;</name>'
              '</Placemark></kml>')
    with pytest.raises(BoundaryError, match="DOCTYPE or entities"):
        read_layer("laughs.kml", laughs.encode())


def test_unknown_formats_and_broken_files_say_what_is_wanted():
    with pytest.raises(BoundaryError, match="GeoJSON .*Shapefile .*KML"):
        read_layer("area.txt", b"{}")
    with pytest.raises(BoundaryError, match="not valid GeoJSON"):
        read_layer("area.geojson", b"{nope")
    with pytest.raises(BoundaryError, match="not valid KML"):
        read_layer("area.kml", b"<kml><Placemark>")


@needs_data
def test_a_large_district_file_is_drawn_under_30_kb_and_routes_every_point_as_before():
    """Boston's 26 neighbourhoods (835 KB, the largest boundary file in shared/data):
    the outline maps draw is under 30 KB; the stored areas, which routing and membership
    read, are the originals, so 10,000 random points land in the same neighbourhood."""
    layer = read_layer(BOSTON.name, BOSTON.read_bytes())
    assert len(layer.features) == 26 and BOSTON.stat().st_size > 800_000
    city = boundaries.merged(layer)
    light = boundaries.simplified(city, 20)
    assert light.bytes_after < 30 * 1024 < light.bytes_before
    stored = [boundaries.geojson_text(f.geometry) for f in layer.features]  # what bodies keep
    originals = [f.geometry for f in layer.features]
    rng = random.Random(11)
    min_x, min_y, max_x, max_y = city.bounds
    xs, ys = [], []
    while len(xs) < 10_000:  # 10,000 random points on land in the city, not in the harbour
        x, y = rng.uniform(min_x, max_x), rng.uniform(min_y, max_y)
        if shapely.intersects_xy(city, x, y):
            xs.append(x)
            ys.append(y)

    def first_containing(areas) -> list[int]:
        hits = [shapely.intersects_xy(a, xs, ys) for a in areas]
        return [next((i for i, h in enumerate(hits) if h[p]), -1) for p in range(len(xs))]

    routed_before = first_containing(originals)
    routed_after = first_containing([geo.area(t) for t in stored])
    assert routed_before == routed_after
    assert sum(r >= 0 for r in routed_before) > 9_900
    # The test can fail: routing by the simplified outlines would move some points.
    simplified_each = [shape(json.loads(boundaries.simplified(g, 20).text)) for g in originals]
    assert first_containing(simplified_each) != routed_before
    # And the city's outline maps draw is the simplified one, membership the original.
    in_city = shapely.intersects_xy(geo.area(boundaries.geojson_text(city)), xs, ys)
    assert list(in_city) == list(shapely.intersects_xy(city, xs, ys))


def test_the_nearest_passing_shade_of_a_failing_brand_colour_passes_and_stays_close():
    tokens = {"color-primary": "#ffcc00", "color-on-primary": "#ffffff"}
    shade = nearest_passing_shade(tokens, "color-primary")
    assert contrast("#ffffff", "#ffcc00") < 4.5 <= contrast("#ffffff", shade)
    darker = nearest_passing_shade({**tokens, "color-primary": shade}, "color-primary")
    assert darker == shade  # a passing colour is its own nearest shade
    # Nearest: only just past the threshold, not some far darker colour.
    assert contrast("#ffffff", shade) < 4.7
    assert nearest_passing_shade({"color-primary": "#1b5e20", "color-on-primary": "#ffffff"},
                                 "color-primary") == "#1b5e20"


def test_tolerances_read_as_distances():
    assert boundaries.parse_tolerance("20m") == 20
    assert boundaries.parse_tolerance("0.5km") == 500
    assert boundaries.parse_tolerance("15") == 15
    with pytest.raises(boundaries.ConfigError, match="distance like 20m"):
        boundaries.parse_tolerance("twenty")
