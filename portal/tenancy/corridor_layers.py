"""Corridors on the way in from a boundary file: `tenants new --area FILE --buffer 60m`.

`boundaries.read_layer(..., buffer_m=...)` keeps a file's lines as corridors (features whose
`buffer_m` property says how wide); this writes them into `area.geojson` beside the merged
polygons, so loading the portal buffers them into its area and keeps them by name.
"""

from __future__ import annotations

import json
import math

import shapely

from portal.core import corridors
from portal.core.errors import N_, ConfigError
from portal.tenancy.boundaries import Layer, geojson_text, is_line, repaired


def area_file_text(layer: Layer) -> str:
    """What `area.geojson` holds for a layer: its polygons merged, and each corridor as a
    line with its `buffer_m` (and name), which loading buffers into the area."""
    polygons = [f.geometry for f in layer.features if not is_line(f)]
    area = None
    if polygons:
        area = shapely.union_all(polygons)
        area = repaired(area) or area
    lines = [f for f in layer.features if is_line(f)]
    if not lines and area is not None:
        return geojson_text(area)
    features = [{"type": "Feature", "properties": {}, "geometry": json.loads(geojson_text(area))}
                ] if area is not None else []
    for feature in lines:
        kept = {k: feature.properties[k] for k in ("id", "name", "buffer_m")
                if k in feature.properties}
        features.append({"type": "Feature", "properties": kept,
                         "geometry": json.loads(geojson_text(feature.geometry))})
    return json.dumps({"type": "FeatureCollection", "features": features},
                      separators=(",", ":"), ensure_ascii=False)


def parse_buffer(text: str) -> float:
    """'60m' or '60' -> 60.0 metres either side of a corridor's line."""
    value = text.strip().lower().removesuffix("m").strip()
    try:
        metres = float(value)
    except ValueError:
        metres = math.nan
    if not math.isfinite(metres) or not 0 < metres <= corridors.MAX_BUFFER_M:
        raise ConfigError(N_("a corridor buffer is a distance above 0 and at most %(max)s m, "
                             "like 60m"), where=text, max=int(corridors.MAX_BUFFER_M))
    return metres
