"""`manage.py seed_scale`: coherent data across every app, at a small size (issue 9)."""

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count

from bench.scale import BENCH_CENTRE_CODE, BENCH_CLOSED_PLACE, BENCH_OPEN_PLACE
from candidates.models import Candidate, CandidateStatus, Dossier, DossierCompetency
from core.models import CertificationCentre, User
from deliberations.models import (
    CandidateOutcome,
    CompetencyDecision,
    DeliberationSession,
    Result,
    SessionCandidate,
    SessionStatus,
)
from evaluations.models import (
    CommissionProposal,
    CompanyOpinion,
    CriterionJudgement,
    ScoringSheet,
    SheetStatus,
)
from referential.models import Certification, Criterion

pytestmark = pytest.mark.django_db

CENTRES, CANDIDATES, SESSION = 2, 120, 12


@pytest.fixture
def seeded():
    call_command(
        "seed_scale",
        "--centres",
        str(CENTRES),
        "--candidates",
        str(CANDIDATES),
        "--jury-session-size",
        str(SESSION),
        "--chunk-size",
        "25",
        verbosity=0,
    )
    return Certification.objects.get(code="CQPM-CRH", status="published")


def test_sizes_and_referential(seeded):
    assert CertificationCentre.objects.filter(code__startswith="S").count() == CENTRES
    assert Candidate.objects.count() == CANDIDATES
    assert set(Candidate.objects.values_list("certification", flat=True)) == {seeded.pk}
    competencies = seeded.competencies.count()
    # Every candidate has a dossier with one item per competency of his CQPM version.
    assert Dossier.objects.count() == CANDIDATES
    assert DossierCompetency.objects.count() == CANDIDATES * competencies
    assert Candidate.objects.values("reference").distinct().count() == CANDIDATES


def test_every_sheet_has_a_judgement_for_every_criterion(seeded):
    criteria = dict(
        Criterion.objects.filter(competency__certification=seeded)
        .values("competency")
        .annotate(n=Count("id"))
        .values_list("competency", "n")
    )
    sheets = ScoringSheet.objects.annotate(n=Count("judgements")).values_list("competency", "n", "status")
    assert sheets
    for competency, judged, _status in sheets:
        assert judged == criteria[competency]
    # A submitted sheet has every criterion judged and a conclusion.
    submitted = ScoringSheet.objects.filter(status=SheetStatus.SUBMITTED)
    assert not CriterionJudgement.objects.filter(sheet__in=submitted, judgement="").exists()
    assert not submitted.filter(conclusion="").exists()
    # One proposal per submitted sheet (one evaluator per convocation: unanimous).
    assert CommissionProposal.objects.count() == submitted.count()


def test_reference_sessions_of_the_bench_centre(seeded):
    centre = CertificationCentre.objects.get(code=BENCH_CENTRE_CODE)
    closed = DeliberationSession.objects.get(centre=centre, place=BENCH_CLOSED_PLACE)
    opened = DeliberationSession.objects.get(centre=centre, place=BENCH_OPEN_PLACE)
    assert closed.status == SessionStatus.CLOSED and opened.status == SessionStatus.OPEN
    assert closed.entries.count() == SESSION
    assert opened.entries.count() == SESSION
    # The open session is ready for the jury: proposals and signed opinions, no decision yet.
    waiting = Candidate.objects.filter(deliberation_entries__session=opened)
    assert set(waiting.values_list("status", flat=True)) == {CandidateStatus.AWAITING_DELIBERATION}
    assert not CompetencyDecision.objects.filter(session=opened).exists()
    competencies = seeded.competencies.count()
    assert CommissionProposal.objects.filter(candidate__in=waiting).count() == SESSION * competencies
    assert not CompanyOpinion.objects.filter(candidate__in=waiting, signed_at__isnull=True).exists()


def test_closed_sessions_hold_decisions_and_outcomes_by_the_award_rules(seeded):
    competencies = seeded.competencies.count()
    closed_entries = SessionCandidate.objects.filter(session__status=SessionStatus.CLOSED)
    assert closed_entries.count() == CandidateOutcome.objects.count() > 0
    assert CompetencyDecision.objects.count() == CandidateOutcome.objects.count() * competencies
    for outcome in CandidateOutcome.objects.all():
        decided = list(
            CompetencyDecision.objects.filter(
                session=outcome.session, candidate=outcome.candidate
            ).values_list("decided", flat=True)
        )
        acquired = decided.count("acquired")
        expected = (
            Result.CERTIFIED if acquired == competencies else Result.PARTIAL if acquired else Result.FAILED
        )
        assert outcome.result == expected
    deliberated = Candidate.objects.filter(status=CandidateStatus.DELIBERATED)
    assert set(deliberated.values_list("pk", flat=True)) == set(
        CandidateOutcome.objects.values_list("candidate", flat=True)
    )


def test_accounts_log_in_with_the_demo_password(seeded, client, password):
    user = User.objects.get(username=f"scale-staff-{BENCH_CENTRE_CODE.lower()}-1")
    assert user.check_password(password)
    assert list(user.centres.values_list("code", flat=True)) == [BENCH_CENTRE_CODE]


def test_new_rows_after_the_seed_get_fresh_ids(seeded):
    """Ids were allocated by the builder: the database sequences must have moved past them."""
    candidate = Candidate.objects.order_by("-pk").first()
    dossier = Dossier.objects.order_by("-pk").first()
    dossier.pk = None
    dossier.candidate = Candidate.objects.create(
        **{
            f.attname: getattr(candidate, f.attname)
            for f in Candidate._meta.concrete_fields
            if not f.primary_key and f.attname != "reference"
        },
        reference="S01-NEW-00001",
    )
    dossier.save()
    assert dossier.candidate.pk > candidate.pk


def test_if_absent_keeps_existing_data(seeded):
    call_command("seed_scale", "--centres", "1", "--candidates", "10", "--if-absent", verbosity=0)
    assert Candidate.objects.count() == CANDIDATES
    with pytest.raises(CommandError):
        call_command("seed_scale", "--centres", "1", "--candidates", "10", verbosity=0)


def test_refused_with_production_settings(settings):
    settings.DEMO_DATA_ALLOWED = False
    with pytest.raises(CommandError):
        call_command("seed_scale", "--centres", "1", "--candidates", "10", verbosity=0)
    assert not Candidate.objects.exists()
