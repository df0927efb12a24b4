"""Compare areas: the portal's named areas side by side (`/compare`), and as CSV.

A table that sorts by any column through plain links (no JavaScript), over a period chosen
in a GET form: the rolling periods, a recent year, or two dates. Figures come from
`portal.reports.area_stats.compare`.
"""

from __future__ import annotations

import csv
import io

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.core.i18n import gettext as _
from portal.middleware.page_cache import shared_page
from portal.models import utcnow
from portal.reports import area_stats
from portal.routes.dashboard import FORMULA_START
from portal.web import figures_text
from portal.web.request_context import tenant
from portal.web.templating import render, url

COLUMNS = ("name", "reports", "per_thousand", "median", "on_time")
CSV_FIELDS = ("area", "population", "reports", "reports_per_1000_residents",
              "median_days_to_fix", "with_fix_target", "fixed_within_target",
              "share_fixed_within_target")
YEARS = 5  # recent years offered in the period picker


def _period_text(request: Request) -> str:
    q = request.query_params
    start, end = q.get("from", "").strip(), q.get("to", "").strip()
    if start or end:
        return f"{start}..{end}"
    return q.get("period", "")


def _read(request: Request) -> tuple[area_stats.Period, bool, list[area_stats.Comparison]]:
    today = utcnow().date()
    period = area_stats.parse_period(_period_text(request), today)
    ok = period is not None
    if period is None:
        period = area_stats.parse_period("", today)
        assert period is not None
    with request.app.state.db.session() as session:
        rows = area_stats.compare(session, tenant(request), request.state.locale, period)
    return period, ok, rows


def _sort(request: Request) -> tuple[str, bool]:
    sort = request.query_params.get("sort", "name")
    sort = sort if sort in COLUMNS else "name"
    default = "asc" if sort == "name" else "desc"
    return sort, request.query_params.get("order", default) == "desc"


@shared_page
def compare_page(request: Request) -> Response:
    period, ok, rows = _read(request)
    sort, descending = _sort(request)
    base = {"period": period.text}

    def sort_url(column: str) -> str:
        default_desc = column != "name"
        desc = not descending if column == sort else default_desc
        return url(request, "compare", _query={**base, "sort": column,
                                                "order": "desc" if desc else "asc"})

    this_year = utcnow().date().year
    return render(request, "compare.html", {
        "rows": area_stats.sorted_rows(rows, sort, descending), "period": period,
        "bad_period": not ok, "sort": sort, "descending": descending, "sort_url": sort_url,
        "ft": figures_text, "choices": figures_text.period_choices(),
        "years": [str(y) for y in range(this_year, this_year - YEARS, -1)],
        "has_population": any(r.population for r in rows), "min_count": area_stats.MIN_COUNT,
        "csv_url": url(request, "compare_csv", _query=base),
        "custom": period.days is None and period.year is None,
    }, 200 if ok else 400)


def _cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _rounded(value: float | None, digits: int) -> object:
    return "" if value is None else round(value, digits)


@shared_page
def compare_csv(request: Request) -> Response:
    period, ok, rows = _read(request)
    if not ok:
        return Response(_("Unknown period: give 30d, 90d, 365d, a year like 2024, or two dates "
                          "like 2024-01-01..2024-06-30.") + "\n", status_code=400,
                        media_type="text/plain; charset=utf-8")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_FIELDS)
    for row in area_stats.sorted_rows(rows, "name", False):
        writer.writerow([_cell(row.label), row.population or "", row.reports,
                         _rounded(row.per_thousand, 2), _rounded(row.median_fix_days, 2),
                         row.with_target, row.fixed_on_time, _rounded(row.on_time_share, 4)])
    portal = tenant(request)
    name = f"{portal.slug}-areas-{period.start.isoformat()}-{period.end.isoformat()}.csv"
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers={
        "content-disposition": f'attachment; filename="{name}"',
        "cache-control": "public, max-age=300", "access-control-allow-origin": "*"})


routes = [
    Route("/compare", compare_page, methods=["GET"], name="compare"),
    Route("/compare.csv", compare_csv, methods=["GET"], name="compare_csv"),
]
