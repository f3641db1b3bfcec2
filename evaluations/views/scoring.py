"""Evaluator pages: the "to score" list, the scoring grid (autosaved draft, submit, optimistic
locking), the commission's consolidation and proposal, and the printable grid (also for staff)."""

import rules
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import prefetch_related_objects
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from candidates.selectors import candidates_visible_to
from core.exceptions import BusinessRuleError
from core.exports import audited_export_response, requested_format
from core.files import safe_filename
from core.models import Role
from core.pdf import render_pdf
from core.permissions import role_required
from core.services import audit_download
from core.views_kit import require_permission, submit_form
from referential.models import Competency

from .. import scoring_grid, selectors, services
from ..forms import ProposalForm, parse_scoring_post
from ..grading import conclusion_contradicts, submission_errors
from ..models import Conclusion, Judgement, ScoringSheet, SheetStatus

evaluator_only = role_required(Role.EVALUATOR)


@evaluator_only
def to_score(request):
    show_all = request.GET.get("tout") == "1"
    rows = selectors.to_score_rows(request.user, show_all=show_all)
    fmt = requested_format(request)
    if fmt:
        return _to_score_export(request, rows, fmt)
    return render(
        request,
        "evaluations/to_score.html",
        {
            "rows": rows,
            "show_all": show_all,
            "to_arbitrate": selectors.proposals_to_arbitrate(request.user),
        },
    )


def _sheet_state(sheet):
    if sheet.status == SheetStatus.SUBMITTED:
        return _("soumise")
    return _("brouillon") if sheet.version > 1 else _("à noter")


def _to_score_export(request, rows, fmt):
    """The "to score" list as shown: session, slot, place, candidate, reference, sheets and progress."""
    return audited_export_response(
        request,
        filename="a-evaluer",
        headers=[
            _("Session"),
            _("Horaire"),
            _("Lieu"),
            _("Candidat"),
            _("Référence"),
            _("Vos fiches par compétence"),
            _("Fiches soumises"),
        ],
        rows=(
            [
                row["session"].date if row["session"] else "",
                row["convocation"].time_slot.strftime("%H:%M") if row["convocation"] else "",
                (_("à distance") if row["session"].is_remote else row["session"].place)
                if row["session"]
                else "",
                row["candidate"].full_name,
                row["candidate"].reference,
                " ; ".join(f"C{s.competency.number} {_sheet_state(s)}" for s in row["sheets"]),
                f"{row['submitted_count']} / {len(row['sheets'])}",
            ]
            for row in rows
        ),
        fmt=fmt,
    )


def _own_sheet(request, candidate_pk, competency_pk):
    sheet = get_object_or_404(
        selectors.sheets_for_scoring(request.user), candidate_id=candidate_pk, competency_id=competency_pk
    )
    require_permission(request.user, "evaluations.score_sheet", sheet)
    return sheet


def _co_member_judgements(co_sheets, rows):
    """{criterion id: [(co-member's name, judgement label or "", comment)]} of the submitted sheets
    (a criterion a co-member left unjudged shows as « — » next to his name)."""
    labels = {value: str(label) for value, label in Judgement.choices}
    others = {}
    for other in co_sheets:
        name = other.evaluator.get_full_name()
        judged = {j.criterion_id: j for j in other.judgements.all()}
        for pk, *_row in rows:
            judgement = judged.get(pk)
            if judgement is not None and judgement.judgement:
                entry = (name, labels[judgement.judgement], judgement.comment)
            else:
                entry = (name, "", "")
            others.setdefault(pk, []).append(entry)
    return others


def _score_context(request, sheet, *, posted=None, conflict=None):
    """The scoring page: the sheet, its grid as plain rows (one query) written by `scoring_grid`,
    the referential's texts (one query) and the competency tabs (one query)."""
    rows = selectors.scoring_grid_rows(sheet)
    # Before the session's day the grid is shown read-only (the date rule of services.save_sheet).
    not_open = "" if sheet.is_submitted else services.scoring_not_open_reason(sheet)
    co_sheets = selectors.co_member_sheets(sheet) if sheet.is_submitted else []
    others = _co_member_judgements(co_sheets, rows)
    groups = scoring_grid.grid_items(
        rows,
        posted=posted["judgements"] if posted else None,
        conflict=conflict is not None,
        others=others,
    )
    values = [item["value"] for _label, items in groups for item in items]
    conclusion = posted["conclusion"] if posted else sheet.conclusion
    justification = posted["justification"] if posted else sheet.justification
    conditions, expected_results = selectors.competency_texts(sheet.competency_id)
    return {
        "sheet": sheet,
        "candidate": sheet.candidate,
        "competency": sheet.competency,
        "session": sheet.convocation.session if sheet.convocation else None,
        "grid": scoring_grid.render_grid(groups, locked=sheet.is_submitted or bool(not_open))
        if groups
        else "",
        "conditions": conditions,
        "expected_results": expected_results,
        "conclusion": conclusion,
        "justification": justification,
        "version": conflict.current if conflict is not None else sheet.version,
        "contradiction": conclusion_contradicts(conclusion, values),
        "conflict": conflict,
        "conclusion_differs": conflict is not None
        and (conclusion, justification) != (sheet.conclusion, sheet.justification),
        "co_sheets": co_sheets,
        "siblings": selectors.sibling_sheets(sheet),
        "locked": sheet.is_submitted or bool(not_open),
        "not_open": not_open,
        "missing": sum(1 for value in values if not value),
        "conclusion_choices": [(value, str(label)) for value, label in Conclusion.choices],
    }


