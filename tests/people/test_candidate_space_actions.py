"""The candidate's own actions from his space (issue 23): hand in his report and evidence before the
deadline (the staff upload path: content checks, SHA-256, a new version keeps the old), with a receipt;
file an appeal that goes through the jury's amendment to a new document edition; download his own
data and ask for a correction (the access-request register). Never anyone else's object."""

import hashlib
import io
import zipfile
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from candidates.models import (
    AccessRequest,
    AccessRequestKind,
    CandidateDocument,
    CandidateStatus,
    DocumentKind,
)
from candidates.services import record_access_answer_sent
from core.dates import long_date
from core.exceptions import BusinessRuleError
from core.models import AuditEvent, Notification, Role
from deliberations import services as deliberation_services
from deliberations.models import (
    Appeal,
    AppealStatus,
    CentreDocumentSettings,
    GeneratedDocument,
)
from deliberations.models import (
    DocumentKind as GeneratedKind,
)
from referential.models import ModalityCode
from tests.candidates.factories import MINIMAL_PDF, CandidateFactory
from tests.core.factories import StaffFactory, UserFactory
from tests.deliberations.factories import ready_session

pytestmark = pytest.mark.django_db


def _account(candidate, username):
    account = UserFactory(username=username, role=Role.CANDIDATE, centres=[candidate.centre])
    candidate.user = account
    candidate.save(update_fields=["user"])
    return account


