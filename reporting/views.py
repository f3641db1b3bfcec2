"""Staff pages of the legal reporting (declaration of the holders to the CPF information system)."""

from crispy_forms.utils import render_crispy_form
from django.contrib import messages
from django.db.models import Prefetch
from django.http import Http404
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from candidates.selectors import candidates_visible_to
from core.exceptions import BusinessRuleError
from core.exports import audited_export_response
from core.memo import ProcessMemo
from core.models import Role
from core.permissions import role_required
from core.views_kit import file_download, require_permission, submit_form
from evaluations.models import LegacyExamination
from evaluations.services import record_legacy_examination

from . import rows, selectors
from .forms import AccrochageExportForm, LegacyExaminationForm, ProcessingReportForm
from .models import ProcessingReport
from .services import (
    AccrochageValidationError,
    ExportScope,
    ProcessingReportError,
    export_accrochage,
    import_processing_report,
)

LIST_HEADERS = [
    gettext_lazy("Référence"),
    gettext_lazy("Nom"),
    gettext_lazy("CQPM"),
    gettext_lazy("Date de délivrance"),
    gettext_lazy("Échéance de déclaration"),
    gettext_lazy("Déclaré le"),
    gettext_lazy("Réponse du portail"),
]
STATUS_LABELS = {
    "": gettext_lazy("Jamais envoyé"),
    "sent": gettext_lazy("En attente du portail"),
    "accepted": gettext_lazy("Accepté"),
    "rejected": gettext_lazy("Rejeté"),
}


def _list_rows(records):
    return [
        [
            r.reference,
            r.display_name,
            r.certification_code,
            r.issue_date,
            r.due_date,
            r.first_reported_at,
            str(STATUS_LABELS[r.declaration_status])
            + (f" : {r.rejection_reason}" if r.rejection_reason else ""),
        ]
        for r in records
    ]


def _batches(user):
    # Only what the list shows (reporting/rows.py `batches_html`): not the sessions', authors' and
    # reports' whole rows.
    batches = list(
        selectors.batches_visible_to(user)
        .select_related(None)
        .select_related("centre")
        .only("pk", "flux_id", "record_count", "left_out", "created_at", "centre__code")
        .prefetch_related(
            Prefetch(
                "reports",
                queryset=ProcessingReport.objects.only(
                    "pk", "batch_id", "uploaded_at", "accepted_count", "rejected_count"
                ).order_by("-uploaded_at", "-id"),
            )
        )[:20]
    )
    # Names of the holders left out, read from the candidates (the batch keeps no names).
    ids = {entry.get("candidate_id") for batch in batches for entry in batch.left_out}
    names = {
        c.pk: c.full_name
        for c in candidates_visible_to(user)
        .filter(pk__in=[i for i in ids if i])
        .only("pk", "birth_name", "usage_name", "first_names", "anonymised_at")
    }
    for batch in batches:
        batch.left_out_rows = [
            {**entry, "name": names.get(entry.get("candidate_id"), "")} for entry in batch.left_out
        ]
        batch.left_out_count = len({entry["reference"] for entry in batch.left_out})
    return batches


# crispy-forms' HTML of the unbound export form, per process, by language and choices: rendering its
# five fields costs ≈ 7 ms of CPU per request, the same HTML while the user's centres and closed
# sessions do not change (issue 21). A few entries: one per centre's staff set of choices.
_EXPORT_FORM_HTML = ProcessMemo()


def _export_form_html(request, form):
    """The unbound export form (`{% crispy form %}`'s HTML, its CSRF token this request's), or None
    for a bound form (its values and errors are rendered by the template)."""
    if form.is_bound:
        return None
    helper = form.helper
    for name in ("centre", "session"):  # read once for the key and a miss's rendering (iter: no COUNT)
        form.fields[name].choices = list(iter(form.fields[name].choices))
    key = (
        get_language(),
        form.fields["centre"].initial,
        tuple((str(value), str(label)) for value, label in form.fields["centre"].choices),
        tuple((str(value), str(label)) for value, label in form.fields["session"].choices),
    )

    def fields_html():
        helper.form_tag, helper.disable_csrf = False, True
        try:
            return str(render_crispy_form(form))
        finally:
            helper.form_tag, helper.disable_csrf = True, False

    fields = _EXPORT_FORM_HTML.get_or_build(key, fields_html)
    return format_html(
        '<form action="{}" data-confirm="{}" method="post">'
        '<input type="hidden" name="csrfmiddlewaretoken" value="{}">{}</form>',
        helper.form_action,  # reversed by crispy-forms
        helper.attrs["data-confirm"],
        get_token(request),
        mark_safe(fields),  # noqa: S308 - crispy-forms' output, escaped by its templates
    )


