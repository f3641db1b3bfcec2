"""Staff pages of the candidates app. Thin: objects come from `selectors` (outside scope → 404), rules
from `permissions` (→ 403), every change goes through `services` (BusinessRuleError → message)."""

from html import escape as html_escape

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, QueryDict
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django_htmx.http import HttpResponseClientRefresh

from core.auth import client_ip
from core.exceptions import BusinessRuleError
from core.exports import audited_export_response, export_response, requested_format
from core.files import download_name
from core.models import Role
from core.permissions import RoleRequiredMixin
from core.services import audit
from core.views_kit import file_download, require_permission, run_action, submit_form
from referential.models import ModalityCode

from . import hub, selectors, services
from .filters import CandidateFilter
from .forms import (
    AccessRequestForm,
    AccessSentForm,
    CandidateForm,
    CandidateUpdateForm,
    CompanyForm,
    DocumentUploadForm,
    DossierForm,
    DossierReopenForm,
    ImportUploadForm,
    TransitionForm,
    TutorForm,
)
from .importing import MAX_ROWS
from .models import (
    CandidateDocument,
    CandidateStatus,
    Company,
    DocumentKind,
    Pathway,
    Tutor,
)
from .permissions import can_export_personal_data, can_manage_candidate

STAFF = (Role.STAFF,)
PAGE_SIZE = 50


def _candidate(request, pk, *, detail=False):
    queryset = (
        selectors.candidate_detail_queryset(request.user)
        if detail
        else selectors.candidates_visible_to(request.user).select_related("centre", "certification")
    )
    candidate = get_object_or_404(queryset, pk=pk)
    require_permission(request.user, "candidates.manage_candidate", candidate)
    return candidate


def _client_ip(request):
    # The client behind the trusted proxies, as for lockouts and the rest of the journal.
    return client_ip(request)


# --- candidates -----------------------------------------------------------------------------


# The free-text search may hold a name: it travels by POST and waits in the session, so that it never
# appears in a URL (browser history, proxy and server access logs). The URL only says "search=1".
SEARCH_SESSION_KEY = "candidates_search"
SEARCH_FIELD = "q"
# The list's place (keyset cursors: `avant` / `apres`; `page`, from links made before them, ignored):
# never a filter, never kept in the links that change page.
LIST_PAGE_PARAMS = ("page", "avant", "apres")


def _filter_data(request):
    """The filter values of the list and its export: GET parameters plus the session-held search."""
    data = request.GET.copy()
    for name in LIST_PAGE_PARAMS:
        data.pop(name, None)
    data.pop("format", None)
    data.pop(SEARCH_FIELD, None)
    if data.pop("search", None):
        search = request.session.get(SEARCH_SESSION_KEY, "")
        if search:
            data[SEARCH_FIELD] = search
    return data


def _candidate_filter(request):
    data = _filter_data(request)
    return CandidateFilter(
        data or None, queryset=selectors.candidate_list_queryset(request.user), request=request
    )


# Badge of each status in the list and on the candidate page (Bootstrap classes).
STATUS_BADGES = {
    CandidateStatus.REGISTERED: "text-bg-secondary",
    CandidateStatus.DOSSIER_VALIDATED: "text-bg-info",
    CandidateStatus.IN_EVALUATION: "text-bg-primary",
    CandidateStatus.AWAITING_DELIBERATION: "text-bg-warning",
    CandidateStatus.DELIBERATED: "text-bg-success",
}
OTHER_STATUS_BADGE = "text-bg-dark"


def _list_rows(rows):
    """The page's rows (`selectors.candidate_list_values` dicts) with their display values, the
    labels translated once per request instead of once per row."""
    status_labels = {value: str(label) for value, label in CandidateStatus.choices}
    pathway_labels = {value: str(label) for value, label in Pathway.choices}
    anonymised = str(_("Candidat anonymisé"))
    detail_url = reverse("candidates:detail", args=[0])[: -len("0/")]
    dates = {}  # a page spans few registration dates: each is formatted once
    for row in rows:
        if row["anonymised_at"]:
            row["full_name"] = anonymised
        else:  # as Candidate.full_name
            row["full_name"] = (
                f"{(row['usage_name'] or row['birth_name']).upper()} {row['first_names']}".strip()
            )
        row["url"] = f"{detail_url}{row['pk']}/"
        row["status_label"] = status_labels.get(row["status"], row["status"])
        row["status_badge"] = STATUS_BADGES.get(row["status"], OTHER_STATUS_BADGE)
        row["pathway_label"] = pathway_labels.get(row["pathway"], row["pathway"])
        day = row["registered_on"]
        if day not in dates:
            dates[day] = date_format(day, "SHORT_DATE_FORMAT")
        row["registered"] = dates[day]
    return rows


