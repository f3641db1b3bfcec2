"""Dates that cannot contradict each other (issue 16): no scoring before the evaluation session's day,
and a session dated in the past only as an explicit, audited « saisie a posteriori »."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.exceptions import BusinessRuleError
from core.models import AuditEvent
from evaluations import services
from evaluations.models import CriterionJudgement, EvaluationSession, ScoringSheet
from tests.evaluations.conftest import judge_all

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


def _move_session(world, days):
    # The factory's session is two days old; the tests move it directly (the rule under test is
    # the scoring's, not the update's).
    EvaluationSession.objects.filter(pk=world.session.pk).update(date=TODAY() + datetime.timedelta(days=days))


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def test_scoring_is_refused_before_the_session_day_and_nothing_is_saved(world):
    _move_session(world, 12)
    sheet = world.sheet(world.president)
    with pytest.raises(BusinessRuleError) as refusal:
        judge_all(world, world.president, "acquired", conclusion="acquired")
    assert refusal.value.code == "before_session"
    session_day = TODAY() + datetime.timedelta(days=12)
    assert "La session d'évaluation a lieu le" in refusal.value.message
    assert str(session_day.year) in refusal.value.message
    assert "la notation s'ouvre ce jour-là. Rien n'a été enregistré." in refusal.value.message
    sheet.refresh_from_db()
    assert sheet.version == 1 and sheet.status == "draft"
    assert not CriterionJudgement.objects.filter(sheet=sheet).exists()


def test_scoring_opens_on_the_session_day(world):
    _move_session(world, 0)
    sheet = judge_all(world, world.president, "acquired", conclusion="acquired")
    assert sheet.status == "submitted"


def test_scoring_page_before_the_session_is_read_only_and_a_post_keeps_nothing(world):
    _move_session(world, 5)
    competency = world.competencies[0]
    client = _client(world.president)
    url = reverse("evaluations:score", args=[world.candidate.pk, competency.pk])
    page = client.get(url).content.decode()
    assert 'id="scoring-not-open"' in page
    assert "la notation s&#x27;ouvre ce jour-là" in page or "la notation s'ouvre ce jour-là" in page
    assert "data-autosave-url" not in page
    sheet = world.sheet(world.president)
    data = {"version": sheet.version, "conclusion": "acquired", "justification": "", "action": "submit"}
    for criterion in world.criteria():
        data[f"j-{criterion.pk}"] = "acquired"
    response = client.post(url, data)
    assert response.status_code == 400
    assert "Rien n&#x27;a été enregistré" in response.content.decode()
    sheet.refresh_from_db()
    assert sheet.status == "draft" and sheet.version == 1
    autosave = client.post(reverse("evaluations:autosave", args=[world.candidate.pk, competency.pk]), data)
    assert autosave.status_code == 400
    assert not CriterionJudgement.objects.filter(sheet=sheet).exists()


def test_a_past_session_needs_the_late_entry_reason(world):
    yesterday = TODAY() - datetime.timedelta(days=1)
    with pytest.raises(BusinessRuleError) as refusal:
        services.create_session(
            centre=world.centre, commission=world.commission, date=yesterday, place="Nancy", by=world.staff
        )
    assert refusal.value.code == "late_entry_reason"
    assert (
        "est passé : une session déjà tenue s'enregistre en « saisie a posteriori »" in refusal.value.message
    )
    assert "Indiquez-en le motif." in refusal.value.message
    session = services.create_session(
        centre=world.centre,
        commission=world.commission,
        date=yesterday,
        place="Nancy",
        by=world.staff,
        late_entry_reason="  Session tenue sur papier pendant la panne du réseau.  ",
    )
    session.refresh_from_db()
    assert session.late_entry_reason == "Session tenue sur papier pendant la panne du réseau."
    assert session.late_entry_by == world.staff and session.late_entry_at is not None
    event = AuditEvent.objects.get(action="evaluations.session_late_entry", target_id=str(session.pk))
    assert event.actor == world.staff and event.data["date"] == yesterday.isoformat()


def test_a_late_entry_reason_on_an_upcoming_session_is_refused(world):
    with pytest.raises(BusinessRuleError, match="concerne seulement une session déjà tenue"):
        services.create_session(
            centre=world.centre,
            commission=world.commission,
            date=TODAY() + datetime.timedelta(days=3),
            place="Nancy",
            by=world.staff,
            late_entry_reason="Par erreur",
        )


def test_moving_a_session_into_the_past_is_a_late_entry(world):
    with pytest.raises(BusinessRuleError, match="saisie a posteriori"):
        services.update_session(
            session=world.session, by=world.staff, date=TODAY() - datetime.timedelta(days=5), place="Nancy"
        )
    services.update_session(
        session=world.session,
        by=world.staff,
        date=TODAY() - datetime.timedelta(days=5),
        place="Nancy",
        late_entry_reason="La session a été avancée ; saisie après coup.",
    )
    world.session.refresh_from_db()
    assert world.session.late_entry_reason == "La session a été avancée ; saisie après coup."


def test_a_scored_session_cannot_be_put_off_after_its_scoring(world):
    judge_all(world, world.president, "acquired", conclusion="acquired")
    later = TODAY() + datetime.timedelta(days=4)
    with pytest.raises(BusinessRuleError) as refusal:
        services.update_session(session=world.session, by=world.staff, date=later, place="Nancy")
    assert refusal.value.code == "scored"
    assert "Des fiches de cette session sont déjà soumises" in refusal.value.message
    world.session.refresh_from_db()
    assert world.session.date == TODAY() - datetime.timedelta(days=2)


def test_session_form_puts_the_late_entry_refusal_next_to_its_field_and_keeps_the_input(world):
    client = _client(world.staff)
    count = EvaluationSession.objects.count()
    data = {
        "commission": world.commission.pk,
        "date": (TODAY() - datetime.timedelta(days=3)).isoformat(),
        "place": "Atelier 3",
    }
    response = client.post(reverse("evaluations:session_create"), data)
    assert response.status_code == 200
    form = response.context["form"]
    assert "saisie a posteriori" in " ".join(form.errors["late_entry_reason"])
    assert 'value="Atelier 3"' in response.content.decode()
    assert EvaluationSession.objects.count() == count
    data["late_entry_reason"] = "Session tenue avant l'ouverture du logiciel."
    response = client.post(reverse("evaluations:session_create"), data)
    assert response.status_code == 302
    session = EvaluationSession.objects.latest("pk")
    page = client.get(reverse("evaluations:session_detail", args=[session.pk])).content.decode()
    assert 'id="late-entry"' in page and "Session tenue avant l&#x27;ouverture du logiciel." in page


def test_sheets_of_an_upcoming_session_stay_as_they_are(world):
    _move_session(world, 1)
    assert ScoringSheet.objects.filter(candidate=world.candidate).exists()
    assert services.scoring_not_open_reason(world.sheet(world.president))
    assert not services.scoring_not_open_reason(
        world.sheet(world.president), on=TODAY() + datetime.timedelta(days=1)
    )
