"""Geocoders behind one interface, chosen per portal (`"geocoder"` in portal.json).

The built-in gazetteer (`portal.places.gazetteer`) always answers first: it needs no
network and knows the portal's own names. A portal may add Nominatim or Photon for what its
gazetteer lacks. Both speak their documented JSON (Nominatim `format=jsonv2`,
https://nominatim.org/release-docs/latest/api/Output/; Photon's GeoJSON,
https://github.com/komoot/photon), are asked only about the portal's box, and what they
return outside the portal's area is dropped.

Nominatim's usage policy (https://operations.osmfoundation.org/policies/nominatim/) is kept
for every Nominatim URL, public or not: answers are cached, requests are at most one per
second per process (`RateGate`), every request names us in its User-Agent (and carries the
operator's email when set), and it is never asked as the resident types: the policy forbids
autocomplete, so suggestions while typing come from the gazetteer (and Photon, which is
built for it), and Nominatim answers the search a resident sends.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

from sqlalchemy.orm import Session

from portal.core import geo
from portal.models import Tenant
from portal.places import gazetteer, point_names
from portal.places.gazetteer import ZOOMS, Suggestion
from portal.places.point_names import PlaceName

log = logging.getLogger(__name__)
USER_AGENT = "Reportal/1.0 (civic issue reporting; +https://github.com/reportal)"
TIMEOUT_S = 3.0


class Geocoder(Protocol):
    """A remote geocoder: search a text within a box, name a point."""

    name: str
    autocomplete: bool  # may it be asked on every keystroke?

    def search(self, query: str, locale: str, bbox: tuple[float, float, float, float],
               limit: int) -> list[Suggestion]: ...

    def reverse(self, lat: float, lon: float, locale: str) -> PlaceName | None: ...


class GeocoderUnavailable(Exception):
    """The remote geocoder did not answer, or not in its documented shape."""


class RateGate:
    """At most one request per `interval` seconds: a caller waits for its turn."""

    def __init__(self, interval: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.interval, self.clock, self.sleep = interval, clock, sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = self.clock()
            if self._next > now:
                self.sleep(self._next - now)
                now = self._next
            self._next = now + self.interval


class AnswerCache:
    """The last `size` answers for `ttl` seconds, keyed by the full request URL."""

    def __init__(self, size: int = 2000, ttl: float = 24 * 3600,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.size, self.ttl, self.clock = size, ttl, clock
        self._items: OrderedDict[str, tuple[float, object]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> object | None:
        with self._lock:
            item = self._items.get(key)
            if item is None or item[0] < self.clock():
                self._items.pop(key, None)
                return None
            self._items.move_to_end(key)
            return item[1]

    def put(self, key: str, value: object) -> None:
        with self._lock:
            self._items[key] = (self.clock() + self.ttl, value)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


class _Http:
    """GET JSON through the cache and the gate, with our User-Agent."""

    def __init__(self, interval: float, user_agent: str) -> None:
        self.gate = RateGate(interval)
        self.cache = AnswerCache()
        self.user_agent = user_agent
        self.requests = 0  # sent, not answered from the cache

    def get(self, url: str, params: dict[str, str], locale: str) -> object:
        full = f"{url}?{urllib.parse.urlencode(params)}"
        if (cached := self.cache.get(full)) is not None:
            return cached
        self.gate.wait()
        self.requests += 1
        request = urllib.request.Request(full, headers={
            "User-Agent": self.user_agent, "Accept": "application/json",
            "Accept-Language": locale.replace("_", "-")})
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
                data = json.loads(response.read().decode("utf-8"))
        except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
            raise GeocoderUnavailable(str(exc)) from exc
        self.cache.put(full, data)
        return data


def _kind(category: str, kind: str, has_number: bool) -> str:
    if has_number:
        return "address"
    if category in ("place", "boundary") or kind in ("neighbourhood", "suburb", "quarter",
                                                     "city_district", "district"):
        return "area"
    return "landmark"


class Nominatim:
    """Nominatim's /search and /reverse in `format=jsonv2`."""

    name = "nominatim"
    autocomplete = False

    def __init__(self, url: str, email: str = "", interval: float = 1.0) -> None:
        self.url, self.email = url.rstrip("/"), email
        agent = USER_AGENT + (f" {email}" if email else "")
        self.http = _Http(interval, agent)

    def _params(self, params: dict[str, str], locale: str) -> dict[str, str]:
        params = {"format": "jsonv2", "addressdetails": "1",
                  "accept-language": locale.replace("_", "-"), **params}
        if self.email:
            params["email"] = self.email
        return params

    def search(self, query: str, locale: str, bbox: tuple[float, float, float, float],
               limit: int) -> list[Suggestion]:
        min_lon, min_lat, max_lon, max_lat = bbox
        data = self.http.get(f"{self.url}/search", self._params({
            "q": query, "limit": str(limit), "bounded": "1",
            "viewbox": f"{min_lon},{max_lat},{max_lon},{min_lat}"}, locale), locale)
        if not isinstance(data, list):
            raise GeocoderUnavailable("search did not answer a list")
        found = []
        for item in data:
            try:
                lat, lon = float(item["lat"]), float(item["lon"])
            except (KeyError, TypeError, ValueError):
                continue
            address = item.get("address") or {}
            label = item.get("name") or ""
            if address.get("house_number") and address.get("road"):
                label = f"{address['house_number']} {address['road']}"
            label = label or ", ".join(str(item.get("display_name", "")).split(", ")[:2])
            area = (address.get("neighbourhood") or address.get("suburb")
                    or address.get("city_district") or "")
            if area and area != label:
                label = f"{label}, {area}"
            kind = _kind(str(item.get("category") or item.get("class") or ""),
                         str(item.get("type", "")), bool(address.get("house_number")))
            found.append(Suggestion(label, kind, lat, lon, ZOOMS[kind], self.name))
        return found

    def reverse(self, lat: float, lon: float, locale: str) -> PlaceName | None:
        data = self.http.get(f"{self.url}/reverse", self._params({
            "lat": f"{lat:.6f}", "lon": f"{lon:.6f}", "zoom": "18"}, locale), locale)
        if not isinstance(data, dict) or "error" in data:
            return None
        address = data.get("address") or {}
        street = " ".join(p for p in (address.get("house_number"), address.get("road")) if p)
        area = (address.get("neighbourhood") or address.get("suburb")
                or address.get("quarter") or address.get("city_district") or "")
        return PlaceName(street, area) if street or area else None


class Photon:
    """Photon's /api and /reverse (GeoJSON features with OSM properties)."""

    name = "photon"
    autocomplete = True
    LANGUAGES = ("en", "de", "fr", "it")  # the languages Photon's index is built with

    def __init__(self, url: str, interval: float = 0.1) -> None:
        self.url = url.rstrip("/")
        self.http = _Http(interval, USER_AGENT)

    def _lang(self, locale: str) -> dict[str, str]:
        base = locale.split("_")[0]
        return {"lang": base} if base in self.LANGUAGES else {}

    @staticmethod
    def _suggestion(feature: dict) -> tuple[Suggestion, dict] | None:
        """A feature as a suggestion (its properties too), or None when it has no point."""
        try:
            lon, lat = (float(c) for c in feature["geometry"]["coordinates"][:2])
        except (KeyError, TypeError, ValueError):
            return None
        p = feature.get("properties") or {}
        street = " ".join(str(x) for x in (p.get("housenumber"), p.get("street")) if x)
        label = str(p.get("name") or street)
        if p.get("name") and street and not p.get("osm_key") == "highway":
            label = f"{p['name']}, {street}"
        if p.get("district") and p.get("district") != label:
            label = f"{label}, {p['district']}"
        kind = _kind(str(p.get("osm_key", "")), str(p.get("type") or p.get("osm_value", "")),
                     bool(p.get("housenumber")))
        return Suggestion(label, kind, lat, lon, ZOOMS[kind], "photon"), p

    def search(self, query: str, locale: str, bbox: tuple[float, float, float, float],
               limit: int) -> list[Suggestion]:
        data = self.http.get(f"{self.url}/api", {
            "q": query, "limit": str(limit), "bbox": ",".join(f"{v:.6f}" for v in bbox),
            **self._lang(locale)}, locale)
        if not isinstance(data, dict) or not isinstance(data.get("features"), list):
            raise GeocoderUnavailable("search did not answer a FeatureCollection")
        found = []
        for feature in data["features"]:
            if (parsed := self._suggestion(feature)) is not None:
                found.append(parsed[0])
        return found

    def reverse(self, lat: float, lon: float, locale: str) -> PlaceName | None:
        data = self.http.get(f"{self.url}/reverse", {
            "lat": f"{lat:.6f}", "lon": f"{lon:.6f}", "limit": "1", **self._lang(locale)},
            locale)
        features = data.get("features") if isinstance(data, dict) else None
        if not features:
            return None
        p = features[0].get("properties") or {}
        street = " ".join(str(x) for x in (p.get("housenumber"), p.get("street")) if x)
        area = str(p.get("district") or p.get("locality") or "")
        return PlaceName(street, area) if street or area else None


