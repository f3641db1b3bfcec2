import io

import pytest
from django.core.management import call_command

from referential import demo, services
from referential.models import Certification, CertificationStatus, Criterion, CriterionCategory

pytestmark = pytest.mark.django_db


def test_seed_loads_and_publishes_the_seed_referential_idempotently():
    ctx = {}
    demo.seed(ctx)
    demo.seed(ctx)
    certification = ctx["certification"]
    assert Certification.objects.count() == 1
    assert certification.status == CertificationStatus.PUBLISHED
    assert Certification.objects.in_force("CQPM-CRH") == certification
    assert certification.blocks.count() == 3 and certification.competencies.count() == 7
    for competency in certification.competencies.all():
        assert set(competency.criteria.values_list("category", flat=True)) == set(CriterionCategory.values)
        assert competency.conditions.exists() and competency.expected_results.exists()


def test_seed_keeps_a_newer_version_in_force():
    ctx = {}
    demo.seed(ctx)
    v2 = services.publish(certification=services.create_draft_from(certification=ctx["certification"]))
    demo.seed(ctx)
    assert ctx["certification"] == v2
    assert Certification.objects.count() == 2


def test_seed_demo_command_loads_the_referential(monkeypatch):
    # only the apps this one depends on: the other apps' demo data is tested with them
    monkeypatch.setattr("core.management.commands.seed_demo.DEMO_MODULES", ["core", "referential"])
    call_command("seed_demo", stdout=io.StringIO())
    certification = Certification.objects.in_force("CQPM-CRH")
    assert certification is not None
    assert Criterion.objects.filter(competency__certification=certification).count() == 104
