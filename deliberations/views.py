"""Pages of the juries and deliberations. Thin: objects come from the role-scoped selectors (out of
scope → 404), permissions from deliberations.permissions (not allowed → 403), changes from services
(a broken rule → message and re-render, never a 500)."""

import hashlib
import re
from urllib.parse import urlencode

from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from candidates.models import Candidate, CandidateStatus
from candidates.selectors import candidates_visible_to
from core.auth import client_ip
from core.dates import LATE_ENTRY_CODES
from core.exceptions import BusinessRuleError
from core.exports import export_response, requested_format
from core.models import Role
from core.permissions import role_required
from core.ratelimit import exceeded
from core.views_kit import require_permission, run_action, submit_form

from . import documents as docs
from . import permissions, seal, selectors, services
from .downloads import download_generated_document
from .forms import (
    AddCandidatesForm,
    AppealAnswerForm,
    AttendanceForm,
    ConvocationForm,
    DecisionForm,
    DocumentSettingsForm,
    JuryForm,
    JuryMemberForm,
    LateEntryForm,
    PriorDeliberationForm,
    SessionForm,
)
from .models import (
    CandidateOutcome,
    DocumentKind,
    DocumentStatus,
    GeneratedDocument,
    JuryMember,
    OutcomeAmendment,
    SessionStatus,
)
from .models.documents import DEFAULT_CONTEST_DAYS, VERIFIABLE_KINDS

STAFF, JURY = Role.STAFF, Role.JURY


# ---------------------------------------------------------------------------------------------
# Juries (staff)
# ---------------------------------------------------------------------------------------------


@role_required(STAFF)
@require_http_methods(["GET", "POST"])
def jury_list(request):
    juries = selectors.juries_visible_to(request.user).prefetch_related("members")
    form = JuryForm(request.POST or None, user=request.user)
    if request.method == "POST":
        response = submit_form(
            request,
            form,
            lambda: services.create_jury(
                actor=request.user, centre=form.cleaned_data["centre"], name=form.cleaned_data["name"]
            ),
            success=_("Jury créé : ajoutez ses membres."),
            redirect_to=lambda jury: reverse("deliberations:jury_detail", args=[jury.pk]),
            error_as_message=True,
        )
        if response:
            return response
    rows = [(jury, selectors.composition_problems(list(jury.members.all()))) for jury in juries]
    fmt = requested_format(request) if request.method == "GET" else None
    if fmt:
        return export_response(
            filename="jurys",
            headers=[_("Jury"), _("Centre"), _("Membres"), _("Composition")],
            rows=(
                [
                    jury.name,
                    jury.centre.name,
                    len(jury.members.all()),
                    " ".join(str(p) for p in problems) if problems else _("Paritaire"),
                ]
                for jury, problems in rows
            ),
            fmt=fmt,
        )
    return render(request, "deliberations/jury_list.html", {"rows": rows, "form": form})


@role_required(STAFF)
@require_http_methods(["GET", "POST"])
def jury_detail(request, pk):
    jury = get_object_or_404(selectors.juries_visible_to(request.user), pk=pk)
    require_permission(request.user, "deliberations.manage_jury", jury)
    form = JuryMemberForm(request.POST or None, jury=jury)
    if request.method == "POST":
        response = submit_form(
            request,
            form,
            lambda: services.add_jury_member(actor=request.user, jury=jury, **form.cleaned_data),
            success=_("Membre ajouté."),
            redirect_to=reverse("deliberations:jury_detail", args=[jury.pk]),
            error_as_message=True,
        )
        if response:
            return response
    members = list(jury.members.select_related("user"))
    return render(
        request,
        "deliberations/jury_detail.html",
        {"jury": jury, "members": members, "problems": selectors.composition_problems(members), "form": form},
    )


@role_required(STAFF)
@require_POST
def jury_member_remove(request, pk, member_pk):
    jury = get_object_or_404(selectors.juries_visible_to(request.user), pk=pk)
    require_permission(request.user, "deliberations.manage_jury", jury)
    member = get_object_or_404(JuryMember, jury=jury, pk=member_pk)
    return run_action(
        request,
        lambda: services.remove_jury_member(actor=request.user, member=member),
        success=_("Membre retiré du jury."),
        redirect_to=reverse("deliberations:jury_detail", args=[jury.pk]),
    )


