"""Fixed test data for the reporting, statistics and dashboard tests: deliberated candidates.

`deliberated(centre, certification, issued=date, result="certified", evaluations=[(date, is_remote)])`
creates a candidate, the evaluation sessions it was convened to, a *closed* deliberation session on
`issued` and its outcome — directly, so that the numbers of each test are known in advance.
"""

import datetime

from django.utils import timezone

from candidates.models import CandidateStatus
from deliberations.models import CandidateOutcome, DeliberationSession, SessionCandidate, SessionStatus
from tests.candidates.factories import CandidateFactory
from tests.deliberations.factories import paritary_jury
from tests.evaluations.factories import CommissionFactory, ConvocationFactory, EvaluationSessionFactory


def closed_session(centre, certification, issued):
    session = DeliberationSession.objects.filter(
        centre=centre, certification=certification, date=issued, status=SessionStatus.CLOSED
    ).first()
    if session is None:
        session = DeliberationSession.objects.create(
            centre=centre,
            certification=certification,
            jury=paritary_jury(centre),
            date=issued,
            place="Salle du conseil",
            status=SessionStatus.CLOSED,
            closed_at=timezone.make_aware(datetime.datetime.combine(issued, datetime.time(17))),
        )
    return session


def evaluation_session(centre, day, is_remote=False):
    from evaluations.models import EvaluationSession

    existing = EvaluationSession.objects.filter(centre=centre, date=day, is_remote=is_remote).first()
    if existing:
        return existing
    return EvaluationSessionFactory(
        commission=CommissionFactory(centre=centre),
        date=day,
        is_remote=is_remote,
        place="" if is_remote else "Atelier 3",
    )


def deliberated(
    centre, certification, *, issued, result="certified", evaluations=None, blocks=None, **kwargs
):
    """A candidate deliberated on `issued` with `result`; `evaluations` = [(date, is_remote), ...]
    (default: one on-site evaluation 10 days before); `blocks` = blocks acquired (default: all when
    certified, none otherwise)."""
    kwargs.setdefault("status", CandidateStatus.DELIBERATED)
    kwargs.setdefault("birth_insee_code", "57463")  # Metz, the factory's birth place
    candidate = CandidateFactory(centre=centre, certification=certification, **kwargs)
    if evaluations is None:
        evaluations = [(issued - datetime.timedelta(days=10), False)]
    for day, is_remote in evaluations:
        evaluation = evaluation_session(centre, day, is_remote)
        k = evaluation.convocations.count()
        ConvocationFactory(
            session=evaluation,
            candidate=candidate,
            time_slot=datetime.time(7 + k // 60, k % 60),
            evaluators=[],
        )
    session = closed_session(centre, certification, issued)
    SessionCandidate.objects.create(session=session, candidate=candidate)
    outcome = CandidateOutcome.objects.create(
        session=session, candidate=candidate, result=result, decided_at=session.closed_at
    )
    if blocks is None:
        blocks = list(certification.blocks.all()) if result == "certified" else []
    outcome.blocks_acquired.set(blocks)
    return outcome
