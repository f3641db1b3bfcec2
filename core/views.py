from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .exports import export_response
from .health import check_broker, check_database
from .notifications import kind_label
from .services import mark_messages_read


@never_cache
@require_GET
def healthz(request):
    db_ok, db_detail = check_database()
    broker_ok, broker_detail = check_broker()
    healthy = db_ok and broker_ok
    payload = {
        "status": "ok" if healthy else "error",
        "database": db_detail,
        "broker": broker_detail,
    }
    return JsonResponse(payload, status=200 if healthy else 503)


@login_required
def my_notifications(request):
    """The emails sent to the user ("Mes messages"), newest first; CSV / XLSX export of the list."""
    notifications = request.user.notifications.order_by("-created_at", "-id")
    export = request.GET.get("export")
    if export:
        if export not in ("csv", "xlsx"):
            raise Http404
        return export_response(
            filename="mes-messages",
            headers=["Date", "Type", "Objet", "État", "Envoyé le"],
            rows=(
                [n.created_at, kind_label(n.kind), n.subject, n.get_status_display(), n.sent_at]
                for n in notifications[:2000]
            ),
            fmt=export,
        )
    page = Paginator(notifications, 20).get_page(request.GET.get("page"))
    for notification in page:
        notification.kind_label = kind_label(notification.kind)
        notification.is_new = notification.read_at is None
    unread = [notification.pk for notification in page if notification.is_new]
    if unread:  # shown new this once, read from now on
        mark_messages_read(user=request.user, ids=unread)
    return render(request, "core/notifications.html", {"page": page, "notifications": page.object_list})
