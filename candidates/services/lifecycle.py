"""The candidate lifecycle: allowed transitions, the ones that need a reason, changes by hand."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from core.exceptions import BusinessRuleError
from core.services import audit
from core.text import REASON_MAX, check_length

from ..models import (
    OPEN_STATUSES,
    Candidate,
    CandidateStatus,
    Dossier,
)
from .common import (
    S,
    _check_staff_of,
    _record_status,
)

# The candidate lifecycle (issue 4). Anything not listed here is refused.
TRANSITIONS = {
    S.REGISTERED: {S.DOSSIER_VALIDATED, S.WITHDRAWN},
    # Back to « inscrit » only by reopening the dossier before any evaluation (reopen_dossier).
    S.DOSSIER_VALIDATED: {S.IN_EVALUATION, S.WITHDRAWN, S.REGISTERED},
    S.IN_EVALUATION: {S.AWAITING_DELIBERATION, S.WITHDRAWN},
    # Back to evaluation when a commission reopens a scoring sheet before the jury (reason required).
    S.AWAITING_DELIBERATION: {S.DELIBERATED, S.IN_EVALUATION, S.WITHDRAWN},
    S.DELIBERATED: set(),
    S.WITHDRAWN: set(),
}
# Transitions that need a written reason.
REASON_REQUIRED = {(S.AWAITING_DELIBERATION, S.IN_EVALUATION), (S.DOSSIER_VALIDATED, S.REGISTERED)} | {
    (s, S.WITHDRAWN) for s in OPEN_STATUSES
}
# --- lifecycle ------------------------------------------------------------------------------


def allowed_transitions(candidate):
    return sorted(TRANSITIONS.get(candidate.status, set()), key=list(CandidateStatus.values).index)


# « Changer le statut » (issue 16): by hand, staff only withdraw a candidate (reason required). Every
# other status follows the process, through the service that checks it: the page says which.
MANUAL_STATUSES = (S.WITHDRAWN,)
PROCESS_STEPS = {
    S.REGISTERED: _lazy(
        "Le statut « Inscrit » n'est pas à choisir : il revient en rouvrant le dossier d'évaluation, motif à "
        "l'appui."
    ),
    S.DOSSIER_VALIDATED: _lazy(
        "Le statut « Dossier validé » est atteint en validant le dossier d'évaluation."
    ),
    S.IN_EVALUATION: _lazy(
        "Le statut « En évaluation » est atteint en convoquant le candidat à une session d'évaluation "
        "(ou en rouvrant une fiche de notation, motif à l'appui)."
    ),
    S.AWAITING_DELIBERATION: _lazy(
        "Le statut « En attente de délibération » est atteint quand la commission a fait une proposition "
        "pour chaque compétence évaluée : il ne se choisit pas à la main."
    ),
    S.DELIBERATED: _lazy("Le statut « Délibéré » est atteint à la clôture de la délibération du jury."),
}


def manual_transitions(candidate):
    """The statuses staff may choose by hand for `candidate` (the withdrawal while it is open)."""
    return [status for status in allowed_transitions(candidate) if status in MANUAL_STATUSES]


@transaction.atomic
def change_status_by_hand(*, candidate, to_status, by, reason):
    """« Changer le statut »: only a withdrawal, with a reason; the process statuses are refused with
    the step that reaches them."""
    if to_status in PROCESS_STEPS:
        raise BusinessRuleError(str(PROCESS_STEPS[to_status]), code="process_step")
    if to_status not in CandidateStatus.values:
        raise BusinessRuleError(_("Choisissez le nouveau statut."), code="unknown_status")
    if not (reason or "").strip():
        raise BusinessRuleError(_("Indiquez le motif de ce changement de statut."), code="reason_required")
    return transition(candidate=candidate, to_status=to_status, by=by, reason=reason)


@transaction.atomic
def transition(*, candidate, to_status, by, reason=""):
    """Move `candidate` to `to_status` if the lifecycle allows it; records who, when and why."""
    locked = Candidate.objects.select_for_update().select_related("centre").get(pk=candidate.pk)
    if by is not None and by.is_centre_staff:
        # Staff act only for their centres; other roles reach here through their own app's service,
        # which has already checked their scope (commission, jury).
        _check_staff_of(by, locked.centre)
    from_status = locked.status
    reason = check_length(reason, REASON_MAX, _("Motif")).strip()
    if to_status not in CandidateStatus.values:
        raise BusinessRuleError(_("Statut inconnu."), code="unknown_status")
    if locked.is_anonymised:
        raise BusinessRuleError(
            _("Ce candidat a été anonymisé : son statut ne peut plus changer."), code="anonymised"
        )
    if to_status not in TRANSITIONS[from_status]:
        raise BusinessRuleError(
            _("Changement de statut impossible : un candidat « %(from)s » ne peut pas passer à « %(to)s ».")
            % {"from": CandidateStatus(from_status).label, "to": CandidateStatus(to_status).label},
            code="illegal_transition",
        )
    if (from_status, to_status) in REASON_REQUIRED and not reason:
        raise BusinessRuleError(_("Indiquez le motif de ce changement de statut."), code="reason_required")
    if to_status == CandidateStatus.DOSSIER_VALIDATED:
        dossier = Dossier.objects.filter(candidate=locked).first()
        if dossier is None or not dossier.is_frozen:
            raise BusinessRuleError(
                _("Le dossier d'évaluation doit d'abord être validé."), code="dossier_not_validated"
            )
    if (
        to_status == CandidateStatus.REGISTERED
        and Dossier.objects.filter(candidate=locked, validated_at__isnull=False).exists()
    ):
        raise BusinessRuleError(
            _("Pour revenir au statut « Inscrit », rouvrez le dossier d'évaluation."), code="dossier_frozen"
        )
    locked.status = to_status
    locked.status_changed_at = timezone.now()
    locked.save(update_fields=["status", "status_changed_at"])
    _record_status(locked, from_status=from_status, to_status=to_status, by=by, reason=reason)
    audit(
        actor=by,
        action="candidate.status_changed",
        target=locked,
        message=f"{locked.reference} : {from_status} → {to_status}",
        from_status=from_status,
        to_status=to_status,
    )
    candidate.status = locked.status
    candidate.status_changed_at = locked.status_changed_at
    return candidate


def start_evaluation(*, candidate, by, reason=""):
    """Dossier validated → in evaluation (called by `evaluations` when the candidate is convened)."""
    return transition(candidate=candidate, to_status=CandidateStatus.IN_EVALUATION, by=by, reason=reason)


def mark_awaiting_deliberation(*, candidate, by, reason=""):
    """In evaluation → awaiting deliberation (every competency has a commission proposal)."""
    return transition(
        candidate=candidate, to_status=CandidateStatus.AWAITING_DELIBERATION, by=by, reason=reason
    )


def reopen_evaluation(*, candidate, by, reason):
    """Awaiting deliberation → in evaluation (a sheet was reopened); the reason is required."""
    return transition(candidate=candidate, to_status=CandidateStatus.IN_EVALUATION, by=by, reason=reason)


def mark_deliberated(*, candidate, by, reason=""):
    """Awaiting deliberation → deliberated (called by `deliberations` when the session closes)."""
    return transition(candidate=candidate, to_status=CandidateStatus.DELIBERATED, by=by, reason=reason)


def withdraw_candidate(*, candidate, by, reason):
    """Any open state → withdrawn; the reason is required."""
    return transition(candidate=candidate, to_status=CandidateStatus.WITHDRAWN, by=by, reason=reason)