# One row of the list, built in Python: 50 rows × 12 values through the template engine cost about
# 20 000 Python calls per page (≈ 40 per variable), Django's format_html about half of that (its
# escaping goes through lazy-text wrappers); plain `html.escape` of each value (what Django's own
# escape calls) about 5 %. Every value from the database is escaped here; `{anonymised}` is a badge
# built from the translated label, escaped too.
LIST_ROW_HTML = (
    '<tr><td><a href="{url}">{reference}</a></td><td>{full_name}</td>'
    '<td><span title="{certification_title}">{certification_code}</span> '
    '<span class="text-body-secondary small">v{certification_version}</span></td>'
    "<td>{pathway_label}</td><td>{company}</td>"
    '<td><span class="badge {status_badge}">{status_label}</span>{anonymised}</td>'
    "<td>{registered}</td></tr>\n"
)
# Values that come from the database, escaped for each row; the others (labels, badge classes, dates,
# URL) are escaped once per page, memoised by value.
LIST_ROW_DATA = (
    "reference",
    "full_name",
    "certification_title",
    "certification_code",
    "certification_version",
)
LIST_ROW_LABELS = ("url", "pathway_label", "status_badge", "status_label", "registered")


def _rows_html(rows):
    """The <tr>s of the list's rows (`_list_rows`), every value HTML-escaped."""
    anonymised = ' <span class="badge text-bg-light border">{}</span>'.format(html_escape(_("Anonymisé")))
    escaped = {}  # label → escaped label

    def label(value):
        if value not in escaped:
            escaped[value] = html_escape(value)
        return escaped[value]

    return mark_safe(
        "".join(
            LIST_ROW_HTML.format(
                **{name: html_escape(str(row[name])) for name in LIST_ROW_DATA},
                **{name: label(row[name]) for name in LIST_ROW_LABELS},
                company=html_escape(row["company_name"] or "—"),
                anonymised=anonymised if row["anonymised_at"] else "",
            )
            for row in rows
        )
    )


class CandidateListView(RoleRequiredMixin, View):
    allowed_roles = STAFF

    def get(self, request):
        candidate_filter = _candidate_filter(request)
        queryset = candidate_filter.qs if candidate_filter.is_bound else candidate_filter.queryset
        # Keyset pagination (« Premiers » / « Précédents » / « Suivants »): no OFFSET, no COUNT of
        # every matching candidate (`selectors.candidate_list_page`).
        page = selectors.candidate_list_page(
            queryset, before=request.GET.get("avant"), after=request.GET.get("apres"), size=PAGE_SIZE
        )
        query = request.GET.copy()
        for name in (*LIST_PAGE_PARAMS, SEARCH_FIELD):
            query.pop(name, None)
        company = candidate_filter.selected_company()
        rows = _list_rows(page.rows)
        return render(
            request,
            "candidates/list.html",
            {
                "filter": candidate_filter,
                "form": candidate_filter.form,
                "page": page,
                "count_limit": page.count_limit,
                "candidates": rows,
                "rows_html": _rows_html(rows),
                # The pagination's and exports' links: without the search, which stays in the session.
                "params": query,
                "is_filtered": bool(candidate_filter.data),
                "company_text": (
                    candidate_filter.form["company_search"].value()
                    or (f"{company.name} — {company.siret}" if company else "")
                ),
            },
        )

    def post(self, request):
        """The filter form: keep the search in the session, put the other (non-personal) filters in
        the URL, and redirect to the list (post/redirect/get). A company search that designates one
        company of the user's scope (a suggestion, a SIRET, an exact name) becomes `company=<id>`."""
        search = request.POST.get(SEARCH_FIELD, "").strip()[:100]
        query = QueryDict(mutable=True)
        for name in CandidateFilter.base_filters:
            value = request.POST.get(name, "")
            if name not in (SEARCH_FIELD, "company", "company_search") and value:
                query[name] = value
        company_text = " ".join(request.POST.get("company_search", "").split())[:100]
        if company_text:
            company_id = selectors.company_designated_by(request.user, company_text)
            if company_id is None:
                query["company_search"] = company_text
            else:
                query["company"] = str(company_id)
        if search:
            request.session[SEARCH_SESSION_KEY] = search
            query["search"] = "1"
        else:
            request.session.pop(SEARCH_SESSION_KEY, None)
        url = reverse("candidates:list")
        return redirect(f"{url}?{query.urlencode()}" if query else url)