# ---------------------------------------------------------------------------------------------
# Sessions
# ---------------------------------------------------------------------------------------------


@role_required(STAFF, JURY)
@require_GET
def session_list(request):
    sessions = selectors.session_list(request.user)
    fmt = requested_format(request)
    if fmt:
        return export_response(
            filename="deliberations",
            headers=[
                _("Date"),
                _("CQPM"),
                _("Intitulé"),
                _("Centre"),
                _("Jury"),
                _("Lieu"),
                _("Candidats décidés"),
                _("Candidats"),
                _("Statut"),
            ],
            rows=(
                [
                    s.date,
                    s.certification.code,
                    s.certification.title,
                    s.centre.name,
                    s.jury.name,
                    s.place,
                    s.decided_count,
                    s.candidate_count,
                    s.get_status_display(),
                ]
                for s in sessions
            ),
            fmt=fmt,
        )
    return render(
        request,
        "deliberations/session_list.html",
        {"sessions": sessions, "can_create": request.user.is_centre_staff},
    )


@role_required(STAFF)
@require_http_methods(["GET", "POST"])
def session_create(request):
    form = SessionForm(request.POST or None, user=request.user)
    # Not `submit_form`: a late-entry refusal belongs to its field, any other to a message.
    if request.method == "POST" and form.is_valid():
        try:
            session = services.create_session(actor=request.user, **form.cleaned_data)
        except BusinessRuleError as exc:
            if exc.code in LATE_ENTRY_CODES:
                form.add_error("late_entry_reason", exc.message)
            else:
                messages.error(request, exc.message)
        else:
            messages.success(request, _("Session de délibération planifiée."))
            return redirect("deliberations:session_detail", pk=session.pk)
    return render(request, "deliberations/session_form.html", {"form": form})


def _eligible_candidates(session):
    busy = Q(deliberation_entries__session__status__in=[SessionStatus.PLANNED, SessionStatus.OPEN])
    return (
        Candidate.objects.filter(
            centre_id=session.centre_id,
            certification_id=session.certification_id,
            status=CandidateStatus.AWAITING_DELIBERATION,
        )
        .exclude(busy)
        # evaluated after the deliberation's day: not before this jury (services.check_evaluations_over)
        .exclude(convocations__session__date__gt=session.date)
        .order_by("reference")
    )


# The board's free-text search may hold a name: it travels by POST and waits in the session (per
# deliberation session), so that it never appears in a URL; the URL only says "search=1".
BOARD_SEARCH_KEY = "deliberations_board_search"


def _board_query(state, search):
    """The board's query string (filter and search flag), without the page."""
    params = {}
    if state:
        params["state"] = state
    if search:
        params["search"] = "1"
    return urlencode(params)


def _board_place(params):
    """Where on the board a decision page was opened (filter, search flag, page), re-read from its
    query string: only these known values travel back, never a URL (no open redirect)."""
    state = params.get("state", "")
    query = _board_query(state if state in selectors.BOARD_STATES else "", params.get("search", ""))
    page = params.get("page", "")
    if page.isdigit() and int(page) > 1:
        query = f"{query}&page={int(page)}" if query else f"page={int(page)}"
    return query


def _board_url(session, place):
    url = reverse("deliberations:session_detail", args=[session.pk])
    return f"{url}?{place}" if place else url


def _board_filters(board, search):
    """The state filters of the board, with the whole session's count and their link."""
    labels = [
        ("", _("Tous")),
        (selectors.BOARD_TO_DECIDE, _("À décider")),
        (selectors.BOARD_DECIDED, _("Décidés")),
        (selectors.BOARD_REVIEW, _("Divergence commission / entreprise")),
    ]
    return [
        {
            "label": label,
            "count": board.counts[state or "all"],
            "query": _board_query(state, search),
            "active": state == board.state,
        }
        for state, label in labels
    ]


