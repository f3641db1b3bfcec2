"""Capitalisation at re-registration (issue 6), end to end at service level: a first attempt with a
partial result, its deliberation closed, the same person registered again for the same CQPM — the
dossier starts with the capitalised competencies acquired, only the rest is evaluated, the award
rules count them and the PV says so."""

import datetime
import io

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone
from pypdf import PdfReader

from candidates import services as candidate_services
from candidates.models import CandidateStatus, Pathway
from candidates.services import DuplicateCandidateError
from core.models import AuditEvent
from deliberations import selectors, services
from deliberations.models import Attendance, DocumentKind, GeneratedDocument, SessionStatus
from evaluations.models import CommissionProposal
from evaluations.selectors import scored_competencies
from referential.models import ModalityCode
from tests.core.factories import StaffFactory
from tests.deliberations.factories import DeliberationSessionFactory, ready_session
from tests.referential.factories import CertificationFactory

pytestmark = pytest.mark.django_db


def comp(certification, number):
    return certification.competencies.get(number=number)


def first_attempt(capture, *, close=True):
    """A job seeker (commission proposals only) whose jury did not validate competency 3."""
    # 60 days ago: the second attempt's deliberation is today (no decision before its day)
    session = ready_session(n=1, job_seeker=True, date=timezone.localdate() - datetime.timedelta(days=60))
    first = session.entries.get().candidate
    c3 = comp(session.certification, 3)
    services.record_decisions(
        actor=None, session=session, candidate=first, choices={c3.pk: ("not_acquired", "Non démontré.")}
    )
    if close:
        with capture(execute=True):
            services.close_session(actor=None, session=session)
    session.refresh_from_db()
    first.refresh_from_db()
    return session, first


def register_again(first, staff, *, certification=None, **extra):
    return candidate_services.register_candidate(
        centre=first.centre,
        certification=certification or first.certification,
        by=staff,
        birth_name=f"  {first.birth_name.upper()} ",  # the duplicate detection ignores case and spacing
        first_names=first.first_names,
        sex=first.sex,
        birth_date=first.birth_date,
        pathway=Pathway.JOB_SEEKER,
        **extra,
    )


def pdf_text(document):
    with default_storage.open(document.file.name, "rb") as handle:
        reader = PdfReader(io.BytesIO(handle.read()))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_reregistration_starts_with_capitalised_items_evaluates_the_rest_and_the_pv_says_so(
    django_capture_on_commit_callbacks,
):
    session, first = first_attempt(django_capture_on_commit_callbacks)
    assert session.status == SessionStatus.CLOSED and first.status == CandidateStatus.DELIBERATED
    certification = session.certification
    c1, c2, c3 = (comp(certification, n) for n in (1, 2, 3))
    staff = StaffFactory(centres=[first.centre])

    # Registration: no duplicate error, the previous attempt is linked, the dossier is marked.
    second = register_again(first, staff)
    assert second.previous_attempt_id == first.pk
    items = {i.competency.number: i for i in second.dossier.items.select_related("competency")}
    bloc_until = session.date.replace(year=session.date.year + 5)  # competencies 1, 2 through bloc 1
    for number in (1, 2):
        assert items[number].already_acquired
        assert items[number].acquired_on == session.date
        assert items[number].acquired_until == bloc_until
    assert not items[3].already_acquired and items[3].acquired_on is None and items[3].acquired_until is None
    assert AuditEvent.objects.filter(action="deliberations.capitalisation_applied").count() == 1

    # Only competency 3 is to evaluate: the dossier needs a modality for it alone, the commission
    # scores it alone.
    candidate_services.update_dossier(
        dossier=second.dossier,
        by=staff,
        report_due_date=None,
        company_opinion_applies=False,
        items={
            items[3].pk: {"modalities": [ModalityCode.WORKPLACE_OBSERVATION]},
            items[1].pk: {"modalities": []},
            items[2].pk: {"modalities": []},
        },
    )
    candidate_services.validate_dossier(dossier=second.dossier, by=staff)
    assert list(scored_competencies(second)) == [c3]
    candidate_services.start_evaluation(candidate=second, by=staff)
    CommissionProposal.objects.create(candidate=second, competency=c3, conclusion="acquired")
    candidate_services.mark_awaiting_deliberation(candidate=second, by=staff)

    # Second deliberation: complete without proposals for 1 and 2; the award rules count them.
    later = DeliberationSessionFactory(
        centre=session.centre,
        certification=certification,
        jury=session.jury,
        date=session.date + datetime.timedelta(days=60),
    )
    for member in later.jury.members.all():
        Attendance.objects.create(session=later, member=member, present=True)
    services.add_candidates(actor=None, session=later, candidates=[second])
    row = selectors.board_row(later, second.pk)
    assert row.is_complete, row.anomalies
    assert {row.proposals[c.pk].rule for c in (c1, c2)} <= {"capitalised_competency", "capitalised_block"}
    assert all(row.proposals[c.pk].capitalised for c in (c1, c2))
    outcome = services.record_decisions(actor=None, session=later, candidate=second, choices={})
    assert outcome.result == "certified"
    assert outcome.explanation["capitalised_before"] == [1, 2]
    with django_capture_on_commit_callbacks(execute=True):
        services.close_session(actor=None, session=later)

    pv = GeneratedDocument.objects.get(session=later, kind=DocumentKind.PV, is_current=True)
    text = " ".join(pdf_text(pv).split())
    assert second.reference in text
    assert "Compétences capitalisées lors d'une délibération antérieure et prises en compte : 1, 2" in text


