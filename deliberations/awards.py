"""Award rules of the jury paritaire de délibération — pure functions on plain dataclasses.

Nothing here touches the database: the services build the inputs from the models, call these
functions, and store what they return (including the explanations printed in the PV). Keeping the
rules pure lets them be tested as tables and read in one place.

The rules, with their sources:

1. **Proposal per competency** (domain.md, "Decision rules"; practice of the branches):
   - a competency still capitalised (acquired at an earlier deliberation, within
     ``COMPETENCY_VALIDITY_MONTHS``) or belonging to a capitalised bloc (within ``BLOCK_VALIDITY_YEARS``)
     is acquired and is not re-evaluated (branch agreement art. 55.3);
   - VAE: the company gives no opinion, the commission's proposal is the proposal;
   - otherwise the commission's proposal is compared with the company's opinion: both positive →
     acquired; both negative → not acquired; they disagree → the jury re-examines the competency
     (the commission's conclusion is the starting point, the jury must write why it decides).
     A « réservé » opinion does not support an acquisition: it counts as negative.
2. **Jury decision per competency**: the jury starts from the proposal and may decide otherwise only
   with a written motivation; a competency to re-examine always needs one; a capitalised competency
   cannot be withdrawn.
3. **Bloc**: awarded when all its competencies are acquired (seed §2, blocs de compétences).
4. **CQPM**: awarded when all competencies are acquired (seed §4; branch agreement art. 55.3).
   Otherwise the result is partial when at least one competency is acquired, failed when none is.
5. **Capitalisation**: competencies acquired at this deliberation stay acquired 24 months, blocs
   5 years (settings); capitalised blocs are only recorded when the CQPM is registered on the RNCP,
   where blocs are certifiable on their own (domain.md). Already capitalised items keep their date.

Every function returns an ``explanation`` (a JSON-serialisable dict: the rule applied, its label,
the proposals and opinions it read) stored with the decision and printed in the PV.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date

from django.conf import settings

ACQUIRED = "acquired"
NOT_ACQUIRED = "not_acquired"

CERTIFIED = "certified"
PARTIAL = "partial"
FAILED = "failed"

FAVOURABLE = "favourable"
RESERVED = "reserved"
UNFAVOURABLE = "unfavourable"

# Rule codes (stored in explanations) and the sentence printed in the PV for each.
RULE_CAPITALISED_COMPETENCY = "capitalised_competency"
RULE_CAPITALISED_BLOCK = "capitalised_block"
RULE_VAE_COMMISSION = "vae_commission"
RULE_NO_COMPANY_COMMISSION = "no_company_commission"
RULE_AGREEMENT_ACQUIRED = "agreement_acquired"
RULE_AGREEMENT_NOT_ACQUIRED = "agreement_not_acquired"
RULE_DISAGREEMENT = "disagreement_review"
RULE_INCOMPLETE = "incomplete"
RULE_JURY_CONFIRMS = "jury_confirms"
RULE_JURY_OVERRIDE = "jury_override"
RULE_JURY_REVIEW = "jury_review"
RULE_BLOCK_ALL_ACQUIRED = "block_all_acquired"
RULE_BLOCK_MISSING = "block_missing"
RULE_CQPM_ALL_ACQUIRED = "cqpm_all_acquired"
RULE_CQPM_PARTIAL = "cqpm_partial"
RULE_CQPM_NONE = "cqpm_none"

RULE_LABELS = {
    RULE_CAPITALISED_COMPETENCY: "Compétence capitalisée lors d'une délibération antérieure, encore valide.",
    RULE_CAPITALISED_BLOCK: "Compétence d'un bloc capitalisé lors d'une délibération antérieure, encore valide.",
    RULE_VAE_COMMISSION: "VAE : proposition de la commission d'évaluation (pas d'avis de l'entreprise).",
    RULE_NO_COMPANY_COMMISSION: (
        "Parcours sans entreprise : proposition de la commission d'évaluation (pas d'avis de l'entreprise)."
    ),
    RULE_AGREEMENT_ACQUIRED: "La commission et l'entreprise concluent toutes deux à l'acquisition.",
    RULE_AGREEMENT_NOT_ACQUIRED: "La commission et l'entreprise concluent toutes deux à la non-acquisition.",
    RULE_DISAGREEMENT: "La commission et l'entreprise divergent : réexamen par le jury.",
    RULE_INCOMPLETE: "Proposition de la commission ou avis de l'entreprise manquant.",
    RULE_JURY_CONFIRMS: "Le jury suit la proposition.",
    RULE_JURY_OVERRIDE: "Le jury décide autrement que la proposition, avec motivation écrite.",
    RULE_JURY_REVIEW: "Le jury tranche après réexamen, avec motivation écrite.",
    RULE_BLOCK_ALL_ACQUIRED: "Bloc attribué : toutes ses compétences sont acquises.",
    RULE_BLOCK_MISSING: "Bloc non attribué : des compétences ne sont pas acquises.",
    RULE_CQPM_ALL_ACQUIRED: "CQPM attribué : toutes les compétences sont acquises (référentiel §4).",
    RULE_CQPM_PARTIAL: "Résultat partiel : les compétences et blocs acquis sont capitalisés.",
    RULE_CQPM_NONE: "CQPM non attribué : aucune compétence acquise.",
}


class AwardRuleError(ValueError):
    """A jury decision breaks an award rule. The message is French, shown to the user as is."""


# ---------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CompetencyFacts:
    """What the jury knows about one competency of one candidate."""

    competency_id: int
    number: int
    block_id: int
    commission: str | None = None  # ACQUIRED / NOT_ACQUIRED, None when no submitted proposal
    company_opinion: str | None = None  # FAVOURABLE / RESERVED / UNFAVOURABLE, None when none signed
    capitalised_until: date | None = None  # from an earlier deliberation
    capitalised_by: str = ""  # which one, e.g. « délibération du 03/04/2025 (PV n° 12, UIMM …) »


@dataclass(frozen=True)
class BlockFacts:
    block_id: int
    number: int
    capitalised_until: date | None = None
    capitalised_by: str = ""


@dataclass(frozen=True)
class CandidateFacts:
    is_vae: bool
    deliberation_date: date
    competencies: tuple[CompetencyFacts, ...]
    blocks: tuple[BlockFacts, ...]
    rncp_registered: bool = True
    # No company opinion although not in VAE: a pathway without a company (seed §3.2). The dossier
    # cannot waive the opinion in any other case (candidates.services refuses it).
    opinion_waived: bool = False
    pathway: str = ""  # stored in the explanation: the decision trail says what the pathway is

    @property
    def without_opinion(self):
        return self.is_vae or self.opinion_waived


@dataclass(frozen=True)
class Policy:
    """Durations from settings.CQPM (pass them in: this module reads no settings)."""

    competency_validity_months: int = 24
    block_validity_years: int = 5

    @classmethod
    def from_settings(cls):
        return cls(
            competency_validity_months=settings.CQPM["COMPETENCY_VALIDITY_MONTHS"],
            block_validity_years=settings.CQPM["BLOCK_VALIDITY_YEARS"],
        )


# ---------------------------------------------------------------------------------------------
# Outputs
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Proposal:
    competency_id: int
    proposed: str | None  # None when incomplete (the candidate cannot be decided)
    rule: str
    needs_review: bool
    capitalised: bool
    explanation: dict

    @property
    def is_complete(self):
        return self.proposed is not None


@dataclass(frozen=True)
class CompetencyDecision:
    competency_id: int
    proposed: str
    decided: str
    motivation: str
    explanation: dict

    @property
    def is_acquired(self):
        return self.decided == ACQUIRED


@dataclass(frozen=True)
class BlockResult:
    block_id: int
    number: int
    acquired: bool
    capitalised: bool
    valid_until: date | None
    explanation: dict


@dataclass(frozen=True)
class Outcome:
    result: str
    blocks: tuple[BlockResult, ...]
    acquired_competency_ids: frozenset[int]
    # Items to record as capitalised by this deliberation: {id: valid_until}
    new_capitalised_competencies: dict = field(default_factory=dict)
    new_capitalised_blocks: dict = field(default_factory=dict)
    explanation: dict = field(default_factory=dict)

    @property
    def acquired_block_ids(self):
        return frozenset(b.block_id for b in self.blocks if b.acquired)


# ---------------------------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------------------------


def add_months(start: date, months: int) -> date:
    """Same day `months` later; clamped to the month's last day (31 Jan + 1 month → 28/29 Feb)."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def add_years(start: date, years: int) -> date:
    return add_months(start, 12 * years)


