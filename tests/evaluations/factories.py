"""Factories of the evaluations app, imported by the other apps' tests.

- `EvaluatorFactory(centres=[centre])` — a user of the evaluator role.
- `CommissionFactory(centre=...)`, `CommissionMemberFactory(commission=..., user=...)` (the user is an
  evaluator of the commission's centre by default; `is_president=True` for the president).
- `ConflictOfInterestFactory(user=..., company=... | candidate=...)`.
- `EvaluationSessionFactory(commission=...)` — centre taken from the commission, a date in 10 days.
- `ConvocationFactory(session=..., candidate=...)` — assigns every member of the session's commission
  (`evaluators=[...]` to choose); no sheet is created (use the services for that).
- `ScoringSheetFactory(candidate=..., competency=..., evaluator=...)` — a draft; `submitted=True` gives a
  submitted sheet with the conclusion « acquise » and every criterion judged « acquis ».
- `CommissionProposalFactory(candidate=..., competency=..., conclusion="acquired")`.
- `CompanyOpinionFactory(candidate=..., competency=...)` — tutor = the candidate's tutor, favourable,
  signed; `signed=False` for an unsigned draft.
- `TutorInvitationFactory(tutor=..., token="...")` — stores the hash of `token`.
- `convened_candidate(...)` — one call for "a candidate convened before a commission with N members".
"""

import datetime

import factory
from django.utils import timezone

from candidates.models import CandidateStatus
from core.models import Role
from evaluations.models import (
    Commission,
    CommissionMember,
    CommissionProposal,
    CompanyOpinion,
    Conclusion,
    ConflictOfInterest,
    Convocation,
    ConvocationEvaluator,
    CriterionJudgement,
    EvaluationSession,
    Judgement,
    Opinion,
    ScoringSheet,
    SheetStatus,
    TutorInvitation,
)
from evaluations.tokens import hash_token
from tests.candidates.factories import CandidateFactory
from tests.core.factories import CentreFactory, UserFactory


class EvaluatorFactory(UserFactory):
    role = Role.EVALUATOR
    first_name = "Éric"


class CommissionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Commission

    centre = factory.SubFactory(CentreFactory)
    name = factory.Sequence(lambda n: f"Commission de test {n + 1}")


class CommissionMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CommissionMember

        skip_postgeneration_save = True

    commission = factory.SubFactory(CommissionFactory)
    user = factory.SubFactory(EvaluatorFactory)
    qualification = "Usinage et maintenance industrielle"
    college = ""
    is_president = False

    @factory.post_generation
    def join_centre(obj, create, extracted, **kwargs):
        if create:
            obj.user.centres.add(obj.commission.centre)


class ConflictOfInterestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConflictOfInterest

    user = factory.SubFactory(EvaluatorFactory)
    reason = "Ancien salarié de l'entreprise"


class EvaluationSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EvaluationSession

    commission = factory.SubFactory(CommissionFactory)
    centre = factory.SelfAttribute("commission.centre")
    # The session has taken place (scoring opens on its day): tests of scoring act on it as is.
    date = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=2))
    place = "Salle 2, UIMM"
    is_remote = False


class ConvocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Convocation
        skip_postgeneration_save = True

    session = factory.SubFactory(EvaluationSessionFactory)
    candidate = factory.SubFactory(
        CandidateFactory,
        centre=factory.SelfAttribute("..session.centre"),
        status=CandidateStatus.IN_EVALUATION,
    )
    time_slot = factory.Sequence(lambda n: datetime.time(8 + (n % 10), 0))

    @factory.post_generation
    def evaluators(obj, create, extracted, **kwargs):
        if not create:
            return
        users = (
            extracted
            if extracted is not None
            else [member.user for member in obj.session.commission.members.select_related("user")]
        )
        for user in users:
            ConvocationEvaluator.objects.get_or_create(convocation=obj, evaluator=user)


class ScoringSheetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ScoringSheet
        skip_postgeneration_save = True

    class Params:
        submitted = factory.Trait(
            status=SheetStatus.SUBMITTED,
            conclusion=Conclusion.ACQUIRED,
            submitted_at=factory.LazyFunction(timezone.now),
        )

    candidate = factory.SubFactory(CandidateFactory, status=CandidateStatus.IN_EVALUATION)
    competency = factory.LazyAttribute(lambda o: o.candidate.certification.competencies.first())
    evaluator = factory.SubFactory(EvaluatorFactory)
    status = SheetStatus.DRAFT
    conclusion = ""
    justification = ""

    @factory.post_generation
    def judgements(obj, create, extracted, **kwargs):
        """`judgements={criterion_order: "acquired", ...}`; a submitted sheet judges every criterion."""
        if not create:
            return
        values = dict(extracted or {})
        for criterion in obj.competency.criteria.all():
            value = values.get(criterion.order)
            if value is None and obj.status == SheetStatus.SUBMITTED:
                value = Judgement.ACQUIRED
            if value is not None:
                CriterionJudgement.objects.update_or_create(
                    sheet=obj, criterion=criterion, defaults={"judgement": value}
                )


class CommissionProposalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CommissionProposal

    candidate = factory.SubFactory(CandidateFactory, status=CandidateStatus.IN_EVALUATION)
    competency = factory.LazyAttribute(lambda o: o.candidate.certification.competencies.first())
    conclusion = Conclusion.ACQUIRED
    reason = "Conclusion unanime des membres de la commission."
    is_unanimous = True
    has_divergence = False


class CompanyOpinionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CompanyOpinion

    class Params:
        signed = True

    candidate = factory.SubFactory(CandidateFactory, status=CandidateStatus.IN_EVALUATION)
    competency = factory.LazyAttribute(lambda o: o.candidate.certification.competencies.first())
    tutor = factory.LazyAttribute(lambda o: o.candidate.tutor)
    opinion = factory.LazyAttribute(lambda o: Opinion.FAVOURABLE if o.signed else "")
    comment = ""
    signed_at = factory.LazyAttribute(lambda o: timezone.now() if o.signed else None)
    signed_by = factory.LazyAttribute(lambda o: o.tutor.user if o.signed else None)


class TutorInvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TutorInvitation
        exclude = ("token",)

    token = factory.Sequence(lambda n: f"jeton-de-test-{n + 1:04d}-" + "x" * 20)
    tutor = factory.LazyAttribute(lambda o: o.candidate.tutor)
    candidate = factory.SubFactory(CandidateFactory, status=CandidateStatus.IN_EVALUATION)
    token_hash = factory.LazyAttribute(lambda o: hash_token(o.token))
    expires_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=14))


def convened_candidate(*, centre=None, members=2, president=True, session=None, **candidate_kwargs):
    """A candidate (in evaluation, validated dossier) convened before a commission of `members`
    evaluators, the first one president. Returns (candidate, convocation, [member users])."""
    if session is None:
        centre = centre or CentreFactory()
        commission = CommissionFactory(centre=centre)
        for index in range(members):
            CommissionMemberFactory(commission=commission, is_president=president and index == 0)
        session = EvaluationSessionFactory(commission=commission)
    candidate_kwargs.setdefault("status", CandidateStatus.IN_EVALUATION)
    candidate = CandidateFactory(centre=session.centre, **candidate_kwargs)
    convocation = ConvocationFactory(session=session, candidate=candidate)
    users = [member.user for member in session.commission.members.select_related("user")]
    return candidate, convocation, users