@role_required(STAFF, JURY)
@require_http_methods(["GET", "POST"])
def session_detail(request, pk):
    """The jury board: the session, its jury and attendance, and one page of its candidates (filters
    by state with the counts of the whole session, search by name or reference)."""
    session = selectors.session_for(request.user, pk)
    require_permission(request.user, "deliberations.view_session", session)
    state = request.GET.get("state", "")
    if state not in selectors.BOARD_STATES:
        state = ""
    searches = request.session.get(BOARD_SEARCH_KEY, {})
    if request.method == "POST":  # the search form (post/redirect/get)
        search = request.POST.get("q", "").strip()[:100]
        if search:
            searches[str(session.pk)] = search
        else:
            searches.pop(str(session.pk), None)
        request.session[BOARD_SEARCH_KEY] = searches
        url = reverse("deliberations:session_detail", args=[session.pk])
        query = _board_query(state, search)
        return redirect(f"{url}?{query}" if query else url)
    search = searches.get(str(session.pk), "") if request.GET.get("search") else ""
    can_manage = permissions.can_manage_session(request.user, session)
    can_decide = permissions.can_decide(request.user, session)
    can_amend = permissions.can_amend(request.user, session)
    members, attendances = selectors.board_members(session)
    # Before the deliberation's day: no attendance, decision nor closing (services' date rule).
    not_reached = "" if session.is_closed else services.deliberation_not_reached_reason(session)
    board = selectors.board_page(
        session, state=state, search=search, page=request.GET.get("page"), per_page=selectors.BOARD_PAGE_SIZE
    )
    context = {
        "session": session,
        "board": board,
        "rows": board.lines,
        "page": board.page,
        "filters": _board_filters(board, search),
        "querystring": _board_query(board.state, search),
        # the decision pages bring the jury back to this very page of the board
        "place": _board_place({"state": board.state, "search": search, "page": str(board.page.number)}),
        "search": search,
        "members": members,
        "attendance_problems": selectors.attendance_problems(session, attendances),
        "composition_problems": selectors.composition_problems(members),
        "convocation_warnings": selectors.convocation_warnings(session),
        "can_manage": can_manage,
        "can_decide": can_decide,
        "can_close": permissions.can_close_session(request.user, session),
        "can_amend": can_amend,
        "not_reached": not_reached,
        "can_decide_now": can_decide and not session.is_closed and not not_reached,
        "can_amend_now": can_amend and session.is_closed,
        "can_remove_now": can_manage and not session.is_closed,
        "page_numbers": [
            number if isinstance(number, int) else None
            for number in board.page.paginator.get_elided_page_range(
                board.page.number, on_each_side=2, on_ends=1
            )
        ],
        "decided_count": board.counts[selectors.BOARD_DECIDED],
        "candidate_count": board.counts["all"],
    }
    if can_manage and not session.is_closed:
        context["convocation_form"] = ConvocationForm(
            initial={
                "unions_asked_on": session.unions_asked_on,
                "members_notified_on": session.members_notified_on,
            }
        )
        if not not_reached:
            context["attendance_form"] = AttendanceForm(
                session=session, initial={"present": [m.pk for m in members if m.present]}
            )
        else:
            context["late_entry_form"] = LateEntryForm(initial={"date": services.today()})
        context["add_form"] = AddCandidatesForm(queryset=_eligible_candidates(session))
    context["rows_html"] = _board_rows_html(context)
    return render(request, "deliberations/session_detail.html", context)


def _board_rows_html(context):
    """The board's rows rendered once per board version and way of showing them (issue 21), or ""
    (the template renders them): never when they carry a form, whose CSRF token is the user's."""
    board = context["board"]
    if context["can_remove_now"] or not board.key or not board.lines:
        return ""
    flags = (context["can_decide_now"], context["can_amend_now"], context["place"])
    key = f"{board.key}:rows:{hashlib.sha256(repr(flags).encode()).hexdigest()[:16]}"
    html = cache.get(key)
    if html is None:
        html = render_to_string(
            "deliberations/_board_rows.html",
            {
                name: context[name]
                for name in ("rows", "session", "can_decide_now", "can_amend_now", "can_remove_now", "place")
            },
        )
        cache.set(key, str(html), selectors.BOARD_CACHE_SECONDS)
    return mark_safe(html)  # noqa: S308 - rendered by the template above, autoescaped


def _managed_session(request, pk):
    session = selectors.session_for(request.user, pk)
    require_permission(request.user, "deliberations.manage_session", session)
    return session


