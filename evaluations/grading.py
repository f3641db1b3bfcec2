"""Pure rules of the scoring grid (no database): the contradiction rule and the consolidation of the
commission members' sheets. Tested as tables in tests/evaluations/test_grading.py."""

from collections import Counter
from dataclasses import dataclass

from .models.choices import Conclusion, Judgement


@dataclass(frozen=True)
class Tally:
    acquired: int
    not_acquired: int
    not_observed: int
    blank: int

    @property
    def judged(self):
        return self.acquired + self.not_acquired


def tally(judgements):
    counts = Counter(judgements)
    return Tally(
        acquired=counts[Judgement.ACQUIRED],
        not_acquired=counts[Judgement.NOT_ACQUIRED],
        not_observed=counts[Judgement.NOT_OBSERVED],
        blank=counts[""],
    )


def conclusion_contradicts(conclusion, judgements):
    """True when the competency's conclusion goes against its criteria, so that a written
    justification is required (issue 5).

    Only criteria judged « acquis » or « non acquis » count; « non observé » and blanks do not.
    - « acquise » contradicts when more criteria are « non acquis » than « acquis », or when no
      criterion at all is « acquis » (nothing observed supports it);
    - « non acquise » contradicts when more criteria are « acquis » than « non acquis »;
    - a tie is no majority: no contradiction; no conclusion yet: nothing to contradict.
    """
    counts = tally(judgements)
    if conclusion == Conclusion.ACQUIRED:
        return counts.not_acquired > counts.acquired or counts.acquired == 0
    if conclusion == Conclusion.NOT_ACQUIRED:
        return counts.acquired > counts.not_acquired
    return False


def submission_errors(*, conclusion, justification, judgements):
    """What prevents submitting a sheet (French messages); empty when it may be submitted."""
    errors = []
    missing = sum(1 for value in judgements if not value)
    if missing:
        errors.append(
            f"{missing} critère(s) sans appréciation : choisissez acquis, non acquis ou non observé."
            if missing > 1
            else "1 critère sans appréciation : choisissez acquis, non acquis ou non observé."
        )
    if conclusion not in Conclusion.values:
        errors.append("Indiquez la conclusion sur la compétence (acquise ou non acquise).")
    elif conclusion_contradicts(conclusion, judgements) and not (justification or "").strip():
        errors.append(
            "La conclusion va à l'encontre des critères : une justification écrite est obligatoire."
        )
    return errors


@dataclass(frozen=True)
class Consolidation:
    """The commission's view of one competency from its members' submitted conclusions."""

    expected: int  # assigned members
    submitted: int  # members who submitted their sheet
    conclusions: tuple
    divergent_criteria: frozenset  # criterion ids on which submitted judgements differ

    @property
    def complete(self):
        return self.expected > 0 and self.submitted >= self.expected

    @property
    def unanimous(self):
        return self.complete and len(set(self.conclusions)) == 1

    @property
    def conclusions_diverge(self):
        return len(set(self.conclusions)) > 1

    @property
    def has_divergence(self):
        return self.conclusions_diverge or bool(self.divergent_criteria)

    @property
    def automatic_conclusion(self):
        """The proposal when every assigned member submitted and all agree; None otherwise."""
        return self.conclusions[0] if self.unanimous else None

    @property
    def needs_president(self):
        return self.complete and self.conclusions_diverge


def consolidate(*, expected, submitted_sheets):
    """`submitted_sheets`: iterable of (conclusion, {criterion_id: judgement}) of submitted sheets."""
    conclusions = []
    per_criterion = {}
    for conclusion, judgements in submitted_sheets:
        conclusions.append(conclusion)
        for criterion_id, value in judgements.items():
            if value:
                per_criterion.setdefault(criterion_id, set()).add(value)
    divergent = frozenset(cid for cid, values in per_criterion.items() if len(values) > 1)
    return Consolidation(
        expected=expected,
        submitted=len(conclusions),
        conclusions=tuple(conclusions),
        divergent_criteria=divergent,
    )
