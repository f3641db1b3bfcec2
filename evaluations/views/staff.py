"""Staff pages: commissions and members, conflicts of interest, sessions and their board, convening,
assignments, the candidate's evaluation overview, sheets (reopen), history, tutor invitation."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from candidates.models import CandidateStatus
from candidates.selectors import candidates_visible_to
from core.dates import LATE_ENTRY_CODES
from core.exceptions import BusinessRuleError
from core.exports import audited_export_response, requested_format
from core.models import CertificationCentre, Role, User
from core.permissions import role_required
from core.views_kit import require_permission, run_action, submit_form

from .. import history, selectors, services
from ..forms import (
    AssignForm,
    CommissionForm,
    ConflictForm,
    ConveneForm,
    InviteTutorForm,
    MemberForm,
    ReasonForm,
    ResendForm,
    SessionForm,
)
from ..models import (
    CommissionMember,
    CommissionProposal,
    ConflictOfInterest,
    ScoringSheet,
    TutorInvitation,
)

staff_only = role_required(Role.STAFF)


# --- commissions ----------------------------------------------------------------------------


@staff_only
def commission_list(request):
    commissions = selectors.commission_list(request.user)
    fmt = requested_format(request)
    if fmt:
        return audited_export_response(
            request,
            filename="commissions",
            headers=[_("Commission"), _("Centre"), _("Président(e)"), _("Membres"), _("Sessions")],
            rows=(
                [
                    c.name,
                    c.centre.code,
                    ", ".join(m.user.get_full_name() for m in c.members.all() if m.is_president),
                    c.member_count,
                    c.session_count,
                ]
                for c in commissions
            ),
            fmt=fmt,
        )
    return render(request, "evaluations/commission_list.html", {"commissions": commissions})


@staff_only
def commission_create(request):
    centres = CertificationCentre.objects.filter(pk__in=request.user.centre_ids())
    form = CommissionForm(request.POST or None, centres=centres)
    response = request.method == "POST" and submit_form(
        request,
        form,
        lambda: services.create_commission(
            centre=form.cleaned_data["centre"], name=form.cleaned_data["name"], by=request.user
        ),
        success=_("Commission créée : ajoutez ses membres et désignez son président."),
        redirect_to=lambda commission: reverse("evaluations:commission_detail", args=[commission.pk]),
        error_as_message=True,
    )
    return response or render(request, "evaluations/commission_form.html", {"form": form})


@staff_only
def commission_detail(request, pk):
    commission = get_object_or_404(selectors.commissions_visible_to(request.user), pk=pk)
    commission = selectors.commission_detail(request.user, commission.pk)
    require_permission(request.user, "evaluations.manage", commission)
    member_form = MemberForm(evaluators=selectors.eligible_evaluators(commission))
    conflict_form = ConflictForm(centre_ids=[commission.centre_id])
    member_ids = [m.user_id for m in commission.members.all()]
    conflicts = (
        ConflictOfInterest.objects.filter(user_id__in=member_ids)
        .select_related("user", "candidate", "company")
        .order_by("-declared_at")
    )
    return render(
        request,
        "evaluations/commission_detail.html",
        {
            "commission": commission,
            "member_form": member_form,
            "conflict_form": conflict_form,
            "conflicts": conflicts,
            "sessions": commission.sessions.order_by("-date")[:20],
        },
    )


@staff_only
@require_POST
def member_add(request, pk):
    commission = get_object_or_404(selectors.commissions_visible_to(request.user), pk=pk)
    require_permission(request.user, "evaluations.manage", commission)
    form = MemberForm(request.POST, evaluators=selectors.eligible_evaluators(commission))
    back = reverse("evaluations:commission_detail", args=[commission.pk])
    if not form.is_valid():
        messages.error(request, _("Choisissez un évaluateur et indiquez sa qualification."))
        return redirect(back)
    return run_action(
        request,
        lambda: services.add_member(commission=commission, by=request.user, **form.cleaned_data),
        success=_("Membre ajouté à la commission."),
        redirect_to=back,
    )


def _member(request, pk):
    member = get_object_or_404(
        CommissionMember.objects.select_related("commission", "user").filter(
            commission__in=selectors.commissions_visible_to(request.user)
        ),
        pk=pk,
    )
    require_permission(request.user, "evaluations.manage", member.commission)
    return member


@staff_only
@require_POST
def member_president(request, pk):
    member = _member(request, pk)
    services.set_president(member=member, by=request.user)
    messages.success(request, _("Président(e) de la commission désigné(e)."))
    return redirect("evaluations:commission_detail", member.commission_id)


@staff_only
@require_POST
def member_remove(request, pk):
    member = _member(request, pk)
    return run_action(
        request,
        lambda: services.remove_member(member=member, by=request.user),
        success=_("Membre retiré de la commission."),
        redirect_to=reverse("evaluations:commission_detail", args=[member.commission_id]),
    )


@staff_only
@require_POST
def conflict_declare(request):
    form = ConflictForm(request.POST, centre_ids=list(request.user.centre_ids()))
    back = request.POST.get("next_commission")
    target = (
        reverse("evaluations:commission_detail", args=[back])
        if back and back.isdigit()
        else reverse("evaluations:commission_list")
    )
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(target)
    data = form.cleaned_data

    def declared(conflict):
        message = _("Conflit d'intérêts enregistré.")
        if conflict.withdrawn_count:
            message += " " + _("Le membre a été retiré de %(count)d convocation(s) concernée(s).") % {
                "count": conflict.withdrawn_count
            }
        return message

    return run_action(
        request,
        lambda: services.declare_conflict(
            user=data["user"],
            candidate=data.get("candidate"),
            company=data.get("company") if not data.get("candidate") else None,
            reason=data["reason"],
            by=request.user,
        ),
        success=declared,
        redirect_to=target,
    )


@staff_only
@require_POST
def conflict_remove(request, pk):
    centre_ids = request.user.centre_ids()
    conflict = get_object_or_404(
        ConflictOfInterest.objects.select_related("candidate", "company").filter(
            Q(candidate__centre_id__in=centre_ids) | Q(company__centre_id__in=centre_ids)
        ),
        pk=pk,
    )
    back = request.POST.get("next_commission")
    return run_action(
        request,
        lambda: services.remove_conflict(conflict=conflict, by=request.user),
        success=_("Déclaration de conflit supprimée."),
        redirect_to=reverse("evaluations:commission_detail", args=[back])
        if back and back.isdigit()
        else reverse("evaluations:commission_list"),
    )


# --- sessions -------------------------------------------------------------------------------


@staff_only
def session_list(request):
    sessions = selectors.session_list(request.user)
    past = request.GET.get("periode") == "passees"
    today = timezone.localdate()
    sessions = (
        sessions.filter(date__lt=today).order_by("-date")
        if past
        else sessions.filter(date__gte=today).order_by("date")
    )
    fmt = requested_format(request)
    if fmt:
        return audited_export_response(
            request,
            filename="sessions-evaluation-passees" if past else "sessions-evaluation",
            headers=[
                _("Date"),
                _("Commission"),
                _("Lieu"),
                _("Candidats"),
                _("Convocations envoyées"),
                _("Centre"),
            ],
            rows=(
                [
                    s.date,
                    s.commission.name,
                    _("à distance") if s.is_remote else s.place,
                    s.candidate_count,
                    s.convened_count,
                    s.centre.code,
                ]
                for s in sessions
            ),
            fmt=fmt,
        )
    page = Paginator(sessions, 50).get_page(request.GET.get("page"))
    return render(
        request, "evaluations/session_list.html", {"page": page, "sessions": page.object_list, "past": past}
    )


def _session_form_kwargs(request):
    return {"commissions": selectors.commissions_visible_to(request.user).order_by("name")}


def _session_form_error(request, form, exc):
    """The « saisie a posteriori » refusals go next to their field; the others on top of the form."""
    if exc.code in LATE_ENTRY_CODES:
        form.add_error("late_entry_reason", exc.message)
    else:
        messages.error(request, exc.message)


@staff_only
def session_create(request):
    form = SessionForm(request.POST or None, **_session_form_kwargs(request))
    # Not `submit_form`: a late-entry refusal belongs to its field, any other to a message.
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            session = services.create_session(centre=data["commission"].centre, by=request.user, **data)
        except BusinessRuleError as exc:
            _session_form_error(request, form, exc)
        else:
            messages.success(request, _("Session planifiée : convoquez maintenant les candidats."))
            return redirect("evaluations:session_detail", session.pk)
    return render(request, "evaluations/session_form.html", {"form": form})


def _session(request, pk):
    session = get_object_or_404(
        selectors.sessions_visible_to(request.user).select_related("commission", "centre"), pk=pk
    )
    require_permission(request.user, "evaluations.manage", session)
    return session


@staff_only
def session_update(request, pk):
    session = _session(request, pk)
    initial = {
        "commission": session.commission,
        "date": session.date,
        "place": session.place,
        "is_remote": session.is_remote,
        "remote_details": session.remote_details,
    }
    form = SessionForm(request.POST or None, initial=initial, **_session_form_kwargs(request))
    form.fields["commission"].disabled = True
    # Not `submit_form`: as session_create (`_session_form_error`).
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.update_session(
                session=session,
                by=request.user,
                date=data["date"],
                place=data["place"],
                is_remote=data["is_remote"],
                late_entry_reason=data["late_entry_reason"],
                remote_details=data["remote_details"],
            )
        except BusinessRuleError as exc:
            _session_form_error(request, form, exc)
        else:
            messages.success(
                request, _("Session modifiée ; les candidats convoqués reçoivent une convocation à jour.")
            )
            return redirect("evaluations:session_detail", session.pk)
    return render(request, "evaluations/session_form.html", {"form": form, "session": session})


@staff_only
def session_detail(request, pk):
    session = _session(request, pk)
    board = selectors.session_board(session)
    president = next((m for m in board["members"] if m.is_president), None)
    for row in board["rows"]:
        assigned = {user.pk for user in row["evaluators"]}
        row["assignable"] = [
            {"member": m, "conflicts": row["member_conflicts"].get(m.user_id, [])}
            for m in board["members"]
            if m.user_id not in assigned
        ]
        # The president in conflict with this candidate cannot record its proposals: another member
        # assigned to him, without conflict, may be designated to.
        conflicts = row["member_conflicts"]
        if (
            president is not None
            and conflicts.get(president.user_id)
            and row["candidate"].status == CandidateStatus.IN_EVALUATION
        ):
            row["president_in_conflict"] = True
            row["acting_choices"] = [user for user in row["evaluators"] if not conflicts.get(user.pk)]
            row["acting_president"] = next(
                (user for user in row["evaluators"] if user.pk == row["convocation"].acting_president_id),
                None,
            )
    return render(request, "evaluations/session_detail.html", {"session": session, **board})


@staff_only
def convene(request, pk):
    session = _session(request, pk)
    members = list(session.commission.members.select_related("user"))
    candidates = selectors.convenable_candidates(session)
    form = ConveneForm(request.POST or None, candidates=candidates, members=members)
    if request.method == "POST":
        response = submit_form(
            request,
            form,
            lambda: services.convene_candidate(
                session=session,
                candidate=form.cleaned_data["candidate"],
                time_slot=form.cleaned_data["time_slot"],
                evaluators=list(form.cleaned_data["evaluators"]),
                by=request.user,
            ),
            success=_("Candidat convoqué : la convocation lui est envoyée par courriel."),
            redirect_to=reverse("evaluations:session_detail", args=[session.pk]),
            error_as_message=True,
        )
        if response:
            return response
    candidate_list = list(candidates[:500])
    conflicts = selectors.conflict_map([m.user for m in members], candidate_list)
    known_conflicts = [
        {"candidate": candidate, "member": member, "reasons": conflicts[(member.user_id, candidate.pk)]}
        for candidate in candidate_list
        for member in members
        if (member.user_id, candidate.pk) in conflicts
    ]
    return render(
        request,
        "evaluations/convene.html",
        {
            "session": session,
            "form": form,
            "known_conflicts": known_conflicts,
            "has_candidates": bool(candidate_list),
        },
    )


def _convocation(request, pk):
    convocation = get_object_or_404(
        selectors.convocations_visible_to(request.user).select_related("session__commission", "candidate"),
        pk=pk,
    )
    require_permission(request.user, "evaluations.manage", convocation.session)
    return convocation


@staff_only
@require_POST
def assign(request, pk):
    convocation = _convocation(request, pk)
    form = AssignForm(request.POST, members=list(convocation.session.commission.members.all()))
    back = reverse("evaluations:session_detail", args=[convocation.session_id])
    if not form.is_valid():
        messages.error(request, _("Choisissez un membre de la commission."))
        return redirect(back)
    return run_action(
        request,
        lambda: services.assign_evaluator(
            convocation=convocation, user=form.cleaned_data["user"], by=request.user
        ),
        success=_("Évaluateur affecté au candidat."),
        redirect_to=back,
    )


@staff_only
@require_POST
def unassign(request, pk, user_pk):
    convocation = _convocation(request, pk)
    # Only an evaluator assigned to this convocation: another tenant's user id is a 404 (IDOR).
    user = get_object_or_404(
        User.objects.filter(convocation_assignments__convocation=convocation), pk=user_pk
    )
    return run_action(
        request,
        lambda: services.unassign_evaluator(convocation=convocation, user=user, by=request.user),
        success=_("Évaluateur retiré de ce candidat."),
        redirect_to=reverse("evaluations:session_detail", args=[convocation.session_id]),
    )


@staff_only
@require_POST
def acting_president(request, pk):
    """Designate the member who records the proposals for a candidate the president is in conflict with."""
    convocation = _convocation(request, pk)
    # Only the evaluators assigned to this convocation are looked up: any other id (another tenant's
    # included) finds nobody and gets the service's refusal, never someone else's account.
    user_id = request.POST.get("user", "")
    user = (
        User.objects.filter(convocation_assignments__convocation=convocation, pk=int(user_id)).first()
        if user_id.isdigit()
        else None
    )
    return run_action(
        request,
        lambda: services.designate_acting_president(convocation=convocation, user=user, by=request.user),
        success=lambda _result: (
            _("%(name)s enregistrera les propositions de la commission pour ce candidat.")
            % {"name": user.get_full_name() or user.username}
        ),
        redirect_to=reverse("evaluations:session_detail", args=[convocation.session_id]),
    )


@staff_only
@require_POST
def resend_convocation(request, pk):
    convocation = _convocation(request, pk)
    form = ResendForm(request.POST)
    back = reverse("evaluations:session_detail", args=[convocation.session_id])
    if not form.is_valid():
        messages.error(request, _("Indiquez un horaire valide."))
        return redirect(back)
    return run_action(
        request,
        lambda: services.resend_convocation(
            convocation=convocation, time_slot=form.cleaned_data["time_slot"], by=request.user
        ),
        success=_("Convocation renvoyée au candidat."),
        redirect_to=back,
    )


# --- candidate overview, sheets, history, invitation ------------------------------------------


def _candidate(request, pk):
    candidate = get_object_or_404(
        candidates_visible_to(request.user).select_related(
            "certification", "company", "tutor__user", "centre"
        ),
        pk=pk,
    )
    require_permission(request.user, "evaluations.manage", candidate)
    return candidate


@staff_only
def candidate_detail(request, pk):
    candidate = _candidate(request, pk)
    competencies = list(selectors.scored_competencies(candidate)) if hasattr(candidate, "dossier") else []
    sheets = list(
        ScoringSheet.objects.filter(candidate=candidate)
        .select_related("evaluator")
        .order_by("evaluator__last_name")
    )
    proposals = {p.competency_id: p for p in CommissionProposal.objects.filter(candidate=candidate)}
    opinions = {o.competency_id: o for o in selectors.opinions_of(candidate)}
    rows = [
        {
            "competency": competency,
            "sheets": [s for s in sheets if s.competency_id == competency.pk],
            "proposal": proposals.get(competency.pk),
            "opinion": opinions.get(competency.pk),
        }
        for competency in competencies
    ]
    convocations = candidate.convocations.select_related("session__commission").prefetch_related("evaluators")
    invitations = TutorInvitation.objects.filter(candidate=candidate).order_by("-created_at")[:10]
    due = next((o.due_date for o in opinions.values() if o.due_date), None)
    invite_form = InviteTutorForm(
        initial={"due_date": due or timezone.localdate() + timezone.timedelta(days=14)}
    )
    return render(
        request,
        "evaluations/candidate_detail.html",
        {
            "candidate": candidate,
            "rows": rows,
            "convocations": convocations,
            "invitations": invitations,
            "invite_form": invite_form,
            "opinions_signed": bool(opinions) and all(o.is_signed for o in opinions.values()),
            "now": timezone.now(),
        },
    )


@staff_only
@require_POST
def invite_tutor(request, pk):
    candidate = _candidate(request, pk)
    form = InviteTutorForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Indiquez une date limite valide."))
        return redirect("evaluations:candidate_detail", candidate.pk)
    return run_action(
        request,
        lambda: services.invite_tutor(
            candidate=candidate, due_date=form.cleaned_data["due_date"], by=request.user
        ),
        success=_("Invitation envoyée au tuteur (lien personnel, à usage unique)."),
        redirect_to=reverse("evaluations:candidate_detail", args=[candidate.pk]),
    )


@staff_only
@require_POST
@never_cache
def tutor_invitation_link(request, pk):
    """« Copier le lien »: staff who phone the tutor get a fresh link to read or paste (audited). Only its
    hash is stored, so the link is shown once, in this response (a readonly field without JavaScript;
    app.js copies it to the clipboard)."""
    candidate = _candidate(request, pk)
    wants_json = "application/json" in request.headers.get("Accept", "")
    # Not `run_action`: success is the link page (or JSON), not a redirect.
    try:
        invitation, url = services.invitation_link_for_staff(candidate=candidate, by=request.user)
    except BusinessRuleError as exc:
        if wants_json:
            return JsonResponse({"error": exc.message}, status=400)
        messages.error(request, exc.message)
        return redirect("candidates:detail", candidate.pk)
    if wants_json:
        response = JsonResponse({"url": url})
    else:
        response = render(
            request,
            "evaluations/tutor_invitation_link.html",
            {"candidate": candidate, "invitation": invitation, "url": url},
        )
    response["Referrer-Policy"] = "no-referrer"
    return response


def _staff_sheet(request, pk):
    sheet = get_object_or_404(
        ScoringSheet.objects.filter(candidate__in=candidates_visible_to(request.user)).select_related(
            "candidate__certification", "competency", "evaluator", "reopened_by", "convocation__session"
        ),
        pk=pk,
    )
    require_permission(request.user, "evaluations.manage", sheet)
    return sheet


@staff_only
def sheet_detail(request, pk):
    sheet = _staff_sheet(request, pk)
    judgements = {j.criterion_id: j for j in sheet.judgements.all()}
    return render(
        request,
        "evaluations/sheet_detail.html",
        {
            "sheet": sheet,
            "groups": selectors.grouped_criteria(sheet.competency, judgements),
            "form": ReasonForm(),
        },
    )


@staff_only
@require_POST
def sheet_reopen(request, pk):
    sheet = _staff_sheet(request, pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Indiquez le motif de la réouverture."))
        return redirect("evaluations:sheet_detail", sheet.pk)
    return run_action(
        request,
        lambda: services.reopen_sheet(sheet=sheet, reason=form.cleaned_data["reason"], by=request.user),
        success=_("Fiche rouverte : l'évaluateur peut de nouveau la modifier."),
        redirect_to=reverse("evaluations:sheet_detail", args=[sheet.pk]),
    )


@staff_only
def candidate_history(request, pk):
    candidate = _candidate(request, pk)
    page = Paginator(history.candidate_history(candidate), 100).get_page(request.GET.get("page"))
    return render(request, "evaluations/history.html", {"candidate": candidate, "page": page})