_remotes: dict[tuple[str, str, str], Geocoder] = {}
_remotes_lock = threading.Lock()


def remote_for(tenant: Tenant) -> Geocoder | None:
    """The portal's remote geocoder, one per URL per process (so its cache and gate are)."""
    setting = tenant.geocoder or {}
    backend = setting.get("backend", "gazetteer")
    if backend not in ("nominatim", "photon"):
        return None
    key = (backend, setting.get("url", ""), setting.get("email", ""))
    with _remotes_lock:
        if key not in _remotes:
            _remotes[key] = (Nominatim(key[1], key[2]) if backend == "nominatim"
                             else Photon(key[1]))
        return _remotes[key]


def find_places(session: Session, tenant: Tenant, query: str, locale: str, *,
                typing: bool, limit: int = 8) -> list[Suggestion]:
    """The portal's own places first, then its remote geocoder's, inside its area.

    `typing`: a suggestion while the resident types; a remote geocoder that forbids
    autocomplete (Nominatim) is then not asked.
    """
    found = gazetteer.suggest(session, tenant, query, locale, limit)
    remote = remote_for(tenant)
    if remote is None or len(found) >= limit or (typing and not remote.autocomplete):
        return found
    bbox = (tenant.min_lon, tenant.min_lat, tenant.max_lon, tenant.max_lat)
    try:
        extra = remote.search(query, locale, bbox, limit)
    except GeocoderUnavailable as exc:
        log.warning("geocoder %s unavailable: %s", remote.name, exc)
        return found
    seen = {(s.label.casefold(), round(s.lat, 4), round(s.lon, 4)) for s in found}
    for s in extra:
        key = (s.label.casefold(), round(s.lat, 4), round(s.lon, 4))
        if key not in seen and geo.contains(tenant.area_geojson, s.lat, s.lon):
            seen.add(key)
            found.append(s)
    return found[:limit]


def name_point(session: Session, tenant: Tenant, lat: float, lon: float) -> PlaceName:
    """Name a point: the gazetteer's names, else the remote geocoder's (when it answers)."""
    name = point_names.name_of(session, tenant, lat, lon)
    if name.address and name.area:
        return name
    remote = remote_for(tenant)
    if remote is None:
        return name
    try:
        other = remote.reverse(lat, lon, tenant.default_language)
    except GeocoderUnavailable as exc:
        log.warning("geocoder %s unavailable: %s", remote.name, exc)
        return name
    if other is None:
        return name
    return PlaceName(name.address or other.address, name.area or other.area)
