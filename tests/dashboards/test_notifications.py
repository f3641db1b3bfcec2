import datetime
import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from candidates.models import CandidateStatus
from core.dates import today  # the Paris date the code compares with, read when each test runs
from core.models import Notification, NotificationStatus, Role
from core.notifications import requeue_stuck_notifications
from deliberations import documents
from deliberations.models import DocumentKind, DocumentStatus, GeneratedDocument
from evaluations import services as evaluation_services
from evaluations.notifications import send_scoring_reminders
from tests.candidates.factories import CandidateFactory
from tests.core.factories import CentreFactory, StaffFactory, UserFactory
from tests.evaluations.factories import (
    CommissionFactory,
    CommissionMemberFactory,
    ConvocationFactory,
    EvaluationSessionFactory,
    ScoringSheetFactory,
)
from tests.referential.factories import CertificationFactory
from tests.reporting.builders import deliberated

ENGLISH = re.compile(r"\b(the|your|please|dear|hello|regards)\b", re.I)


def assert_french(message):
    text = message.subject + "\n" + message.body
    assert not ENGLISH.search(text), text
    assert "Bonjour" in message.body and "Cordialement" in message.body
    html = message.alternatives[0][0] if message.alternatives else ""
    assert '<html lang="fr">' in html


@pytest.fixture
def commission(db):
    centre = CentreFactory(code="N", name="UIMM Nord")
    commission = CommissionFactory(centre=centre)
    first = CommissionMemberFactory(commission=commission, is_president=True)
    second = CommissionMemberFactory(commission=commission)
    return commission, [first.user, second.user]


def test_convening_a_candidate_emails_each_assigned_evaluator_in_french(
    commission, django_capture_on_commit_callbacks
):
    commission, evaluators = commission
    centre = commission.centre
    staff = StaffFactory(centres=[centre])
    session = EvaluationSessionFactory(commission=commission, date=today() + datetime.timedelta(days=12))
    candidate = CandidateFactory(centre=centre, status=CandidateStatus.DOSSIER_VALIDATED)
    with django_capture_on_commit_callbacks(execute=True):
        evaluation_services.convene_candidate(
            session=session, candidate=candidate, time_slot=datetime.time(9, 30), by=staff
        )
    assignment_mails = [m for m in mail.outbox if m.subject.startswith("Nouveau candidat à évaluer")]
    assert sorted(m.to[0] for m in assignment_mails) == sorted(u.email for u in evaluators)
    message = assignment_mails[0]
    assert_french(message)
    assert candidate.reference in message.body
    assert "9h30" in message.body
    assert candidate.birth_name not in message.subject
    deadline = session.date + datetime.timedelta(days=7)
    from core.dates import long_date

    assert f"au plus tard le {long_date(deadline)}" in message.body  # « mardi 22 décembre 2026 »
    assert "http://testserver" not in message.body and reverse("evaluations:to_score") in message.body
    rows = Notification.objects.filter(kind="core.evaluator_assignment")
    assert {n.recipient for n in rows} == set(evaluators)
    assert all(n.status == NotificationStatus.SENT for n in rows)


def test_adding_an_evaluator_later_emails_only_him(commission, django_capture_on_commit_callbacks):
    commission, (first, second) = commission
    staff = StaffFactory(centres=[commission.centre])
    session = EvaluationSessionFactory(commission=commission)
    candidate = CandidateFactory(centre=commission.centre, status=CandidateStatus.DOSSIER_VALIDATED)
    with django_capture_on_commit_callbacks(execute=True):
        convocation = evaluation_services.convene_candidate(
            session=session, candidate=candidate, time_slot=datetime.time(10), by=staff, evaluators=[first]
        )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        evaluation_services.assign_evaluator(convocation=convocation, user=second, by=staff)
    assert [m.to for m in mail.outbox] == [[second.email]]


@pytest.fixture
def scoring(db):
    centre = CentreFactory(code="S")
    commission = CommissionFactory(centre=centre)
    evaluator = CommissionMemberFactory(commission=commission).user
    idle = CommissionMemberFactory(commission=commission).user
    cqpm = CertificationFactory()
    past = EvaluationSessionFactory(commission=commission, date=today() - datetime.timedelta(days=9))
    future = EvaluationSessionFactory(commission=commission, date=today() + datetime.timedelta(days=9))
    comps = list(cqpm.competencies.all())

    def convened(session, evaluator, submitted):
        candidate = CandidateFactory(centre=centre, certification=cqpm, status=CandidateStatus.IN_EVALUATION)
        convocation = ConvocationFactory(session=session, candidate=candidate, evaluators=[evaluator])
        for index, competency in enumerate(comps):
            ScoringSheetFactory(
                candidate=candidate,
                competency=competency,
                evaluator=evaluator,
                convocation=convocation,
                submitted=index < submitted,
            )
        return candidate

    late = convened(past, evaluator, 1)
    convened(future, evaluator, 0)  # evaluation not held yet: no reminder
    convened(past, idle, 3)  # everything submitted
    return {"evaluator": evaluator, "late": late}


