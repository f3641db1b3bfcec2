"""The statistics page (staff): tables, their SVG charts, and CSV / XLSX export of each table.

The summary, tables and charts are rendered from the cached figures and cached with them
(`statistics.cached_fragment`): a request served from the cache renders only the filter form around
them. The page shows each table's first rows when a table is long (companies); the whole table has
its own page (`?table=<key>`) and its exports.
"""

from django.http import Http404
from django.shortcuts import render
from django.template.loader import render_to_string

from core.exports import export_response
from core.models import Role
from core.permissions import role_required

from .statistics import StatisticsFilter, cached_fragment, compute_statistics

EXPORT_FORMATS = ("csv", "xlsx")


def _table_or_404(stats, key):
    try:
        return stats.table(key)
    except StopIteration:
        raise Http404 from None


def _item(table, *, complete=False):
    return {"table": table, "chart": table.chart(), "rows": table.display_rows(complete=complete)}


@role_required(Role.STAFF)
def statistics(request):
    filterset = StatisticsFilter(request.GET or None, user=request.user)
    export = request.GET.get("export")
    table_key = request.GET.get("table", "")
    if export:
        if export not in EXPORT_FORMATS:
            raise Http404
        table = _table_or_404(compute_statistics(filterset), table_key)
        return export_response(
            filename=f"statistiques-{table.key}", headers=table.headers, rows=table.rows, fmt=export
        )
    query = request.GET.copy()
    query.pop("export", None)
    query.pop("table", None)
    query = query.urlencode()

    # Rendered without the request: the cached HTML holds the figures and nothing of the user.
    if table_key:

        def draw(stats):
            table = _table_or_404(stats, table_key)
            html = render_to_string(
                "reporting/includes/statistics_table.html",
                {"item": _item(table, complete=True), "query": query, "complete": True},
            )
            return {"title": str(table.title), "html": html}

        fragment, _cached = cached_fragment(filterset, f"table:{table_key}?{query}", draw)
        return render(
            request,
            "reporting/statistics_table.html",
            {"title": fragment["title"], "body": fragment["html"], "query": query},
        )

    def draw(stats):
        # The filter form too: its options are the user's centres (in the key) and the CQPMs; its
        # values, the query string (in the name). A GET form: no CSRF token.
        return render_to_string(
            "reporting/includes/statistics_body.html",
            {"filter": filterset, "stats": stats, "tables": [_item(t) for t in stats.tables], "query": query},
        )

    body, _cached = cached_fragment(filterset, f"page?{query}", draw)
    return render(request, "reporting/statistics.html", {"body": body})