def _pdf(name="rapport.pdf", content=MINIMAL_PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


@pytest.fixture
def evaluated(centre_a, staff_a):
    """A candidate whose dossier is validated, with a project presentation (the report is expected)."""
    candidate = CandidateFactory(
        centre=centre_a, status=CandidateStatus.DOSSIER_VALIDATED, email="lea@exemple.test"
    )
    candidate.dossier.items.update(modalities=[ModalityCode.PROJECT_PRESENTATION.value])
    other = CandidateFactory(centre=centre_a, status=CandidateStatus.DOSSIER_VALIDATED)
    return {"candidate": candidate, "account": _account(candidate, "candidat-depot"), "other": other}


def test_the_candidate_hands_in_his_report_with_a_receipt_and_a_new_version_keeps_the_old(client, evaluated):
    candidate, account = evaluated["candidate"], evaluated["account"]
    client.force_login(account)
    home = client.get(reverse("people:candidate_home")).content.decode()
    assert "Documents à remettre" in home and "non remis" in home
    due = candidate.dossier.report_due_date
    assert long_date(due) in home  # « mercredi 9 décembre 2026 », the date inside a sentence
    response = client.post(reverse("people:candidate_upload"), {"kind": "report", "file": _pdf()})
    document = CandidateDocument.objects.get(candidate=candidate)
    assert response.url == reverse("people:candidate_receipt", args=[document.pk])
    assert document.uploaded_by == account and document.kind == DocumentKind.REPORT
    assert document.sha256 == hashlib.sha256(MINIMAL_PDF).hexdigest() and document.size == len(MINIMAL_PDF)
    receipt = client.get(response.url).content.decode()
    assert "rapport.pdf" in receipt and document.sha256 in receipt and str(document.size) in receipt
    sent = Notification.objects.get(kind="candidates.upload_receipt")
    assert sent.to_email == "lea@exemple.test" and document.sha256 in sent.body_text
    assert AuditEvent.objects.filter(action="candidate_document.uploaded", actor=account).exists()
    # a second version: both kept
    client.post(
        reverse("people:candidate_upload"),
        {"kind": "report", "file": _pdf("rapport-v2.pdf", MINIMAL_PDF + b"\n")},
    )
    assert CandidateDocument.objects.filter(candidate=candidate, kind="report").count() == 2
    assert "2 versions reçues" in client.get(reverse("people:candidate_home")).content.decode()


def test_the_same_content_checks_as_staff_uploads(client, evaluated):
    client.force_login(evaluated["account"])
    fake = SimpleUploadedFile("rapport.pdf", b"MZ\x90\x00 not a pdf at all", content_type="application/pdf")
    response = client.post(reverse("people:candidate_upload"), {"kind": "report", "file": fake})
    assert response.status_code == 200
    assert "n&#x27;est pas d&#x27;un type accepté" in response.content.decode()
    assert not CandidateDocument.objects.exists()
    # the candidate cannot hand in anything else than his report or evidence
    response = client.post(reverse("people:candidate_upload"), {"kind": "appeal", "file": _pdf()})
    assert response.status_code == 200 and not CandidateDocument.objects.exists()


def test_after_the_deadline_the_upload_is_closed_and_staff_see_the_report_missing(client, evaluated, staff_a):
    candidate = evaluated["candidate"]
    candidate.dossier.report_due_date = timezone.localdate() - timedelta(days=1)
    candidate.dossier.save(update_fields=["report_due_date"])
    client.force_login(evaluated["account"])
    page = client.get(reverse("people:candidate_upload")).content.decode()
    assert "Le dépôt est clos depuis le" in page
    response = client.post(reverse("people:candidate_upload"), {"kind": "report", "file": _pdf()})
    assert "Le dépôt est clos depuis le" in response.content.decode()
    assert not CandidateDocument.objects.exists()
    client.force_login(staff_a)
    detail = client.get(reverse("candidates:detail", args=[candidate.pk])).content.decode()
    assert "Rapport manquant — dépôt clos pour le candidat" in detail
    assert candidate.reference in client.get(reverse("home")).content.decode()  # « Rapports en retard »


def test_a_candidate_never_reaches_another_candidates_receipt(client, evaluated, staff_a):
    from candidates.services import upload_document

    others = upload_document(candidate=evaluated["other"], kind="report", uploaded_file=_pdf(), by=staff_a)
    client.force_login(evaluated["account"])
    assert client.get(reverse("people:candidate_receipt", args=[others.pk])).status_code == 404
    with pytest.raises(BusinessRuleError):
        from candidates.services import upload_own_document

        upload_own_document(
            candidate=evaluated["other"], kind="report", uploaded_file=_pdf(), by=evaluated["account"]
        )


# --- appeal → amended decision → new document edition -----------------------------------------


@pytest.fixture
def deliberated(django_capture_on_commit_callbacks):
    session = ready_session(n=2)
    mine, other = [entry.candidate for entry in session.entries.order_by("pk")]
    for candidate in (mine, other):
        deliberation_services.record_decisions(actor=None, session=session, candidate=candidate, choices={})
    with django_capture_on_commit_callbacks(execute=True):
        deliberation_services.close_session(actor=None, session=session)
    CentreDocumentSettings.objects.create(centre=session.centre, contest_days=30)
    return {
        "session": session,
        "mine": mine,
        "other": other,
        "account": _account(mine, "candidat-recours"),
        "other_account": _account(other, "candidat-autre"),
        "staff": StaffFactory(username="staff-recours", centres=[session.centre]),
    }


def test_appeal_goes_through_the_amendment_to_a_new_edition_and_the_candidate_is_told(
    client, deliberated, django_capture_on_commit_callbacks
):
    session, mine, staff = deliberated["session"], deliberated["mine"], deliberated["staff"]
    old_certificate = GeneratedDocument.objects.get(
        session=session, candidate=mine, kind=GeneratedKind.CERTIFICATE
    )
    client.force_login(deliberated["account"])
    home = client.get(reverse("people:candidate_home")).content.decode()
    assert "Déposer un recours" in home
    url = reverse("people:candidate_appeal", args=[session.pk])
    assert "délai indiqué dans votre lettre" in client.get(url).content.decode()
    response = client.post(url, {"reason": "  "})
    assert response.status_code == 200 and not Appeal.objects.exists()
    response = client.post(
        url,
        {"reason": "La compétence 1 a été observée en entreprise.", "attachments": [_pdf("attestation.pdf")]},
    )
    assert response.status_code == 302
    appeal = Appeal.objects.get()
    attachment = appeal.attachments.get()
    assert (
        attachment.kind == DocumentKind.APPEAL
        and attachment.sha256 == hashlib.sha256(MINIMAL_PDF).hexdigest()
    )
    assert Notification.objects.filter(kind="deliberations.appeal_filed", to_email=mine.email).exists()
    # a second appeal while the first is open: refused
    with pytest.raises(BusinessRuleError, match="déjà en cours"):
        deliberation_services.file_appeal(
            by=deliberated["account"], candidate=mine, session=session, reason="Encore"
        )
    # another candidate cannot appeal on his behalf
    with pytest.raises(BusinessRuleError):
        deliberation_services.file_appeal(
            by=deliberated["other_account"], candidate=mine, session=session, reason="Pour lui"
        )

    # staff see it on their dashboard and open it
    client.force_login(staff)
    assert "Recours à examiner" in client.get(reverse("home")).content.decode()
    detail = client.get(reverse("deliberations:appeal_detail", args=[appeal.pk])).content.decode()
    assert "La compétence 1 a été observée" in detail and "attestation.pdf" in detail
    # upheld without an amended decision: refused
    response = client.post(
        reverse("deliberations:appeal_detail", args=[appeal.pk]), {"status": "upheld", "answer": "Accueilli."}
    )
    assert "suppose une décision modifiée" in response.content.decode()
    # the jury re-examines through the existing amendment path (motivation required, audited)
    with pytest.raises(BusinessRuleError, match="motivée"):
        deliberation_services.amend_outcome(
            actor=staff, session=session, candidate=mine, choices={}, motivation=""
        )
    # from the appeal's page, « Modifier la décision » (the amendment form), back to the appeal
    amend_url = (
        reverse("deliberations:candidate_decide", args=[session.pk, mine.pk]) + f"?recours={appeal.pk}"
    )
    assert amend_url.replace("&", "&amp;") in detail or amend_url in detail
    data = {f"decided_{c.pk}": "acquired" for c in session.certification.competencies.all()}
    data["amend_motivation"] = "Recours : le jury a réexaminé les preuves jointes."
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(amend_url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response.url == reverse("deliberations:appeal_detail", args=[appeal.pk])
    assert AuditEvent.objects.filter(action="deliberations.outcome_amended").exists()
    response = client.post(
        reverse("deliberations:appeal_detail", args=[appeal.pk]),
        {"status": "upheld", "answer": "Le jury a réexaminé votre dossier : décision rectifiée."},
    )
    assert response.status_code == 302
    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.UPHELD and appeal.amendment is not None
    told = Notification.objects.get(kind="deliberations.appeal_answered")
    assert told.to_email == mine.email and "décision rectifiée" not in told.body_text  # read in his space
    # the new edition replaces the old one on the verification page
    old_certificate.refresh_from_db()
    new_certificate = GeneratedDocument.objects.get(
        session=session, candidate=mine, kind=GeneratedKind.CERTIFICATE, is_current=True
    )
    assert not old_certificate.is_current and new_certificate.version == old_certificate.version + 1
    verify_old = client.get(
        reverse("deliberations:verify_number", args=[old_certificate.number])
    ).content.decode()
    assert "remplacé par une édition ultérieure" in verify_old
    # the candidate reads the answer and downloads the new edition only
    client.force_login(deliberated["account"])
    home = client.get(reverse("people:candidate_home")).content.decode()
    assert "décision rectifiée" in home and "Recours accueilli" in home
    assert reverse("people:candidate_document", args=[new_certificate.pk]) in home
    assert "Déposer un recours" not in home  # one appeal per decision, answered
    with pytest.raises(BusinessRuleError, match="déjà formé un recours"):
        deliberation_services.file_appeal(
            by=deliberated["account"], candidate=mine, session=session, reason="Encore"
        )
    assert client.get(reverse("people:candidate_document", args=[old_certificate.pk])).status_code == 404


def test_appeal_after_the_deadline_is_refused_and_rejection_needs_no_amendment(client, deliberated):
    session, mine = deliberated["session"], deliberated["mine"]
    CentreDocumentSettings.objects.filter(centre=session.centre).update(contest_days=1)
    past = timezone.now() - timedelta(days=5)
    type(session).objects.filter(pk=session.pk).update(closed_at=past)
    GeneratedDocument.objects.filter(session=session).update(finished_at=past)
    session.refresh_from_db()
    with pytest.raises(BusinessRuleError, match="expiré"):
        deliberation_services.file_appeal(
            by=deliberated["account"], candidate=mine, session=session, reason="Tard"
        )
    client.force_login(deliberated["account"])
    assert "a expiré le" in client.get(reverse("people:candidate_appeal", args=[session.pk])).content.decode()
    assert "Déposer un recours" not in client.get(reverse("people:candidate_home")).content.decode()
    # within the deadline (the other candidate's letter is recent), rejected: the decision stands
    GeneratedDocument.objects.filter(session=session, candidate=deliberated["other"]).update(
        finished_at=timezone.now()
    )
    appeal = deliberation_services.file_appeal(
        by=deliberated["other_account"],
        candidate=deliberated["other"],
        session=session,
        reason="Je conteste.",
    )
    deliberation_services.answer_appeal(
        actor=deliberated["staff"], appeal=appeal, status="rejected", answer="Le jury maintient sa décision."
    )
    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.REJECTED and appeal.amendment is None
    # one candidate never reaches the other's appeal page (his own session only)
    outsider = ready_session(n=1)
    assert client.get(reverse("people:candidate_appeal", args=[outsider.pk])).status_code == 404


# --- RGPD ----------------------------------------------------------------------------------------


def test_the_candidate_downloads_his_own_data_asks_a_correction_and_sees_his_consents(
    client, evaluated, staff_a
):
    candidate, other = evaluated["candidate"], evaluated["other"]
    type(candidate).objects.filter(pk=candidate.pk).update(consent_given_at=timezone.now())
    client.force_login(evaluated["account"])
    page = client.get(reverse("people:candidate_data")).content.decode()
    assert "Base légale du traitement" in page and "recueilli le" in page
    response = client.post(reverse("people:candidate_data_export"))
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        text = " ".join(
            archive.read(name).decode("utf-8", "ignore")
            for name in archive.namelist()
            if name.endswith(".json")
        )
    assert candidate.reference in text and other.reference not in text
    assert AuditEvent.objects.filter(
        action="candidate.personal_data_exported", actor=evaluated["account"]
    ).exists()
    assert client.post(reverse("people:candidate_rectification"), {"details": ""}).status_code == 400
    response = client.post(
        reverse("people:candidate_rectification"), {"details": "Lieu de naissance : Nancy, pas Metz."}
    )
    assert response.status_code == 302
    request = AccessRequest.objects.get(candidate=candidate)
    assert request.kind == AccessRequestKind.RECTIFICATION and request.channel == "online"
    assert "Rectification" in client.get(reverse("people:candidate_data")).content.decode()
    # staff find it in the register and answer it (no export needed for a correction)
    client.force_login(staff_a)
    assert candidate.reference in client.get(reverse("candidates:access_request_list")).content.decode()
    assert (
        "Nancy" in client.get(reverse("candidates:access_request_detail", args=[request.pk])).content.decode()
    )
    record_access_answer_sent(
        access_request=request, by=staff_a, sent_on=timezone.localdate(), channel="email"
    )


def test_anonymising_the_candidate_erases_the_words_of_his_appeal(deliberated):
    from candidates.services import anonymise_candidate

    mine = deliberated["mine"]
    appeal = deliberation_services.file_appeal(
        by=deliberated["account"],
        candidate=mine,
        session=deliberated["session"],
        reason="Mon employeur, M. X…",
    )
    anonymise_candidate(candidate=mine)
    appeal.refresh_from_db()
    assert appeal.reason == deliberation_services.ANONYMISED_APPEAL_TEXT
