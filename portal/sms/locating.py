"""Reading a place out of a text: coordinates, a shared map link, or words the portal's place
search knows (an address, a crossing, a neighbourhood).

Map links from the apps people share from: `geo:41.3,-72.9`, Google Maps (`@41.3,-72.9`,
`?q=41.3,-72.9`, `ll=`), OpenStreetMap (`mlat=…&mlon=…`, `#map=17/41.3/-72.9`), Apple Maps
(`ll=`). The search itself is `portal.places.gazetteer.suggest`, inside the portal's area.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

from sqlalchemy.orm import Session

from portal.core import geo
from portal.models import Tenant
from portal.places import gazetteer, point_names

CHOICES = 3  # "did you mean 1) … 2) … 3) …?"
_NUMBER = r"(-?\d{1,3}(?:\.\d+)?)"
_PAIRS = (
    re.compile(r"geo:" + _NUMBER + r"\s*,\s*" + _NUMBER),
    re.compile(r"[@=]" + _NUMBER + r"\s*,\s*" + _NUMBER),
    re.compile(r"mlat=" + _NUMBER + r"&(?:amp;)?mlon=" + _NUMBER),
    re.compile(r"#map=\d{1,2}/" + _NUMBER + "/" + _NUMBER),
    re.compile(r"^\s*" + _NUMBER + r"\s*[,; ]\s*" + _NUMBER + r"\s*$"),
)
_LINK = re.compile(r"https?://\S+|geo:\S+", re.IGNORECASE)


@dataclass(frozen=True)
class Candidate:
    label: str
    lat: float
    lon: float


def coordinates(text: str) -> tuple[float, float] | None:
    """(lat, lon) from coordinates or a map link in `text`; None if it holds neither."""
    text = unquote(text)
    for pattern in _PAIRS:
        match = pattern.search(text)
        if match:
            lat, lon = float(match.group(1)), float(match.group(2))
            if geo.valid_coordinates(lat, lon):
                return lat, lon
    return None


def has_link(text: str) -> bool:
    """Whether the text holds a web link that is not a map link (a reason to flag it)."""
    return any(coordinates(link) is None for link in _LINK.findall(text))


def candidates(session: Session, tenant: Tenant, text: str, locale: str) -> list[Candidate]:
    """What the text may mean as a place, best first (at most `CHOICES`)."""
    point = coordinates(text)
    if point is not None:
        name = point_names.name_of(session, tenant, point[0], point[1], locale)
        return [Candidate(str(name) or f"{point[0]:.5f}, {point[1]:.5f}", *point)]
    found = gazetteer.suggest(session, tenant, text[:gazetteer.MAX_QUERY], locale,
                              limit=CHOICES)
    return [Candidate(s.label, s.lat, s.lon) for s in found]
