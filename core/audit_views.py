"""The audit journal page (staff): filterable, paginated, exportable. Read-only by construction."""

from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from .audit import (
    ALERT_HOURS,
    ALERT_THRESHOLD,
    EXPORT_HEADERS,
    AuditEventFilter,
    audit_events_visible_to,
    describe_events,
    event_row,
    suspicious_accounts,
)
from .auth import client_ip
from .exports import export_response
from .models import Role
from .permissions import role_required
from .services import audit, home_centre

PAGE_SIZE = 50
EXPORT_LIMIT = 50_000


@require_GET
@role_required(Role.STAFF)
def audit_log(request):
    events = audit_events_visible_to(request.user)
    event_filter = AuditEventFilter(request.GET or None, queryset=events, request=request)
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
    page = Paginator(filtered, PAGE_SIZE).get_page(request.GET.get("page"))
    describe_events(page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("export", None)
    return render(
        request,
        "core/audit_log.html",
        {
            "filter": event_filter,
            "page_obj": page,
            "events": page.object_list,
            "query": query.urlencode(),
            "is_filtered": bool(query),
            "suspicious": suspicious_accounts(request.user),
            "alert_threshold": ALERT_THRESHOLD,
            "alert_hours": ALERT_HOURS,
        },
    )
