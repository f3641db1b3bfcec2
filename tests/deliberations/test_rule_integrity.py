"""Issue 22 — rule integrity, through the views as staff and the jury use them:
1. no competency acquired without a jury (the dossier form cannot say « déjà acquise »; an earlier
   deliberation is recorded with its PV, its validity computed, shown on the board);
2. the company opinion is waived only in VAE or without a company, the trail names the pathway;
3. letters and PV print the dates of the capitalisation records, per competency and bloc;
4. no award nor capitalisation anchored on a date after the day it is recorded."""

import datetime
import io

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from candidates.models import CandidateStatus, DocumentKind
from core.exceptions import BusinessRuleError
from core.models import AuditEvent
from deliberations import awards, services
from deliberations.models import (
    Attendance,
    CandidateOutcome,
    CapitalisedBlock,
    CapitalisedCompetency,
    GeneratedDocument,
    PriorDeliberation,
)
from deliberations.models import (
    DocumentKind as GeneratedKind,
)
from evaluations.models import CommissionProposal, CompanyOpinion
from referential.models import ModalityCode
from tests.candidates.factories import MINIMAL_PDF, CandidateFactory
from tests.core.factories import CentreFactory, StaffFactory
from tests.deliberations.factories import DeliberationSessionFactory, evaluated_candidate, paritary_jury
from tests.referential.factories import CertificationFactory

pytestmark = pytest.mark.django_db


def today():
    """The Paris local date the code uses (timezone.localdate, TIME_ZONE Europe/Paris)."""
    return timezone.localdate()


def pdf_text(document):
    with default_storage.open(document.file.name, "rb") as handle:
        reader = PdfReader(io.BytesIO(handle.read()))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


@pytest.fixture
def centre():
    return CentreFactory(code="A")


@pytest.fixture
def staff(centre):
    return StaffFactory(centres=[centre])


@pytest.fixture
def certification():
    return CertificationFactory(rncp_number="RNCP12345", rncp_level="4")


def comp(certification, number):
    return certification.competencies.get(number=number)


def _session(centre, certification, jury=None, date=None):
    session = DeliberationSessionFactory(
        centre=centre, certification=certification, jury=jury or paritary_jury(centre), date=date or today()
    )
    for member in session.jury.members.all():
        Attendance.objects.create(session=session, member=member, present=True)
    return session


# --- 1. Capitalisation without a jury ---------------------------------------------------------------


def test_the_dossier_form_no_longer_marks_a_competency_acquired(client, centre, staff, certification):
    """The audit's case: C1–C2 « déjà acquise » until 2099 typed for a new registration."""
    candidate = CandidateFactory(centre=centre, certification=certification, with_dossier__modalities=[])
    items = list(candidate.dossier.items.order_by("competency__number"))
    client.force_login(staff)
    url = reverse("candidates:dossier_edit", args=[candidate.pk])
    page = client.get(url).content.decode()
    assert "Déjà acquise" not in page and f"item_{items[0].pk}_acquired" not in page
    data = {
        "company_opinion_applies": "on",
        f"item_{items[2].pk}_modalities": [ModalityCode.WORKPLACE_OBSERVATION],
    }
    for item in items[:2]:
        data[f"item_{item.pk}_acquired"] = "on"  # a forged post of the old fields changes nothing
        data[f"item_{item.pk}_until"] = "2099-01-01"
    client.post(url, data)
    assert not candidate.dossier.items.filter(already_acquired=True).exists()
    response = client.post(reverse("candidates:dossier_validate", args=[candidate.pk]), follow=True)
    candidate.refresh_from_db()
    assert candidate.status == CandidateStatus.REGISTERED  # C1, C2 still need a modality
    assert "Choisissez au moins une modalité" in response.content.decode()


def _prior_post(certification, **overrides):
    data = {
        "centre_name": "UIMM Meurthe-et-Moselle",
        "deliberation_date": (today() - datetime.timedelta(days=300)).isoformat(),
        "pv_number": "PV-2025-017",
        "reason": "Candidat délibéré avant la mise en service de l'application.",
        "competencies": [comp(certification, 1).pk, comp(certification, 2).pk],
        "blocks": [certification.blocks.get(number=1).pk],
        "scanned_pv": SimpleUploadedFile("pv.pdf", MINIMAL_PDF, content_type="application/pdf"),
    }
    data.update(overrides)
    return data


