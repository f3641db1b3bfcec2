"""Faults: an error in the middle of a multi-object change leaves nothing half-written; a broker that
cannot be reached never turns a request into a 500 (the job is marked failed and can be retried)."""

import datetime
import logging
import time

import pytest
from django.urls import reverse

from candidates.models import Candidate, CandidateStatus, CandidateStatusChange
from core.models import AuditEvent, Notification, NotificationStatus


class Boom(RuntimeError):
    """A crash that is not a business rule (database lost, bug…): it must roll everything back."""


def fail_on_call(monkeypatch, target, name, n):
    """Replace `target.name` by a wrapper that raises Boom on its n-th call (the earlier calls work)."""
    original = getattr(target, name)
    calls = {"count": 0}

    def wrapper(*args, **kwargs):
        calls["count"] += 1
        if calls["count"] == n:
            raise Boom(f"panne simulée à l'appel {n} de {name}")
        return original(*args, **kwargs)

    monkeypatch.setattr(target, name, wrapper)
    return calls


def audit_count():
    return AuditEvent.objects.count()


# --- nothing half-written ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_candidate_import_crashing_after_the_candidates_are_inserted_writes_nothing(monkeypatch):
    from candidates import services
    from tests.core.factories import CentreFactory, StaffFactory
    from tests.referential.factories import CertificationFactory

    centre = CentreFactory(code="A")
    staff = StaffFactory(centres=[centre])
    certification = CertificationFactory(code="CQPM FAULT")
    row = {
        "nom_naissance": "Martin",
        "prenoms": "Léa",
        "sexe": "F",
        "date_naissance": "01/02/1990",
        "parcours": "demandeur_emploi",
        "cqpm": certification.code,
        "consentement": "oui",
    }
    rows = [{"line": i + 2, "values": {**row, "nom_naissance": f"Martin{i}"}} for i in range(3)]
    # The bulk commit inserts the candidates, their history and dossiers, then the dossiers' items:
    # a crash at that last step must take the candidates already inserted with it.
    calls = fail_on_call(monkeypatch, services.imports, "_insert_dossier_competencies", 1)
    before = (Candidate.objects.count(), audit_count())
    with pytest.raises(Boom):
        services.import_candidates(centre=centre, rows=rows, by=staff)
    assert calls["count"] == 1
    assert (Candidate.objects.count(), audit_count()) == before
    monkeypatch.undo()
    report = services.import_candidates(centre=centre, rows=rows, by=staff)
    assert report.committed and Candidate.objects.count() == before[0] + 3  # the same file now goes through


@pytest.mark.django_db
def test_referential_import_crashing_on_the_criteria_writes_no_version(monkeypatch):
    import json

    from referential import services
    from referential.demo import SEED_FILE
    from referential.models import Block, Certification, Competency, Criterion

    data = json.loads(SEED_FILE.read_text(encoding="utf-8"))
    fail_on_call(monkeypatch, Criterion.objects, "bulk_create", 1)
    with pytest.raises(Boom):
        services.import_certification(data=data)
    assert Certification.objects.count() == Block.objects.count() == Competency.objects.count() == 0
    assert audit_count() == 0


@pytest.mark.django_db
def test_convocation_crashing_on_the_second_evaluator_leaves_no_convocation(monkeypatch):
    import evaluations.services.commissions as commissions
    from evaluations.models import Convocation, ConvocationEvaluator, ScoringSheet
    from tests.candidates.factories import CandidateFactory
    from tests.core.factories import CentreFactory, StaffFactory
    from tests.evaluations.factories import (
        CommissionFactory,
        CommissionMemberFactory,
        EvaluationSessionFactory,
    )

    centre = CentreFactory(code="A")
    staff = StaffFactory(centres=[centre])
    commission = CommissionFactory(centre=centre)
    CommissionMemberFactory(commission=commission, is_president=True)
    CommissionMemberFactory(commission=commission)
    session = EvaluationSessionFactory(commission=commission)
    candidate = CandidateFactory(centre=centre, status=CandidateStatus.DOSSIER_VALIDATED)
    fail_on_call(monkeypatch, commissions, "_create_sheets", 2)
    before = (audit_count(), CandidateStatusChange.objects.count(), Notification.objects.count())
    with pytest.raises(Boom):
        commissions.convene_candidate(
            session=session, candidate=candidate, time_slot=datetime.time(9), by=staff
        )
    assert not Convocation.objects.exists()
    assert not ConvocationEvaluator.objects.exists() and not ScoringSheet.objects.exists()
    candidate.refresh_from_db()
    assert candidate.status == CandidateStatus.DOSSIER_VALIDATED
    assert (audit_count(), CandidateStatusChange.objects.count(), Notification.objects.count()) == before