class CompanySearchView(RoleRequiredMixin, View):
    """Suggestions of the list's company filter: at most 20 companies of the user's centres whose
    name contains the text or whose SIRET starts with it, as <option>s of a <datalist>."""

    allowed_roles = STAFF

    def get(self, request):
        text = request.GET.get("company_search", "")
        companies = selectors.companies_matching(request.user, text) if len(text.strip()) >= 2 else []
        return render(
            request,
            "candidates/_company_options.html",
            {"companies": companies, "several_centres": len(request.user.centre_ids()) > 1},
        )


class CandidateExportView(RoleRequiredMixin, View):
    allowed_roles = STAFF
    HEADERS = [
        gettext_lazy("Référence"),
        gettext_lazy("Nom de naissance"),
        gettext_lazy("Nom d'usage"),
        gettext_lazy("Prénoms"),
        gettext_lazy("Sexe"),
        gettext_lazy("Date de naissance"),
        gettext_lazy("Adresse électronique"),
        gettext_lazy("Téléphone"),
        gettext_lazy("Parcours"),
        gettext_lazy("Entreprise"),
        gettext_lazy("SIRET"),
        gettext_lazy("Tuteur"),
        gettext_lazy("CQPM"),
        gettext_lazy("Version"),
        gettext_lazy("Statut"),
        gettext_lazy("Date d'inscription"),
        gettext_lazy("Centre"),
    ]

    def get(self, request):
        fmt = request.GET.get("format", "csv")
        if fmt not in ("csv", "xlsx"):
            raise Http404
        candidate_filter = _candidate_filter(request)
        queryset = candidate_filter.qs if candidate_filter.is_bound else candidate_filter.queryset
        rows = [
            [
                c.reference,
                c.birth_name,
                c.usage_name,
                c.first_names,
                c.sex,
                c.birth_date,
                c.email,
                c.phone,
                c.get_pathway_display(),
                c.company.name if c.company else "",
                c.company.siret if c.company else "",
                str(c.tutor) if c.tutor else "",
                c.certification.code,
                c.certification.version,
                c.get_status_display(),
                c.registered_on,
                c.centre.code,
            ]
            for c in queryset
        ]
        audit(
            actor=request.user,
            action="candidates.exported",
            ip_address=_client_ip(request),
            count=len(rows),
            format=fmt,
        )
        return export_response(filename="candidats", headers=self.HEADERS, rows=rows, fmt=fmt)


class CandidateCreateView(RoleRequiredMixin, View):
    allowed_roles = STAFF
    template_name = "candidates/candidate_form.html"

    def get(self, request):
        form = CandidateForm(user=request.user)
        return render(request, self.template_name, {"form": form, "creating": True})

    def post(self, request):
        form = CandidateForm(request.POST, user=request.user)
        duplicates = []
        # Not `submit_form`: a possible duplicate asks for a confirmation (its own error, kept apart).
        if form.is_valid():
            try:
                candidate = services.register_candidate(by=request.user, **form.service_kwargs())
            except services.DuplicateCandidateError as exc:
                duplicates = [d for d in exc.duplicates if can_manage_candidate(request.user, d)]
                form.ask_duplicate_confirmation()
                messages.warning(request, exc.message)
            except BusinessRuleError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(
                    request, _("Candidat inscrit sous la référence %(ref)s.") % {"ref": candidate.reference}
                )
                return redirect("candidates:detail", pk=candidate.pk)
        return render(request, self.template_name, {"form": form, "creating": True, "duplicates": duplicates})


def _hub_context(request, candidate, dossier, history, sections):
    """The candidate's page as the hub (issue 16): the timeline of the stages (registration and dossier
    here, the rest from the apps above through `candidates.hub`), the next step, their sections."""
    registered_by = next(
        (row["by"] for row in history if row["to_status"] == CandidateStatus.REGISTERED), None
    )
    stages = [hub.Stage(10, _("Inscription"), candidate.registered_on, registered_by or "")]
    steps = []
    if dossier and dossier["is_frozen"]:
        stages.append(
            hub.Stage(
                20, _("Dossier d'évaluation validé"), dossier["validated_at"], dossier["validated_by"] or ""
            )
        )
    elif dossier and candidate.status == CandidateStatus.REGISTERED and not candidate.anonymised_at:
        steps.append(
            hub.NextStep(
                20,
                _("Compléter et valider le dossier"),
                reverse("candidates:dossier_edit", args=[candidate.pk]),
            )
        )
    for row in history:
        if row["to_status"] == CandidateStatus.WITHDRAWN:
            stages.append(
                hub.Stage(95, _("Retrait (abandon)"), row["at"], row["by"] or "", detail=row["reason"])
            )
    for section in sections:
        stages.extend(section.stages)
        steps.extend(section.next_steps)
    if candidate.is_open and candidate.status != CandidateStatus.WITHDRAWN:
        next_step = min(steps, key=lambda step: step.order, default=None)
    else:
        next_step = None
    csrf_token = get_token(request)
    return {
        "stages": sorted(stages, key=lambda stage: stage.order),
        "next_step": next_step,
        # Sections are plain fragments: rendered without the request's context processors (menu,
        # messages…, which the page itself runs once), their forms given the page's CSRF token.
        "hub_sections": [
            render_to_string(
                section.template, {**section.context, "candidate": candidate, "csrf_token": csrf_token}
            )
            for section in sections
        ],
    }


