"""Scoring sheets (draft → submitted, reopened by staff only), optimistic locking, and the
commission's proposal per competency."""

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from candidates.models import CandidateStatus
from candidates.services import mark_awaiting_deliberation, reopen_evaluation
from core.dates import long_date, today
from core.exceptions import BusinessRuleError
from core.services import audit

from ..grading import submission_errors
from ..models import (
    CommissionProposal,
    Conclusion,
    ConvocationEvaluator,
    CriterionJudgement,
    Judgement,
    ScoringSheet,
    SheetStatus,
)
from ..selectors import conflicts_between, consolidation_for, is_president_for, scored_competencies
from .common import check_staff_of, required_text, with_history_user


class StaleSheetError(BusinessRuleError):
    """The sheet changed since the page was loaded (another tab, another device): nothing was saved."""

    def __init__(self, current):
        super().__init__(
            _(
                "Cette fiche a été modifiée entre-temps (sur un autre onglet ou un autre appareil). "
                "Vos saisies n'ont pas été enregistrées : elles sont conservées ci-dessous. Vérifiez "
                "les valeurs enregistrées indiquées, puis enregistrez de nouveau pour les remplacer."
            ),
            code="stale",
        )
        self.current = current


class LockedSheetError(BusinessRuleError):
    def __init__(self):
        super().__init__(
            _("Cette fiche a été soumise : elle est verrouillée. Seul le centre peut la rouvrir."),
            code="locked",
        )


SCORABLE_STATUSES = (CandidateStatus.IN_EVALUATION,)


def _unanimous_reason(count):
    if count == 1:
        return _("Conclusion de l'unique évaluateur de la commission.")
    return _("Conclusion unanime des %(count)d membres de la commission.") % {"count": count}


def scoring_not_open_reason(sheet, *, on=None):
    """Why `sheet` cannot be scored yet, or "" — the date rule (issue 16): no scoring before the
    evaluation session the candidate is convened to has started (the Paris calendar day). Pages use
    it to show the grid read-only; `save_sheet` refuses with the same French message."""
    convocation = sheet.convocation
    session = convocation.session if convocation is not None else None
    if session is None or session.date <= (on or today()):
        return ""
    return _("La session d'évaluation a lieu le %(date)s : la notation s'ouvre ce jour-là.") % {
        "date": long_date(session.date)
    }


def check_scoring_open(sheet, *, on=None):
    reason = scoring_not_open_reason(sheet, on=on)
    if reason:
        raise BusinessRuleError(
            _("%(reason)s Rien n'a été enregistré.") % {"reason": reason}, code="before_session"
        )


def _check_may_score(sheet, by):
    if by is None or sheet.evaluator_id != by.pk or not by.is_evaluator:
        raise BusinessRuleError(_("Cette fiche ne vous est pas attribuée."), code="forbidden")
    if not ConvocationEvaluator.objects.filter(
        convocation__candidate_id=sheet.candidate_id, evaluator=by
    ).exists():
        raise BusinessRuleError(_("Vous n'êtes plus affecté à ce candidat."), code="not_assigned")
    if conflicts_between(by, sheet.candidate):
        raise BusinessRuleError(
            _("Conflit d'intérêts : vous ne pouvez pas évaluer ce candidat."), code="conflict_of_interest"
        )
    if sheet.candidate.status not in SCORABLE_STATUSES:
        raise BusinessRuleError(
            _("Le candidat n'est plus en évaluation : la fiche ne peut plus être modifiée."), code="status"
        )
    check_scoring_open(sheet)