def _page(request, form, errors=None, report_problems=None, status=200):
    overview = selectors.reporting_overview(request.user)
    export = request.GET.get("export")
    if export:
        lists = {"unreported": overview["unreported"], "late": overview["reported_late"]}
        name = request.GET.get("list", "unreported")
        if export not in ("csv", "xlsx") or name not in lists:
            raise Http404
        return audited_export_response(
            request,
            filename=f"titulaires-{'a-declarer' if name == 'unreported' else 'declares-en-retard'}",
            headers=LIST_HEADERS,
            rows=_list_rows(lists[name]),
            fmt=export,
        )
    batches = _batches(request.user)
    return render(
        request,
        "reporting/accrochage.html",
        {
            **overview,
            # the tables' rows, built in Python (reporting/rows.py; issue 21)
            "to_declare_rows_html": rows.to_declare_rows_html(overview["to_declare_rows"], overview["today"]),
            "pending_rows_html": rows.holder_rows_html(overview["pending"]),
            "late_rows_html": rows.holder_rows_html(overview["reported_late"], late=True),
            "form": form,
            "form_html": _export_form_html(request, form),
            "errors": errors or [],
            "report_problems": report_problems or [],
            "batches": batches,
            "batches_html": rows.batches_html(batches, get_token(request)),
            "report_form": ProcessingReportForm(),
        },
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
    # Not `run_action`: a refused file is the page again (422) with the located errors.
    try:
        result = export_accrochage(
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
            "Fichier de déclaration produit : %(n)s titulaire(s). Téléchargez-le ci-dessous et déposez-le sur le portail, "
            "puis importez son accusé de traitement."
        )
        % {"n": result.batch.record_count},
    )
    left_out = result.batch.left_out
    if left_out:
        messages.warning(
            request,
            _(
                "%(n)s titulaire(s) laissé(s) de côté pour anomalie : ils restent « à déclarer » (détail sous le fichier produit)."
            )
            % {"n": len({entry["reference"] for entry in left_out})},
        )
    return redirect("reporting:accrochage")


@require_POST
@role_required(Role.STAFF)
def report_upload(request, pk):
    batch = get_object_or_404(selectors.batches_visible_to(request.user), pk=pk)
    require_permission(request.user, "reporting.import_processing_report", batch)
    form = ProcessingReportForm(request.POST, request.FILES)
    if not form.is_valid():
        problems = [{"line": 0, "message": m} for m in form.errors.get("file", [])]
        messages.error(request, _("L'accusé de traitement n'a pas été pris en compte."))
        return _page(request, AccrochageExportForm(user=request.user), report_problems=problems, status=400)
    uploaded = form.cleaned_data["file"]
    # Not `run_action`: a refused report is the page again (422) with its located problems.
    try:
        report = import_processing_report(
            actor=request.user, batch=batch, content=uploaded.read(), filename=uploaded.name
        )
    except ProcessingReportError as exc:
        messages.error(request, exc.message)
        problems = [{"line": p.line, "message": p.message} for p in exc.problems]
        return _page(request, AccrochageExportForm(user=request.user), report_problems=problems, status=422)
    messages.success(
        request,
        _(
            "Accusé de traitement enregistré : %(accepted)s accepté(s), %(rejected)s rejeté(s). "
            "Les rejetés sont proposés dans le prochain fichier."
        )
        % {"accepted": report.accepted_count, "rejected": report.rejected_count},
    )
    return redirect("reporting:accrochage")


@role_required(Role.STAFF)
def legacy_examination(request, pk):
    """The evaluation of a candidate examined before the product: dates and delivery mode."""

    candidate = get_object_or_404(candidates_visible_to(request.user).select_related("centre"), pk=pk)
    require_permission(request.user, "reporting.record_legacy_examination", candidate)
    existing = LegacyExamination.objects.filter(candidate=candidate).first()
    status = 200
    if request.method == "POST":
        form = LegacyExaminationForm(request.POST)
        response = submit_form(
            request,
            form,
            lambda: record_legacy_examination(actor=request.user, candidate=candidate, **form.cleaned_data),
            success=_("Évaluation antérieure enregistrée."),
            redirect_to="reporting:accrochage",
        )
        if response:
            return response
        status = 400
    else:
        initial = {}
        if existing:
            initial = {
                "first_date": existing.first_date,
                "last_date": existing.last_date,
                "delivery_mode": existing.delivery_mode,
            }
        form = LegacyExaminationForm(initial=initial)
    return render(
        request,
        "reporting/legacy_examination.html",
        {"candidate": candidate, "form": form, "existing": existing},
        status=status,
    )


@role_required(Role.STAFF)
def batch_download(request, pk):
    batch = get_object_or_404(selectors.batches_visible_to(request.user), pk=pk)
    require_permission(request.user, "reporting.download_batch", batch)
    return file_download(
        request,
        batch,
        batch.file,
        document="accrochage",
        filename=batch.filename,
        content_type="application/xml",
        centre=batch.centre,
    )