def test_an_earlier_deliberation_is_recorded_with_its_pv_and_the_jury_sees_it(
    client, centre, staff, certification
):
    candidate = CandidateFactory(centre=centre, certification=certification, with_dossier__modalities=[])
    client.force_login(staff)
    detail = client.get(reverse("candidates:detail", args=[candidate.pk])).content.decode()
    url = reverse("deliberations:prior_deliberation_create", args=[candidate.pk])
    assert url in detail

    # Refused, nothing kept: a date in the future, a file that is not a PDF.
    future = (today() + datetime.timedelta(days=1)).isoformat()
    response = client.post(url, _prior_post(certification, deliberation_date=future), follow=True)
    assert "ne peut pas être postérieure" in response.content.decode()
    fake = SimpleUploadedFile("pv.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    response = client.post(url, _prior_post(certification, scanned_pv=fake))
    assert response.status_code == 200
    assert not PriorDeliberation.objects.exists() and not candidate.documents.exists()

    response = client.post(url, _prior_post(certification))
    assert response.status_code == 302
    prior = PriorDeliberation.objects.get()
    held_on = today() - datetime.timedelta(days=300)
    assert (prior.deliberation_date, prior.pv_number, prior.recorded_by) == (held_on, "PV-2025-017", staff)
    assert prior.document.kind == DocumentKind.PRIOR_PV and prior.document_sha256 == prior.document.sha256
    # validity computed by the rules from the date, never typed
    assert set(CapitalisedCompetency.objects.filter(prior=prior).values_list("valid_until", flat=True)) == {
        awards.add_months(held_on, 24)
    }
    assert CapitalisedBlock.objects.get(prior=prior).valid_until == awards.add_years(held_on, 5)
    assert AuditEvent.objects.filter(action="deliberations.prior_deliberation_recorded").count() == 1
    items = {i.competency.number: i for i in candidate.dossier.items.select_related("competency")}
    assert items[1].already_acquired and items[2].already_acquired and not items[3].already_acquired

    # Evaluated on C3 only, then before the jury: the board says which deliberation holds C1, C2.
    candidate.dossier.items.filter(competency__number=3).update(
        modalities=[ModalityCode.WORKPLACE_OBSERVATION]
    )
    candidate.dossier.validated_at = timezone.now()
    candidate.dossier.save()
    CandidateFactory._meta.model.objects.filter(pk=candidate.pk).update(
        status=CandidateStatus.AWAITING_DELIBERATION
    )
    candidate.refresh_from_db()
    c3 = comp(certification, 3)
    CommissionProposal.objects.create(candidate=candidate, competency=c3, conclusion="acquired")
    CompanyOpinion.objects.create(
        candidate=candidate,
        competency=c3,
        tutor=candidate.tutor,
        opinion="favourable",
        signed_at=timezone.now(),
    )
    session = _session(centre, certification)
    services.add_candidates(actor=staff, session=session, candidates=[candidate])
    board = client.get(reverse("deliberations:session_detail", args=[session.pk])).content.decode()
    label = f"par délibération du {held_on:%d/%m/%Y} (PV n° PV-2025-017, UIMM Meurthe-et-Moselle)"
    assert label in board
    decide = client.get(reverse("deliberations:candidate_decide", args=[session.pk, candidate.pk]))
    assert label in decide.content.decode()
    assert "au titre du bloc 1" in decide.content.decode()


def test_other_roles_and_centres_cannot_record_an_earlier_deliberation(client, centre, certification):
    candidate = CandidateFactory(centre=centre, certification=certification)
    url = reverse("deliberations:prior_deliberation_create", args=[candidate.pk])
    client.force_login(StaffFactory(centres=[CentreFactory(code="B")]))
    assert client.post(url, _prior_post(certification)).status_code == 404
    assert not PriorDeliberation.objects.exists()


# --- 2. The company opinion waived for an employee -------------------------------------------------


def test_the_opinion_cannot_be_waived_for_an_employee_and_the_trail_names_the_pathway(
    client, centre, staff, certification
):
    employee = CandidateFactory(centre=centre, certification=certification, with_dossier__modalities=[])
    client.force_login(staff)
    items = list(employee.dossier.items.all())
    data = {f"item_{i.pk}_modalities": [ModalityCode.WORKPLACE_OBSERVATION] for i in items}  # box unticked
    response = client.post(reverse("candidates:dossier_edit", args=[employee.pk]), data)
    assert "requis pour ce candidat" in response.content.decode()
    employee.dossier.refresh_from_db()
    assert employee.dossier.company_opinion_applies is True

    # A job seeker without company: commission only, and the trail says so — not « VAE ».
    session = _session(centre, certification)
    seeker = evaluated_candidate(centre, certification, job_seeker=True)
    services.add_candidates(actor=staff, session=session, candidates=[seeker])
    outcome = services.record_decisions(actor=staff, session=session, candidate=seeker, choices={})
    decision = outcome.candidate.competency_decisions.first()
    assert decision.explanation["rule"] == awards.RULE_NO_COMPANY_COMMISSION
    assert decision.explanation["is_vae"] is False and decision.explanation["pathway"] == "job_seeker"
    assert "VAE" not in decision.explanation["rule_label"]


def test_an_employee_whose_dossier_waived_the_opinion_is_not_decided_without_it(centre, staff, certification):
    session = _session(centre, certification)
    employee = evaluated_candidate(centre, certification, opinions=dict.fromkeys((1, 2, 3)))
    employee.dossier.company_opinion_applies = False  # as the audit found it in the data
    employee.dossier.save()
    services.add_candidates(actor=staff, session=session, candidates=[employee])
    with pytest.raises(Exception, match="Avis de l'entreprise manquant"):
        services.record_decisions(actor=staff, session=session, candidate=employee, choices={})


# --- 3. True dates on letters -----------------------------------------------------------------------


def test_letter_and_pv_print_each_records_date_and_what_holds_it(
    centre, staff, django_capture_on_commit_callbacks
):
    """The audit's case on the small CQPM (bloc 1 = C1, C2; bloc 2 = C3): a first jury 600 days
    ago validates C1 and C3 (so bloc 2), not C2; the same person comes back and today's jury again
    does not validate C2. The letter used to print today + 24 months for C1 and C3; C1 really ends
    24 months after the first jury, C3 is held through bloc 2 for 5 years."""
    certification = CertificationFactory(rncp_number="RNCP12345", rncp_level="4")
    jury = paritary_jury(centre)
    first_day = today() - datetime.timedelta(days=600)
    first = evaluated_candidate(centre, certification, job_seeker=True, conclusions={2: "not_acquired"})
    first_session = _session(centre, certification, jury, date=first_day)
    services.add_candidates(actor=staff, session=first_session, candidates=[first])
    services.record_decisions(actor=staff, session=first_session, candidate=first, choices={})
    with django_capture_on_commit_callbacks(execute=True):
        services.close_session(actor=staff, session=first_session)
    c1_until, bloc2_until = awards.add_months(first_day, 24), awards.add_years(first_day, 5)

    second = evaluated_candidate(
        centre, certification, job_seeker=True, conclusions={2: "not_acquired"}, previous_attempt=first
    )
    session = _session(centre, certification, jury)
    services.add_candidates(actor=staff, session=session, candidates=[second])
    outcome = services.record_decisions(actor=staff, session=session, candidate=second, choices={})
    assert outcome.result == "partial"
    assert outcome.explanation["capitalise"]["competencies"] == {}  # nothing re-dated from today
    with django_capture_on_commit_callbacks(execute=True):
        services.close_session(actor=staff, session=session)
    assert not CapitalisedCompetency.objects.filter(candidate=second).exists()

    letter = GeneratedDocument.objects.get(session=session, candidate=second, kind=GeneratedKind.LETTER)
    text = pdf_text(letter)
    wrong = awards.add_months(today(), 24)
    assert f"{wrong:%d/%m/%Y}" not in text
    assert f"{c1_until:%d/%m/%Y}" in text
    assert f"{bloc2_until:%d/%m/%Y} au titre du bloc 2" in text
    pv = GeneratedDocument.objects.get(session=session, kind=GeneratedKind.PV, is_current=True)
    text = pdf_text(pv)
    assert f"{wrong:%d/%m/%Y}" not in text
    assert f"C1 : {c1_until:%d/%m/%Y}" in text and f"C3 : {bloc2_until:%d/%m/%Y} (bloc 2)" in text


def test_after_its_own_months_a_competency_is_held_through_its_bloc_and_labelled_so(centre, staff):
    certification = CertificationFactory(rncp_number="RNCP12345", rncp_level="4")
    jury = paritary_jury(centre)
    first_day = today() - datetime.timedelta(days=800)  # C1's own 24 months are over, bloc 1's 5 years not
    first = evaluated_candidate(centre, certification, job_seeker=True, conclusions={3: "not_acquired"})
    first_session = _session(centre, certification, jury, date=first_day)
    services.add_candidates(actor=staff, session=first_session, candidates=[first])
    services.record_decisions(actor=staff, session=first_session, candidate=first, choices={})
    services.close_session(actor=staff, session=first_session)
    second = evaluated_candidate(centre, certification, job_seeker=True, previous_attempt=first)
    session = _session(centre, certification, jury)
    services.add_candidates(actor=staff, session=session, candidates=[second])
    outcome = services.record_decisions(actor=staff, session=session, candidate=second, choices={})
    decision = outcome.candidate.competency_decisions.get(session=session, competency__number=1)
    assert decision.explanation["rule"] == awards.RULE_CAPITALISED_BLOCK
    assert decision.explanation["capitalised_block"] == 1
    assert decision.explanation["capitalised_until"] == awards.add_years(first_day, 5).isoformat()


# --- 4. Decided before the date ---------------------------------------------------------------------


def test_no_decision_nor_capitalisation_is_anchored_on_a_later_date(client, centre, staff, certification):
    later = today() + datetime.timedelta(days=20)
    session = _session(centre, certification, date=later)
    candidate = evaluated_candidate(centre, certification)
    services.add_candidates(actor=staff, session=session, candidates=[candidate])
    client.force_login(staff)
    url = reverse("deliberations:candidate_decide", args=[session.pk, candidate.pk])
    data = {f"decided_{c.pk}": "acquired" for c in certification.competencies.all()}
    response = client.post(url, data, follow=True)
    # refused by the page's date rule first (issue 16), and by the award rule below it (issue 22)
    assert "s&#x27;enregistrent à partir de ce jour" in response.content.decode()
    assert not CandidateOutcome.objects.exists()
    # Even with an outcome recorded (e.g. the date changed afterwards), closing does not anchor the
    # capitalisation in the future.
    session.date = today()
    session.save()
    services.record_decisions(actor=staff, session=session, candidate=candidate, choices={})
    session.date = later
    session.save()
    with pytest.raises(BusinessRuleError, match="s'enregistrent à partir de ce jour"):
        services.close_session(actor=staff, session=session)  # the page's date rule (issue 16)
    # and beneath it, the capitalisation itself refuses a date after the day it is written
    outcome = CandidateOutcome.objects.get(session=session, candidate=candidate)
    with pytest.raises(BusinessRuleError, match="postérieure au jour de son enregistrement"):
        services._capitalise(session, outcome)
    assert not CapitalisedCompetency.objects.exists()


# --- Convocation notices (decided in docs/deliberations.md) ------------------------------------------


def test_a_jury_whose_employees_college_was_never_convened_cannot_close(client, centre, staff, certification):
    session = _session(centre, certification)
    session.members_notified_on = None
    session.save()
    candidate = evaluated_candidate(centre, certification)
    services.add_candidates(actor=staff, session=session, candidates=[candidate])
    services.record_decisions(actor=staff, session=session, candidate=candidate, choices={})
    client.force_login(staff)
    response = client.post(reverse("deliberations:session_close", args=[session.pk]), follow=True)
    assert "convocation des membres salariés n&#x27;est pas enregistrée" in response.content.decode()
    session.refresh_from_db()
    assert not session.is_closed
    with pytest.raises(Exception, match="après la délibération"):
        services.record_convocations(
            actor=staff, session=session, members_notified_on=session.date + datetime.timedelta(days=1)
        )


def test_a_late_notice_is_printed_on_the_pv_and_does_not_block_a_paritary_jury(
    centre, staff, certification, django_capture_on_commit_callbacks
):
    session = _session(centre, certification)
    services.record_convocations(
        actor=staff,
        session=session,
        unions_asked_on=session.date,
        members_notified_on=session.date,
        notify=False,
    )
    candidate = evaluated_candidate(centre, certification)
    services.add_candidates(actor=staff, session=session, candidates=[candidate])
    services.record_decisions(actor=staff, session=session, candidate=candidate, choices={})
    with django_capture_on_commit_callbacks(execute=True):
        services.close_session(actor=staff, session=session)
    pv = GeneratedDocument.objects.get(session=session, kind=GeneratedKind.PV, is_current=True)
    text = pdf_text(pv)
    assert "Convocation tardive" in text
    assert f"Membres salariés convoqués le {session.date:%d/%m/%Y}" in text


# --- The data migration of dossiers typed « déjà acquise » before the rule --------------------------


def test_the_migration_clears_unbacked_acquisitions_and_restores_the_company_opinion(centre, certification):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("deliberations.migrations.0003_rules_prior_deliberation")
    typed = CandidateFactory(centre=centre, certification=certification)
    typed.dossier.items.update(already_acquired=True, acquired_until=datetime.date(2099, 1, 1))
    typed.dossier.company_opinion_applies = False
    typed.dossier.save()
    backed = evaluated_candidate(centre, certification, job_seeker=True)
    session = _session(centre, certification, date=today() - datetime.timedelta(days=30))
    CapitalisedCompetency.objects.create(
        candidate=backed,
        competency=comp(certification, 1),
        session=session,
        acquired_on=session.date,
        valid_until=awards.add_months(session.date, 24),
    )
    backed.dossier.items.filter(competency__number=1).update(already_acquired=True)

    migration.back_or_clear_acquired_items(apps, None)
    migration.require_company_opinion(apps, None)

    assert not typed.dossier.items.filter(already_acquired=True).exists()
    assert list(
        backed.dossier.items.filter(already_acquired=True).values_list("competency__number", flat=True)
    ) == [1]
    typed.dossier.refresh_from_db()
    assert typed.dossier.company_opinion_applies is True
    actions = set(AuditEvent.objects.filter(target_id=str(typed.pk)).values_list("action", flat=True))
    assert {"dossier.unbacked_acquisition_cleared", "dossier.company_opinion_restored"} <= actions