@transaction.atomic
def save_sheet(
    *, sheet, by, expected_version, judgements=None, conclusion="", justification="", submit=False
):
    """Save the evaluator's draft (and submit it when `submit`).

    `judgements`: {criterion_id: (judgement, comment)} — criteria not given are left as they are.
    `expected_version`: the version the page was loaded with. The version is bumped by a conditional
    UPDATE first, so two concurrent saves of the same version cannot both succeed (no lost update):
    the second gets a `StaleSheetError` and nothing of it is written.
    """
    _check_may_score(sheet, by)
    try:
        expected_version = int(expected_version)
    except (TypeError, ValueError) as exc:
        raise StaleSheetError(sheet.version) from exc
    bumped = ScoringSheet.objects.filter(
        pk=sheet.pk, version=expected_version, status=SheetStatus.DRAFT
    ).update(version=F("version") + 1)
    if not bumped:
        current = ScoringSheet.objects.get(pk=sheet.pk)
        if current.status == SheetStatus.SUBMITTED:
            raise LockedSheetError()
        raise StaleSheetError(current.version)
    sheet.refresh_from_db(fields=["status", "submitted_at", "reopened_reason", "reopened_at", "reopened_by"])
    if conclusion not in ("", *Conclusion.values):
        raise BusinessRuleError(_("Conclusion inconnue."), code="invalid")
    criteria = {criterion.pk: criterion for criterion in sheet.competency.criteria.all()}
    existing = {j.criterion_id: j for j in CriterionJudgement.objects.filter(sheet=sheet)}
    for criterion_id, (value, comment) in (judgements or {}).items():
        criterion_id = int(criterion_id)
        if criterion_id not in criteria:
            raise BusinessRuleError(_("Ce critère n'appartient pas à la compétence évaluée."), code="invalid")
        value = value or ""
        comment = (comment or "").strip()
        if value not in ("", *Judgement.values):
            raise BusinessRuleError(_("Appréciation inconnue."), code="invalid")
        judgement = existing.get(criterion_id)
        if judgement is None:
            if not value and not comment:
                continue
            judgement = CriterionJudgement(sheet=sheet, criterion_id=criterion_id)
            existing[criterion_id] = judgement
        elif judgement.judgement == value and judgement.comment == comment:
            continue  # unchanged: no history row
        judgement.judgement = value
        judgement.comment = comment
        with_history_user(judgement, by).save()
    sheet.conclusion = conclusion
    sheet.justification = (justification or "").strip()
    sheet.version = expected_version + 1
    if submit:
        all_values = [existing[cid].judgement if cid in existing else "" for cid in criteria]
        errors = submission_errors(
            conclusion=conclusion, justification=sheet.justification, judgements=all_values
        )
        if errors:
            raise BusinessRuleError(" ".join(errors), code="incomplete")
        sheet.status = SheetStatus.SUBMITTED
        sheet.submitted_at = timezone.now()
    with_history_user(sheet, by).save()
    if submit:
        audit(
            actor=by,
            action="evaluations.sheet_submitted",
            target=sheet,
            centre=sheet.candidate.centre,
            message=f"fiche {sheet.pk} soumise (candidat {sheet.candidate_id}, compétence {sheet.competency_id})",
            conclusion=conclusion,
        )
        refresh_proposal(candidate=sheet.candidate, competency=sheet.competency)
    return sheet


@transaction.atomic
def reopen_sheet(*, sheet, by, reason):
    """Staff only: a submitted sheet goes back to draft; the reason is kept and audited."""
    check_staff_of(by, sheet.candidate.centre_id)
    if by is None or not by.is_centre_staff:
        raise BusinessRuleError(_("Seul le personnel du centre peut rouvrir une fiche."), code="forbidden")
    reason = required_text(reason, _("Indiquez le motif de la réouverture."))
    sheet = ScoringSheet.objects.select_for_update(of=("self",)).select_related("candidate").get(pk=sheet.pk)
    if sheet.status != SheetStatus.SUBMITTED:
        raise BusinessRuleError(_("Seule une fiche soumise peut être rouverte."), code="not_submitted")
    candidate = sheet.candidate
    if candidate.status not in (CandidateStatus.IN_EVALUATION, CandidateStatus.AWAITING_DELIBERATION):
        raise BusinessRuleError(
            _(
                "Le candidat n'est plus en évaluation (délibéré ou retiré) : la fiche ne peut plus être rouverte."
            ),
            code="status",
        )
    sheet.status = SheetStatus.DRAFT
    sheet.reopened_reason = reason
    sheet.reopened_at = timezone.now()
    sheet.reopened_by = by
    sheet.version += 1  # the row is locked: a page loaded before the reopening is now stale
    with_history_user(sheet, by).save()
    proposal = CommissionProposal.objects.filter(candidate=candidate, competency=sheet.competency).first()
    if proposal is not None:
        # The proposal no longer reflects the submitted sheets; its history keeps what it was.
        with_history_user(proposal, by).delete()
    if candidate.status == CandidateStatus.AWAITING_DELIBERATION:
        reopen_evaluation(candidate=candidate, by=by, reason=_("Fiche d'évaluation rouverte : %s") % reason)
    audit(
        actor=by,
        action="evaluations.sheet_reopened",
        target=sheet,
        centre=candidate.centre,
        message=f"fiche {sheet.pk} rouverte",
        reason=reason,
        proposal_removed=proposal is not None,
    )
    return sheet