def _valid_on(until: date | None, day: date) -> bool:
    return until is not None and until >= day


def _iso(value: date | None):
    return value.isoformat() if value else None


# ---------------------------------------------------------------------------------------------
# Rule 1 — proposal per competency
# ---------------------------------------------------------------------------------------------


def _opinion_is_positive(opinion: str) -> bool:
    # Only a favourable opinion supports an acquisition; « réservé » counts as negative.
    return opinion == FAVOURABLE


def propose(facts: CandidateFacts) -> dict[int, Proposal]:
    """The proposal for each competency of the candidate, keyed by competency id."""
    day = facts.deliberation_date
    capitalised_blocks = {
        b.block_id: (b.capitalised_until, b.capitalised_by, b.number)
        for b in facts.blocks
        if _valid_on(b.capitalised_until, day)
    }
    proposals = {}
    for comp in facts.competencies:
        base = {
            "competency": comp.number,
            "commission": comp.commission,
            "company_opinion": None if facts.without_opinion else comp.company_opinion,
            "is_vae": facts.is_vae,
            "opinion_waived": facts.opinion_waived,
            "pathway": facts.pathway,
        }
        needs_review = capitalised = False
        block = capitalised_blocks.get(comp.block_id)
        if _valid_on(comp.capitalised_until, day) and (block is None or comp.capitalised_until >= block[0]):
            proposed, rule, capitalised = ACQUIRED, RULE_CAPITALISED_COMPETENCY, True
            base["capitalised_until"] = _iso(comp.capitalised_until)
            base["capitalised_by"] = comp.capitalised_by
        elif block is not None:
            # Held through its bloc (its own 24 months are over, or shorter): « au titre du bloc N ».
            proposed, rule, capitalised = ACQUIRED, RULE_CAPITALISED_BLOCK, True
            base["capitalised_until"] = _iso(block[0])
            base["capitalised_by"] = block[1]
            base["capitalised_block"] = block[2]
        elif comp.commission not in (ACQUIRED, NOT_ACQUIRED):
            proposed, rule = None, RULE_INCOMPLETE
        elif facts.is_vae:
            proposed, rule = comp.commission, RULE_VAE_COMMISSION
        elif facts.opinion_waived:
            proposed, rule = comp.commission, RULE_NO_COMPANY_COMMISSION
        elif comp.company_opinion not in (FAVOURABLE, RESERVED, UNFAVOURABLE):
            proposed, rule = None, RULE_INCOMPLETE
        else:
            commission_positive = comp.commission == ACQUIRED
            company_positive = _opinion_is_positive(comp.company_opinion)
            if commission_positive and company_positive:
                proposed, rule = ACQUIRED, RULE_AGREEMENT_ACQUIRED
            elif not commission_positive and not company_positive:
                proposed, rule = NOT_ACQUIRED, RULE_AGREEMENT_NOT_ACQUIRED
            else:
                # The commission evaluated against the criteria: its conclusion is the starting point.
                proposed, rule, needs_review = comp.commission, RULE_DISAGREEMENT, True
        explanation = {**base, "rule": rule, "rule_label": RULE_LABELS[rule], "proposed": proposed}
        explanation["needs_review"] = needs_review
        proposals[comp.competency_id] = Proposal(
            competency_id=comp.competency_id,
            proposed=proposed,
            rule=rule,
            needs_review=needs_review,
            capitalised=capitalised,
            explanation=explanation,
        )
    return proposals


