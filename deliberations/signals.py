"""Once the jury has recorded its decisions on a candidate, the evaluation data it relied on is frozen.

The evaluations services may check `deliberations.selectors.is_candidate_locked(candidate_id)` to
show a friendly message first; these receivers are the structural guarantee: saving or deleting a
scoring sheet, a criterion judgement, a commission proposal or a company opinion of a decided
candidate raises BusinessRuleError, whoever tries (view, admin, shell, task).
"""

from django.db.models.signals import pre_delete, pre_save

from candidates.signals import candidate_anonymised
from core.exceptions import BusinessRuleError
from evaluations.models import CommissionProposal, CompanyOpinion, CriterionJudgement, ScoringSheet

from .selectors import is_candidate_locked
from .services import erase_candidate_files

LOCKED_MESSAGE = (
    "Le jury a délibéré sur ce candidat : ses évaluations, propositions et avis sont verrouillés."
)

# (model, path from the instance to the candidate id)
LOCKED_MODELS = [
    (ScoringSheet, "candidate_id"),
    (CommissionProposal, "candidate_id"),
    (CompanyOpinion, "candidate_id"),
    (CriterionJudgement, "sheet.candidate_id"),
]


def _candidate_id(instance, path):
    value = instance
    for part in path.split("."):
        value = getattr(value, part, None)
        if value is None:
            return None
    return value


def _guard(path):
    def receiver(sender, instance, raw=False, **kwargs):
        if raw:  # loading fixtures
            return

        candidate_id = _candidate_id(instance, path)
        if candidate_id is not None and is_candidate_locked(candidate_id):
            raise BusinessRuleError(LOCKED_MESSAGE, code="candidate_locked")

    return receiver


_receivers = []


def erase_anonymised_candidate(sender, candidate, **kwargs):
    """`candidates.signals.candidate_anonymised`: erase the candidate's own files (letters, parchemins,
    attestations, session packs bundling them); the PV, outcomes and motivations are the jury's legal
    record and stay (see services.erase_candidate_files)."""

    erase_candidate_files(candidate=candidate)


def connect():
    candidate_anonymised.connect(
        erase_anonymised_candidate, weak=False, dispatch_uid="deliberations-erase-anonymised-candidate"
    )
    for model, path in LOCKED_MODELS:
        model_name = model.__name__
        receiver = _guard(path)
        _receivers.append(receiver)  # keep a strong reference
        pre_save.connect(
            receiver, sender=model, weak=False, dispatch_uid=f"deliberations-lock-save-{model_name}"
        )
        pre_delete.connect(
            receiver, sender=model, weak=False, dispatch_uid=f"deliberations-lock-delete-{model_name}"
        )