@role_required(STAFF)
@require_POST
def session_convocations(request, pk):
    session = _managed_session(request, pk)
    form = ConvocationForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Dates invalides."))
        return redirect("deliberations:session_detail", pk=session.pk)
    return run_action(
        request,
        lambda: services.record_convocations(actor=request.user, session=session, **form.cleaned_data),
        success=lambda warnings: _with_warnings(request, _("Convocations enregistrées."), warnings),
        redirect_to=reverse("deliberations:session_detail", args=[session.pk]),
    )


def _with_warnings(request, text, warnings):
    """The success message, then the service's warnings under it."""
    messages.success(request, text)
    for warning in warnings:
        messages.warning(request, warning)


@role_required(STAFF)
@require_POST
def session_attendance(request, pk):
    session = _managed_session(request, pk)
    form = AttendanceForm(request.POST, session=session)
    if not form.is_valid():
        messages.error(request, _("Sélection invalide."))
        return redirect("deliberations:session_detail", pk=session.pk)
    return run_action(
        request,
        lambda: services.record_attendance(
            actor=request.user,
            session=session,
            present_member_ids=[m.pk for m in form.cleaned_data["present"]],
        ),
        success=lambda problems: _with_warnings(request, _("Présences enregistrées."), problems),
        redirect_to=reverse("deliberations:session_detail", args=[session.pk]),
    )


@role_required(STAFF)
@require_POST
def session_late_entry(request, pk):
    """« Saisie a posteriori »: the jury met earlier than the planned day (reason required, audited)."""
    session = _managed_session(request, pk)
    form = LateEntryForm(request.POST)
    if not form.is_valid():
        messages.error(
            request,
            _("Indiquez la date à laquelle le jury s'est réuni et le motif de la saisie a posteriori."),
        )
        return redirect("deliberations:session_detail", pk=session.pk)
    return run_action(
        request,
        lambda: services.record_late_entry(actor=request.user, session=session, **form.cleaned_data),
        success=_("Saisie a posteriori enregistrée : présences, décisions et clôture sont ouvertes."),
        redirect_to=reverse("deliberations:session_detail", args=[session.pk]),
    )


@role_required(STAFF)
@require_POST
def session_add_candidates(request, pk):
    session = _managed_session(request, pk)
    form = AddCandidatesForm(request.POST, queryset=_eligible_candidates(session))
    if not form.is_valid():
        messages.error(request, _("Choisissez au moins un candidat."))
        return redirect("deliberations:session_detail", pk=session.pk)
    return run_action(
        request,
        lambda: services.add_candidates(
            actor=request.user, session=session, candidates=form.cleaned_data["candidates"]
        ),
        success=lambda added: _("%(n)s candidat(s) ajouté(s).") % {"n": len(added)},
        redirect_to=reverse("deliberations:session_detail", args=[session.pk]),
    )


@role_required(STAFF)
@require_POST
def session_remove_candidate(request, pk, candidate_pk):
    session = _managed_session(request, pk)
    entry = get_object_or_404(session.entries.select_related("candidate"), candidate_id=candidate_pk)
    return run_action(
        request,
        lambda: services.remove_candidate(actor=request.user, session=session, candidate=entry.candidate),
        success=_("Candidat retiré de la session."),
        redirect_to=_board_url(session, _board_place(request.GET)),
    )


@role_required(STAFF, JURY)
@require_POST
def session_close(request, pk):
    session = selectors.session_for(request.user, pk)
    require_permission(request.user, "deliberations.close_session", session)
    return run_action(
        request,
        lambda: services.close_session(actor=request.user, session=session),
        success=_("Délibération close : le procès-verbal et les documents sont en production."),
        redirect_to=reverse("deliberations:session_documents", args=[session.pk]),
        error_redirect_to=reverse("deliberations:session_detail", args=[session.pk]),
    )


@role_required(STAFF, JURY)
@require_http_methods(["GET", "POST"])
def candidate_decide(request, pk, candidate_pk):
    session = selectors.session_for(request.user, pk)
    require_permission(request.user, "deliberations.decide", session)
    amend = session.is_closed
    if amend:
        require_permission(request.user, "deliberations.amend", session)
    row = selectors.board_row(session, candidate_pk)
    if row is None:
        raise Http404
    board_url = _board_url(session, _board_place(request.GET))
    form = DecisionForm(request.POST or None, row=row, amend=amend)
    # The evidence in front of the jury (issue 16): proposals, sheets, observations, tutor's opinion.
    evidence = selectors.decision_evidence(session, row.candidate.pk)
    for r in form.rows:
        r["evidence"] = evidence.get(r["competency"].pk, {})
    # Not `submit_form`: an amendment and a first decision lead to different pages.
    if request.method == "POST" and form.is_valid():
        try:
            if amend:
                services.amend_outcome(
                    actor=request.user,
                    session=session,
                    candidate=row.candidate,
                    choices=form.choices(),
                    motivation=form.cleaned_data["amend_motivation"],
                    reason_for_candidate=form.cleaned_data["reason_for_candidate"],
                )
                messages.success(
                    request, _("Délibération modifiée : une nouvelle version du PV est en production.")
                )
                appeal = _appeal_of(request, session, row.candidate)
                if appeal is not None:  # re-examined on appeal: back to the appeal to record its outcome
                    return redirect("deliberations:appeal_detail", pk=appeal.pk)
                return redirect("deliberations:session_documents", pk=session.pk)
            services.record_decisions(
                actor=request.user,
                session=session,
                candidate=row.candidate,
                choices=form.choices(),
                reason_for_candidate=form.cleaned_data["reason_for_candidate"],
            )
        except BusinessRuleError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _("Décisions enregistrées pour le candidat %(ref)s.") % {"ref": row.candidate.reference},
            )
            return redirect(board_url)
    return render(
        request,
        "deliberations/candidate_decide.html",
        {
            "session": session,
            "row": row,
            "form": form,
            "amend": amend,
            "board_url": board_url,
            "not_reached": "" if amend else services.deliberation_not_reached_reason(session),
        },
    )


def _appeal_of(request, session, candidate):
    """The open appeal named by `?recours=` when the amendment page was opened from it."""
    pk = request.GET.get("recours", "")
    if not pk.isdigit():
        return None
    return (
        selectors.open_appeals(request.user).filter(pk=int(pk), session=session, candidate=candidate).first()
    )


# ---------------------------------------------------------------------------------------------
# Appeals (recours) of candidates (issue 23): staff of the centre
# ---------------------------------------------------------------------------------------------


@role_required(STAFF)
@require_GET
def appeal_list(request):
    appeals = list(selectors.appeals_visible_to(request.user).order_by("status", "-filed_at", "-pk")[:200])
    return render(request, "deliberations/appeal_list.html", {"appeals": appeals})


@role_required(STAFF)
@require_http_methods(["GET", "POST"])
def appeal_detail(request, pk):
    appeal = get_object_or_404(selectors.appeals_visible_to(request.user), pk=pk)
    form = AppealAnswerForm(request.POST or None)
    if request.method == "POST":
        response = submit_form(
            request,
            form,
            lambda: services.answer_appeal(
                actor=request.user,
                appeal=appeal,
                status=form.cleaned_data["status"],
                answer=form.cleaned_data["answer"],
            ),
            success=_("Issue du recours enregistrée : le candidat en est informé."),
            redirect_to=reverse("deliberations:appeal_detail", args=[appeal.pk]),
            error_as_message=True,
        )
        if response:
            return response
    amend_url = ""
    if appeal.is_open and appeal.session.is_closed and permissions.can_amend(request.user, appeal.session):
        amend_url = (
            reverse("deliberations:candidate_decide", args=[appeal.session_id, appeal.candidate_id])
            + f"?recours={appeal.pk}"
        )
    return render(
        request,
        "deliberations/appeal_detail.html",
        {
            "appeal": appeal,
            "form": form,
            "attachments": list(appeal.attachments.order_by("uploaded_at", "pk")),
            "outcome": CandidateOutcome.objects.filter(
                session=appeal.session, candidate=appeal.candidate
            ).first(),
            "amendments": list(
                OutcomeAmendment.objects.filter(
                    outcome__session=appeal.session, outcome__candidate=appeal.candidate
                ).order_by("at")
            ),
            "amend_url": amend_url,
            "deadline": services.appeal_deadline(appeal.session, appeal.candidate),
        },
    )


# ---------------------------------------------------------------------------------------------
# An earlier deliberation recorded explicitly (from the candidate's page)
# ---------------------------------------------------------------------------------------------


