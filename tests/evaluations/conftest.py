import datetime
from dataclasses import dataclass

import pytest

from candidates.models import CandidateStatus
from evaluations import services
from evaluations.models import ScoringSheet
from tests.candidates.factories import CandidateFactory
from tests.core.factories import CentreFactory, StaffFactory
from tests.evaluations.factories import CommissionFactory, CommissionMemberFactory, EvaluationSessionFactory


@dataclass
class World:
    centre: object
    staff: object
    commission: object
    president: object
    member: object
    session: object
    candidate: object
    convocation: object

    def sheet(self, user, competency=None):
        competency = competency or self.competencies[0]
        return ScoringSheet.objects.select_related("candidate", "competency").get(
            candidate=self.candidate, competency=competency, evaluator=user
        )

    @property
    def competencies(self):
        return list(self.candidate.certification.competencies.order_by("number"))

    def criteria(self, competency=None):
        competency = competency or self.competencies[0]
        return list(competency.criteria.order_by("order"))


def build_world(code="A", slot=datetime.time(9, 0), **candidate_kwargs):
    centre = CentreFactory(code=code)
    staff = StaffFactory(centres=[centre])
    commission = CommissionFactory(centre=centre)
    president = CommissionMemberFactory(commission=commission, is_president=True).user
    member = CommissionMemberFactory(commission=commission).user
    session = EvaluationSessionFactory(commission=commission)
    candidate_kwargs.setdefault("status", CandidateStatus.DOSSIER_VALIDATED)
    candidate = CandidateFactory(centre=centre, **candidate_kwargs)
    convocation = services.convene_candidate(session=session, candidate=candidate, time_slot=slot, by=staff)
    candidate.refresh_from_db()
    return World(centre, staff, commission, president, member, session, candidate, convocation)


@pytest.fixture
def world(db, django_capture_on_commit_callbacks):
    # Run the on-commit side effects (convocation emails) as a committed transaction would.
    with django_capture_on_commit_callbacks(execute=True):
        return build_world()


def judge_all(world, user, value, *, conclusion, justification="", submit=True, competency=None):
    sheet = world.sheet(user, competency)
    judgements = {c.pk: (value, "") for c in world.criteria(competency)}
    return services.save_sheet(
        sheet=sheet,
        by=user,
        expected_version=sheet.version,
        judgements=judgements,
        conclusion=conclusion,
        justification=justification,
        submit=submit,
    )
