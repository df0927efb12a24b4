"""Boundary files on the way in: read, checked, repaired, reprojected, simplified.

An operator brings a city's outline as GeoJSON, a zipped Shapefile or KML; what we keep is
WGS 84 longitude/latitude polygons. `read_layer` turns the file into features and says, as
`notes`, everything it did to them (reprojected from EPSG:2263, feature 3 repaired); what it
cannot do safely it refuses with a `BoundaryError` naming the file and the problem:

- coordinates outside ±180/±90 (after reprojection) are refused;
- latitude and longitude swapped (a latitude past ±90, or an outline in Antarctica whose
  swap lands where people live) is refused with the fix offered: read again with
  `swap_axes=True` (`--swap-axes` on the command line);
- a CRS other than WGS 84 is reprojected with pyproj, one pyproj cannot read is refused
  with the CRS named;
- an invalid polygon (a self-intersecting ring, a bow tie) is repaired with `make_valid`
  and the repair reported with Shapely's reason;
- a line (LineString/MultiLineString) is left out, unless a corridor buffer is given
  (`buffer_m`, `--buffer` on the command line): then it is kept as a corridor, a line with a
  width in metres (`portal.core.corridors`), which `corridor_layers.area_file_text` writes
  beside the polygons so the loaded portal buffers it and names it.

`merged` makes one area of a layer, `split` one per feature (bodies from a districts
file). `simplified` draws a lighter outline for maps and states both sizes; it is for
*display* only: routing and membership keep the original (`Tenant.display_area_geojson`),
so simplifying never changes which body or portal a point belongs to.

Files are checked before they are read: size, and for a zip the number of members, their
declared sizes and their compression ratio (a zip bomb is refused unread). KML with a
DOCTYPE is refused (entity expansion).
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from dataclasses import dataclass, field
from xml.etree import ElementTree

import shapely
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

from portal.core import corridors
from portal.core.errors import N_, ConfigError, Message

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_UNZIPPED_BYTES = 60 * 1024 * 1024
MAX_ZIP_MEMBERS = 50
MAX_ZIP_RATIO = 100  # a Shapefile compresses perhaps 2-10 times; a bomb a thousand
WGS84_NAMES = {"EPSG:4326", "OGC:CRS84", "URN:OGC:DEF:CRS:OGC:1.3:CRS84",
               "URN:OGC:DEF:CRS:EPSG::4326", "EPSG:4269", "URN:OGC:DEF:CRS:EPSG::4269"}
KML_NS = "{http://www.opengis.net/kml/2.2}"


class BoundaryError(ConfigError):
    """A boundary file we will not read as it is (the message says why and what to do)."""


class SwappedAxes(BoundaryError):
    """Latitude first: reading it again with `swap_axes=True` is the fix to offer."""


@dataclass
class Feature:
    """One feature of a layer: its properties and its (multi)polygon in WGS 84."""

    properties: dict
    geometry: BaseGeometry

    def label(self, index: int) -> str:
        name = self.properties.get("name") or self.properties.get("NAME")
        return f"{index + 1} ({name})" if name else str(index + 1)


@dataclass
class Layer:
    """What a boundary file held, and what reading it did (translatable notes)."""

    features: list[Feature]
    crs: str = "EPSG:4326"
    notes: list[Message] = field(default_factory=list)


def read_layer(name: str, data: bytes, *, crs: str = "", swap_axes: bool = False,
               buffer_m: float | None = None) -> Layer:
    """Read a boundary file by its name's ending (.geojson/.json, .zip, .kml).

    `crs` overrides what the file says (for a Shapefile without .prj); `swap_axes` swaps
    every coordinate pair (the offered fix for a swapped file); `buffer_m` keeps lines as
    corridors that wide either side (a line's own `buffer_m` property wins).
    """
    if len(data) > MAX_FILE_BYTES:
        raise BoundaryError(N_("the file is %(size)s MB; at most %(limit)s MB is read"),
                            where=name, size=round(len(data) / 1e6, 1),
                            limit=MAX_FILE_BYTES // (1024 * 1024))
    lower = name.lower()
    if lower.endswith(".zip"):
        raw, file_crs = _read_shapefile_zip(name, data)
    elif lower.endswith(".kml"):
        raw, file_crs = _read_kml(name, data), "EPSG:4326"
    elif lower.endswith((".geojson", ".json")):
        raw, file_crs = _read_geojson(name, data)
    else:
        raise BoundaryError(N_("a boundary file is GeoJSON (.geojson), a zipped Shapefile "
                               "(.zip) or KML (.kml)"), where=name)
    layer = Layer([], crs or file_crs or "EPSG:4326")
    transform = _transformer(name, layer)
    for index, (properties, geometry) in enumerate(raw):
        if geometry is None:
            continue
        geom = shape(geometry) if isinstance(geometry, dict) else geometry
        if geom.geom_type in corridors.LINES and buffer_m is not None:
            properties = {**(properties or {})}
            properties["buffer_m"] = corridors.buffer_distance(
                properties.get("buffer_m", buffer_m), f"{name} feature {index + 1}")
        elif geom.geom_type in corridors.LINES:
            layer.notes.append(Message(N_("feature %(feature)s is a line: left out (to keep "
                                          "lines as corridors, give --buffer METRES)"),
                                       {"feature": index + 1}))
            continue
        elif geom.geom_type not in ("Polygon", "MultiPolygon"):
            layer.notes.append(Message(N_("feature %(feature)s is a %(kind)s, not an area: "
                                          "left out"),
                                       {"feature": index + 1, "kind": geom.geom_type}))
            continue
        if transform is not None:
            geom = shapely.transform(geom, transform, interleaved=False)
        if swap_axes:
            geom = shapely.transform(geom, lambda xy: xy[:, ::-1])
        layer.features.append(Feature(dict(properties or {}), geom))
    if not layer.features:
        raise BoundaryError(N_("the file holds no Polygon or MultiPolygon"), where=name)
    _check_coordinates(name, layer, swapped=swap_axes)
    _repair(layer)
    return layer


def check_area_coordinates(where: str, geom: BaseGeometry) -> None:
    """The coordinate checks of `read_layer`, for an area already read (tenant files)."""
    _check_coordinates(where, Layer([Feature({}, geom)]), swapped=False)


# --- readers -------------------------------------------------------------------------


def _read_geojson(name: str, data: bytes) -> tuple[list[tuple[dict, dict]], str]:
    try:
        obj = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BoundaryError(N_("not valid GeoJSON (%(problem)s)"), where=name,
                            problem=str(exc)) from None
    if not isinstance(obj, dict):
        raise BoundaryError(N_("not valid GeoJSON (%(problem)s)"), where=name,
                            problem="not an object")
    crs = ""
    if isinstance(obj.get("crs"), dict):  # the 2008 GeoJSON's named CRS (RFC 7946 dropped it)
        crs = str((obj["crs"].get("properties") or {}).get("name", ""))
    kind = obj.get("type")
    try:
        if kind == "FeatureCollection":
            features = [(f.get("properties") or {}, f.get("geometry"))
                        for f in obj.get("features") or []]
        elif kind == "Feature":
            features = [(obj.get("properties") or {}, obj.get("geometry"))]
        else:
            features = [({}, obj)]
        for _properties, geometry in features:
            if geometry is not None:
                shape(geometry)
    except (AttributeError, KeyError, TypeError, ValueError, shapely.errors.GEOSException) as exc:
        raise BoundaryError(N_("not valid GeoJSON (%(problem)s)"), where=name,
                            problem=str(exc) or type(exc).__name__) from None
    return features, crs


def _read_shapefile_zip(name: str, data: bytes) -> tuple[list[tuple[dict, dict]], str]:
    import shapefile  # pyshp

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise BoundaryError(N_("not a zip file"), where=name) from None
    members = [m for m in archive.infolist() if not m.is_dir()]
    if len(members) > MAX_ZIP_MEMBERS:
        raise BoundaryError(N_("the zip holds %(count)s files; a Shapefile needs a handful"),
                            where=name, count=len(members))
    total = sum(m.file_size for m in members)
    packed = sum(m.compress_size for m in members) or 1
    if total > MAX_UNZIPPED_BYTES or total / packed > MAX_ZIP_RATIO:
        raise BoundaryError(N_("the zip unpacks to %(size)s MB (%(ratio)s times its size): "
                               "refused as a possible zip bomb"), where=name,
                            size=round(total / 1e6, 1), ratio=round(total / packed))
    by_ext: dict[str, list[zipfile.ZipInfo]] = {}
    for member in members:
        if "__MACOSX" in member.filename:
            continue
        by_ext.setdefault(member.filename.rpartition(".")[2].lower(), []).append(member)
    shps = by_ext.get("shp", [])
    if len(shps) != 1:
        raise BoundaryError(N_("the zip must hold exactly one .shp file (it holds %(count)s)"),
                            where=name, count=len(shps))
    stem = shps[0].filename.rpartition(".")[0]

    def part(ext: str) -> bytes | None:
        for member in by_ext.get(ext, []):
            if member.filename.rpartition(".")[0] == stem:
                # Read no more than declared: a lying header cannot unpack a bomb.
                with archive.open(member) as handle:
                    return handle.read(member.file_size + 1)[: member.file_size]
        return None

    shp, shx, dbf, prj, cpg = (part(e) for e in ("shp", "shx", "dbf", "prj", "cpg"))
    if dbf is None:
        raise BoundaryError(N_("the zip has no .dbf beside its .shp"), where=name)
    encoding = (cpg or b"utf-8").decode("ascii", "replace").strip() or "utf-8"
    try:
        reader = shapefile.Reader(shp=io.BytesIO(shp), shx=io.BytesIO(shx) if shx else None,
                                  dbf=io.BytesIO(dbf), encoding=encoding,
                                  encodingErrors="replace")
        features = [(record.record.as_dict(), record.shape.__geo_interface__
                     if record.shape.shapeType != shapefile.NULL else None)
                    for record in reader.iterShapeRecords()]
    except Exception as exc:  # noqa: BLE001 - pyshp raises plain exceptions of many kinds
        raise BoundaryError(N_("not a readable Shapefile (%(problem)s)"), where=name,
                            problem=str(exc) or type(exc).__name__) from None
    return features, prj.decode("utf-8", "replace") if prj else ""


def _read_kml(name: str, data: bytes) -> list[tuple[dict, BaseGeometry | None]]:
    head = data[:4096].upper()
    if b"<!DOCTYPE" in head or b"<!ENTITY" in data.upper():
        raise BoundaryError(N_("KML with a DOCTYPE or entities is not read"), where=name)
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        raise BoundaryError(N_("not valid KML (%(problem)s)"), where=name,
                            problem=str(exc)) from None
    ns = KML_NS if root.tag.startswith(KML_NS) else ""
    features = []
    for placemark in root.iter(f"{ns}Placemark"):
        properties: dict = {}
        if (title := placemark.findtext(f"{ns}name")) is not None:
            properties["name"] = title.strip()
        for item in placemark.iter(f"{ns}Data"):
            properties[item.get("name", "")] = (item.findtext(f"{ns}value") or "").strip()
        for item in placemark.iter(f"{ns}SimpleData"):
            properties[item.get("name", "")] = (item.text or "").strip()
        polygons = []
        for polygon in placemark.iter(f"{ns}Polygon"):
            outer = polygon.find(f"{ns}outerBoundaryIs/{ns}LinearRing/{ns}coordinates")
            if outer is None:
                continue
            holes = [_kml_ring(name, h.text or "") for h in polygon.findall(
                f"{ns}innerBoundaryIs/{ns}LinearRing/{ns}coordinates")]
            polygons.append(shapely.Polygon(_kml_ring(name, outer.text or ""), holes))
        geometry = None
        if len(polygons) == 1:
            geometry = polygons[0]
        elif polygons:
            geometry = shapely.MultiPolygon(polygons)
        features.append((properties, geometry))
    return features


def _kml_ring(name: str, text: str) -> list[tuple[float, float]]:
    try:
        return [(float(p.split(",")[0]), float(p.split(",")[1])) for p in text.split()]
    except (IndexError, ValueError):
        raise BoundaryError(N_("not valid KML (%(problem)s)"), where=name,
                            problem="coordinates are not lon,lat[,alt]") from None


# --- checks and repairs ---------------------------------------------------------------


def _transformer(name: str, layer: Layer):  # noqa: ANN202 - a function of two arrays
    """None for WGS 84, else a function reprojecting x, y arrays to it."""
    if layer.crs.strip().upper() in WGS84_NAMES:
        return None
    from pyproj import CRS, Transformer
    from pyproj.exceptions import CRSError

    try:
        source = CRS.from_user_input(layer.crs)
    except CRSError:
        raise BoundaryError(N_("the file's coordinate system %(crs)r is not one we can read; "
                               "reproject it to WGS 84 (EPSG:4326)"), where=name,
                            crs=layer.crs[:120]) from None
    if source.equals(CRS.from_epsg(4326), ignore_axis_order=True):
        layer.crs = "EPSG:4326"
        return None
    label = source.to_string() if source.to_epsg() is None else f"EPSG:{source.to_epsg()}"
    layer.crs = label
    layer.notes.append(Message(N_("reprojected from %(crs)s (%(crs_name)s) to WGS 84"),
                               {"crs": label, "crs_name": source.name}))
    transformer = Transformer.from_crs(source, "EPSG:4326", always_xy=True)
    return lambda x, y: transformer.transform(x, y)


def _check_coordinates(name: str, layer: Layer, swapped: bool) -> None:
    xs, ys = [], []
    for feature in layer.features:
        coords = shapely.get_coordinates(feature.geometry)
        if not coords.size:
            continue
        if not (abs(coords) < math.inf).all():
            raise BoundaryError(N_("the file has coordinates that are not numbers"), where=name)
        xs.append((coords[:, 0].min(), coords[:, 0].max()))
        ys.append((coords[:, 1].min(), coords[:, 1].max()))
    if not xs:
        raise BoundaryError(N_("the file holds no Polygon or MultiPolygon"), where=name)
    min_x, max_x = min(x[0] for x in xs), max(x[1] for x in xs)
    min_y, max_y = min(y[0] for y in ys), max(y[1] for y in ys)
    x_ok, y_ok = -180 <= min_x <= max_x <= 180, -90 <= min_y <= max_y <= 90
    swap_ok = -90 <= min_x <= max_x <= 90 and -180 <= min_y <= max_y <= 180
    # Nobody runs a civic portal in Antarctica: an outline wholly south of 60° S whose swap
    # lands in inhabited latitudes is a file written latitude-first.
    antarctic = max_y < -60 and -60 <= min_x <= max_x <= 75
    if not swapped and swap_ok and (not y_ok or antarctic):
        raise SwappedAxes(N_("latitude and longitude look swapped (longitudes %(x0)s to "
                               "%(x1)s, latitudes %(y0)s to %(y1)s); GeoJSON is longitude "
                               "first. To swap them, read the file again with --swap-axes"),
                            where=name, x0=round(min_x, 4), x1=round(max_x, 4),
                            y0=round(min_y, 4), y1=round(max_y, 4))
    if not (x_ok and y_ok):
        raise BoundaryError(N_("coordinates run from (%(x0)s, %(y0)s) to (%(x1)s, %(y1)s): "
                               "outside ±180° longitude / ±90° latitude. If the file is in a "
                               "projected coordinate system, say which (for example "
                               "--crs EPSG:2263)"),
                            where=name, x0=round(min_x, 1), y0=round(min_y, 1),
                            x1=round(max_x, 1), y1=round(max_y, 1))


def repaired(geom: BaseGeometry) -> BaseGeometry | None:
    """`geom` made valid, keeping only polygons; None when nothing of an area is left."""
    if geom.is_valid:
        return geom
    parts = [g for g in shapely.get_parts(shapely.make_valid(geom))
             if g.geom_type in ("Polygon", "MultiPolygon") and not g.is_empty]
    return shapely.union_all(parts) if parts else None


def _repair(layer: Layer) -> None:
    kept = []
    for index, feature in enumerate(layer.features):
        if feature.geometry.is_valid:
            kept.append(feature)
            continue
        reason = shapely.is_valid_reason(feature.geometry)
        fixed = repaired(feature.geometry)
        if fixed is None:
            layer.notes.append(Message(N_("feature %(feature)s is not a valid polygon "
                                          "(%(reason)s) and has no area left after repair: "
                                          "left out"),
                                       {"feature": feature.label(index), "reason": reason}))
            continue
        layer.notes.append(Message(N_("feature %(feature)s was not a valid polygon "
                                      "(%(reason)s): repaired"),
                                   {"feature": feature.label(index), "reason": reason}))
        kept.append(Feature(feature.properties, fixed))
    if not kept:
        raise BoundaryError(N_("the file holds no Polygon or MultiPolygon"))
    layer.features = kept


# --- what to keep ---------------------------------------------------------------------


def is_line(feature: Feature) -> bool:
    return feature.geometry.geom_type in corridors.LINES


def merged(layer: Layer) -> BaseGeometry:
    """One area of every feature (a city from its neighbourhoods), corridors buffered."""
    geom = shapely.union_all([
        corridors.buffered(f.geometry, f.properties["buffer_m"]) if is_line(f) else f.geometry
        for f in layer.features])
    return repaired(geom) or geom


def pick(layer: Layer, values: list[str], prop: str = "name") -> Layer:
    """Only the features whose `prop` is one of `values` (three neighbourhoods of a city)."""
    wanted = {v.strip().casefold() for v in values}
    chosen = [f for f in layer.features if str(f.properties.get(prop, "")).casefold() in wanted]
    found = {str(f.properties.get(prop, "")).casefold() for f in chosen}
    if missing := sorted(wanted - found):
        raise BoundaryError(N_("no feature has %(property)s = %(values)s"), property=prop,
                            values=", ".join(missing))
    return Layer(chosen, layer.crs, list(layer.notes))


def geojson_text(geom: BaseGeometry, decimals: int = 6) -> str:
    """The stored form of an area: compact GeoJSON geometry text, rounded (6 places ≈ 10 cm)."""
    rounded = shapely.set_precision(geom, 10 ** -decimals, mode="pointwise")
    return json.dumps(mapping(rounded), separators=(",", ":"))


@dataclass(frozen=True)
class Simplified:
    """A lighter outline for display, and the sizes a user is shown."""

    text: str
    bytes_before: int
    bytes_after: int
    tolerance_m: float


def simplified(geom: BaseGeometry, tolerance_m: float) -> Simplified:
    """The outline simplified to `tolerance_m` metres (Douglas-Peucker, topology kept) and
    rounded to 5 decimals (about a metre), for maps. Never for routing: see the docstring."""
    before = len(geojson_text(geom))
    if tolerance_m <= 0:
        return Simplified(geojson_text(geom), before, before, 0.0)
    lat = geom.representative_point().y
    degrees = tolerance_m / (111_320 * max(math.cos(math.radians(lat)), 0.1))
    light = shapely.simplify(geom, degrees, preserve_topology=True)
    light = repaired(light) or geom
    text = geojson_text(light, decimals=5)
    return Simplified(text, before, len(text), tolerance_m)


def parse_tolerance(text: str) -> float:
    """'20m' or '20' -> 20.0 metres; '0.5km' -> 500.0."""
    value = text.strip().lower()
    factor = 1000.0 if value.endswith("km") else 1.0
    value = value.removesuffix("km").removesuffix("m").strip()
    try:
        metres = float(value) * factor
    except ValueError:
        raise ConfigError(N_("a tolerance is a distance like 20m"), where=text) from None
    if not 0 <= metres <= 5000 or not math.isfinite(metres):
        raise ConfigError(N_("a tolerance is between 0 and 5000 m"), where=text)
    return metres
