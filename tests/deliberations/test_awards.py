"""Award rules as tables (deliberations.awards is pure: no database)."""

import json
from datetime import date

import pytest

from deliberations import awards
from deliberations.awards import (
    ACQUIRED,
    CERTIFIED,
    FAILED,
    FAVOURABLE,
    NOT_ACQUIRED,
    PARTIAL,
    RESERVED,
    UNFAVOURABLE,
    AwardRuleError,
    BlockFacts,
    CandidateFacts,
    CompetencyFacts,
    Policy,
)

DAY = date(2026, 6, 15)
A, N = ACQUIRED, NOT_ACQUIRED
F, R, U = FAVOURABLE, RESERVED, UNFAVOURABLE

# Referential of the tests: bloc 1 = competencies 1, 2; bloc 2 = competencies 3, 4.
BLOCK_OF = {1: 1, 2: 1, 3: 2, 4: 2}


def facts(commission, opinions=None, *, vae=False, capitalised=None, capitalised_blocks=None, rncp=True):
    opinions = opinions or {}
    capitalised = capitalised or {}
    capitalised_blocks = capitalised_blocks or {}
    return CandidateFacts(
        is_vae=vae,
        deliberation_date=DAY,
        competencies=tuple(
            CompetencyFacts(
                competency_id=100 + n,
                number=n,
                block_id=10 + BLOCK_OF[n],
                commission=commission.get(n),
                company_opinion=opinions.get(n),
                capitalised_until=capitalised.get(n),
            )
            for n in sorted(BLOCK_OF)
        ),
        blocks=tuple(
            BlockFacts(block_id=10 + b, number=b, capitalised_until=capitalised_blocks.get(b)) for b in (1, 2)
        ),
        rncp_registered=rncp,
    )


def all_of(value):
    return dict.fromkeys(BLOCK_OF, value)


# --- Rule 1: proposal per competency ---------------------------------------------------------
@pytest.mark.parametrize(
    ("commission", "opinion", "vae", "capitalised_until", "expected", "rule", "needs_review"),
    [
        (A, F, False, None, A, awards.RULE_AGREEMENT_ACQUIRED, False),
        (N, U, False, None, N, awards.RULE_AGREEMENT_NOT_ACQUIRED, False),
        (N, R, False, None, N, awards.RULE_AGREEMENT_NOT_ACQUIRED, False),
        (A, U, False, None, A, awards.RULE_DISAGREEMENT, True),
        (A, R, False, None, A, awards.RULE_DISAGREEMENT, True),
        (N, F, False, None, N, awards.RULE_DISAGREEMENT, True),
        (A, None, False, None, None, awards.RULE_INCOMPLETE, False),
        (None, F, False, None, None, awards.RULE_INCOMPLETE, False),
        # VAE: commission only, the company opinion is ignored
        (A, None, True, None, A, awards.RULE_VAE_COMMISSION, False),
        (N, None, True, None, N, awards.RULE_VAE_COMMISSION, False),
        (A, U, True, None, A, awards.RULE_VAE_COMMISSION, False),
        (None, None, True, None, None, awards.RULE_INCOMPLETE, False),
        # capitalised and still valid: acquired whatever the new evaluation says (or without one)
        (None, None, False, date(2026, 6, 15), A, awards.RULE_CAPITALISED_COMPETENCY, False),
        (N, U, False, date(2027, 1, 1), A, awards.RULE_CAPITALISED_COMPETENCY, False),
        # capitalisation expired the day before: evaluated again
        (N, U, False, date(2026, 6, 14), N, awards.RULE_AGREEMENT_NOT_ACQUIRED, False),
    ],
)
def test_proposal_per_competency(commission, opinion, vae, capitalised_until, expected, rule, needs_review):
    f = facts({1: commission}, {1: opinion}, vae=vae, capitalised={1: capitalised_until})
    proposal = awards.propose(f)[101]
    assert proposal.proposed == expected
    assert proposal.rule == rule
    assert proposal.needs_review is needs_review
    assert proposal.explanation["rule"] == rule
    assert proposal.explanation["commission"] == commission
    assert proposal.explanation["company_opinion"] == (None if vae else opinion)
    assert proposal.explanation["rule_label"]