@role_required(STAFF)
@require_http_methods(["GET", "POST"])
def prior_deliberation_create(request, candidate_pk):
    candidate = get_object_or_404(
        candidates_visible_to(request.user).select_related("centre", "certification"), pk=candidate_pk
    )
    require_permission(request.user, "deliberations.record_prior_deliberation", candidate)
    form = PriorDeliberationForm(request.POST or None, request.FILES or None, candidate=candidate)
    if request.method == "POST":
        response = submit_form(
            request,
            form,
            lambda: services.record_prior_deliberation(
                actor=request.user, candidate=candidate, **form.service_kwargs()
            ),
            success=_(
                "Délibération antérieure enregistrée : les compétences qu'elle a validées sont acquises."
            ),
            redirect_to=reverse("candidates:detail", args=[candidate.pk]),
            error_as_message=True,
        )
        if response:
            return response
    capitalised = selectors.capitalised_for(candidate)
    return render(
        request,
        "deliberations/prior_deliberation_form.html",
        {
            "candidate": candidate,
            "form": form,
            "priors": candidate.prior_deliberations.prefetch_related(
                "capitalised_competencies__competency", "capitalised_blocks__block"
            ),
            "held": len(capitalised.competency_holdings) + len(capitalised.block_holdings),
        },
    )


# ---------------------------------------------------------------------------------------------
# Documents
# ---------------------------------------------------------------------------------------------

SESSION_DOCUMENT_KINDS = [DocumentKind.PV, DocumentKind.ATTENDANCE, DocumentKind.PACK, DocumentKind.GTP]


@role_required(STAFF, JURY)
@require_GET
def session_documents(request, pk):
    session = selectors.session_for(request.user, pk)
    require_permission(request.user, "deliberations.view_session", session)
    documents = list(
        GeneratedDocument.objects.filter(session=session)
        .select_related("candidate")
        .order_by("kind", "candidate__reference", "-version")
    )
    return render(
        request,
        "deliberations/documents.html",
        {
            "session": session,
            "documents": documents,
            "session_kinds": [(k, DocumentKind(k).label) for k in SESSION_DOCUMENT_KINDS],
            "can_manage": permissions.can_manage_session(request.user, session),
            "seal_status": seal.status(),
        },
    )


def _document_for(request, document_pk):
    """A document whose session the user may see (checked on every request: a UUID is no permission)."""
    document = get_object_or_404(selectors.documents_visible_to(request.user), pk=document_pk)
    require_permission(request.user, "deliberations.view_session", document.session)
    return document


@role_required(STAFF)
@require_POST
def document_request(request, pk):
    session = _managed_session(request, pk)
    kind = request.POST.get("kind", "")

    def request_documents():
        if kind == "all":
            return services.request_session_documents(actor=request.user, session=session)
        if kind not in SESSION_DOCUMENT_KINDS:
            raise BusinessRuleError(_("Type de document inconnu."))
        return services.request_document(actor=request.user, session=session, kind=kind)

    return run_action(
        request,
        request_documents,
        success=_("Production lancée."),
        redirect_to=reverse("deliberations:session_documents", args=[session.pk]),
    )


@role_required(STAFF)
@require_POST
def document_retry(request, document_pk):
    document = _document_for(request, document_pk)
    require_permission(request.user, "deliberations.manage_session", document.session)
    # Not `run_action`: htmx gets the row back instead of a redirect.
    try:
        services.retry_document(actor=request.user, document=document)
    except BusinessRuleError as exc:
        messages.error(request, exc.message)
    if request.htmx:
        document.refresh_from_db()
        return render(request, "deliberations/_document_row.html", {"document": document, "can_manage": True})
    return redirect("deliberations:session_documents", pk=document.session_id)


@role_required(STAFF, JURY)
@require_GET
def document_status(request, document_pk):
    """htmx fragment: one document's row; it keeps polling every 2 s while the job is pending."""
    document = _document_for(request, document_pk)
    return render(
        request,
        "deliberations/_document_row.html",
        {"document": document, "can_manage": permissions.can_manage_session(request.user, document.session)},
    )


@role_required(STAFF, JURY)
@require_GET
def document_download(request, document_pk):
    document = _document_for(request, document_pk)
    if document.status != DocumentStatus.DONE or not document.file:
        raise Http404
    return download_generated_document(request, document)