class CandidateDetailView(RoleRequiredMixin, View):
    allowed_roles = STAFF

    def get(self, request, pk, transition_form=None):
        candidate = _candidate(request, pk, detail=True)
        dossier = selectors.detail_dossier(candidate)
        # Rows as dicts and labels translated once per page, not once per row.
        status_labels = {value: str(label) for value, label in CandidateStatus.choices}
        items = selectors.dossier_rows(dossier["pk"]) if dossier else []
        if items:
            modality_labels = {value: str(label) for value, label in ModalityCode.choices}
            for item in items:
                item["modalities_text"] = " ; ".join(
                    modality_labels[code] for code in item["modalities"] if code in modality_labels
                )
        documents = selectors.document_rows(candidate.pk)
        if documents:
            kind_labels = {value: str(label) for value, label in DocumentKind.choices}
            for document in documents:
                document["kind_label"] = kind_labels.get(document["kind"], document["kind"])
        # What the candidate still owes (issue 23): the report expected by a project presentation
        # and not received while the evaluation is ahead; no query (the rows above).
        report_missing = (
            bool(dossier and dossier["is_frozen"])
            and candidate.status in (CandidateStatus.DOSSIER_VALIDATED, CandidateStatus.IN_EVALUATION)
            and any(
                ModalityCode.PROJECT_PRESENTATION in (item["modalities"] or [])
                and not item["already_acquired"]
                for item in items
            )
            and not any(document["kind"] == DocumentKind.REPORT for document in documents)
        )
        history = selectors.status_history_rows(candidate.pk)
        for change in history:
            change["from_label"] = status_labels.get(change["from_status"], change["from_status"])
            change["to_label"] = status_labels.get(change["to_status"], change["to_status"])
        # the sections reuse the dossier's rows (candidates.hub): no second query
        sections = hub.sections_for(request, candidate, dossier_rows=items)
        context = {
            **_hub_context(request, candidate, dossier, history, sections),
            "candidate": candidate,
            "status_label": status_labels.get(candidate.status, candidate.status),
            "status_badge": STATUS_BADGES.get(candidate.status, OTHER_STATUS_BADGE),
            "dossier": dossier,
            "items": items,
            "documents": documents,
            "report_missing": report_missing,
            "report_overdue": report_missing
            and dossier["report_due_date"] is not None
            and timezone.localdate() > dossier["report_due_date"],
            "history": history,
            # Built only when the lifecycle allows a change (never for a deliberated candidate).
            "transition_form": transition_form
            or (TransitionForm(candidate=candidate) if services.manual_transitions(candidate) else None),
            "can_export": can_export_personal_data(request.user, candidate),
            "dossier_reopen_form": (
                None
                if services.dossier_reopen_obstacle(
                    candidate=candidate, dossier_frozen=bool(dossier and dossier["is_frozen"])
                )
                else DossierReopenForm()
            ),
        }
        return render(request, "candidates/detail.html", context, status=400 if transition_form else 200)


class CandidateUpdateView(RoleRequiredMixin, View):
    allowed_roles = STAFF
    template_name = "candidates/candidate_form.html"

    def _candidate(self, request, pk):
        candidate = _candidate(request, pk)
        if candidate.is_anonymised:
            messages.error(request, _("Ce candidat a été anonymisé : il ne peut plus être modifié."))
            return None
        return candidate

    def get(self, request, pk):
        candidate = self._candidate(request, pk)
        if candidate is None:
            return redirect("candidates:detail", pk=pk)
        form = CandidateUpdateForm(instance=candidate, user=request.user)
        return render(request, self.template_name, {"form": form, "candidate": candidate})

    def post(self, request, pk):
        candidate = self._candidate(request, pk)
        if candidate is None:
            return redirect("candidates:detail", pk=pk)
        form = CandidateUpdateForm(request.POST, instance=candidate, user=request.user)
        response = submit_form(
            request,
            form,
            lambda: services.update_candidate(candidate=candidate, by=request.user, **form.changes()),
            success=_("Fiche du candidat enregistrée."),
            redirect_to=reverse("candidates:detail", args=[pk]),
        )
        return response or render(request, self.template_name, {"form": form, "candidate": candidate})


