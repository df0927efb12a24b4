"""The public dashboard (per portal, or one body within it) and its open-data exports."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import date, timedelta
from functools import lru_cache

from babel.dates import format_date, format_timedelta
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from portal.core.errors import N_, NotFound
from portal.core.i18n import babel_locale, current_locale
from portal.middleware.page_cache import shared_page
from portal.models import Body
from portal.reports import dashboard, deadlines
from portal.web.absolute_urls import absolute
from portal.web.request_context import tenant
from portal.web.templating import render, url

# Spreadsheet programs run cells that start like a formula; open data must not.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
TEXT_FIELDS = ("address", "title", "description", "reported_by", "request_type_name",
               "body_name")


def _body(request: Request, bodies: list[Body]) -> Body | None:
    """The body asked for, among those with public issues on this portal; else NotFound."""
    slug = request.query_params.get("body", "")
    if not slug:
        return None
    body = next((b for b in bodies if b.slug == slug), None)
    if body is None:
        raise NotFound(N_("There is no such body on this portal."))
    return body


def duration(value: timedelta | None) -> str:
    if value is None:
        return ""
    return format_timedelta(value, threshold=1.5, locale=babel_locale())


def week_label(day: date) -> str:
    return _week_label(day, current_locale(), "d MMM")


def month_label(day: date) -> str:
    return _week_label(day, current_locale(), "MMM yyyy")


@lru_cache(maxsize=1024)
def _week_label(day: date, locale: str, pattern: str) -> str:  # the same bars, every request
    return format_date(day, pattern, locale=babel_locale(locale))


def _day(request: Request, name: str) -> tuple[date | None, bool]:
    """A `YYYY-MM-DD` query value (what a date field sends); (None, False) when it is not."""
    text = request.query_params.get(name, "").strip()
    if not text:
        return None, True
    try:
        return date.fromisoformat(text), True
    except ValueError:
        return None, False


@shared_page
def dashboard_page(request: Request) -> Response:
    portal = tenant(request)
    with request.app.state.db.session() as session:
        bodies = dashboard.bodies_in(session, portal)
        body = _body(request, bodies)
        (start, start_ok), (end, end_ok) = _day(request, "from"), _day(request, "to")
        figures = dashboard.stats(session, portal, request.state.locale, body,
                                  start=start, end=end)
        # Over the weeks the chart shows: an index range of the portal's membership rows,
        # never all of a large portal's history.
        first_week, last_week = figures.shown_weeks
        on_time_types, on_time_bodies = deadlines.on_time_tables(
            session, portal, request.state.locale, body, first_week,
            last_week + timedelta(days=6))
    query = {"body": body.slug} if body else {}
    return render(request, "dashboard.html", {
        "stats": figures, "chart": dashboard.chart(figures.weeks), "bodies": bodies,
        "body": body, "duration": duration, "on_time_types": on_time_types,
        "on_time_bodies": on_time_bodies, "min_count": dashboard.MIN_COUNT,
        "week_label": month_label if figures.by_month else week_label,
        "bad_date": not (start_ok and end_ok),
        "data_to": (figures.last_data_week + timedelta(days=6)
                    if figures.last_data_week else None),
        "shown_from": figures.weeks[0].start if figures.weeks else None,
        "shown_to": (figures.weeks[-1].start + timedelta(days=6)) if figures.weeks else None,
        "csv_url": url(request, "export_csv", _query=query),
        "geojson_url": url(request, "export_geojson", _query=query),
    })


def _rows(request: Request, body_slug: str) -> Iterator[dict]:
    """Export rows from a session of their own that lives as long as the stream."""
    portal = tenant(request)
    locale = request.state.locale
    issue_base = absolute(request, url(request, "issue", issue_id=0))[:-1]
    with request.app.state.db.session() as session:
        body = session.scalars(select(Body).where(Body.slug == body_slug)).first() \
            if body_slug else None
        yield from dashboard.export_rows(session, portal, locale,
                                         lambda i: f"{issue_base}{i}", body)


def _check_body(request: Request) -> str:
    with request.app.state.db.session() as session:
        body = _body(request, dashboard.bodies_in(session, tenant(request)))
    return body.slug if body else ""


def _filename(request: Request, body_slug: str, ext: str) -> str:
    return f"{tenant(request).slug}{'-' + body_slug if body_slug else ''}-issues.{ext}"


def _safe_cell(name: str, value: object) -> object:
    if name in TEXT_FIELDS and isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def export_csv(request: Request) -> Response:
    body_slug = _check_body(request)

    def lines() -> Iterator[str]:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=dashboard.EXPORT_FIELDS, lineterminator="\r\n")
        writer.writeheader()
        for count, row in enumerate(_rows(request, body_slug), start=1):
            writer.writerow({k: _safe_cell(k, v) for k, v in row.items()})
            if count % 200 == 0:
                yield out.getvalue()
                out.seek(0)
                out.truncate()
        yield out.getvalue()

    return StreamingResponse(lines(), media_type="text/csv; charset=utf-8", headers={
        "content-disposition": f'attachment; filename="{_filename(request, body_slug, "csv")}"',
        "cache-control": "public, max-age=300", "access-control-allow-origin": "*"})


def export_geojson(request: Request) -> Response:
    body_slug = _check_body(request)

    def chunks() -> Iterator[str]:
        yield '{"type":"FeatureCollection","features":['
        for count, row in enumerate(_rows(request, body_slug)):
            props = {k: v for k, v in row.items() if k not in ("lat", "lon")}
            feature = {"type": "Feature", "id": row["id"],
                       "geometry": {"type": "Point", "coordinates": [row["lon"], row["lat"]]},
                       "properties": props}
            yield ("," if count else "") + json.dumps(feature, ensure_ascii=False,
                                                       separators=(",", ":"))
        yield "]}"

    name = _filename(request, body_slug, "geojson")
    return StreamingResponse(chunks(), media_type="application/geo+json", headers={
        "content-disposition": f'attachment; filename="{name}"',
        "cache-control": "public, max-age=300", "access-control-allow-origin": "*"})


routes = [
    Route("/dashboard", dashboard_page, methods=["GET"], name="dashboard"),
    Route("/exports/issues.csv", export_csv, methods=["GET"], name="export_csv"),
    Route("/exports/issues.geojson", export_geojson, methods=["GET"], name="export_geojson"),
]
