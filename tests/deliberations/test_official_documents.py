"""Documents fit to sign and to keep (issue 17): typography, civility, what the candidate is told,
verification of every numbered document, PDF/A and the certifier's electronic seal.

The demo's documents are rendered to PNG under test-artifacts/documents/ (looked at by a person)."""

import io
import re
import shutil
import subprocess
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils.formats import date_format
from pypdf import PdfReader

from core.exceptions import BusinessRuleError
from deliberations import documents, seal, services
from deliberations.models import (
    CandidateOutcome,
    CentreDocumentSettings,
    CompetencyDecision,
    DeliberationSession,
    DocumentKind,
    GeneratedDocument,
)
from deliberations.models.documents import SEALED_KINDS
from tests.core.factories import UserFactory
from tests.deliberations.test_documents import decided_session

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts" / "documents"


def stored(document):
    with default_storage.open(document.file.name, "rb") as handle:
        return handle.read()


def text_of(content):
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split()).replace("’", "'")


def xmp_of(content):
    reader = PdfReader(io.BytesIO(content))
    metadata = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode("utf-8")
    return reader, metadata


def to_png(content, name):
    """The file's pages as PNG (70 dpi) under test-artifacts/documents/<name>-<page>.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pdf = ARTIFACTS / f"{name}.pdf"
    pdf.write_bytes(content)
    for old in ARTIFACTS.glob(f"{name}-[0-9]*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-png", "-r", "70", str(pdf), str(ARTIFACTS / name)], check=True)
    return sorted(ARTIFACTS.glob(f"{name}-[0-9]*.png"))


@pytest.fixture
def demo(db):
    call_command("seed_demo", stdout=io.StringIO())
    session = DeliberationSession.objects.get(centre__code="A", status="closed")
    return session


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils (pdftoppm) is not installed")
def test_demo_documents_are_rendered_to_png_and_say_what_each_reader_needs(demo):
    session = demo
    docs = {
        (d.kind, d.candidate.birth_name if d.candidate else ""): d
        for d in GeneratedDocument.objects.filter(session=session, is_current=True).select_related(
            "candidate"
        )
    }
    pv = docs[(DocumentKind.PV, "")]
    letter_awarded = docs[(DocumentKind.LETTER, "ROBERT")]
    letter_partial = docs[(DocumentKind.LETTER, "LAMBERT")]
    letter_failed = docs[(DocumentKind.LETTER, "ROUSSEL")]
    parchemin = docs[(DocumentKind.CERTIFICATE, "ROBERT")]
    attestation = docs[(DocumentKind.BLOCK_ATTESTATION, "LAMBERT")]
    for name, document in {
        "pv": pv,
        "lettre-cqpm-attribue": letter_awarded,
        "lettre-resultat-partiel": letter_partial,
        "lettre-non-attribue": letter_failed,
        "parchemin": parchemin,
        "attestation-blocs": attestation,
    }.items():
        assert to_png(stored(document), name), name

    # The PV: « Fait à <lieu>, le <date de la séance> », one signature space per member present
    # (president first), no production date that would contradict the meeting's.
    text = text_of(stored(pv))
    assert f"Fait à Nancy, le {date_format(session.date, 'j F Y')}" in text
    assert "Document produit le" not in text
    members = list(session.jury.members.order_by("pk"))
    positions = [text.index(m.full_name, text.index("Signatures des membres présents")) for m in members]
    president = next(m for m in members if m.is_president)
    assert min(positions) == positions[members.index(president)]

    # Civility and agreement from the recorded sex.
    awarded = text_of(stored(letter_awarded))  # Julie ROBERT (F)
    assert "Madame," in awarded and "Madame, Monsieur" not in awarded
    assert "Contester la décision" not in awarded  # nothing to contest when the CQPM is awarded
    partial = text_of(stored(letter_partial))  # Hugo LAMBERT (M)
    assert "Monsieur," in partial and "Madame" not in partial and "évalué que" in partial
    assert "née le" in text_of(stored(parchemin)) and "La titulaire" in text_of(stored(parchemin))
    assert "né le" in text_of(stored(attestation)) and "né(e)" not in text_of(stored(attestation))

    # What the candidate is told: acquired with until-dates, not acquired, next steps, how to contest,
    # the jury's message for him — and never the jury's internal motivations.
    assert "Blocs et compétences acquis" in partial and "Compétences non acquises" in partial
    assert re.search(r"\d{2}/\d{2}/\d{4}", partial.split("Acquis jusqu'au", 1)[1])
    assert "Et maintenant" in partial and "Contester la décision" in partial and "60 jours" in partial
    assert "Le jury vous encourage à vous représenter" in partial
    failed = text_of(stored(letter_failed))
    assert "aucune compétence n'a été reconnue acquise" in failed and "Contester la décision" in failed
    motivations = set(
        CompetencyDecision.objects.filter(session=session)
        .exclude(motivation="")
        .values_list("motivation", flat=True)
    )
    assert motivations
    for letter_text in (awarded, partial, failed):
        for motivation in motivations:
            assert motivation.replace("’", "'") not in letter_text
        assert "réserv" not in letter_text and "Motivations du jury" not in letter_text
        assert "version 1" not in letter_text  # no internal header

    # Parchemin: RNCP registration and level when the CQPM has them, signatory and title, no counter.
    certification = session.certification
    parchemin_text = text_of(stored(parchemin))
    if certification.rncp_number:
        assert certification.rncp_number.removeprefix("RNCP") in parchemin_text
    assert session.centre.certifier_signatory in parchemin_text
    assert "Déléguée générale de l'UIMM Lorraine" in parchemin_text
    assert "Page 1" not in parchemin_text and "Page 1" not in text_of(stored(attestation))
    # The bloc attestation lists the competencies of each bloc it attests.
    outcome = CandidateOutcome.objects.get(session=session, candidate=attestation.candidate)
    attestation_text = text_of(stored(attestation))
    for block in outcome.blocks_acquired.all():
        for competency in block.competencies.all():
            assert competency.title[:30] in attestation_text


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("sex", "expected", "absent"),
    [
        ("F", ["Madame,", "née le", "La titulaire"], ["Monsieur", "né(e)"]),
        ("M", ["Monsieur,", "né le", "Le titulaire"], ["Madame", "né(e)"]),
        ("", ["Madame, Monsieur,", "date de naissance", "Titulaire"], ["née le", "né le"]),
    ],
)
def test_civility_and_agreement_follow_the_recorded_sex_and_are_neutral_when_unknown(sex, expected, absent):
    civ = documents.civility(sex)
    words = " ".join(str(v) for v in civ.values() if not isinstance(v, bool))
    for word in expected:
        assert word in words
    for word in absent:
        assert word not in words


# --- Verification, PDF/A, seal --------------------------------------------------------------------


@pytest.fixture
def closed_session(db, django_capture_on_commit_callbacks):
    """Two candidates (CQPM on the RNCP): one awarded (letter, parchemin), one partial (letter, bloc
    attestation); PV and attendance sheet; every document produced."""
    session, candidates = decided_session(n=2, capture=django_capture_on_commit_callbacks)
    return session, candidates


def current(session, kind, candidate=None):
    return GeneratedDocument.objects.get(session=session, kind=kind, candidate=candidate, is_current=True)


def test_every_numbered_document_resolves_on_the_public_verification_page(client, closed_session):
    session, (awarded, partial) = closed_session
    kinds = {
        DocumentKind.PV: None,
        DocumentKind.ATTENDANCE: None,
        DocumentKind.LETTER: partial,
        DocumentKind.CERTIFICATE: awarded,
        DocumentKind.BLOCK_ATTESTATION: partial,
    }
    for kind, candidate in kinds.items():
        document = current(session, kind, candidate)
        # The number printed in the file is the one the page answers for.
        assert document.number in text_of(stored(document)), kind
        page = client.get(reverse("deliberations:verify_number", args=[document.number]))
        body = page.content.decode()
        assert page.status_code == 200 and "Document authentique" in body, kind
        assert str(document.get_kind_display()) in body.replace("&#x27;", "'"), kind
        assert document.sha256 in body and date_format(session.date, "j F Y") in body, kind
        assert "Intact : son empreinte SHA-256 est celle enregistrée" in body, kind
        if candidate is not None:
            assert documents.mask_name(candidate.first_names, candidate.birth_name) in body
            assert candidate.birth_name not in body
        if kind in SEALED_KINDS:
            assert "Signature intacte (PAdES)" in body, kind
    unknown = client.get(reverse("deliberations:verify_number", args=["LR-A-2026-ZZZZZZZZZZ"]))
    assert "aucun document délivré ne porte le numéro" in unknown.content.decode()


def test_a_later_edition_is_named_on_the_page_of_the_replaced_one(client, closed_session):
    session, (awarded, _partial) = closed_session
    first = current(session, DocumentKind.LETTER, awarded)
    second = services.request_document(
        actor=None, session=session, kind=DocumentKind.LETTER, candidate=awarded, queue=False
    )
    documents.produce(second.pk)
    body = client.get(reverse("deliberations:verify_number", args=[first.number])).content.decode()
    assert "remplacé par une édition ultérieure" in body and "l'édition 2" in body


@pytest.mark.parametrize("kind", [DocumentKind.PV, DocumentKind.CERTIFICATE, DocumentKind.BLOCK_ATTESTATION])
def test_archival_documents_are_pdf_a_with_metadata_and_embedded_fonts(closed_session, kind):
    session, (awarded, partial) = closed_session
    candidate = {DocumentKind.PV: None, DocumentKind.CERTIFICATE: awarded}.get(kind, partial)
    document = current(session, kind, candidate)
    content = stored(document)
    reader, xmp = xmp_of(content)
    assert re.search(r'pdfaid:part="3"|<pdfaid:part>3</pdfaid:part>', xmp), xmp
    assert re.search(r'pdfaid:conformance="B"|<pdfaid:conformance>B</pdfaid:conformance>', xmp), xmp
    assert "/OutputIntents" in reader.trailer["/Root"]
    info = reader.metadata
    assert document.number in info.title and info.title in xmp
    assert "Union des Industries et Métiers de la Métallurgie" in info.author
    assert info.subject and session.certification.title in info.subject
    fonts = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = (
                font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
                if "/DescendantFonts" in font
                else font["/FontDescriptor"]
            )
            descriptor = descriptor.get_object()
            assert any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")), font
            fonts.add(str(font["/BaseFont"]).split("+")[-1])
    assert fonts and all(f.startswith("DejaVu-Sans") and "Mono" not in f for f in fonts), fonts


def test_letters_are_not_archival_but_verifiable(closed_session):
    session, (_awarded, partial) = closed_session
    letter = current(session, DocumentKind.LETTER, partial)
    assert not letter.sealed_by and seal.check(stored(letter)).signed is False


def test_the_seal_is_a_valid_pades_signature_and_one_changed_byte_breaks_it(closed_session):
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    session, (awarded, _partial) = closed_session
    parchemin = current(session, DocumentKind.CERTIFICATE, awarded)
    content = stored(parchemin)
    assert parchemin.sealed_by == seal.DEMO_NAME  # the demo certificate, named as such

    certificate = seal.current().certificate
    signatures = PdfFileReader(io.BytesIO(content)).embedded_signatures
    assert len(signatures) == 1
    assert signatures[0].sig_object["/SubFilter"] == "/ETSI.CAdES.detached"  # PAdES
    status = validate_pdf_signature(signatures[0], ValidationContext(trust_roots=[certificate]))
    assert status.intact and status.valid and status.trusted and status.bottom_line

    # One byte changed inside the signed range (the page content, before the signature).
    start, length = signatures[0].byte_range[0], signatures[0].byte_range[1]
    position = start + length // 2
    tampered = bytearray(content)
    tampered[position] = (tampered[position] + 1) % 256
    check = seal.check(bytes(tampered))
    assert check.signed and not check.intact
    assert seal.check(content).intact and seal.check(content).trusted

    # And the verification page says so for the stored file.
    with default_storage.open(parchemin.file.name, "wb") as handle:
        handle.write(bytes(tampered))
    from django.test import Client

    body = Client().get(reverse("deliberations:verify_number", args=[parchemin.number])).content.decode()
    assert "Signature rompue" in body and "Altéré" in body


def test_the_verification_page_validates_a_stored_file_once_and_again_when_its_bytes_change(
    client, closed_session
):
    """pyHanko's validation (~80 ms) is remembered under the stored file's SHA-256."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign import validation

    session, (awarded, _partial) = closed_session
    parchemin = current(session, DocumentKind.CERTIFICATE, awarded)
    url = reverse("deliberations:verify_number", args=[parchemin.number])
    with mock.patch.object(
        validation, "validate_pdf_signature", wraps=validation.validate_pdf_signature
    ) as validator:
        first = client.get(url).content.decode()
        assert "Signature intacte (PAdES)" in first and validator.call_count == 1
        second = client.get(url).content.decode()
        assert "Signature intacte (PAdES)" in second
        assert validator.call_count == 1  # answered from the cache

        # The stored file changed by one byte: another digest, validated again, and found broken.
        content = bytearray(stored(parchemin))
        byte_range = PdfFileReader(io.BytesIO(bytes(content))).embedded_signatures[0].byte_range
        start, length = byte_range[0], byte_range[1]
        content[start + length // 2] = (content[start + length // 2] + 1) % 256
        with default_storage.open(parchemin.file.name, "wb") as handle:
            handle.write(bytes(content))
        third = client.get(url).content.decode()
        assert validator.call_count == 2
        assert "Signature rompue" in third and "Altéré" in third


def test_the_demo_certificate_is_generated_once_and_reused(db):
    seal.reset_cache()
    default_storage.delete(seal.DEMO_STORAGE_NAME)
    first = seal.current()
    assert first.is_demo and first.subject == seal.DEMO_NAME
    with default_storage.open(seal.DEMO_STORAGE_NAME, "rb") as handle:
        stored_once = handle.read()
    seal.reset_cache()
    second = seal.current()
    with default_storage.open(seal.DEMO_STORAGE_NAME, "rb") as handle:
        assert handle.read() == stored_once
    assert second.certificate.dump() == first.certificate.dump()


def test_a_configured_pkcs12_certificate_is_used(settings, tmp_path, db):
    (tmp_path / "seal.p12").write_bytes(seal._demo_pkcs12())
    settings.CQPM_SEAL = {
        "PKCS12_PATH": str(tmp_path / "seal.p12"),
        "PKCS12_PASSWORD": seal.DEMO_PASSWORD.decode(),
        "DEMO": False,
    }
    seal.reset_cache()
    try:
        assert seal.current() is not None and not seal.current().is_demo
        settings.CQPM_SEAL = {**settings.CQPM_SEAL, "PKCS12_PASSWORD": "wrong"}
        seal.reset_cache()
        with pytest.raises(seal.SealConfigurationError):
            seal.current()
        assert "mot de passe" in seal.status()["error"]
    finally:
        seal.reset_cache()


@pytest.mark.django_db
def test_production_without_certificate_produces_unsigned_documents_and_the_page_says_so(
    settings, django_capture_on_commit_callbacks, client
):
    settings.CQPM_SEAL = {"PKCS12_PATH": "", "PKCS12_PASSWORD": "", "DEMO": None}
    settings.DEMO_DATA_ALLOWED = False
    seal.reset_cache()
    try:
        session, (awarded, _partial) = decided_session(n=2, capture=django_capture_on_commit_callbacks)
        parchemin = current(session, DocumentKind.CERTIFICATE, awarded)
        assert parchemin.sealed_by == "" and not seal.check(stored(parchemin)).signed
        _reader, xmp = xmp_of(stored(parchemin))
        assert "pdfaid" in xmp  # still PDF/A
        staff = UserFactory(role="staff")
        staff.centres.add(session.centre)
        client.force_login(staff)
        page = client.get(reverse("deliberations:session_documents", args=[session.pk])).content.decode()
        assert "Aucun certificat de cachet électronique n'est configuré" in page
        assert "non scellé" in page
        body = client.get(reverse("deliberations:verify_number", args=[parchemin.number])).content.decode()
        assert "produit sans cachet électronique" in body
    finally:
        seal.reset_cache()


# --- Signatory and scanned signature ----------------------------------------------------------------


def png_bytes(width=300, height=100):
    from PIL import Image, ImageDraw

    buffer = io.BytesIO()
    image = Image.new("RGB", (width, height), "white")
    ImageDraw.Draw(image).line(
        [
            (10, height * 0.7),
            (width * 0.3, height * 0.2),
            (width * 0.5, height * 0.8),
            (width - 10, height * 0.3),
        ],
        fill="navy",
        width=4,
    )
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def staff_and_centre(db):
    from tests.core.factories import CentreFactory

    centre = CentreFactory()
    staff = UserFactory(role="staff")
    staff.centres.add(centre)
    return staff, centre


@pytest.mark.django_db
def test_staff_record_the_signatory_and_a_png_signature_printed_on_the_parchemin(
    client, django_capture_on_commit_callbacks
):
    session, (awarded, partial) = decided_session(n=2, capture=django_capture_on_commit_callbacks)
    staff = UserFactory(role="staff")
    staff.centres.add(session.centre)
    client.force_login(staff)
    url = reverse("deliberations:document_settings")
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "centre": session.centre.code,
            "signatory_name": "Hélène Fabre",
            "signatory_title": "Déléguée générale",
            "contest_text": "Écrivez au centre.",
            "contest_days": "30",
            "signature_image": SimpleUploadedFile("signature.png", png_bytes(), content_type="image/png"),
        },
    )
    assert response.status_code == 302
    record = CentreDocumentSettings.objects.get(centre=session.centre)
    assert record.signature_image and record.signatory_title == "Déléguée générale"
    session.centre.refresh_from_db()
    assert session.centre.certifier_signatory == "Hélène Fabre"
    context = documents.document_settings(session.centre)
    assert context["signature_image"].startswith("data:image/png;base64,")
    new = services.request_document(
        actor=None, session=session, kind=DocumentKind.CERTIFICATE, candidate=awarded, queue=False
    )
    content = documents.build(new)
    text = text_of(content)
    assert "Hélène Fabre" in text and "Déléguée générale" in text
    reader = PdfReader(io.BytesIO(content))
    assert any(
        obj.get_object().get("/Subtype") == "/Image" and obj.get_object().get("/Width") == 300
        for obj in reader.pages[0]["/Resources"]["/XObject"].values()
    )
    to_png(content, "parchemin-rncp-signature")
    letter = services.request_document(
        actor=None, session=session, kind=DocumentKind.LETTER, candidate=partial, queue=False
    )
    letter_text = text_of(documents.build(letter))
    assert "Écrivez au centre." in letter_text and "30 jours" in letter_text


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"%PDF-1.7 not an image", "signature.png", "type accepté"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "signature.png", "PNG lisible"),
        (None, "signature.png", "pixels"),
    ],
)
def test_a_signature_that_is_not_a_sound_png_is_refused_with_a_clear_message(
    staff_and_centre, content, name, message
):
    staff, centre = staff_and_centre
    content = content if content is not None else png_bytes(5000, 100)
    with pytest.raises(BusinessRuleError, match=message):
        services.update_document_settings(
            actor=staff,
            centre=centre,
            signatory_name="X",
            signatory_title="",
            contest_text="",
            contest_days=60,
            signature_upload=SimpleUploadedFile(name, content),
        )
    assert not CentreDocumentSettings.objects.filter(centre=centre, signature_image__gt="").exists()