# ---------------------------------------------------------------------------------------------
# Rule 2 — the jury's decision per competency
# ---------------------------------------------------------------------------------------------


def decide(proposal: Proposal, decided: str | None = None, motivation: str = "") -> CompetencyDecision:
    """Record the jury's decision on one competency, starting from the proposal.

    ``decided`` None means "follow the proposal". Raises AwardRuleError when the decision needs a
    written motivation and has none, or breaks a rule.
    """
    motivation = (motivation or "").strip()
    if not proposal.is_complete:
        raise AwardRuleError(
            f"Compétence {proposal.explanation['competency']} : la proposition est incomplète, "
            "le jury ne peut pas encore décider."
        )
    decided = decided or proposal.proposed
    if decided not in (ACQUIRED, NOT_ACQUIRED):
        raise AwardRuleError(f"Décision inconnue : {decided}.")
    number = proposal.explanation["competency"]
    if proposal.capitalised and decided != ACQUIRED:
        raise AwardRuleError(
            f"Compétence {number} : elle est capitalisée et reste acquise jusqu'au "
            f"{proposal.explanation.get('capitalised_until')} ; le jury ne peut pas la retirer."
        )
    if decided != proposal.proposed:
        if not motivation:
            raise AwardRuleError(
                f"Compétence {number} : le jury s'écarte de la proposition, une motivation écrite est obligatoire."
            )
        jury_rule = RULE_JURY_OVERRIDE
    elif proposal.needs_review:
        if not motivation:
            raise AwardRuleError(
                f"Compétence {number} : la commission et l'entreprise divergent, "
                "le jury doit motiver sa décision par écrit."
            )
        jury_rule = RULE_JURY_REVIEW
    else:
        jury_rule = RULE_JURY_CONFIRMS
    explanation = {
        **proposal.explanation,
        "decided": decided,
        "jury_rule": jury_rule,
        "jury_rule_label": RULE_LABELS[jury_rule],
        "overridden": decided != proposal.proposed,
        "motivation": motivation,
    }
    return CompetencyDecision(
        competency_id=proposal.competency_id,
        proposed=proposal.proposed,
        decided=decided,
        motivation=motivation,
        explanation=explanation,
    )


