"""The change history of a candidate's evaluation (django-simple-history), for the staff page.

Every saved version of a sheet, criterion judgement, commission proposal or company opinion is a
history row; consecutive rows of the same object are compared field by field (before → after).
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from core.models import User
from referential.models import Competency, Criterion

from .models import CommissionProposal, CompanyOpinion, CriterionJudgement, ScoringSheet

TRACKED = {
    ScoringSheet: ("status", "conclusion", "justification", "reopened_reason", "version"),
    CriterionJudgement: ("judgement", "comment"),
    CommissionProposal: ("conclusion", "reason", "has_divergence", "is_unanimous"),
    CompanyOpinion: ("opinion", "comment", "signed_at", "due_date"),
}
KIND_LABELS = {"+": _("création"), "~": _("modification"), "-": _("suppression")}


@dataclass
class Change:
    field: str
    label: str
    before: str
    after: str


@dataclass
class Entry:
    at: object
    user: object
    kind: str
    subject: str
    changes: list = field(default_factory=list)

    @property
    def kind_label(self):
        return KIND_LABELS.get(self.kind, self.kind)


def _display(model, name, value):
    if value in (None, ""):
        return "—"
    model_field = model._meta.get_field(name)
    if model_field.choices:
        return str(dict(model_field.choices).get(value, value))
    if isinstance(value, bool):
        return str(_("oui")) if value else str(_("non"))
    if hasattr(value, "strftime"):
        return value.strftime("%d/%m/%Y %H:%M") if hasattr(value, "hour") else value.strftime("%d/%m/%Y")
    return str(value)


def _entries(model, records, subject_of):
    fields = TRACKED[model]
    previous = {}
    entries = []
    for record in records:  # oldest first
        before = previous.get(record.id)
        changes = []
        for name in fields:
            after_value = getattr(record, name)
            before_value = getattr(before, name) if before is not None else None
            if record.history_type == "-" or (before is not None and before_value == after_value):
                continue
            if before is None and after_value in (None, "", False) and name != "version":
                continue
            changes.append(
                Change(
                    field=name,
                    label=str(model._meta.get_field(name).verbose_name),
                    before=_display(model, name, before_value) if before is not None else "—",
                    after=_display(model, name, after_value),
                )
            )
        previous[record.id] = record
        if changes or record.history_type in ("+", "-"):
            entries.append(
                Entry(
                    at=record.history_date,
                    user=record.history_user,
                    kind=record.history_type,
                    subject=subject_of(record),
                    changes=changes,
                )
            )
    return entries


def candidate_history(candidate):
    """Every recorded change of the candidate's sheets, judgements, proposals and opinions, newest first."""

    sheet_records = list(
        ScoringSheet.history.filter(candidate_id=candidate.pk)
        .select_related("history_user")
        .order_by("history_id")
    )
    sheet_ids = {r.id for r in sheet_records}
    sheet_info = {r.id: (r.competency_id, r.evaluator_id) for r in sheet_records}
    judgement_records = list(
        CriterionJudgement.history.filter(sheet_id__in=sheet_ids)
        .select_related("history_user")
        .order_by("history_id")
    )
    proposal_records = list(
        CommissionProposal.history.filter(candidate_id=candidate.pk)
        .select_related("history_user")
        .order_by("history_id")
    )
    opinion_records = list(
        CompanyOpinion.history.filter(candidate_id=candidate.pk)
        .select_related("history_user")
        .order_by("history_id")
    )
    competency_numbers = dict(
        Competency.objects.filter(certification_id=candidate.certification_id).values_list("pk", "number")
    )
    criteria = {
        c.pk: c
        for c in Criterion.objects.filter(pk__in={r.criterion_id for r in judgement_records}).only(
            "pk", "order"
        )
    }

    evaluators = {
        u.pk: u
        for u in User.objects.filter(pk__in={info[1] for info in sheet_info.values()}).only(
            "pk", "first_name", "last_name", "username"
        )
    }

    def evaluator_name(user_id):
        user = evaluators.get(user_id)
        return (user.get_full_name() or user.username) if user else "?"

    def sheet_subject(record):
        return _("Fiche C%(number)s — %(evaluator)s") % {
            "number": competency_numbers.get(record.competency_id, "?"),
            "evaluator": evaluator_name(record.evaluator_id),
        }

    def judgement_subject(record):
        competency_id, evaluator_id = sheet_info.get(record.sheet_id, (None, None))
        criterion = criteria.get(record.criterion_id)
        return _("Critère %(order)s de C%(number)s — %(evaluator)s") % {
            "order": criterion.order if criterion else "?",
            "number": competency_numbers.get(competency_id, "?"),
            "evaluator": evaluator_name(evaluator_id),
        }

    def proposal_subject(record):
        return _("Proposition de la commission C%(number)s") % {
            "number": competency_numbers.get(record.competency_id, "?")
        }

    def opinion_subject(record):
        return _("Avis de l'entreprise C%(number)s") % {
            "number": competency_numbers.get(record.competency_id, "?")
        }

    entries = (
        _entries(ScoringSheet, sheet_records, sheet_subject)
        + _entries(CriterionJudgement, judgement_records, judgement_subject)
        + _entries(CommissionProposal, proposal_records, proposal_subject)
        + _entries(CompanyOpinion, opinion_records, opinion_subject)
    )
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries
