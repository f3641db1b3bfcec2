"""Factories of the deliberations app.

- `JuryFactory(centre=...)`; `paritary_jury(centre, pairs=1, jury_user=None)` → a jury with `pairs`
  employer members (the first is president, linked to `jury_user` when given) and `pairs` union members.
- `DeliberationSessionFactory(centre=..., certification=..., jury=...)`.
- `evaluated_candidate(centre, certification, conclusions={number: "acquired"|...}, opinions=...)` — a
  candidate with a validated dossier, a commission proposal and a signed company opinion per competency.
- `ready_session(...)` — a session with jury, full attendance and `n` evaluated candidates (dated
  today unless `date=`: a deliberation is never decided before its date).
"""

import datetime

import factory
from django.utils import timezone

from candidates.models import CandidateStatus
from core.models import Role
from deliberations.models import Attendance, College, DeliberationSession, Jury, JuryMember, SessionCandidate
from evaluations.models import CommissionProposal, CompanyOpinion
from tests.candidates.factories import CandidateFactory
from tests.core.factories import CentreFactory, UserFactory
from tests.referential.factories import CertificationFactory


class JuryUserFactory(UserFactory):
    role = Role.JURY
    first_name = "Pierre"


class JuryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Jury

    centre = factory.SubFactory(CentreFactory)
    name = factory.Sequence(lambda n: f"Jury paritaire {n + 1}")


class JuryMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = JuryMember

    jury = factory.SubFactory(JuryFactory)
    full_name = factory.Sequence(lambda n: f"Membre Jury{n + 1}")
    college = College.EMPLOYERS
    union = ""
    is_president = False
    email = factory.Sequence(lambda n: f"membre{n + 1}@jury.test")


UNIONS = ["CFDT", "CGT", "FO", "CFE-CGC", "CFTC"]


def paritary_jury(centre, *, pairs=1, jury_user=None):
    jury = JuryFactory(centre=centre)
    for index in range(pairs):
        JuryMemberFactory(
            jury=jury,
            college=College.EMPLOYERS,
            is_president=index == 0,
            user=jury_user if index == 0 else None,
            full_name=f"Employeur{index + 1} Président" if index == 0 else f"Employeur{index + 1} Membre",
        )
        JuryMemberFactory(
            jury=jury, college=College.EMPLOYEES, union=UNIONS[index], full_name=f"Salarié{index + 1} Membre"
        )
    if jury_user is not None:
        jury_user.centres.add(centre)
    return jury


class DeliberationSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DeliberationSession

    centre = factory.SubFactory(CentreFactory)
    certification = factory.SubFactory(CertificationFactory)
    jury = factory.LazyAttribute(lambda o: paritary_jury(o.centre))
    # Today: a deliberation is decided and closed on or after its date (issue 22, point 4).
    date = factory.LazyFunction(timezone.localdate)
    place = "Salle du conseil, Nancy"
    # Convened in time (unions 20 days before, employee members 10 days before): closing needs it.
    unions_asked_on = factory.LazyAttribute(lambda o: o.date - datetime.timedelta(days=20))
    members_notified_on = factory.LazyAttribute(lambda o: o.date - datetime.timedelta(days=10))


def evaluated_candidate(centre, certification, *, conclusions=None, opinions=None, vae=False, **kwargs):
    """A candidate awaiting deliberation with a proposal and a signed opinion for every competency.

    `conclusions` / `opinions`: {competency number: value}; default « acquired » / « favourable »;
    a value of None leaves that competency without proposal / opinion.
    """
    conclusions = conclusions or {}
    opinions = opinions or {}
    traits = {"vae": True} if vae else {}
    candidate = CandidateFactory(
        centre=centre,
        certification=certification,
        status=CandidateStatus.AWAITING_DELIBERATION,
        **traits,
        **kwargs,
    )
    for competency in certification.competencies.all():
        conclusion = conclusions.get(competency.number, "acquired")
        if conclusion:
            CommissionProposal.objects.create(
                candidate=candidate, competency=competency, conclusion=conclusion, reason="Critères observés."
            )
        opinion = opinions.get(competency.number, "favourable")
        if opinion and not vae and candidate.tutor_id:
            CompanyOpinion.objects.create(
                candidate=candidate,
                competency=competency,
                tutor=candidate.tutor,
                opinion=opinion,
                signed_at=timezone.now(),
            )
    return candidate


def ready_session(
    *, centre=None, certification=None, n=2, jury_user=None, attendance=True, date=None, **candidate_kwargs
):
    centre = centre or CentreFactory()
    certification = certification or CertificationFactory(rncp_number="RNCP12345", rncp_level="4")
    jury = paritary_jury(centre, jury_user=jury_user)
    extra = {"date": date} if date is not None else {}
    session = DeliberationSessionFactory(centre=centre, certification=certification, jury=jury, **extra)
    for _ in range(n):
        candidate = evaluated_candidate(centre, certification, **candidate_kwargs)
        SessionCandidate.objects.create(session=session, candidate=candidate)
    if attendance:
        for member in jury.members.all():
            Attendance.objects.create(session=session, member=member, present=True)
    return session