# ---------------------------------------------------------------------------------------------
# Rules 3, 4, 5 — blocs, CQPM, capitalisation
# ---------------------------------------------------------------------------------------------


def award(
    facts: CandidateFacts,
    decisions: dict[int, CompetencyDecision],
    policy: Policy | None = None,
    recorded_on: date | None = None,
) -> Outcome:
    """The candidate's outcome from the jury's decision on every competency.

    `recorded_on`: the day the outcome is recorded (Paris). An award and the capitalisation it
    starts are anchored on the deliberation's date, which cannot be later than that day (issue 22:
    a session dated in three weeks was decided and closed today, its capitalisation dated in the
    future)."""
    policy = policy or Policy()
    day = facts.deliberation_date
    if recorded_on is not None and day > recorded_on:
        raise AwardRuleError(
            f"La délibération est datée du {day:%d/%m/%Y} : ses décisions ne peuvent pas être "
            f"enregistrées avant cette date (nous sommes le {recorded_on:%d/%m/%Y})."
        )
    missing = [c.number for c in facts.competencies if c.competency_id not in decisions]
    if missing:
        raise AwardRuleError(
            "Le jury doit se prononcer sur chaque compétence ; manquantes : "
            + ", ".join(str(n) for n in sorted(missing))
            + "."
        )
    acquired = frozenset(cid for cid, d in decisions.items() if d.is_acquired)
    # Held by an earlier deliberation, directly or through its bloc: kept with that record's date,
    # never capitalised again from this deliberation's date (issue 22, point 3).
    held_blocks = {b.block_id for b in facts.blocks if _valid_on(b.capitalised_until, day)}
    previously = {
        c.competency_id
        for c in facts.competencies
        if _valid_on(c.capitalised_until, day) or c.block_id in held_blocks
    }

    competency_valid_until = add_months(day, policy.competency_validity_months)
    block_valid_until = add_years(day, policy.block_validity_years)

    blocks = []
    new_blocks = {}
    for block in sorted(facts.blocks, key=lambda b: b.number):
        members = sorted(
            (c for c in facts.competencies if c.block_id == block.block_id), key=lambda c: c.number
        )
        missing_numbers = [c.number for c in members if c.competency_id not in acquired]
        was_capitalised = _valid_on(block.capitalised_until, day)
        is_acquired = bool(members) and not missing_numbers
        if was_capitalised:
            valid_until = block.capitalised_until
        elif is_acquired and facts.rncp_registered:
            valid_until = block_valid_until
            new_blocks[block.block_id] = valid_until
        else:
            valid_until = None
        rule = RULE_BLOCK_ALL_ACQUIRED if is_acquired else RULE_BLOCK_MISSING
        blocks.append(
            BlockResult(
                block_id=block.block_id,
                number=block.number,
                acquired=is_acquired,
                capitalised=was_capitalised,
                valid_until=valid_until,
                explanation={
                    "block": block.number,
                    "rule": rule,
                    "rule_label": RULE_LABELS[rule],
                    "competencies": [c.number for c in members],
                    "missing": missing_numbers,
                    "capitalised": was_capitalised,
                    "valid_until": _iso(valid_until),
                },
            )
        )

    all_ids = {c.competency_id for c in facts.competencies}
    if all_ids and acquired >= all_ids:
        result, rule = CERTIFIED, RULE_CQPM_ALL_ACQUIRED
    elif acquired:
        result, rule = PARTIAL, RULE_CQPM_PARTIAL
    else:
        result, rule = FAILED, RULE_CQPM_NONE

    new_competencies = dict.fromkeys(sorted(acquired - previously), competency_valid_until)
    numbers = {c.competency_id: c.number for c in facts.competencies}
    explanation = {
        "rule": rule,
        "rule_label": RULE_LABELS[rule],
        "result": result,
        "acquired": sorted(numbers[c] for c in acquired),
        "not_acquired": sorted(numbers[c] for c in all_ids - acquired),
        "capitalised_before": sorted(numbers[c] for c in previously),
        "overridden": sorted(numbers[cid] for cid, d in decisions.items() if d.explanation.get("overridden")),
        "blocks": [b.explanation for b in blocks],
        "competency_valid_until": _iso(competency_valid_until) if new_competencies else None,
        "block_valid_until": _iso(block_valid_until) if new_blocks else None,
        "rncp_registered": facts.rncp_registered,
    }
    return Outcome(
        result=result,
        blocks=tuple(blocks),
        acquired_competency_ids=acquired,
        new_capitalised_competencies=new_competencies,
        new_capitalised_blocks=new_blocks,
        explanation=explanation,
    )