class CandidateTransitionView(RoleRequiredMixin, View):
    """« Changer le statut »: the withdrawal by hand (reason required); a refusal shows the candidate's
    page again with the choice and the reason kept."""

    allowed_roles = STAFF

    def post(self, request, pk):
        candidate = _candidate(request, pk)
        if not services.manual_transitions(candidate):
            messages.error(
                request,
                _("Le dossier de ce candidat est clos (« %(status)s ») : son statut ne change plus.")
                % {"status": candidate.get_status_display()},
            )
            return redirect("candidates:detail", pk=pk)
        form = TransitionForm(request.POST, candidate=candidate)
        # Not `submit_form`: an invalid choice that is a process step gets its own explanation below.
        if form.is_valid():
            try:
                services.change_status_by_hand(
                    candidate=candidate,
                    to_status=form.cleaned_data["to_status"],
                    by=request.user,
                    reason=form.cleaned_data["reason"],
                )
            except BusinessRuleError as exc:
                form.add_error(None, exc.message)
            else:
                candidate.refresh_from_db(fields=["status"])
                messages.success(
                    request,
                    _("Statut du candidat : %(status)s.") % {"status": candidate.get_status_display()},
                )
                return redirect("candidates:detail", pk=pk)
        elif request.POST.get("to_status") in services.PROCESS_STEPS:
            form.errors.pop("to_status", None)
            form.add_error(None, str(services.PROCESS_STEPS[request.POST["to_status"]]))
        return CandidateDetailView().get(request, pk, transition_form=form)


class DossierEditView(RoleRequiredMixin, View):
    allowed_roles = STAFF
    template_name = "candidates/dossier_form.html"

    def _form(self, request, candidate, data=None):
        dossier = candidate.dossier
        allowed = services.allowed_modality_codes(candidate.certification)
        return DossierForm(data, dossier=dossier, allowed_codes=allowed)

    def get(self, request, pk):
        candidate = _candidate(request, pk)
        if candidate.dossier.is_frozen:
            messages.info(request, _("Le dossier est validé : il ne peut plus être modifié."))
            return redirect("candidates:detail", pk=pk)
        return render(
            request, self.template_name, {"candidate": candidate, "form": self._form(request, candidate)}
        )

    def post(self, request, pk):
        candidate = _candidate(request, pk)
        form = self._form(request, candidate, request.POST)
        response = submit_form(
            request,
            form,
            lambda: services.update_dossier(
                dossier=candidate.dossier, by=request.user, **form.service_kwargs()
            ),
            success=_("Dossier d'évaluation enregistré."),
            redirect_to=reverse("candidates:detail", args=[pk]),
        )
        return response or render(request, self.template_name, {"candidate": candidate, "form": form})


class DossierValidateView(RoleRequiredMixin, View):
    allowed_roles = STAFF

    def post(self, request, pk):
        candidate = _candidate(request, pk)
        return run_action(
            request,
            lambda: services.validate_dossier(dossier=candidate.dossier, by=request.user),
            success=_("Dossier validé : il est désormais figé."),
            redirect_to=reverse("candidates:detail", args=[pk]),
        )


class DossierReopenView(RoleRequiredMixin, View):
    """Unfreeze a validated dossier to correct it, before any evaluation (reason required)."""

    allowed_roles = STAFF

    def post(self, request, pk):
        candidate = _candidate(request, pk)
        form = DossierReopenForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Indiquez le motif de la réouverture du dossier."))
            return redirect("candidates:detail", pk=pk)
        return run_action(
            request,
            lambda: services.reopen_dossier(
                dossier=candidate.dossier, by=request.user, reason=form.cleaned_data["reason"]
            ),
            success=_("Dossier rouvert : corrigez-le puis validez-le de nouveau."),
            redirect_to=reverse("candidates:detail", args=[pk]),
        )


class DocumentUploadView(RoleRequiredMixin, View):
    allowed_roles = STAFF
    template_name = "candidates/document_form.html"

    def _render(self, request, candidate, form):
        context = {"candidate": candidate, "form": form, "max_size": settings.MAX_UPLOAD_SIZE}
        return render(request, self.template_name, context)

    def get(self, request, pk):
        return self._render(request, _candidate(request, pk), DocumentUploadForm())

    def post(self, request, pk):
        candidate = _candidate(request, pk)
        form = DocumentUploadForm(request.POST, request.FILES)

        def uploaded(document):
            text = _("Document déposé (SHA-256 %(sha)s).") % {"sha": document.sha256}
            if not document.is_late:
                return text
            messages.warning(
                request, text + " " + _("Attention : le rapport est remis après la date limite.")
            )
            return None

        response = submit_form(
            request,
            form,
            lambda: services.upload_document(
                candidate=candidate,
                kind=form.cleaned_data["kind"],
                uploaded_file=form.cleaned_data["file"],
                by=request.user,
            ),
            success=uploaded,
            redirect_to=reverse("candidates:detail", args=[pk]),
            error_field="file",
        )
        return response or self._render(request, candidate, form)