def _parse_post(request, sheet):
    # One query for the criteria, shared by the parsing and services.save_sheet.
    prefetch_related_objects([sheet.competency], "criteria")
    return parse_scoring_post(request.POST, sheet.competency.criteria.all())


def _next_sheet_to_score(sheet):
    """The evaluator's next draft sheet for the same candidate (next competency number, then from the
    first), or None when every sheet is submitted."""
    drafts = list(
        ScoringSheet.objects.filter(
            candidate_id=sheet.candidate_id, evaluator_id=sheet.evaluator_id, status=SheetStatus.DRAFT
        )
        .exclude(pk=sheet.pk)
        .select_related("competency")
        .order_by("competency__number")
    )
    number = sheet.competency.number
    return next((d for d in drafts if d.competency.number > number), drafts[0] if drafts else None)


@evaluator_only
def score(request, candidate_pk, competency_pk):
    sheet = _own_sheet(request, candidate_pk, competency_pk)
    if request.method != "POST":
        return render(request, "evaluations/score.html", _score_context(request, sheet))
    data = _parse_post(request, sheet)
    submit = request.POST.get("action") == "submit"
    arguments = {
        "by": request.user,
        "expected_version": data["version"],
        "judgements": data["judgements"],
        "conclusion": data["conclusion"],
        "justification": data["justification"],
    }
    try:
        services.save_sheet(sheet=sheet, submit=submit, **arguments)
    except services.StaleSheetError as exc:
        sheet = _own_sheet(request, candidate_pk, competency_pk)
        context = _score_context(request, sheet, posted=data, conflict=exc)
        return render(request, "evaluations/score.html", context, status=409)
    except BusinessRuleError as exc:  # not `submit_form`: a refused submission is kept as a draft
        if submit and exc.code == "incomplete":
            # Not submittable yet: keep the work as a draft and say what is missing.
            try:
                services.save_sheet(sheet=sheet, submit=False, **arguments)
            except BusinessRuleError as draft_exc:
                messages.error(request, draft_exc.message)
        messages.error(request, exc.message)
        sheet = _own_sheet(request, candidate_pk, competency_pk)
        return render(
            request, "evaluations/score.html", _score_context(request, sheet, posted=data), status=400
        )
    if submit:
        following = _next_sheet_to_score(sheet)
        if following is not None:
            # Fewer clicks (issue 16): straight on to the next competency still to score.
            messages.success(
                request,
                _("Fiche soumise : elle est désormais verrouillée. Compétence suivante à noter : C%(n)s.")
                % {"n": following.competency.number},
            )
            return redirect("evaluations:score", candidate_pk, following.competency_id)
        messages.success(request, _("Fiche soumise : elle est désormais verrouillée."))
    else:
        messages.success(request, _("Brouillon enregistré."))
    return redirect("evaluations:score", candidate_pk, competency_pk)


@evaluator_only
def autosave(request, candidate_pk, competency_pk):
    """htmx: save the draft on every change; answers the status line and the new version (OOB)."""
    sheet = _own_sheet(request, candidate_pk, competency_pk)
    if request.method != "POST":
        return HttpResponse(status=405, headers={"Allow": "POST"})
    data = _parse_post(request, sheet)
    context = {"sheet": sheet, "candidate_pk": candidate_pk, "competency_pk": competency_pk}
    values = [value for value, _comment in data["judgements"].values()]
    # Not `submit_form`: htmx gets a status line (409 stale or locked, 400 refused), never a redirect.
    try:
        saved = services.save_sheet(
            sheet=sheet,
            by=request.user,
            expected_version=data["version"],
            judgements=data["judgements"],
            conclusion=data["conclusion"],
            justification=data["justification"],
        )
    except services.StaleSheetError as exc:
        context.update(state="conflict", message=exc.message, version=exc.current)
        status = 409
    except BusinessRuleError as exc:
        context.update(state="locked" if exc.code == "locked" else "error", message=exc.message, version=None)
        status = 409 if exc.code == "locked" else 400
    else:
        context.update(state="saved", version=saved.version, saved_at=timezone.now())
        status = 200
    context["contradiction"] = conclusion_contradicts(data["conclusion"], values)
    context["missing"] = sum(1 for value in values if not value)
    context["blocking"] = submission_errors(
        conclusion=data["conclusion"], justification=data["justification"], judgements=values
    )
    return render(request, "evaluations/_save_status.html", context, status=status)


