"""Arrange real rows through the domain functions, as the product itself would."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Issue, Tenant
from portal.reports.reporting import ReportForm, submit_report


def tenant(session: Session, slug: str) -> Tenant:
    return session.scalars(select(Tenant).where(Tenant.slug == slug)).one()


def file_report(session: Session, portal: str, lat: float, lon: float,
                request_type: str = "pothole", description: str = "A deep pothole",
                media_dir: Path | None = None, **fields: object) -> Issue:
    form = ReportForm(lat=str(lat), lon=str(lon), request_type=request_type,
                      description=description, **fields)  # type: ignore[arg-type]
    return submit_report(session, tenant(session, portal), form,
                         media_dir or Path("/nonexistent-media"), 10 * 1024 * 1024)


def jpeg_bytes(size: tuple[int, int] = (64, 48), exif_gps: bool = False) -> bytes:
    img = Image.new("RGB", size, (200, 80, 40))
    out = io.BytesIO()
    if exif_gps:
        exif = Image.Exif()
        exif[0x010F] = "PhoneMaker"  # Make
        gps = {1: "N", 2: (41.0, 18.0, 0.0), 3: "W", 4: (72.0, 55.0, 0.0)}
        exif[0x8825] = gps
        img.save(out, "JPEG", exif=exif)
    else:
        img.save(out, "JPEG")
    return out.getvalue()


def png_bytes(size: tuple[int, int] = (32, 32)) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, (0, 120, 0, 128)).save(out, "PNG")
    return out.getvalue()
