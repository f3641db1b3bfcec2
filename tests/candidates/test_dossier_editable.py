"""One owner for « the dossier may be edited »: `Candidate.dossier_editable` (the services' check, the
detail page's buttons through `selectors.detail_dossier`)."""

import pytest
from django.utils import timezone

from candidates import selectors
from candidates.models import CandidateStatus
from tests.candidates.factories import CandidateFactory
from tests.core.factories import StaffFactory


def detail(candidate):
    staff = StaffFactory(centres=[candidate.centre])
    return selectors.detail_dossier(selectors.candidate_detail_queryset(staff).get(pk=candidate.pk))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "anonymised", "editable"),
    [
        (CandidateStatus.REGISTERED, False, True),
        (CandidateStatus.REGISTERED, True, False),
        (CandidateStatus.WITHDRAWN, False, False),
    ],
)
def test_only_a_registered_candidate_not_anonymised_has_an_editable_dossier(status, anonymised, editable):
    candidate = CandidateFactory(status=status, anonymised_at=timezone.now() if anonymised else None)
    assert candidate.dossier_editable is editable
    assert detail(candidate)["is_editable"] is editable


@pytest.mark.django_db
def test_a_validated_dossier_is_not_editable():
    candidate = CandidateFactory(status=CandidateStatus.DOSSIER_VALIDATED)
    assert detail(candidate)["is_editable"] is False
