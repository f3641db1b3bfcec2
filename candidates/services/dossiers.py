"""The evaluation dossier: edition, validation, reopening (and the checks other apps add to it)."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import BusinessRuleError
from core.services import audit
from referential.models import ModalityCode

from ..models import (
    Candidate,
    CandidateStatus,
    Dossier,
)
from ..signals import dossier_validated
from .common import (
    _check_staff_of,
    allowed_modality_codes,
)
from .lifecycle import (
    transition,
)

# --- evaluation dossier ---------------------------------------------------------------------


def _check_dossier_editable(dossier):
    if dossier.is_frozen:
        raise BusinessRuleError(
            _("Le dossier d'évaluation est validé : il ne peut plus être modifié."), code="dossier_frozen"
        )
    if not dossier.candidate.dossier_editable:
        raise BusinessRuleError(
            _("Le dossier ne peut être modifié que pour un candidat au statut « Inscrit »."), code="status"
        )


def _check_company_opinion(candidate, applies):
    """Seed §3.2: the company gives its opinion except in VAE; a pathway without a company has
    nobody to give it. Waiving it in any other case is refused (issue 22, point 2)."""
    if applies and candidate.is_vae:
        raise BusinessRuleError(_("L'avis de l'entreprise ne s'applique jamais en VAE."), code="opinion_vae")
    if not applies and not candidate.is_vae and candidate.company_id is not None:
        raise BusinessRuleError(
            _(
                "L'avis de l'entreprise est requis pour ce candidat (référentiel §3.2) : il ne peut être "
                "écarté qu'en VAE ou pour un parcours sans entreprise."
            ),
            code="opinion_required",
        )
    if applies and candidate.tutor_id is None:
        raise BusinessRuleError(
            _("L'avis de l'entreprise suppose un tuteur : renseignez d'abord l'entreprise et le tuteur."),
            code="opinion_tutor",
        )


@transaction.atomic
def update_dossier(*, dossier, by, report_due_date, company_opinion_applies, items):
    """`items` maps DossierCompetency pk → {"modalities": [codes]}.

    Whether a competency is already acquired is not an input: only a deliberation makes it so (ours,
    or an earlier one recorded with its PV — `deliberations.services.record_prior_deliberation`),
    and the dossier mirrors the capitalisation records (issue 22, point 1)."""
    dossier = Dossier.objects.select_for_update().select_related("candidate__centre").get(pk=dossier.pk)
    candidate = dossier.candidate
    _check_staff_of(by, candidate.centre)
    _check_dossier_editable(dossier)
    _check_company_opinion(candidate, company_opinion_applies)
    allowed = set(allowed_modality_codes(candidate.certification))
    rows = {item.pk: item for item in dossier.items.select_related("competency")}
    if set(items) - set(rows):
        raise BusinessRuleError(_("Cette compétence n'appartient pas au dossier."), code="item")
    if any("already_acquired" in values or "acquired_until" in values for values in items.values()):
        raise BusinessRuleError(
            _(
                "Une compétence n'est acquise que par une délibération : enregistrez la délibération "
                "antérieure (avec son PV) sur la fiche du candidat."
            ),
            code="acquired_by_deliberation",
        )
    for pk, values in items.items():
        item = rows[pk]
        modalities = list(dict.fromkeys(values.get("modalities", [])))
        refused = [code for code in modalities if code not in allowed]
        if refused:
            raise BusinessRuleError(
                _("Compétence %(number)s : modalité non prévue par le référentiel de ce CQPM.")
                % {"number": item.competency.number},
                code="modality",
            )
        item.modalities = modalities
        item.save(update_fields=["modalities"])
    dossier.report_due_date = report_due_date
    dossier.company_opinion_applies = company_opinion_applies
    dossier.save(update_fields=["report_due_date", "company_opinion_applies", "updated_at"])
    audit(
        actor=by, action="dossier.updated", target=candidate, centre=candidate.centre, dossier_id=dossier.pk
    )
    return dossier


@transaction.atomic
def validate_dossier(*, dossier, by):
    """Staff validate the dossier: it is frozen and the candidate moves to « dossier validé »."""
    dossier = Dossier.objects.select_for_update().select_related("candidate__centre").get(pk=dossier.pk)
    candidate = dossier.candidate
    _check_staff_of(by, candidate.centre)
    _check_dossier_editable(dossier)
    _check_company_opinion(candidate, dossier.company_opinion_applies)
    items = list(dossier.items.select_related("competency"))
    to_evaluate = [item for item in items if not item.already_acquired]
    if not to_evaluate:
        raise BusinessRuleError(_("Aucune compétence n'est à évaluer dans ce dossier."), code="empty")
    missing = [str(item.competency.number) for item in to_evaluate if not item.modalities]
    if missing:
        raise BusinessRuleError(
            _("Choisissez au moins une modalité d'évaluation pour les compétences : %(numbers)s.")
            % {"numbers": ", ".join(missing)},
            code="modality_missing",
        )
    allowed = set(allowed_modality_codes(candidate.certification))
    if any(code not in allowed for item in to_evaluate for code in item.modalities):
        raise BusinessRuleError(
            _("Une modalité choisie n'est pas prévue par le référentiel."), code="modality"
        )
    needs_report = any(ModalityCode.PROJECT_PRESENTATION in item.modalities for item in to_evaluate)
    if needs_report and dossier.report_due_date is None:
        raise BusinessRuleError(
            _("Une présentation de projet est prévue : fixez la date limite de remise du rapport."),
            code="report_due_date",
        )
    dossier.validated_at = timezone.now()
    dossier.validated_by = by
    dossier.save(update_fields=["validated_at", "validated_by", "updated_at"])
    audit(
        actor=by, action="dossier.validated", target=candidate, centre=candidate.centre, dossier_id=dossier.pk
    )
    transition(candidate=candidate, to_status=CandidateStatus.DOSSIER_VALIDATED, by=by)
    dossier_validated.send(sender=Candidate, candidate=candidate, by=by)
    return dossier


# Checks the apps above add to `dossier_reopen_obstacle` (evaluations: the company opinion was asked):
# `check(candidate)` → a French reason, or "".
_REOPEN_CHECKS = []


def register_reopen_check(check):
    """Called from an app's `AppConfig.ready`: its reason to keep a validated dossier closed."""
    if check not in _REOPEN_CHECKS:
        _REOPEN_CHECKS.append(check)
    return check


def dossier_reopen_obstacle(*, candidate, dossier_frozen):
    """Why the validated dossier of `candidate` cannot be reopened, or "" when it can: only before any
    evaluation (not convened yet) and before the tutor was asked for the company opinion (his opinions
    follow the dossier's competencies; `evaluations` registers that check). One query, and only for a
    candidate that could qualify."""
    if not dossier_frozen:
        return _("Le dossier d'évaluation n'est pas validé.")
    if candidate.is_anonymised:
        return _("Ce candidat a été anonymisé : il ne peut plus être modifié.")
    if candidate.status != CandidateStatus.DOSSIER_VALIDATED:
        return _(
            "Le dossier ne peut être rouvert que tant que le candidat n'est pas convoqué (statut « Dossier validé »)."
        )
    for check in _REOPEN_CHECKS:
        reason = check(candidate)
        if reason:
            return reason
    return ""


@transaction.atomic
def reopen_dossier(*, dossier, by, reason):
    """Staff unfreeze a validated dossier to correct it (modalities, competencies already acquired,
    report date): the candidate goes back to « inscrit », the reason is kept in his status history."""
    dossier = Dossier.objects.select_for_update().select_related("candidate__centre").get(pk=dossier.pk)
    candidate = dossier.candidate
    _check_staff_of(by, candidate.centre)
    reason = (reason or "").strip()
    if not reason:
        raise BusinessRuleError(_("Indiquez le motif de la réouverture du dossier."), code="reason_required")
    obstacle = dossier_reopen_obstacle(candidate=candidate, dossier_frozen=dossier.is_frozen)
    if obstacle:
        raise BusinessRuleError(obstacle, code="not_reopenable")
    dossier.validated_at = None
    dossier.validated_by = None
    dossier.save(update_fields=["validated_at", "validated_by", "updated_at"])
    audit(
        actor=by, action="dossier.reopened", target=candidate, centre=candidate.centre, dossier_id=dossier.pk
    )
    transition(candidate=candidate, to_status=CandidateStatus.REGISTERED, by=by, reason=reason)
    return dossier