def test_a_refused_signature_keeps_what_the_form_said(client, staff_and_centre):
    staff, centre = staff_and_centre
    client.force_login(staff)
    response = client.post(
        reverse("deliberations:document_settings"),
        {
            "centre": centre.code,
            "signatory_name": "Louis Perrin",
            "signatory_title": "Délégué général",
            "contest_text": "Texte gardé",
            "contest_days": "45",
            "signature_image": SimpleUploadedFile("s.png", b"GIF89a....", content_type="image/png"),
        },
    )
    body = response.content.decode()
    assert response.status_code == 200 and "Texte gardé" in body and "Louis Perrin" in body
    assert "type accepté" in body


def test_staff_of_another_centre_cannot_change_a_centre_documents(staff_and_centre):
    _staff, centre = staff_and_centre
    other = UserFactory(role="staff")
    with pytest.raises(BusinessRuleError):
        services.update_document_settings(
            actor=other,
            centre=centre,
            signatory_name="X",
            signatory_title="",
            contest_text="",
            contest_days=60,
        )


@pytest.mark.django_db
def test_the_letter_prints_the_jury_message_for_the_candidate_never_the_motivations(
    django_capture_on_commit_callbacks,
):
    from tests.deliberations.factories import ready_session

    session = ready_session(n=1)
    candidate = session.entries.get().candidate
    c3 = session.certification.competencies.get(number=3)
    services.record_decisions(
        actor=None,
        session=session,
        candidate=candidate,
        choices={c3.pk: ("not_acquired", "Interne : l'entreprise a émis une réserve sur C3.")},
        reason_for_candidate="Présentez de nouveau la compétence 3 avec un dossier de preuves complet.",
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.close_session(actor=None, session=session)
    letter = current(session, DocumentKind.LETTER, candidate)
    text = text_of(stored(letter))
    assert "Présentez de nouveau la compétence 3" in text
    assert "Interne" not in text and "réserve" not in text
    pv = text_of(stored(current(session, DocumentKind.PV)))
    assert "Interne : l'entreprise a émis une réserve sur C3." in pv
    with pytest.raises(BusinessRuleError):
        services.record_decisions(
            actor=None, session=session, candidate=candidate, choices={}, reason_for_candidate="x" * 1501
        )


@pytest.mark.django_db
def test_documents_laid_out_by_batches_are_each_pdf_a_with_their_own_title_and_sealed(
    django_capture_on_commit_callbacks,
):
    from tests.deliberations.test_documents_batch import session_with_departures

    session, _candidates = session_with_departures(n=4, capture=django_capture_on_commit_callbacks)
    for kind in (DocumentKind.CERTIFICATE, DocumentKind.BLOCK_ATTESTATION):
        records = list(GeneratedDocument.objects.filter(session=session, kind=kind, is_current=True))
        assert len(records) == 2, kind  # two of a kind: laid out in one WeasyPrint run, then split
        for record in records:
            content = stored(record)
            reader, xmp = xmp_of(content)
            assert re.search(r'pdfaid:part="3"|<pdfaid:part>3</pdfaid:part>', xmp)
            assert record.number in xmp and reader.metadata.title.endswith(record.number)
            assert "/OutputIntents" in reader.trailer["/Root"]
            assert record.sealed_by == seal.DEMO_NAME
            check = seal.check(content)
            assert check.signed and check.intact and check.valid and check.trusted