def test_competency_of_a_capitalised_bloc_is_acquired():
    f = facts({}, capitalised_blocks={1: date(2030, 1, 1)})
    proposals = awards.propose(f)
    assert proposals[101].proposed == A and proposals[101].rule == awards.RULE_CAPITALISED_BLOCK
    assert proposals[102].proposed == A
    assert proposals[103].proposed is None  # bloc 2 is not capitalised: still to evaluate


# --- Rule 2: the jury's decision ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("commission", "opinion", "decided", "motivation", "ok", "jury_rule"),
    [
        (A, F, None, "", True, awards.RULE_JURY_CONFIRMS),
        (A, F, A, "", True, awards.RULE_JURY_CONFIRMS),
        (A, F, N, "", False, None),  # override without motivation
        (A, F, N, "   ", False, None),  # blank motivation is no motivation
        (A, F, N, "Preuves insuffisantes sur le critère 3.", True, awards.RULE_JURY_OVERRIDE),
        (N, U, A, "Éléments de preuve complémentaires examinés.", True, awards.RULE_JURY_OVERRIDE),
        (A, U, A, "", False, None),  # disagreement: motivation required even to follow
        (A, U, A, "Le jury retient l'évaluation de la commission.", True, awards.RULE_JURY_REVIEW),
        (A, U, N, "Le jury retient l'avis de l'entreprise.", True, awards.RULE_JURY_OVERRIDE),
        (A, None, A, "x", False, None),  # incomplete: cannot be decided
    ],
)
def test_jury_decision(commission, opinion, decided, motivation, ok, jury_rule):
    proposal = awards.propose(facts({1: commission}, {1: opinion}))[101]
    if not ok:
        with pytest.raises(AwardRuleError):
            awards.decide(proposal, decided, motivation)
        return
    decision = awards.decide(proposal, decided, motivation)
    assert decision.decided == (decided or proposal.proposed)
    assert decision.explanation["jury_rule"] == jury_rule
    assert decision.explanation["overridden"] is (decision.decided != proposal.proposed)
    assert decision.motivation == motivation.strip()


def test_capitalised_competency_cannot_be_withdrawn():
    proposal = awards.propose(facts({}, capitalised={1: date(2027, 1, 1)}))[101]
    with pytest.raises(AwardRuleError, match="capitalisée"):
        awards.decide(proposal, N, "motivation")


# --- Rules 3-5: outcome -----------------------------------------------------------------------
def decide_all(f, overrides=None):
    overrides = overrides or {}
    decisions = {}
    for cid, proposal in awards.propose(f).items():
        decided, motivation = overrides.get(cid - 100, (None, ""))
        if proposal.needs_review and not motivation:
            motivation = "Réexamen du jury."
        decisions[cid] = awards.decide(proposal, decided, motivation)
    return decisions