# ---------------------------------------------------------------------------------------------
# What each centre prints on its documents (staff)
# ---------------------------------------------------------------------------------------------


@role_required(STAFF)
@require_http_methods(["GET", "POST"])
def document_settings(request):
    centres = list(selectors.centres_managed_by(request.user))
    if not centres:  # no object yet to ask a rule about: staff of no centre have nothing to set
        raise PermissionDenied
    code = request.POST.get("centre") or request.GET.get("centre") or centres[0].code
    centre = next((c for c in centres if c.code == code), None)
    if centre is None:
        raise Http404
    record = selectors.document_settings_of(centre)
    initial = {
        "signatory_name": centre.certifier_signatory,
        "signatory_title": record.signatory_title if record else "",
        "contest_text": record.contest_text if record else "",
        "contest_days": record.contest_days if record else DEFAULT_CONTEST_DAYS,
    }
    form = DocumentSettingsForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST":
        data = form.cleaned_data if form.is_valid() else {}
        response = submit_form(
            request,
            form,
            lambda: services.update_document_settings(
                actor=request.user,
                centre=centre,
                signatory_name=data["signatory_name"],
                signatory_title=data["signatory_title"],
                contest_text=data["contest_text"],
                contest_days=data["contest_days"],
                signature_upload=data["signature_image"] or None,
                remove_signature=data["remove_signature"],
            ),
            success=_("Paramètres enregistrés : ils s'appliquent aux documents produits désormais."),
            redirect_to=f"{reverse('deliberations:document_settings')}?{urlencode({'centre': centre.code})}",
            error_field="signature_image" if data.get("signature_image") else None,
        )
        if response:
            return response
    return render(
        request,
        "deliberations/document_settings.html",
        {
            "form": form,
            "centre": centre,
            "centres": centres,
            "record": record,
            "signature_preview": docs.document_settings(centre)["signature_image"] if record else "",
            "seal_status": seal.status(),
        },
    )


# ---------------------------------------------------------------------------------------------
# Public verification (no login)
# ---------------------------------------------------------------------------------------------


def _verification_context(number):
    number = (number or "").strip().upper()
    if not number:
        return {"number": "", "searched": False}
    document = (
        GeneratedDocument.objects.filter(number=number, kind__in=VERIFIABLE_KINDS, status=DocumentStatus.DONE)
        .select_related("session__certification", "candidate")
        .first()
    )
    context = {"number": number, "searched": True, "document": document}
    if document is None:
        return context
    if document.candidate is not None:
        candidate = document.candidate
        context["holder"] = docs.mask_name(
            candidate.first_names, candidate.usage_name or candidate.birth_name
        )
    context["replaced_by"] = selectors.later_edition(document)
    integrity = selectors.stored_file_integrity(document)
    context["integrity"] = integrity
    sealed_ok = (
        integrity.seal is None
        or not integrity.seal.signed
        or (integrity.seal.intact and integrity.seal.valid)
    )
    context["all_good"] = document.is_current and (integrity.erased or integrity.sha256_matches) and sealed_ok
    return context


# The public verification page answers anyone: a client address may check VERIFY_PER_IP numbers per
# VERIFY_WINDOW seconds, then gets a 429 (numbers are not guessable, the limit keeps it that way).
VERIFY_PER_IP = 30
VERIFY_WINDOW = 600


def _verification_throttled(request):
    if not exceeded(f"verify:ip:{client_ip(request)}", limit=VERIFY_PER_IP, window=VERIFY_WINDOW):
        return None
    context = {"number": "", "searched": False, "throttled": True}
    response = render(request, "deliberations/verify.html", context, status=429)
    response["Retry-After"] = str(VERIFY_WINDOW)
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def verify(request):
    number = re.sub(r"[^A-Z0-9-]", "", request.GET.get("numero", "").upper())[:50]
    if number:
        return redirect("deliberations:verify_number", number=number)
    return render(request, "deliberations/verify.html", _verification_context(""))


@require_GET
def verify_number(request, number):
    throttled = _verification_throttled(request)
    if throttled is not None:
        return throttled
    response = render(request, "deliberations/verify.html", _verification_context(number))
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    return response
