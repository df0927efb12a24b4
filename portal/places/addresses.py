"""Address points from an OpenAddresses CSV: `portal places import FILE --tenant SLUG`.

OpenAddresses' CSV has the columns LON, LAT, NUMBER, STREET, UNIT, CITY, DISTRICT, REGION,
POSTCODE, ID, HASH (https://openaddresses.io); we read LON, LAT, NUMBER and STREET, in any
case and order. Points outside the portal's area are skipped (a portal offers only its own
places) and counted, as are rows without a street or a usable point. Importing a file again
replaces what the same file name brought before.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from portal.core import geo
from portal.core.errors import N_, ConfigError
from portal.core.i18n import gettext as _
from portal.models import Tenant
from portal.places import gazetteer
from portal.places.gazetteer import NewPlace

BATCH = 5000
TABLES = ("places", "place_terms", "place_grams")  # what an import writes (to settle after)
REQUIRED = ("LON", "LAT", "STREET")


@dataclass
class AddressImport:
    added: int = 0
    replaced: int = 0
    outside: int = 0
    unusable: int = 0

    def lines(self) -> list[str]:
        """The summary the CLI prints, in the current language."""
        return [_("address points added: %(n)s", n=self.added),
                _("replaced from an earlier import of this file: %(n)s", n=self.replaced),
                _("outside the portal's area, skipped: %(n)s", n=self.outside),
                _("without a street or a usable point, skipped: %(n)s", n=self.unusable)]


def _point(row: dict[str, str]) -> tuple[float, float] | None:
    try:
        lon, lat = float(row.get("LON", "")), float(row.get("LAT", ""))
    except ValueError:
        return None
    if not (math.isfinite(lat) and math.isfinite(lon)) or not geo.valid_coordinates(lat, lon):
        return None
    return lat, lon


def import_addresses(session: Session, tenant: Tenant, path: Path) -> AddressImport:
    """Load the file's address points into the portal's gazetteer, in batches."""
    source = f"import:{path.name}"[:200]
    summary = AddressImport()
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = [h.strip().upper() for h in reader.fieldnames or []]
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            raise ConfigError(N_("not an OpenAddresses CSV: no column %(columns)s"),
                              where=str(path), columns=", ".join(missing))
        reader.fieldnames = header
        summary.replaced = gazetteer.remove_source(session, tenant.id, source)
        batch: list[NewPlace] = []
        for row in reader:
            street = " ".join((row.get("STREET") or "").split())
            point = _point(row)
            if not street or point is None:
                summary.unusable += 1
                continue
            if not geo.contains(tenant.area_geojson, *point):
                summary.outside += 1
                continue
            label = f"{(row.get('NUMBER') or '').strip()} {street}".strip()
            batch.append(NewPlace("address", {tenant.default_language: label[:300]},
                                  round(point[0], 7), round(point[1], 7), street=street))
            if len(batch) >= BATCH:
                summary.added += gazetteer.add_places(session, tenant.id, batch, source)
                batch = []
        summary.added += gazetteer.add_places(session, tenant.id, batch, source)
    return summary
