"""The audit journal page (staff): filterable, paginated, exportable. Read-only by construction."""

from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from .audit import (
    ALERT_HOURS,
    ALERT_THRESHOLD,
    EXPORT_HEADERS,
    PAGE_FIELDS,
    AuditEventFilter,
    audit_events_visible_to,
    describe_events,
    event_row,
    journal_page,
    suspicious_accounts,
)
from .audit_rows import filter_fields_html, journal_rows_html
from .auth import client_ip
from .exports import export_response
from .models import Role
from .permissions import role_required
from .services import audit, home_centre

COUNT_LIMIT = 1000
PAGE_PARAMS = ("page", "avant", "apres")
EXPORT_LIMIT = 50_000


@require_GET
@role_required(Role.STAFF)
def audit_log(request):
    events = audit_events_visible_to(request.user)
    # The cursors of the pages are no filter: a page further in the journal keeps an unbound filter
    # (the same empty fields, its HTML from the cache of `filter_fields_html`).
    data = request.GET.copy()
    for name in PAGE_PARAMS:
        data.pop(name, None)
    event_filter = AuditEventFilter(data or None, queryset=events, request=request)
    filtered = event_filter.qs if event_filter.is_bound else events
    export_format = request.GET.get("export")
    if export_format in {"csv", "xlsx"} and event_filter.is_valid():
        audit(
            actor=request.user,
            action="audit.exported",
            centre=home_centre(request.user),
            ip_address=client_ip(request),
            format=export_format,
            filters={k: v for k, v in request.GET.items() if k != "export" and v},
        )
        rows = (event_row(event) for event in filtered[:EXPORT_LIMIT].iterator(chunk_size=2000))
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        return export_response(
            filename=f"journal-audit-{stamp}",
            headers=[str(h) for h in EXPORT_HEADERS],
            rows=rows,
            fmt=export_format,
        )
    # Keyset pagination (« Plus récents » / « Plus anciens »): no OFFSET, no COUNT over the journal.
    page = journal_page(
        filtered.only(*PAGE_FIELDS), before=request.GET.get("avant"), after=request.GET.get("apres")
    )
    describe_events(page.events)
    query = request.GET.copy()
    for name in ("page", "export", "avant", "apres"):
        query.pop(name, None)
    return render(
        request,
        "core/audit_log.html",
        {
            "filter": event_filter,
            "journal": page,
            "events": page.events,
            # The table's rows and the filter's fields, built in Python (core/audit_rows.py; issue 21).
            "rows_html": journal_rows_html(page.events),
            "filter_fields_html": filter_fields_html(event_filter),
            # How many events match, counted up to COUNT_LIMIT only (« 1 000 ou plus »).
            "count": filtered.order_by()[: COUNT_LIMIT + 1].count(),
            "count_limit": COUNT_LIMIT,
            "query": query,
            "is_filtered": bool(query),
            "suspicious": suspicious_accounts(request.user),
            "alert_threshold": ALERT_THRESHOLD,
            "alert_hours": ALERT_HOURS,
        },
    )