@pytest.mark.parametrize(
    (
        "name",
        "commission",
        "opinions",
        "overrides",
        "capitalised",
        "result",
        "blocks",
        "new_comps",
        "new_blocks",
    ),
    [
        ("full", all_of(A), all_of(F), {}, {}, CERTIFIED, {1, 2}, {1, 2, 3, 4}, {1, 2}),
        (
            "partial-one-bloc",
            {1: A, 2: A, 3: A, 4: N},
            {1: F, 2: F, 3: F, 4: U},
            {},
            {},
            PARTIAL,
            {1},
            {1, 2, 3},
            {1},
        ),
        (
            "partial-no-bloc",
            {1: A, 2: N, 3: N, 4: A},
            {1: F, 2: U, 3: U, 4: F},
            {},
            {},
            PARTIAL,
            set(),
            {1, 4},
            set(),
        ),
        ("failed", all_of(N), all_of(U), {}, {}, FAILED, set(), set(), set()),
        (
            "override-to-full",
            {1: A, 2: A, 3: A, 4: N},
            {1: F, 2: F, 3: F, 4: U},
            {4: (A, "Preuves complémentaires probantes.")},
            {},
            CERTIFIED,
            {1, 2},
            {1, 2, 3, 4},
            {1, 2},
        ),
        (
            "override-to-partial",
            all_of(A),
            all_of(F),
            {2: (N, "Observation non conforme.")},
            {},
            PARTIAL,
            {2},
            {1, 3, 4},
            {2},
        ),
        (
            # 2nd attempt: 1, 2 capitalised (not re-recorded), 3, 4 acquired now → certified
            "capitalised-completes",
            {3: A, 4: A},
            {3: F, 4: F},
            {},
            {1: date(2027, 1, 1), 2: date(2027, 1, 1)},
            CERTIFIED,
            {1, 2},
            {3, 4},
            {1, 2},
        ),
        (
            "capitalised-only",
            {2: N, 3: N, 4: N},
            {2: U, 3: U, 4: U},
            {},
            {1: date(2027, 1, 1)},
            PARTIAL,
            set(),
            set(),
            set(),
        ),
    ],
)
def test_outcome(name, commission, opinions, overrides, capitalised, result, blocks, new_comps, new_blocks):
    f = facts(commission, opinions, capitalised=capitalised)
    outcome = awards.award(
        f, decide_all(f, overrides), Policy(competency_validity_months=24, block_validity_years=5)
    )
    assert outcome.result == result, name
    assert {b.number for b in outcome.blocks if b.acquired} == blocks
    assert {cid - 100 for cid in outcome.new_capitalised_competencies} == new_comps
    assert set(outcome.new_capitalised_competencies.values()) <= {date(2028, 6, 15)}
    assert {bid - 10 for bid in outcome.new_capitalised_blocks} == new_blocks
    assert set(outcome.new_capitalised_blocks.values()) <= {date(2031, 6, 15)}
    assert outcome.explanation["result"] == result
    assert outcome.explanation["overridden"] == sorted(overrides)
    json.dumps(outcome.explanation)  # stored in a JSONField and printed in the PV


def test_capitalised_bloc_keeps_its_date_and_is_not_recorded_again():
    f = facts({3: A, 4: A}, {3: F, 4: F}, capitalised_blocks={1: date(2029, 3, 1)})
    outcome = awards.award(f, decide_all(f))
    bloc1 = next(b for b in outcome.blocks if b.number == 1)
    assert bloc1.acquired and bloc1.capitalised and bloc1.valid_until == date(2029, 3, 1)
    assert 11 not in outcome.new_capitalised_blocks and 12 in outcome.new_capitalised_blocks
    assert outcome.result == CERTIFIED


def test_blocs_are_not_capitalised_when_the_cqpm_is_not_on_the_rncp():
    f = facts(all_of(A), all_of(F), rncp=False)
    outcome = awards.award(f, decide_all(f))
    assert outcome.result == CERTIFIED
    assert outcome.new_capitalised_blocks == {}
    assert len(outcome.new_capitalised_competencies) == 4


def test_award_needs_a_decision_for_every_competency():
    f = facts(all_of(A), all_of(F))
    decisions = decide_all(f)
    decisions.pop(103)
    with pytest.raises(AwardRuleError, match="3"):
        awards.award(f, decisions)


def test_validity_durations_come_from_the_policy():
    f = facts(all_of(A), all_of(F))
    outcome = awards.award(f, decide_all(f), Policy(competency_validity_months=12, block_validity_years=2))
    assert set(outcome.new_capitalised_competencies.values()) == {date(2027, 6, 15)}
    assert set(outcome.new_capitalised_blocks.values()) == {date(2028, 6, 15)}


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2024, 2, 29), 24, date(2026, 2, 28)),
        (date(2026, 6, 15), 24, date(2028, 6, 15)),
        (date(2026, 11, 30), 3, date(2027, 2, 28)),
    ],
)
def test_add_months(start, months, expected):
    assert awards.add_months(start, months) == expected


def test_policy_reads_settings(settings):
    settings.CQPM = {**settings.CQPM, "COMPETENCY_VALIDITY_MONTHS": 18, "BLOCK_VALIDITY_YEARS": 3}
    assert Policy.from_settings() == Policy(competency_validity_months=18, block_validity_years=3)
