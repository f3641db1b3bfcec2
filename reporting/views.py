"""Staff pages of the legal reporting (« accrochage » of the holders to the CPF information system)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core.exceptions import BusinessRuleError
from core.exports import audited_export_response
from core.models import Role
from core.permissions import role_required
from core.services import audit

from . import selectors
from .forms import AccrochageExportForm
from .services import AccrochageValidationError, ExportScope, export_accrochage

LIST_HEADERS = [
    gettext_lazy("Référence"),
    gettext_lazy("Nom"),
    gettext_lazy("CQPM"),
    gettext_lazy("Date de délivrance"),
    gettext_lazy("Échéance de déclaration"),
    gettext_lazy("Déclaré le"),
]


def _list_rows(records):
    return [
        [
            r.reference,
            r.display_name,
            r.certification_code,
            r.issue_date,
            r.due_date,
            r.first_reported_at,
        ]
        for r in records
    ]


def _page(request, form, errors=None, status=200):
    overview = selectors.reporting_overview(request.user)
    export = request.GET.get("export")
    if export:
        lists = {"unreported": overview["unreported"], "late": overview["reported_late"]}
        name = request.GET.get("list", "unreported")
        if export not in ("csv", "xlsx") or name not in lists:
            raise Http404
        return audited_export_response(
            request,
            filename=f"titulaires-{'non-declares' if name == 'unreported' else 'declares-en-retard'}",
            headers=LIST_HEADERS,
            rows=_list_rows(lists[name]),
            fmt=export,
        )
    batches = selectors.batches_visible_to(request.user)[:20]
    return render(
        request,
        "reporting/accrochage.html",
        {**overview, "form": form, "errors": errors or [], "batches": batches},
        status=status,
    )


@role_required(Role.STAFF)
def accrochage(request):
    return _page(request, AccrochageExportForm(user=request.user))


@require_POST
@role_required(Role.STAFF)
def accrochage_export(request):
    form = AccrochageExportForm(request.POST, user=request.user)
    if not form.is_valid():
        return _page(request, form, status=400)
    data = form.cleaned_data
    scope = ExportScope(
        centre=data["centre"],
        session=data["session"],
        date_from=None if data["session"] else data["date_from"],
        date_to=None if data["session"] else data["date_to"],
        unreported_only=data["unreported_only"],
    )
    try:
        batch, _content = export_accrochage(
            actor=request.user, outcomes=selectors.holders_visible_to(request.user), scope=scope
        )
    except AccrochageValidationError as exc:
        messages.error(request, exc.message)
        return _page(request, form, errors=exc.errors, status=422)
    except BusinessRuleError as exc:
        messages.error(request, exc.message)
        return _page(request, form, status=422)
    messages.success(
        request,
        _(
            "Fichier de déclaration produit : %(n)s titulaire(s). Téléchargez-le ci-dessous et déposez-le sur le portail."
        )
        % {"n": batch.record_count},
    )
    return redirect("reporting:accrochage")


@role_required(Role.STAFF)
def batch_download(request, pk):
    batch = get_object_or_404(selectors.batches_visible_to(request.user), pk=pk)
    if not request.user.has_perm("reporting.download_batch", batch):
        raise PermissionDenied
    audit(actor=request.user, action="reporting.accrochage_downloaded", target=batch, centre=batch.centre)
    return FileResponse(
        batch.file.open("rb"), as_attachment=True, filename=batch.filename, content_type="application/xml"
    )
