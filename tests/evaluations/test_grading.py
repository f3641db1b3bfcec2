"""The pure rules of the scoring grid, as tables."""

import pytest

from evaluations.grading import conclusion_contradicts, consolidate, submission_errors

A, N, NO, B = "acquired", "not_acquired", "not_observed", ""


@pytest.mark.parametrize(
    ("conclusion", "judgements", "contradicts"),
    [
        # « acquise »
        ("acquired", [A, A, A, A], False),
        ("acquired", [A, A, N, NO], False),
        ("acquired", [A, N, NO, NO], False),  # tie: no majority
        ("acquired", [A, N, N, NO], True),  # majority of « non acquis »
        ("acquired", [N, N, N, N], True),
        ("acquired", [NO, NO, NO, NO], True),  # nothing observed supports « acquise »
        ("acquired", [A, NO, NO, NO], False),
        ("acquired", [N, B, B, B], True),
        # « non acquise »
        ("not_acquired", [N, N, N, N], False),
        ("not_acquired", [A, N, N, NO], False),
        ("not_acquired", [A, N, NO, NO], False),  # tie
        ("not_acquired", [A, A, N, NO], True),  # majority of « acquis »
        ("not_acquired", [A, A, A, A], True),
        ("not_acquired", [NO, NO, NO, NO], False),
        ("not_acquired", [A, NO, NO, NO], True),
        # no conclusion yet
        ("", [N, N, N, N], False),
        ("", [A, A, A, A], False),
    ],
)
def test_contradiction_rule(conclusion, judgements, contradicts):
    assert conclusion_contradicts(conclusion, judgements) is contradicts


@pytest.mark.parametrize(
    ("conclusion", "justification", "judgements", "expected_fragments"),
    [
        ("acquired", "", [A, A, A, A], []),
        ("acquired", "", [A, B, A, A], ["1 critère sans appréciation"]),
        ("acquired", "", [B, B, A, A], ["2 critère(s) sans appréciation"]),
        ("", "", [A, A, A, A], ["Indiquez la conclusion"]),
        ("acquired", "", [N, N, A, NO], ["justification écrite est obligatoire"]),
        ("acquired", "   ", [N, N, A, NO], ["justification écrite est obligatoire"]),
        ("acquired", "Observé en atelier sur 3 pièces.", [N, N, A, NO], []),
        ("not_acquired", "", [A, A, A, N], ["justification écrite est obligatoire"]),
        ("not_acquired", "", [N, N, A, NO], []),
        ("bogus", "", [A, A, A, A], ["Indiquez la conclusion"]),
    ],
)
def test_submission_errors(conclusion, justification, judgements, expected_fragments):
    errors = submission_errors(conclusion=conclusion, justification=justification, judgements=judgements)
    assert len(errors) == len(expected_fragments)
    for fragment, error in zip(expected_fragments, errors, strict=True):
        assert fragment in error


@pytest.mark.parametrize(
    ("expected", "sheets", "complete", "unanimous", "automatic", "needs_president", "divergent"),
    [
        # nobody submitted yet
        (2, [], False, False, None, False, set()),
        # one of two submitted: never automatic
        (2, [(A, {1: A, 2: A})], False, False, None, False, set()),
        # unanimous, same judgements
        (2, [(A, {1: A, 2: A}), (A, {1: A, 2: A})], True, True, A, False, set()),
        # unanimous conclusion, criterion 2 judged differently → flagged but automatic
        (2, [(A, {1: A, 2: A}), (A, {1: A, 2: NO})], True, True, A, False, {2}),
        # members disagree → president
        (2, [(A, {1: A, 2: A}), (N, {1: N, 2: A})], True, False, None, True, {1}),
        (3, [(N, {1: N}), (N, {1: N}), (N, {1: N})], True, True, N, False, set()),
        # blanks are not a divergence
        (2, [(A, {1: A, 2: B}), (A, {1: A, 2: A})], True, True, A, False, set()),
    ],
)
def test_consolidation(expected, sheets, complete, unanimous, automatic, needs_president, divergent):
    result = consolidate(expected=expected, submitted_sheets=sheets)
    assert result.complete is complete
    assert result.unanimous is unanimous
    assert result.automatic_conclusion == automatic
    assert result.needs_president is needs_president
    assert set(result.divergent_criteria) == divergent
    assert result.has_divergence is (bool(divergent) or len({c for c, _ in sheets}) > 1)