@pytest.mark.django_db
def test_closing_a_deliberation_crashing_on_the_second_candidate_changes_nothing(
    monkeypatch, django_capture_on_commit_callbacks
):
    from deliberations import services
    from deliberations.models import CapitalisedCompetency, GeneratedDocument, SessionStatus
    from tests.deliberations.factories import ready_session

    session = ready_session(n=2)
    for entry in session.entries.all():
        services.record_decisions(actor=None, session=session, candidate=entry.candidate, choices={})
    fail_on_call(monkeypatch, services, "_mark_deliberated", 2)
    before = (audit_count(), CandidateStatusChange.objects.count())
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(Boom):
        services.close_session(actor=None, session=session)
    assert callbacks == []  # no rendering task queued for a transaction that did not commit
    session.refresh_from_db()
    assert session.status != SessionStatus.CLOSED and session.closed_at is None
    assert not CapitalisedCompetency.objects.exists()
    assert not GeneratedDocument.objects.exists()
    assert set(Candidate.objects.values_list("status", flat=True)) == {CandidateStatus.AWAITING_DELIBERATION}
    assert (audit_count(), CandidateStatusChange.objects.count()) == before


# --- broker unavailable -----------------------------------------------------------------------------


@pytest.fixture
def broker_down(settings, monkeypatch):
    """Point Celery at a port where nothing listens, with eager mode off, as in production."""
    from cqpm.celery import app

    # Saved before the environment changes: Celery's broker_url reads CELERY_BROKER_URL first, and a
    # dead URL left behind kept a closed connection pool for every later test that enqueues a task.
    saved = {
        "broker_url": app.conf.broker_url,
        "task_always_eager": app.conf.task_always_eager,
        "_pool": app._pool,
        "_producer_pool": app.amqp._producer_pool,
    }
    # Celery reads CELERY_BROKER_URL from the environment before its configuration (CI sets it).
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:1/0")
    monkeypatch.delenv("CELERY_BROKER_READ_URL", raising=False)
    monkeypatch.delenv("CELERY_BROKER_WRITE_URL", raising=False)
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    app.conf.task_always_eager = False
    app._pool = None
    app.amqp._producer_pool = None
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    settings.CELERY_TASK_ALWAYS_EAGER = False
    yield app
    app.conf.broker_url = saved["broker_url"]
    app.conf.task_always_eager = saved["task_always_eager"]
    if app._pool is not None:
        app._pool.force_close_all()
    app._pool = saved["_pool"]
    app.amqp._producer_pool = saved["_producer_pool"]


@pytest.mark.django_db
def test_safe_delay_returns_none_quickly_and_logs_when_the_broker_is_down(broker_down, caplog):
    from core.services import safe_delay
    from core.tasks import probe

    started = time.monotonic()
    with caplog.at_level(logging.ERROR, logger="core.services"):
        assert safe_delay(probe, "panne") is None
    assert time.monotonic() - started < 15
    assert "Could not queue task core.tasks.probe" in caplog.text


@pytest.mark.django_db
def test_email_is_kept_in_the_outbox_when_the_broker_is_down(broker_down, django_capture_on_commit_callbacks):
    from core.services import queue_email

    with django_capture_on_commit_callbacks(execute=True):
        notification = queue_email(
            to_email="a@example.org",
            subject="Essai",
            template="deliberations_convocation",
            kind="test",
            context={},
        )
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.QUEUED  # nothing lost: a later retry sends it


@pytest.mark.django_db
def test_document_page_says_failed_and_offers_a_retry_when_the_broker_is_down(
    client, broker_down, django_capture_on_commit_callbacks
):
    from deliberations.models import DocumentStatus, GeneratedDocument
    from tests.core.factories import StaffFactory
    from tests.deliberations.factories import ready_session

    session = ready_session(n=1)
    staff = StaffFactory(centres=[session.centre])
    client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("deliberations:document_request", args=[session.pk]), {"kind": "attendance"}
        )
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert page.status_code == 200
    body = page.content.decode()
    document = GeneratedDocument.objects.get(session=session)
    assert document.status == DocumentStatus.FAILED
    assert "indisponible" in body.lower()
    retry_url = reverse("deliberations:document_retry", args=[document.pk])
    assert retry_url in body and "Relancer" in body
    # Still down: retrying answers a page again, never a 500.
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(retry_url)
    assert again.status_code in (200, 302)
    document.refresh_from_db()
    assert document.status == DocumentStatus.FAILED