def _evaluator_candidate_and_competency(request, candidate_pk, competency_pk):
    candidate = get_object_or_404(
        selectors.candidates_for_evaluator(request.user).select_related("certification", "dossier"),
        pk=candidate_pk,
    )
    competency = get_object_or_404(selectors.scored_competencies(candidate), pk=competency_pk)
    return candidate, competency


@evaluator_only
def proposal(request, candidate_pk, competency_pk):
    """The commission's consolidation for one competency. Independent judgement: an assigned member
    sees his co-members' conclusions only once his own sheet is submitted."""
    candidate, competency = _evaluator_candidate_and_competency(request, candidate_pk, competency_pk)
    own = ScoringSheet.objects.filter(
        candidate=candidate, competency=competency, evaluator=request.user
    ).first()
    is_president = rules.has_perm("evaluations.record_proposal", request.user, candidate)
    if own is not None and own.status != SheetStatus.SUBMITTED:
        return render(
            request,
            "evaluations/proposal_locked.html",
            {"candidate": candidate, "competency": competency},
            status=403,
        )
    if own is None and not is_president:
        raise PermissionDenied
    consolidation, sheets, current = selectors.consolidation_for(candidate, competency)
    form = ProposalForm(request.POST or None)
    if request.method == "POST":
        require_permission(request.user, "evaluations.record_proposal", candidate)
        response = submit_form(
            request,
            form,
            lambda: services.record_proposal(
                candidate=candidate,
                competency=competency,
                conclusion=form.cleaned_data["conclusion"],
                reason=form.cleaned_data["reason"],
                by=request.user,
            ),
            success=_("Proposition de la commission enregistrée."),
            redirect_to=reverse("evaluations:proposal", args=[candidate.pk, competency.pk]),
            error_as_message=True,
        )
        if response:
            return response
    judgements = {sheet.pk: {j.criterion_id: j for j in sheet.judgements.all()} for sheet in sheets}
    rows = []
    for _category, label, items in selectors.grouped_criteria(
        Competency.objects.prefetch_related("criteria").get(pk=competency.pk)
    ):
        rows.append(
            (
                label,
                [
                    {
                        "criterion": criterion,
                        "cells": [judgements[sheet.pk].get(criterion.pk) for sheet in sheets],
                        "divergent": criterion.pk in consolidation.divergent_criteria,
                    }
                    for criterion, _judgement in items
                ],
            )
        )
    return render(
        request,
        "evaluations/proposal.html",
        {
            "candidate": candidate,
            "competency": competency,
            "consolidation": consolidation,
            "sheets": sheets,
            "rows": rows,
            "proposal": current,
            "form": form,
            "is_president": is_president,
            "can_record": is_president and consolidation.complete,
        },
        status=400 if request.method == "POST" else 200,
    )


@role_required(Role.STAFF, Role.EVALUATOR)
def grid_pdf(request, candidate_pk, competency_pk):
    """The printable evaluation grid of one competency: blank (to take into the room) or filled."""
    user = request.user
    scope = selectors.candidates_for_evaluator(user) if user.is_evaluator else candidates_visible_to(user)
    candidate = get_object_or_404(scope.select_related("certification", "centre", "company"), pk=candidate_pk)
    competency = get_object_or_404(
        Competency.objects.filter(certification_id=candidate.certification_id)
        .select_related("block")
        .prefetch_related("criteria", "expected_results", "conditions"),
        pk=competency_pk,
    )
    filled = request.GET.get("rempli") == "1"
    # The grid names the candidate (and, filled, holds his evaluation): journal the download.
    audit_download(request, candidate, document="grid", competency_id=competency.pk, filled=filled)
    sheets = []
    if filled:
        queryset = ScoringSheet.objects.filter(candidate=candidate, competency=competency)
        if user.is_evaluator:
            queryset = queryset.filter(evaluator=user)
        else:
            queryset = queryset.filter(status=SheetStatus.SUBMITTED)
        for sheet in queryset.select_related("evaluator").prefetch_related("judgements"):
            judgements = {j.criterion_id: j for j in sheet.judgements.all()}
            sheets.append({"sheet": sheet, "groups": selectors.grouped_criteria(competency, judgements)})
    pdf = render_pdf(
        "evaluations/pdf/grid.html",
        {
            "candidate": candidate,
            "competency": competency,
            "groups": selectors.grouped_criteria(competency),
            "sheets": sheets,
            "filled": filled,
            "convocation": candidate.convocations.select_related("session__commission")
            .order_by("-session__date")
            .first(),
            "printed_at": timezone.now(),
        },
    )
    name = safe_filename(
        f"grille-{candidate.reference}-C{competency.number}{'-remplie' if filled else ''}.pdf"
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response
