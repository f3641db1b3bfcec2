import pytest

from candidates import permissions
from core.models import Role
from tests.candidates.factories import CandidateFactory
from tests.core.factories import UserFactory


@pytest.fixture
def setting(centre_a, centre_b, staff_a, staff_b):
    candidate = CandidateFactory(centre=centre_a)
    users = {
        "staff_a": staff_a,
        "staff_b": staff_b,
        "admin": UserFactory(is_superuser=True, role=Role.STAFF),
        "own_tutor": candidate.tutor.user,
        "other_tutor": CandidateFactory(centre=centre_a).tutor.user,
        "evaluator_a": UserFactory(role=Role.EVALUATOR, centres=[centre_a]),
        "jury_a": UserFactory(role=Role.JURY, centres=[centre_a]),
        "inactive_staff_a": UserFactory(role=Role.STAFF, centres=[centre_a], is_active=False),
    }
    return candidate, users


EXPECTED = {
    # predicate: users for whom it holds (on a candidate of centre A)
    "can_manage_candidate": {"staff_a", "admin"},
    "can_view_candidate": {"staff_a", "admin", "own_tutor"},
    # Evaluators and jury members see files only of candidates their commission/jury handles (the
    # evaluations / deliberations selectors); without one, never.
    "can_download_document": {"staff_a", "admin"},
    "can_export_personal_data": {"staff_a", "admin"},
    "can_manage_company": {"staff_a", "admin"},
}


@pytest.mark.django_db
@pytest.mark.parametrize("predicate", sorted(EXPECTED))
@pytest.mark.parametrize(
    "who",
    ["staff_a", "staff_b", "admin", "own_tutor", "other_tutor", "evaluator_a", "jury_a", "inactive_staff_a"],
)
def test_predicates(setting, predicate, who):
    candidate, users = setting
    target = candidate.company if predicate == "can_manage_company" else candidate
    assert bool(getattr(permissions, predicate)(users[who], target)) is (who in EXPECTED[predicate])


@pytest.mark.django_db
def test_rules_permissions_are_registered(setting):
    candidate, users = setting
    assert users["staff_a"].has_perm("candidates.manage_candidate", candidate)
    assert not users["staff_b"].has_perm("candidates.manage_candidate", candidate)
    assert users["own_tutor"].has_perm("candidates.view_candidate", candidate)
    assert not users["other_tutor"].has_perm("candidates.view_candidate", candidate)


@pytest.mark.django_db
def test_anonymised_candidate_has_nothing_left_to_export(setting):
    candidate, users = setting
    from django.utils import timezone

    candidate.anonymised_at = timezone.now()
    assert not permissions.can_export_personal_data(users["staff_a"], candidate)
