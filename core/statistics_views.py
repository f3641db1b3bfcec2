"""The statistics page (staff): tables, their SVG charts, and CSV / XLSX export of each table."""

from django.http import Http404
from django.shortcuts import render

from .exports import export_response
from .models import Role
from .permissions import role_required
from .statistics import StatisticsFilter, compute_statistics

EXPORT_FORMATS = ("csv", "xlsx")


@role_required(Role.STAFF)
def statistics(request):
    filterset = StatisticsFilter(request.GET or None, user=request.user)
    stats = compute_statistics(filterset)
    export = request.GET.get("export")
    if export:
        if export not in EXPORT_FORMATS:
            raise Http404
        try:
            table = stats.table(request.GET.get("table", ""))
        except StopIteration:
            raise Http404 from None
        return export_response(
            filename=f"statistiques-{table.key}", headers=table.headers, rows=table.rows, fmt=export
        )
    query = request.GET.copy()
    query.pop("export", None)
    query.pop("table", None)
    return render(
        request,
        "core/statistics.html",
        {
            "filter": filterset,
            "stats": stats,
            "tables": [{"table": t, "chart": t.chart(), "rows": t.display_rows()} for t in stats.tables],
            "query": query.urlencode(),
        },
    )