def _after_proposal(candidate, by):
    """Every scored competency has a proposal → the candidate awaits deliberation."""
    if candidate.status != CandidateStatus.IN_EVALUATION:
        return
    competency_ids = set(scored_competencies(candidate).values_list("pk", flat=True))
    recorded = set(
        CommissionProposal.objects.filter(candidate=candidate, competency_id__in=competency_ids).values_list(
            "competency_id", flat=True
        )
    )
    if competency_ids and competency_ids == recorded:
        mark_awaiting_deliberation(
            candidate=candidate,
            by=None,
            reason=_("Propositions de la commission enregistrées pour chaque compétence"),
        )


@transaction.atomic
def refresh_proposal(*, candidate, competency):
    """Record the proposal automatically when every assigned member submitted and all agree.

    A proposal recorded by the president is never replaced automatically; an automatic one that no
    longer holds (a member was withdrawn, a sheet was reopened) is removed.
    """
    consolidation, _sheets, proposal = consolidation_for(candidate, competency)
    if proposal is not None and proposal.recorded_by_id is not None:
        return proposal
    conclusion = consolidation.automatic_conclusion
    if conclusion is None:
        if proposal is not None:
            proposal.delete()
        return None
    if proposal is None:
        proposal = CommissionProposal(candidate=candidate, competency=competency)
    elif proposal.conclusion == conclusion and proposal.has_divergence == consolidation.has_divergence:
        return proposal
    proposal.conclusion = conclusion
    proposal.reason = _unanimous_reason(consolidation.submitted)
    proposal.is_unanimous = True
    proposal.has_divergence = consolidation.has_divergence
    proposal.recorded_by = None
    proposal.recorded_at = timezone.now()
    proposal.save()
    audit(
        action="evaluations.proposal_computed",
        target=proposal,
        centre=candidate.centre,
        message=f"proposition {proposal.pk} (candidat {candidate.pk}, compétence {competency.pk}) : unanimité",
        conclusion=conclusion,
    )
    _after_proposal(candidate, None)
    return proposal


@transaction.atomic
def record_proposal(*, candidate, competency, conclusion, reason, by):
    """The president records the commission's proposal when its members disagree (reason required)."""
    if by is None or not by.is_evaluator or not is_president_for(by, candidate):
        raise BusinessRuleError(
            _("Seul le président de la commission enregistre la proposition."), code="forbidden"
        )
    if conflicts_between(by, candidate):
        raise BusinessRuleError(
            _("Conflit d'intérêts : vous ne pouvez pas vous prononcer sur ce candidat."),
            code="conflict_of_interest",
        )
    if candidate.status != CandidateStatus.IN_EVALUATION:
        raise BusinessRuleError(_("Le candidat n'est plus en évaluation."), code="status")
    if conclusion not in Conclusion.values:
        raise BusinessRuleError(_("Choisissez la proposition : acquise ou non acquise."), code="required")
    consolidation, _sheets, proposal = consolidation_for(candidate, competency)
    if not consolidation.complete:
        raise BusinessRuleError(
            _("Tous les membres affectés doivent avoir soumis leur fiche avant la proposition."),
            code="incomplete",
        )
    if (
        consolidation.unanimous
        and conclusion == consolidation.automatic_conclusion
        and not (reason or "").strip()
    ):
        reason = _unanimous_reason(consolidation.submitted)
    reason = required_text(
        reason, _("Les membres ne sont pas unanimes : indiquez le motif de la proposition de la commission.")
    )
    if proposal is None:
        proposal = CommissionProposal(candidate=candidate, competency=competency)
    proposal.conclusion = conclusion
    proposal.reason = reason
    proposal.recorded_by = by
    proposal.recorded_at = timezone.now()
    proposal.is_unanimous = consolidation.unanimous and conclusion == consolidation.automatic_conclusion
    proposal.has_divergence = consolidation.has_divergence
    with_history_user(proposal, by).save()
    audit(
        actor=by,
        action="evaluations.proposal_recorded",
        target=proposal,
        centre=candidate.centre,
        message=f"proposition {proposal.pk} (candidat {candidate.pk}, compétence {competency.pk})",
        conclusion=conclusion,
    )
    _after_proposal(candidate, by)
    return proposal