class DocumentDownloadView(RoleRequiredMixin, View):
    """Files are only ever served here: scope via the selector, permission checked, access journaled."""

    allowed_roles = (Role.STAFF, Role.EVALUATOR, Role.JURY)

    def get(self, request, pk, document_pk):
        candidate = get_object_or_404(selectors.candidates_visible_to(request.user), pk=pk)
        document = get_object_or_404(CandidateDocument.objects.filter(candidate=candidate), pk=document_pk)
        require_permission(request.user, "candidates.download_document", candidate)
        # Access to a candidate's file is personal-data access: journaled (RGPD).
        return file_download(
            request,
            candidate,
            document.file,
            document="candidate_document",
            filename=download_name(document.original_name, document.content_type),
            content_type=document.content_type,
            document_id=document.pk,
        )


class PersonalDataExportView(RoleRequiredMixin, View):
    allowed_roles = STAFF

    def post(self, request, pk):
        candidate = _candidate(request, pk)
        require_permission(request.user, "candidates.export_personal_data", candidate)
        # Not `run_action`: success is the archive itself, not a redirect.
        try:
            archive = services.export_personal_data(candidate=candidate, by=request.user)
        except BusinessRuleError as exc:
            messages.error(request, exc.message)
            return redirect("candidates:detail", pk=pk)
        response = HttpResponse(archive, content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="donnees-{candidate.reference}.zip"'
        return response


# --- RGPD: the register of access requests (issue 22, point 5) -------------------------------


def _access_request(request, pk):
    access_request = get_object_or_404(selectors.access_requests_visible_to(request.user), pk=pk)
    require_permission(request.user, "candidates.manage_candidate", access_request.candidate)
    return access_request


class AccessRequestListView(RoleRequiredMixin, View):
    allowed_roles = STAFF

    def get(self, request):
        today = timezone.localdate()
        rows = list(
            selectors.access_requests_visible_to(request.user).order_by("sent_on", "due_on", "pk")[:500]
        )
        for row in rows:
            row.overdue = row.is_overdue(today)
        return render(request, "candidates/access_request_list.html", {"rows": rows, "today": today})


class AccessRequestCreateView(RoleRequiredMixin, View):
    allowed_roles = STAFF

    def _render(self, request, candidate, form):
        return render(request, "candidates/access_request_form.html", {"candidate": candidate, "form": form})

    def get(self, request, pk):
        return self._render(request, _candidate(request, pk), AccessRequestForm())

    def post(self, request, pk):
        candidate = _candidate(request, pk)
        form = AccessRequestForm(request.POST)
        response = submit_form(
            request,
            form,
            lambda: services.record_access_request(candidate=candidate, by=request.user, **form.cleaned_data),
            success=lambda access_request: (
                _("Demande d'accès enregistrée : réponse due au plus tard le %(d)s.")
                % {"d": date_format(access_request.due_on, "DATE_FORMAT")}
            ),
            redirect_to=lambda access_request: reverse(
                "candidates:access_request_detail", args=[access_request.pk]
            ),
        )
        return response or self._render(request, candidate, form)


class AccessRequestDetailView(RoleRequiredMixin, View):
    allowed_roles = STAFF

    def get(self, request, pk):
        access_request = _access_request(request, pk)
        context = {
            "access_request": access_request,
            "candidate": access_request.candidate,
            "overdue": access_request.is_overdue(timezone.localdate()),
            "sent_form": AccessSentForm(),
        }
        return render(request, "candidates/access_request_detail.html", context)


class AccessRequestAnswerView(RoleRequiredMixin, View):
    """The answer: the candidate's personal-data export, downloaded and recorded (SHA-256)."""

    allowed_roles = STAFF

    def post(self, request, pk):
        access_request = _access_request(request, pk)
        require_permission(request.user, "candidates.export_personal_data", access_request.candidate)
        # Not `run_action`: success is the archive itself, not a redirect.
        try:
            archive = services.produce_access_answer(access_request=access_request, by=request.user)
        except BusinessRuleError as exc:
            messages.error(request, exc.message)
            return redirect("candidates:access_request_detail", pk=pk)
        response = HttpResponse(archive, content_type="application/zip")
        filename = f"donnees-{access_request.candidate.reference}.zip"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class AccessRequestSentView(RoleRequiredMixin, View):
    allowed_roles = STAFF

    def post(self, request, pk):
        access_request = _access_request(request, pk)
        form = AccessSentForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Indiquez la date et le moyen d'envoi de la réponse."))
            return redirect("candidates:access_request_detail", pk=pk)
        return run_action(
            request,
            lambda: services.record_access_answer_sent(
                access_request=access_request,
                by=request.user,
                sent_on=form.cleaned_data["sent_on"],
                channel=form.cleaned_data["channel"],
            ),
            success=_("Envoi de la réponse enregistré."),
            redirect_to=reverse("candidates:access_request_detail", args=[pk]),
        )


# --- import ---------------------------------------------------------------------------------

IMPORT_ERRORS_PAGE_SIZE = 100
IMPORTED_PAGE_SIZE = 50


def _import_job(request, pk):
    """The job, if it belongs to one of the user's centres (else 404)."""
    queryset = selectors.import_jobs_visible_to(request.user).select_related(
        "centre", "created_by", "confirmed_by"
    )
    return get_object_or_404(queryset, pk=pk)


class ImportView(RoleRequiredMixin, View):
    """Upload a CSV/XLSX file: it is stored privately and checked by a task; the job page shows the
    progress, the located errors, then asks for the confirmation (all or nothing)."""

    allowed_roles = STAFF
    template_name = "candidates/import.html"

    def _render(self, request, form):
        jobs = selectors.import_jobs_visible_to(request.user).select_related("centre")[:10]
        return render(request, self.template_name, {"form": form, "jobs": jobs, "max_rows": MAX_ROWS})

    def get(self, request):
        return self._render(request, ImportUploadForm(user=request.user))

    def post(self, request):
        form = ImportUploadForm(request.POST, request.FILES, user=request.user)
        response = submit_form(
            request,
            form,
            lambda: services.create_import_job(
                centre=form.cleaned_data["centre"], uploaded_file=form.cleaned_data["file"], by=request.user
            ),
            success=None,
            redirect_to=lambda job: reverse("candidates:import_job", args=[job.pk]),
            error_field="file",
        )
        return response or self._render(request, form)


class ImportJobView(RoleRequiredMixin, View):
    """One import: progress while a task works on it, then the preview (counts, errors located by
    line and column; `?format=csv|xlsx` downloads the whole error report) or the imported candidates."""

    allowed_roles = STAFF
    ERROR_HEADERS = [gettext_lazy("Ligne"), gettext_lazy("Colonne"), gettext_lazy("Problème")]

    def get(self, request, pk):
        job = _import_job(request, pk)
        fmt = requested_format(request)
        if fmt:
            rows = ([error["line"], error["column"], error["message"]] for error in job.errors)
            return audited_export_response(
                request, filename=f"import-{job.pk}-erreurs", headers=self.ERROR_HEADERS, rows=rows, fmt=fmt
            )
        context = {"job": job}
        if job.errors:
            context["errors"] = Paginator(job.errors, IMPORT_ERRORS_PAGE_SIZE).get_page(
                request.GET.get("page")
            )
        if job.imported_ids:
            page = Paginator(job.imported_ids, IMPORTED_PAGE_SIZE).get_page(request.GET.get("page"))
            context["imported_page"] = page
            context["imported"] = (
                selectors.candidates_visible_to(request.user)
                .filter(pk__in=list(page.object_list))
                .select_related("certification")
                .order_by("reference")
            )
        return render(request, "candidates/import_job.html", context)


class ImportJobStatusView(RoleRequiredMixin, View):
    """htmx fragment polled every second while a task works on the job; once it is finished, the
    page is reloaded to show the result (and the polling stops)."""

    allowed_roles = STAFF

    def get(self, request, pk):
        job = _import_job(request, pk)
        if request.htmx and not job.is_running:
            return HttpResponseClientRefresh()
        return render(request, "candidates/_import_progress.html", {"job": job})


class ImportJobConfirmView(RoleRequiredMixin, View):
    allowed_roles = STAFF

    def post(self, request, pk):
        job = _import_job(request, pk)
        return run_action(
            request,
            lambda: services.confirm_import_job(job=job, by=request.user),
            success=None,
            redirect_to=reverse("candidates:import_job", args=[job.pk]),
        )


# --- companies and tutors -------------------------------------------------------------------


class CompanyListView(RoleRequiredMixin, View):
    """The centre's companies; `?format=csv|xlsx` exports the same (searched) list."""

    allowed_roles = STAFF
    HEADERS = [
        gettext_lazy("Raison sociale"),
        gettext_lazy("SIRET"),
        gettext_lazy("Ville"),
        gettext_lazy("OPCO"),
        gettext_lazy("Tuteurs"),
        gettext_lazy("Candidats"),
        gettext_lazy("Centre"),
    ]

    def get(self, request):
        queryset = selectors.company_list_queryset(request.user)
        search = request.GET.get("q", "").strip()
        if search:
            queryset = queryset.filter(name__icontains=search) | queryset.filter(siret__startswith=search)
        queryset = queryset.order_by("name", "id")
        fmt = requested_format(request)
        if fmt:
            return audited_export_response(
                request,
                filename="entreprises",
                headers=self.HEADERS,
                rows=(
                    [c.name, c.siret, c.city, c.opco, c.tutor_count, c.candidate_count, c.centre.code]
                    for c in queryset
                ),
                fmt=fmt,
            )
        page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
        return render(
            request,
            "candidates/company_list.html",
            {
                "page": page,
                "companies": page.object_list,
                "q": search,
            },
        )


class CompanyCreateView(RoleRequiredMixin, View):
    allowed_roles = STAFF
    template_name = "candidates/company_form.html"

    def get(self, request):
        return render(request, self.template_name, {"form": CompanyForm(user=request.user)})

    def post(self, request):
        form = CompanyForm(request.POST, user=request.user)
        response = submit_form(
            request,
            form,
            lambda: services.create_company(
                centre=form.cleaned_data["centre"], by=request.user, **form.changes()
            ),
            success=_("Entreprise enregistrée."),
            redirect_to=lambda company: reverse("candidates:company_detail", args=[company.pk]),
        )
        return response or render(request, self.template_name, {"form": form})


def _company(request, pk):
    return get_object_or_404(selectors.companies_visible_to(request.user).select_related("centre"), pk=pk)


class CompanyDetailView(RoleRequiredMixin, View):
    allowed_roles = STAFF

    def get(self, request, pk):
        company = _company(request, pk)
        candidates = selectors.candidates_visible_to(request.user).filter(company=company)
        return render(
            request,
            "candidates/company_detail.html",
            {
                "company": company,
                "tutors": company.tutors.select_related("user"),
                "candidates": candidates.select_related("certification", "tutor")[:100],
                "candidate_count": candidates.count(),
            },
        )


class CompanyUpdateView(RoleRequiredMixin, View):
    allowed_roles = STAFF
    template_name = "candidates/company_form.html"

    def get(self, request, pk):
        company = _company(request, pk)
        form = CompanyForm(instance=company, user=request.user)
        return render(request, self.template_name, {"form": form, "company": company})

    def post(self, request, pk):
        company = _company(request, pk)
        form = CompanyForm(request.POST, instance=Company.objects.get(pk=company.pk), user=request.user)
        response = submit_form(
            request,
            form,
            lambda: services.update_company(company=company, by=request.user, **form.changes()),
            success=_("Entreprise enregistrée."),
            redirect_to=reverse("candidates:company_detail", args=[company.pk]),
        )
        return response or render(request, self.template_name, {"form": form, "company": company})


class TutorCreateView(RoleRequiredMixin, View):
    allowed_roles = STAFF
    template_name = "candidates/tutor_form.html"

    def get(self, request, pk):
        company = _company(request, pk)
        return render(request, self.template_name, {"form": TutorForm(), "company": company})

    def post(self, request, pk):
        company = _company(request, pk)
        form = TutorForm(request.POST)
        response = submit_form(
            request,
            form,
            lambda: services.create_tutor(company=company, by=request.user, **form.changes()),
            success=_("Tuteur enregistré."),
            redirect_to=reverse("candidates:company_detail", args=[company.pk]),
        )
        return response or render(request, self.template_name, {"form": form, "company": company})


class TutorUpdateView(RoleRequiredMixin, View):
    allowed_roles = STAFF
    template_name = "candidates/tutor_form.html"

    def _tutor(self, request, pk):
        return get_object_or_404(
            selectors.tutors_visible_to(request.user).select_related("company__centre"), pk=pk
        )

    def get(self, request, pk):
        tutor = self._tutor(request, pk)
        form = TutorForm(instance=tutor)
        return render(request, self.template_name, {"form": form, "company": tutor.company, "tutor": tutor})

    def post(self, request, pk):
        tutor = self._tutor(request, pk)
        form = TutorForm(request.POST, instance=Tutor.objects.get(pk=tutor.pk))
        response = submit_form(
            request,
            form,
            lambda: services.update_tutor(tutor=tutor, by=request.user, **form.changes()),
            success=_("Tuteur enregistré."),
            redirect_to=reverse("candidates:company_detail", args=[tutor.company_id]),
        )
        return response or render(
            request, self.template_name, {"form": form, "company": tutor.company, "tutor": tutor}
        )