def test_scoring_reminder_is_one_french_digest_per_evaluator_and_idempotent(
    scoring, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert send_scoring_reminders(today=today()) == 1
    [message] = mail.outbox
    assert message.to == [scoring["evaluator"].email]
    assert message.subject == "Rappel : fiches d'évaluation à soumettre"
    assert_french(message)
    assert "Il vous reste 2 fiches d'évaluation à soumettre" in message.body
    assert scoring["late"].reference in message.body and "EN RETARD" in message.body
    with django_capture_on_commit_callbacks(execute=True):
        assert send_scoring_reminders(today=today()) == 0
    assert len(mail.outbox) == 1


def test_scoring_reminder_comes_back_after_the_interval(scoring, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        send_scoring_reminders(today=today())
        later = today() + datetime.timedelta(days=3)
        assert send_scoring_reminders(today=later) == 1
    assert len(mail.outbox) == 2


def test_scoring_reminders_task_is_scheduled_by_beat(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {
        "evaluations.tasks.send_scoring_reminders",
        "core.tasks.requeue_stuck_notifications",
        "evaluations.tasks.send_opinion_reminders",
    } <= tasks
    from cqpm.celery import app

    app.loader.import_default_modules()
    assert tasks <= set(app.tasks)


def letter(outcome, publish=True, **kwargs):
    """A result letter as the document production makes it: queued, then published (the e-mail is
    sent by the publication, `deliberations.documents.production._publish`)."""
    values = {
        "kind": DocumentKind.LETTER,
        "session": outcome.session,
        "candidate": outcome.candidate,
        "number": f"LR-A-2026-{outcome.pk:010d}",
        "status": DocumentStatus.RENDERING,
        "is_current": False,
    }
    values.update(kwargs)
    document = GeneratedDocument.objects.create(**values)
    if not publish:
        return document
    return documents.production._publish(document, f"documents/tests/{document.pk}-1.pdf", b"%PDF-1.7 test")


def test_result_letter_available_emails_the_candidate_without_the_result(
    db, django_capture_on_commit_callbacks
):
    centre = CentreFactory(code="R", name="UIMM Sud", address="1 rue A", postcode="13000", city="Marseille")
    outcome = deliberated(centre, CertificationFactory(), issued=today())
    with django_capture_on_commit_callbacks(execute=True):
        document = letter(outcome)
    [message] = mail.outbox
    assert message.to == [outcome.candidate.email]
    assert message.subject == "Votre lettre de résultat CQPM est disponible"
    assert_french(message)
    assert document.number in message.body and outcome.candidate.reference in message.body
    assert "attribué" not in message.body.lower()
    with django_capture_on_commit_callbacks(execute=True):
        documents.production._publish(
            document, f"documents/tests/{document.pk}-2.pdf", b"%PDF"
        )  # a retried task
    assert len(mail.outbox) == 1


@pytest.mark.parametrize("overrides", [{"publish": False}, {"kind": DocumentKind.CERTIFICATE}])
def test_no_letter_email_before_the_letter_is_ready_or_for_other_documents(
    db, overrides, django_capture_on_commit_callbacks
):
    outcome = deliberated(CentreFactory(), CertificationFactory(), issued=today())
    with django_capture_on_commit_callbacks(execute=True):
        letter(outcome, **overrides)
    assert mail.outbox == []


def test_stuck_notifications_are_queued_again(db, django_capture_on_commit_callbacks):
    old = Notification.objects.create(to_email="a@example.test", subject="Objet", body_text="Texte", kind="x")
    Notification.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(hours=1))
    Notification.objects.create(to_email="b@example.test", subject="Objet", body_text="Texte", kind="x")
    assert requeue_stuck_notifications() == 1
    assert mail.outbox[0].to == ["a@example.test"]
    old.refresh_from_db()
    assert old.status == NotificationStatus.SENT


# --- "Mes messages" --------------------------------------------------------------------------------


def test_my_messages_lists_only_my_notifications(db, client):
    me = UserFactory(role=Role.EVALUATOR)
    other = UserFactory(role=Role.EVALUATOR)
    Notification.objects.create(
        recipient=me, to_email=me.email, subject="Pour moi", body_text="Texte", kind="core.scoring_reminder"
    )
    Notification.objects.create(
        recipient=other, to_email=other.email, subject="Pour un autre", body_text="x", kind="x"
    )
    client.force_login(me)
    body = client.get(reverse("core:notifications")).content.decode()
    assert "Pour moi" in body and "Pour un autre" not in body
    assert "Rappel : fiches d&#x27;évaluation à soumettre" in body


@pytest.mark.worker
def test_a_real_worker_sends_the_assignment_email(celery_worker_process, transactional_db):
    import time

    centre = CentreFactory(code="W")
    commission = CommissionFactory(centre=centre)
    evaluator = CommissionMemberFactory(commission=commission).user
    session = EvaluationSessionFactory(commission=commission)
    # The service that assigns him sends the e-mail (committed: autocommit here).
    convocation = ConvocationFactory(session=session, evaluators=[])
    staff = StaffFactory(centres=[centre])
    evaluation_services.assign_evaluator(convocation=convocation, user=evaluator, by=staff)
    notification = Notification.objects.get(kind="core.evaluator_assignment")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        notification.refresh_from_db()
        if notification.status == NotificationStatus.SENT:
            break
        time.sleep(0.5)
    assert notification.status == NotificationStatus.SENT
    assert notification.to_email == evaluator.email and notification.recipient == evaluator
    assert notification.subject.startswith("Nouveau candidat à évaluer")


@pytest.mark.parametrize("n", [5, 50])
def test_my_messages_query_count_and_pagination(db, client, django_assert_max_num_queries, n):
    me = UserFactory(role=Role.TUTOR)
    for index in range(n):
        Notification.objects.create(
            recipient=me, to_email=me.email, subject=f"Message {index}", body_text="T", kind="x"
        )
    client.force_login(me)
    with django_assert_max_num_queries(6):
        response = client.get(reverse("core:notifications"))
    assert len(response.context["notifications"]) == min(n, 20)
    assert ("Page 1 sur 3" in response.content.decode()) == (n == 50)


def test_my_messages_export(db, client):
    import io

    from openpyxl import load_workbook

    me = UserFactory(role=Role.TUTOR)
    Notification.objects.create(recipient=me, to_email=me.email, subject="=cmd()", body_text="T", kind="x")
    client.force_login(me)
    response = client.get(reverse("core:notifications"), {"export": "xlsx"})
    rows = [[c.value for c in r] for r in load_workbook(io.BytesIO(response.content)).active.iter_rows()]
    assert rows[0][:3] == ["Date", "Type", "Objet"]
    assert rows[1][1:3] == ["Message", "'=cmd()"]


def test_my_messages_are_new_once_and_the_dashboard_says_how_many(db, client):
    """A message is « nouveau » the first time « Mes messages » shows it; the home page counts the ones
    not seen yet and lists the newest; another user's messages are neither shown nor marked."""
    me = UserFactory(role=Role.TUTOR)
    other = UserFactory(role=Role.TUTOR)
    for index in range(25):
        Notification.objects.create(
            recipient=me, to_email=me.email, subject=f"Message {index:02d}", body_text="T", kind="x"
        )
    theirs = Notification.objects.create(
        recipient=other, to_email=other.email, subject="Pour un autre", body_text="T", kind="x"
    )
    client.force_login(me)
    home = client.get(reverse("home"))
    widget = next(w for w in home.context["widgets"] if w.key == "new_messages")
    assert widget.count == 25 and [item.label for item in widget.items][:2] == ["Message 24", "Message 23"]
    assert len(widget.items) == 8 and widget.hidden_count == 17

    first = client.get(reverse("core:notifications"))
    assert [n.is_new for n in first.context["notifications"]] == [True] * 20
    assert first.content.decode().count(">Nouveau</span>") == 20
    again = client.get(reverse("core:notifications"))
    assert not any(n.is_new for n in again.context["notifications"])
    # the second page was not shown yet: its 5 messages are still new, and the home page says so
    widget = next(w for w in client.get(reverse("home")).context["widgets"] if w.key == "new_messages")
    assert widget.count == 5 and widget.items[0].label == "Message 04"
    assert all(
        n.is_new for n in client.get(reverse("core:notifications"), {"page": 2}).context["notifications"]
    )
    assert not [w for w in client.get(reverse("home")).context["widgets"] if w.key == "new_messages"]
    theirs.refresh_from_db()
    assert theirs.read_at is None
