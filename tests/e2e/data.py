"""Bring a candidate to the jury through the services, for journeys whose subject comes after scoring.

The full journey (test_journey.py) does every step in the browser; the result journeys reuse the same
services the pages call, so that their browser time goes to what they are about (the jury's decisions,
the documents). Every object is committed: the live server and the worker see it.
"""

from datetime import date, timedelta

from django.utils import timezone

from candidates import services as candidate_services
from candidates.models import Candidate
from core.models import CertificationCentre, User
from evaluations import services as evaluation_services
from evaluations.models import Commission, ScoringSheet
from referential.models import Certification


def register(*, birth_name, first_names, pathway):
    staff = User.objects.get(username="staff-a")
    return candidate_services.register_candidate(
        centre=CertificationCentre.objects.get(code="A"),
        certification=Certification.objects.filter(code="CQPM-CRH", status="published").get(),
        by=staff,
        birth_name=birth_name,
        first_names=first_names,
        sex="M",
        birth_date=date(1990, 2, 3),
        pathway=pathway,
        email=f"{birth_name.lower()}@example.org",
    )


def validate_dossier(candidate):
    staff = User.objects.get(username="staff-a")
    dossier = candidate.dossier
    items = {item.pk: {"modalities": ["workplace_observation"]} for item in dossier.items.all()}
    candidate_services.update_dossier(
        dossier=dossier, by=staff, report_due_date=None, company_opinion_applies=False, items=items
    )
    candidate_services.validate_dossier(dossier=dossier, by=staff)


def convene_and_score(candidate, *, acquired_numbers):
    """Convene to a new session of commission « Nancy 1 » with evaluator-a alone, who submits every sheet:
    competencies in `acquired_numbers` acquired, the others not acquired (criteria judged the same way)."""
    staff = User.objects.get(username="staff-a")
    evaluator = User.objects.get(username="evaluator-a")
    commission = Commission.objects.get(name="Commission RH — Nancy 1")
    session = evaluation_services.create_session(
        centre=candidate.centre,
        commission=commission,
        date=timezone.localdate() - timedelta(days=7),
        by=staff,
        place="Atelier pédagogique",
        late_entry_reason="Session de test tenue la semaine passée, saisie après coup.",
    )
    evaluation_services.convene_candidate(
        session=session,
        candidate=candidate,
        time_slot=timezone.now().time().replace(microsecond=0),
        by=staff,
        evaluators=[evaluator],
    )
    sheets = ScoringSheet.objects.filter(candidate=candidate, evaluator=evaluator).select_related(
        "competency"
    )
    for sheet in sheets:
        acquired = sheet.competency.number in acquired_numbers
        value = "acquired" if acquired else "not_acquired"
        evaluation_services.save_sheet(
            sheet=sheet,
            by=evaluator,
            expected_version=sheet.version,
            judgements={criterion.pk: (value, "") for criterion in sheet.competency.criteria.all()},
            conclusion=value,
            justification="" if acquired else "Critères non satisfaits lors de l'observation.",
            submit=True,
        )
    candidate = Candidate.objects.get(pk=candidate.pk)
    assert candidate.status == "awaiting_deliberation", candidate.status
    return candidate
