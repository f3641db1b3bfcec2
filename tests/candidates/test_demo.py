import pytest

from candidates import demo
from candidates.models import Candidate, CandidateDocument, CandidateStatus, Company, Pathway, Tutor
from core import demo as core_demo
from referential import demo as referential_demo


def run_seed():
    ctx = {}
    core_demo.seed(ctx)
    referential_demo.seed(ctx)
    demo.seed(ctx)
    return ctx


@pytest.mark.django_db
def test_demo_seed_is_idempotent_and_covers_the_cases():
    ctx = run_seed()
    counts = (
        Company.objects.count(),
        Tutor.objects.count(),
        Candidate.objects.count(),
        CandidateDocument.objects.count(),
    )
    run_seed()
    assert counts == (
        Company.objects.count(),
        Tutor.objects.count(),
        Candidate.objects.count(),
        CandidateDocument.objects.count(),
    )
    a, b = ctx["centres"]["A"], ctx["centres"]["B"]
    assert Candidate.objects.filter(centre=a).count() == 12
    assert Candidate.objects.filter(centre=b).count() == 3
    tutor_a = Tutor.objects.get(user=ctx["users"]["tutor-a"])
    tutor_b = Tutor.objects.get(user=ctx["users"]["tutor-b"])
    assert tutor_a.company != tutor_b.company and tutor_a.company.centre == tutor_b.company.centre == a
    in_a = Candidate.objects.filter(centre=a)
    assert {Pathway.VAE, Pathway.JOB_SEEKER, Pathway.EMPLOYEE, Pathway.APPRENTICE} <= set(
        in_a.values_list("pathway", flat=True)
    )
    assert {CandidateStatus.REGISTERED, CandidateStatus.DOSSIER_VALIDATED, CandidateStatus.WITHDRAWN} <= set(
        in_a.values_list("status", flat=True)
    )
    assert CandidateDocument.objects.filter(is_late=True).count() == 1
    assert all(c.certification == ctx["certification"] for c in Candidate.objects.all())
    assert ctx["candidates_ready"] and all(c.dossier.is_frozen for c in ctx["candidates_ready"])
    assert not any(c.dossier.company_opinion_applies for c in in_a.filter(pathway=Pathway.VAE))