def test_an_open_first_attempt_is_still_a_duplicate_and_nothing_is_linked(django_capture_on_commit_callbacks):
    _session, first = first_attempt(django_capture_on_commit_callbacks, close=False)
    staff = StaffFactory(centres=[first.centre])
    with pytest.raises(DuplicateCandidateError) as error:
        register_again(first, staff)
    assert [d.pk for d in error.value.duplicates] == [first.pk]
    forced = register_again(first, staff, confirm_duplicate=True)
    assert forced.previous_attempt_id is None
    assert not forced.dossier.items.filter(already_acquired=True).exists()


def test_another_cqpm_is_not_a_new_attempt(django_capture_on_commit_callbacks):
    _session, first = first_attempt(django_capture_on_commit_callbacks)
    staff = StaffFactory(centres=[first.centre])
    other = CertificationFactory(code="CQPM AUTRE")
    with pytest.raises(DuplicateCandidateError):
        register_again(first, staff, certification=other)
    forced = register_again(first, staff, certification=other, confirm_duplicate=True)
    assert forced.previous_attempt_id is None
    assert not forced.dossier.items.filter(already_acquired=True).exists()


def test_expired_capitalisation_links_the_attempt_but_marks_nothing(django_capture_on_commit_callbacks):
    _session, first = first_attempt(django_capture_on_commit_callbacks)
    from deliberations.models import CapitalisedBlock, CapitalisedCompetency

    past = timezone.localdate() - datetime.timedelta(days=1)
    CapitalisedCompetency.objects.filter(candidate=first).update(valid_until=past)
    CapitalisedBlock.objects.filter(candidate=first).update(valid_until=past)
    second = register_again(first, StaffFactory(centres=[first.centre]))
    assert second.previous_attempt_id == first.pk
    assert not second.dossier.items.filter(already_acquired=True).exists()


def test_reregistration_by_import_gets_the_capitalisation_too(django_capture_on_commit_callbacks):
    _session, first = first_attempt(django_capture_on_commit_callbacks)
    staff = StaffFactory(centres=[first.centre])
    row = {
        "nom_naissance": first.birth_name,
        "prenoms": first.first_names,
        "sexe": first.sex,
        "date_naissance": first.birth_date.strftime("%d/%m/%Y"),
        "parcours": "demandeur_emploi",
        "cqpm": first.certification.code,
    }
    report = candidate_services.import_candidates(
        centre=first.centre, rows=[{"line": 2, "values": row}], by=staff
    )
    assert report.is_valid and report.committed, [r.errors for r in report.rows]
    second = first.later_attempts.get()
    assert sorted(
        second.dossier.items.filter(already_acquired=True).values_list("competency__number", flat=True)
    ) == [1, 2]
