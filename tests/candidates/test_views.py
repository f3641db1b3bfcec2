import csv
import datetime
import html
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from candidates.models import Candidate, CandidateDocument, CandidateStatus, Company, Pathway, Tutor
from candidates.selectors import candidates_visible_to
from core.models import AuditEvent, Role
from referential.models import ModalityCode
from tests.candidates.factories import (
    MINIMAL_PDF,
    CandidateDocumentFactory,
    CandidateFactory,
    CompanyFactory,
    TutorFactory,
    make_siret,
)
from tests.core.factories import UserFactory

S = CandidateStatus


def messages_of(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- selectors and roles --------------------------------------------------------------------


@pytest.mark.django_db
def test_candidates_visible_to_each_role(centre_a, centre_b, staff_a, staff_b):
    mine = CandidateFactory(centre=centre_a)
    other_tutor_candidate = CandidateFactory(centre=centre_a)
    theirs = CandidateFactory(centre=centre_b)
    admin = UserFactory(is_superuser=True, role=Role.STAFF)
    assert set(candidates_visible_to(staff_a)) == {mine, other_tutor_candidate}
    assert set(candidates_visible_to(staff_b)) == {theirs}
    assert set(candidates_visible_to(admin)) == {mine, other_tutor_candidate, theirs}
    assert set(candidates_visible_to(mine.tutor.user)) == {mine}
    assert not candidates_visible_to(UserFactory(role=Role.EVALUATOR, centres=[centre_a])).exists()
    assert not candidates_visible_to(UserFactory(role=Role.JURY, centres=[centre_a])).exists()
    inactive = UserFactory(role=Role.STAFF, centres=[centre_a], is_active=False)
    assert not candidates_visible_to(inactive).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.TUTOR, Role.EVALUATOR, Role.JURY])
@pytest.mark.parametrize(
    "url_name", ["candidates:list", "candidates:company_list", "candidates:create", "candidates:import"]
)
def test_other_roles_get_403(client, centre_a, role, url_name):
    client.force_login(UserFactory(role=role, centres=[centre_a]))
    assert client.get(reverse(url_name)).status_code == 403


@pytest.mark.django_db
def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("candidates:list"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


# --- tenancy: staff of centre B never reach centre A's objects ------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url_name",
    [
        "candidates:detail",
        "candidates:update",
        "candidates:dossier_edit",
        "candidates:document_upload",
    ],
)
def test_other_centre_candidate_pages_are_404_on_get(client, centre_a, staff_b, url_name):
    candidate = CandidateFactory(centre=centre_a)
    client.force_login(staff_b)
    assert client.get(reverse(url_name, args=[candidate.pk])).status_code == 404


@pytest.mark.django_db
def test_other_centre_posts_are_404_and_change_nothing(client, centre_a, staff_b):
    candidate = CandidateFactory(centre=centre_a)
    document = CandidateDocumentFactory(candidate=candidate)
    client.force_login(staff_b)
    posts = [
        (
            "candidates:update",
            {
                "birth_name": "Pirate",
                "first_names": "X",
                "sex": "F",
                "birth_date": "1990-01-01",
                "pathway": "vae",
            },
        ),
        ("candidates:transition", {"to_status": S.WITHDRAWN, "reason": "x"}),
        ("candidates:dossier_edit", {"report_due_date": "2030-01-01"}),
        ("candidates:dossier_validate", {}),
        ("candidates:dossier_reopen", {"reason": "Pirate"}),
        ("candidates:document_upload", {"kind": "report", "file": SimpleUploadedFile("r.pdf", MINIMAL_PDF)}),
        ("candidates:personal_data_export", {}),
    ]
    for url_name, data in posts:
        assert client.post(reverse(url_name, args=[candidate.pk]), data).status_code == 404, url_name
    url = reverse("candidates:document_download", args=[candidate.pk, document.pk])
    assert client.get(url).status_code == 404
    candidate.refresh_from_db()
    assert candidate.birth_name != "Pirate" and candidate.status == S.REGISTERED
    assert not candidate.dossier.is_frozen
    assert candidate.documents.count() == 1
    assert not AuditEvent.objects.filter(action="candidate.personal_data_exported").exists()


@pytest.mark.django_db
def test_other_centre_companies_and_tutors_are_404(client, centre_a, staff_b):
    company = CompanyFactory(centre=centre_a, name="Forges A")
    tutor = TutorFactory(company=company)
    client.force_login(staff_b)
    for url in (
        reverse("candidates:company_detail", args=[company.pk]),
        reverse("candidates:company_update", args=[company.pk]),
        reverse("candidates:tutor_create", args=[company.pk]),
        reverse("candidates:tutor_update", args=[tutor.pk]),
    ):
        assert client.get(url).status_code == 404, url
        if url.endswith(f"/entreprises/{company.pk}/"):
            continue  # read-only page
        assert (
            client.post(
                url,
                {
                    "name": "Pirate",
                    "first_name": "P",
                    "last_name": "P",
                    "email": "p@p.fr",
                    "siret": make_siret(5),
                },
            ).status_code
            == 404
        ), url
    company.refresh_from_db()
    assert company.name == "Forges A" and company.tutors.count() == 1
    assert "Forges A" not in client.get(reverse("candidates:company_list")).content.decode()


@pytest.mark.django_db
def test_registration_form_cannot_use_another_centres_company(
    client, centre_a, centre_b, staff_b, certification
):
    company = CompanyFactory(centre=centre_a)
    tutor = TutorFactory(company=company)
    client.force_login(staff_b)
    response = client.post(
        reverse("candidates:create"),
        registration_data(certification, centre_b, company=company.pk, tutor=tutor.pk),
    )
    assert response.status_code == 200
    assert not Candidate.objects.exists()
    assert "company" in response.context["form"].errors


# --- list, filters, export ------------------------------------------------------------------


@pytest.mark.django_db
def test_list_shows_only_own_centre_with_search_and_filters(client_a, centre_a, centre_b, certification):
    vae = CandidateFactory(centre=centre_a, certification=certification, vae=True, birth_name="Vasseur")
    employee = CandidateFactory(
        centre=centre_a, certification=certification, birth_name="Renard", status=S.IN_EVALUATION
    )
    other = CandidateFactory(centre=centre_b, certification=certification, birth_name="Ailleurs")
    url = reverse("candidates:list")
    body = client_a.get(url).content.decode()
    assert vae.reference in body and employee.reference in body and other.reference not in body
    assert f'href="/candidats/{vae.pk}/"' in body

    def refs(**params):
        return {c["reference"] for c in client_a.get(url, params).context["candidates"]}

    def search(**data):
        response = client_a.post(url, data)
        assert response.status_code == 302
        # The searched name never travels in a URL (history, access logs): it waits in the session.
        assert "q" not in response["Location"] and "vass" not in response["Location"].lower()
        listing = client_a.get(response["Location"])
        return {c["reference"] for c in listing.context["candidates"]}, response["Location"]

    found, location = search(q="Vass")
    assert found == {vae.reference} and "search=1" in location
    assert search(q=employee.reference)[0] == {employee.reference}
    found, location = search(q="a", pathway=Pathway.VAE)
    assert found == {vae.reference} and "pathway=vae" in location
    # The export of a searched list uses the same (session-held) search.
    export = client_a.get(reverse("candidates:export"), {"search": "1", "pathway": "vae", "format": "csv"})
    assert export.content.decode("utf-8-sig").count("\n") == 2
    # A q= in the URL itself is ignored.
    assert refs(q="vass") == {vae.reference, employee.reference}
    assert search(q="")[0] == {vae.reference, employee.reference}
    assert refs(pathway=Pathway.VAE) == {vae.reference}
    assert refs(status=S.IN_EVALUATION) == {employee.reference}
    assert refs(company=employee.company.pk) == {employee.reference}
    assert refs(certification=certification.code) == {vae.reference, employee.reference}
    assert search(q="Ailleurs")[0] == set()
    # A company of another centre is not a valid choice.
    response = client_a.get(url, {"company": other.company.pk})
    assert "company" in response.context["filter"].form.errors


@pytest.mark.django_db
def test_export_of_the_filtered_list_is_neutralised(client_a, centre_a, centre_b, certification):
    CandidateFactory(centre=centre_a, certification=certification, vae=True, birth_name='=HYPERLINK("x")')
    CandidateFactory(centre=centre_a, certification=certification, birth_name="Salarie")
    CandidateFactory(centre=centre_b, certification=certification, vae=True, birth_name="Autre centre")
    response = client_a.get(reverse("candidates:export"), {"pathway": Pathway.VAE, "format": "csv"})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 2
    assert rows[1][1] == '\'=HYPERLINK("x")'
    response = client_a.get(reverse("candidates:export"), {"format": "xlsx"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(response.content)).active
    names = {row[1] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert names == {'\'=HYPERLINK("x")', "Salarie"}
    assert AuditEvent.objects.filter(action="candidates.exported").count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("rows", [5, 50])
def test_candidate_list_query_count_is_constant(
    client_a, centre_a, certification, rows, django_assert_max_num_queries
):
    company = CompanyFactory(centre=centre_a)
    for _ in range(rows):
        CandidateFactory(centre=centre_a, certification=certification, company=company, with_dossier=False)
    with django_assert_max_num_queries(6):
        response = client_a.get(reverse("candidates:list"))
    assert len(response.context["candidates"]) == rows


@pytest.mark.django_db
@pytest.mark.parametrize("rows", [5, 50])
def test_company_list_query_count_is_constant(client_a, centre_a, rows, django_assert_max_num_queries):
    for _ in range(rows):
        TutorFactory(company=CompanyFactory(centre=centre_a), user=None)
    with django_assert_max_num_queries(8):
        response = client_a.get(reverse("candidates:company_list"))
    assert len(response.context["companies"]) == rows


# --- registration ---------------------------------------------------------------------------


def registration_data(certification, centre, **overrides):
    data = {
        "centre": centre.pk,
        "birth_name": "Durand",
        "first_names": "Julie",
        "sex": "F",
        "birth_date": "1990-05-17",
        "birth_country": "France",
        "pathway": Pathway.VAE,
        "certification": certification.pk,
        "registered_on": timezone.localdate().isoformat(),
        "legal_basis": "contract",
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_register_through_the_form(client_a, centre_a, certification, company_a, tutor_a):
    response = client_a.post(
        reverse("candidates:create"),
        registration_data(certification, centre_a, pathway=Pathway.APPRENTICE, tutor=tutor_a.pk),
    )
    candidate = Candidate.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "candidates:detail", args=[candidate.pk]
    )
    assert candidate.company == company_a  # deduced from the tutor
    assert candidate.created_by.username == "staff-a"
    page = client_a.get(response["Location"]).content.decode()
    assert candidate.reference in page and "Durand".upper() in page


@pytest.mark.django_db
def test_form_requires_company_for_employees(client_a, centre_a, certification):
    response = client_a.post(
        reverse("candidates:create"), registration_data(certification, centre_a, pathway=Pathway.EMPLOYEE)
    )
    assert response.status_code == 200
    assert "obligatoires" in response.content.decode()
    assert not Candidate.objects.exists()


@pytest.mark.django_db
def test_duplicate_warning_then_create_anyway(client_a, centre_a, certification):
    existing = CandidateFactory(
        centre=centre_a,
        birth_name="Durand",
        first_names="Julie",
        birth_date=datetime.date(1990, 5, 17),
        vae=True,
    )
    url = reverse("candidates:create")
    response = client_a.post(url, registration_data(certification, centre_a))
    assert response.status_code == 200
    body = response.content.decode()
    assert "déjà inscrit" in body and existing.reference in body
    assert 'type="checkbox" name="confirm_duplicate"' in body
    assert Candidate.objects.count() == 1
    response = client_a.post(url, registration_data(certification, centre_a, confirm_duplicate="on"))
    assert response.status_code == 302
    assert Candidate.objects.count() == 2


# --- lifecycle through the page -------------------------------------------------------------


@pytest.mark.django_db
def test_withdrawal_through_the_page(client_a, centre_a):
    candidate = CandidateFactory(centre=centre_a, status=S.IN_EVALUATION)
    response = client_a.post(
        reverse("candidates:transition", args=[candidate.pk]),
        {"to_status": S.WITHDRAWN, "reason": "Abandon de la formation"},
        follow=True,
    )
    assert response.status_code == 200
    candidate.refresh_from_db()
    assert candidate.status == S.WITHDRAWN
    assert candidate.status_changes.get().reason == "Abandon de la formation"


# Issue 16: « Changer le statut » never jumps over the process; each refusal says why, in French, and
# the page comes back with what was typed.
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("from_status", "to_status", "reason", "message"),
    [
        (S.IN_EVALUATION, S.AWAITING_DELIBERATION, "x", "quand la commission a fait une proposition"),
        (S.DOSSIER_VALIDATED, S.IN_EVALUATION, "x", "en convoquant le candidat"),
        (S.AWAITING_DELIBERATION, S.DELIBERATED, "x", "à la clôture de la délibération"),
        (S.REGISTERED, S.DOSSIER_VALIDATED, "x", "en validant le dossier"),
        (S.DOSSIER_VALIDATED, S.REGISTERED, "x", "en rouvrant le dossier"),
        (S.REGISTERED, S.WITHDRAWN, "", "Indiquez le motif de ce changement de statut."),
        (S.REGISTERED, "", "x", "Choisissez le nouveau statut."),
        (S.REGISTERED, "nonsense", "x", "Ce statut ne se choisit pas ici"),
        (S.DELIBERATED, S.WITHDRAWN, "x", "son statut ne change plus"),
    ],
)
def test_status_change_refusals_on_the_page(client_a, centre_a, from_status, to_status, reason, message):
    candidate = CandidateFactory(centre=centre_a, status=from_status)
    response = client_a.post(
        reverse("candidates:transition", args=[candidate.pk]),
        {"to_status": to_status, "reason": reason or "", "keep": "1"}
        | ({"reason": "Motif gardé"} if reason else {}),
    )
    assert response.status_code in (302, 400)
    if response.status_code == 400:
        page = response.content.decode()
        assert message in page.replace("&#x27;", "'").replace("&quot;", '"')
        if reason:
            assert "Motif gardé" in page
    else:  # a closed candidate has no form any more: back to his page with the message
        assert from_status == S.DELIBERATED
        assert any(message in m for m in messages_of(client_a.get(response.url)))
    candidate.refresh_from_db()
    assert candidate.status == from_status
    assert not candidate.status_changes.exists()


@pytest.mark.django_db
def test_status_form_offers_only_the_withdrawal_nothing_chosen_and_the_reason_required(client_a, centre_a):
    candidate = CandidateFactory(centre=centre_a, status=S.REGISTERED)
    response = client_a.get(reverse("candidates:detail", args=[candidate.pk]))
    form = response.context["transition_form"]
    assert [value for value, _label in form.fields["to_status"].choices] == [S.WITHDRAWN]
    assert form.fields["reason"].required
    page = response.content.decode()
    radio = page.split('name="to_status"')[1].split(">")[0]
    assert 'value="withdrawn"' in radio and "checked" not in radio
    assert "---------" not in page


# --- dossier --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_dossier_edit_validate_and_frozen(client_a, centre_a):
    candidate = CandidateFactory(centre=centre_a, with_dossier__modalities=[])
    items = list(candidate.dossier.items.all())
    url = reverse("candidates:dossier_edit", args=[candidate.pk])
    page = client_a.get(url).content.decode()
    assert "Observation en situation de travail" in page
    data = {
        "report_due_date": (timezone.localdate() + datetime.timedelta(days=10)).isoformat(),
        "company_opinion_applies": "on",
    }
    for item in items:
        data[f"item_{item.pk}_modalities"] = [
            ModalityCode.WORKPLACE_OBSERVATION,
            ModalityCode.PROJECT_PRESENTATION,
        ]
    response = client_a.post(url, data)
    assert response.status_code == 302
    items[0].refresh_from_db()
    assert items[0].modalities == [ModalityCode.WORKPLACE_OBSERVATION, ModalityCode.PROJECT_PRESENTATION]
    response = client_a.post(reverse("candidates:dossier_validate", args=[candidate.pk]), follow=True)
    assert "figé" in " ".join(messages_of(response))
    candidate.refresh_from_db()
    assert candidate.status == S.DOSSIER_VALIDATED and candidate.dossier.is_frozen
    # Frozen: GET redirects, POST is refused with a message.
    assert client_a.get(url).status_code == 302
    data[f"item_{items[0].pk}_modalities"] = [ModalityCode.WORKPLACE_QUESTIONING]
    response = client_a.post(url, data)
    assert response.status_code == 200 and "ne peut plus être modifié" in response.content.decode()
    items[0].refresh_from_db()
    assert ModalityCode.WORKPLACE_QUESTIONING not in items[0].modalities


@pytest.mark.django_db
def test_dossier_reopened_from_the_candidate_page_with_its_reason(client_a, centre_a):
    candidate = CandidateFactory(centre=centre_a, status=S.DOSSIER_VALIDATED)
    assert candidate.dossier.is_frozen
    detail = reverse("candidates:detail", args=[candidate.pk])
    reopen = reverse("candidates:dossier_reopen", args=[candidate.pk])
    page = client_a.get(detail).content.decode()
    assert f'action="{reopen}"' in page and "Motif de la réouverture" in page
    # no reason: a message, nothing changes
    response = client_a.post(reopen, {"reason": " "}, follow=True)
    assert "motif" in " ".join(messages_of(response))
    candidate.refresh_from_db()
    assert candidate.dossier.is_frozen and candidate.status == S.DOSSIER_VALIDATED
    response = client_a.post(reopen, {"reason": "Compétence 2 déjà acquise oubliée"}, follow=True)
    assert "Dossier rouvert" in " ".join(messages_of(response))
    candidate.refresh_from_db()
    assert not candidate.dossier.is_frozen and candidate.status == S.REGISTERED
    page = response.content.decode()
    assert "Compétence 2 déjà acquise oubliée" in page  # the status history shows the reason
    assert f'action="{reopen}"' not in page and "Modifier le dossier" in page
    # once convened, the page no longer offers it and a forged POST is refused with the reason
    convened = CandidateFactory(centre=centre_a, status=S.IN_EVALUATION)
    assert (
        "dossier/rouvrir/"
        not in client_a.get(reverse("candidates:detail", args=[convened.pk])).content.decode()
    )
    response = client_a.post(
        reverse("candidates:dossier_reopen", args=[convened.pk]), {"reason": "Erreur"}, follow=True
    )
    assert "convoqué" in " ".join(messages_of(response))
    convened.refresh_from_db()
    assert convened.dossier.is_frozen and convened.status == S.IN_EVALUATION


def test_dossier_validation_error_is_a_message(client_a, centre_a):
    candidate = CandidateFactory(centre=centre_a, with_dossier__modalities=[])
    response = client_a.post(reverse("candidates:dossier_validate", args=[candidate.pk]), follow=True)
    assert response.status_code == 200
    assert "au moins une modalité" in " ".join(messages_of(response))
    candidate.refresh_from_db()
    assert candidate.status == S.REGISTERED


@pytest.mark.django_db
def test_vae_dossier_cannot_turn_company_opinion_on(client_a, centre_a):
    candidate = CandidateFactory(centre=centre_a, vae=True)
    items = list(candidate.dossier.items.all())
    data = {"company_opinion_applies": "on"}
    for item in items:
        data[f"item_{item.pk}_modalities"] = [ModalityCode.WORKPLACE_OBSERVATION]
    client_a.post(reverse("candidates:dossier_edit", args=[candidate.pk]), data)
    candidate.dossier.refresh_from_db()
    assert candidate.dossier.company_opinion_applies is False


# --- documents ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_upload_through_the_page_refuses_renamed_executable(client_a, centre_a):
    candidate = CandidateFactory(centre=centre_a)
    url = reverse("candidates:document_upload", args=[candidate.pk])
    exe = SimpleUploadedFile("rapport.pdf", b"MZ\x90\x00" + b"\x00" * 300, content_type="application/pdf")
    response = client_a.post(url, {"kind": "report", "file": exe})
    assert response.status_code == 200
    assert "type accepté" in response.content.decode()
    assert not CandidateDocument.objects.exists()
    response = client_a.post(url, {"kind": "report", "file": SimpleUploadedFile("rapport.pdf", MINIMAL_PDF)})
    assert response.status_code == 302
    document = CandidateDocument.objects.get()
    page = client_a.get(reverse("candidates:detail", args=[candidate.pk])).content.decode()
    assert document.sha256 in page


@pytest.mark.django_db
def test_download_is_permission_checked_and_audited(client, centre_a, staff_a):
    candidate = CandidateFactory(centre=centre_a)
    document = CandidateDocumentFactory(candidate=candidate, original_name="rapport final.pdf")
    url = reverse("candidates:document_download", args=[candidate.pk, document.pk])
    client.force_login(staff_a)
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == MINIMAL_PDF
    assert "attachment" in response["Content-Disposition"]
    assert (
        AuditEvent.objects.filter(
            action="document.downloaded", actor=staff_a, data__document="candidate_document"
        ).count()
        == 1
    )
    # The tutor sees the candidate but never downloads files; an evaluator outside any commission gets 404.
    client.force_login(candidate.tutor.user)
    assert client.get(url).status_code == 403
    client.force_login(UserFactory(role=Role.EVALUATOR, centres=[centre_a]))
    assert client.get(url).status_code == 404
    # A document id of another candidate is 404 even for the right staff.
    other = CandidateDocumentFactory(candidate=CandidateFactory(centre=centre_a))
    client.force_login(staff_a)
    assert (
        client.get(reverse("candidates:document_download", args=[candidate.pk, other.pk])).status_code == 404
    )


@pytest.mark.django_db
def test_personal_data_export_view(client_a, centre_a):
    candidate = CandidateFactory(centre=centre_a)
    CandidateDocumentFactory(candidate=candidate)
    url = reverse("candidates:personal_data_export", args=[candidate.pk])
    assert client_a.get(url).status_code == 405
    response = client_a.post(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert candidate.reference in response["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert "candidat.json" in archive.namelist() and any(
        n.startswith("documents/") for n in archive.namelist()
    )


# --- import ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_import_preview_then_confirm(client_a, centre_a, certification, django_capture_on_commit_callbacks):
    """Upload → checked by a task (eager here) → job page with the located errors or the confirm
    button → confirmation → imported (see tests/candidates/test_import_jobs.py for the details)."""
    header = "nom_naissance;prenoms;sexe;date_naissance;parcours;cqpm\n"
    good = f"Petit;Emma;F;14/07/1992;VAE;{certification.code}\nBlanc;Hugo;M;01/02/1991;demandeur d'emploi;{certification.code}\n"
    bad = good + f"Noir;Léo;X;01/02/1991;vae;{certification.code}\n"
    url = reverse("candidates:import")
    with django_capture_on_commit_callbacks(execute=True):
        response = client_a.post(
            url, {"centre": centre_a.pk, "file": SimpleUploadedFile("c.csv", (header + bad).encode())}
        )
    body = client_a.get(response["Location"]).content.decode()
    assert "Sexe inconnu" in body and "/confirmer/" not in body
    assert not Candidate.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client_a.post(
            url, {"centre": centre_a.pk, "file": SimpleUploadedFile("c.csv", (header + good).encode())}
        )
    job_url = response["Location"]
    assert "Confirmer l'import" in client_a.get(job_url).content.decode()
    assert not Candidate.objects.exists()
    confirm_url = reverse("candidates:import_job_confirm", args=[job_url.rstrip("/").rsplit("/", 1)[1]])
    with django_capture_on_commit_callbacks(execute=True):
        response = client_a.post(confirm_url)
    assert response.status_code == 302
    assert Candidate.objects.filter(centre=centre_a).count() == 2
    # The job is done: a second confirmation imports nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        client_a.post(confirm_url)
    assert Candidate.objects.count() == 2


@pytest.mark.django_db
def test_import_into_another_centre_is_refused(client_a, centre_b, certification):
    header = "nom_naissance;prenoms;sexe;date_naissance;parcours;cqpm\n"
    line = f"Petit;Emma;F;14/07/1992;VAE;{certification.code}\n"
    response = client_a.post(
        reverse("candidates:import"),
        {"centre": centre_b.pk, "file": SimpleUploadedFile("c.csv", (header + line).encode())},
    )
    assert response.status_code == 200 and "centre" in response.context["form"].errors
    assert not Candidate.objects.exists()


# --- companies ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_company_and_tutor_pages(client_a, centre_a):
    response = client_a.post(
        reverse("candidates:company_create"),
        {"centre": centre_a.pk, "name": "Forges", "siret": "732 829 320 00075"},
    )
    assert response.status_code == 200 and "clé de contrôle" in response.content.decode()
    response = client_a.post(
        reverse("candidates:company_create"),
        {"centre": centre_a.pk, "name": "Forges", "siret": "732 829 320 00074"},
    )
    company = Company.objects.get()
    assert response.status_code == 302 and company.siret == "73282932000074" and company.centre == centre_a
    response = client_a.post(
        reverse("candidates:tutor_create", args=[company.pk]),
        {
            "first_name": "Paul",
            "last_name": "Roche",
            "email": "paul@forges.test",
            "function": "Chef d'atelier",
        },
    )
    tutor = Tutor.objects.get()
    assert response.status_code == 302 and tutor.company == company and tutor.user is None
    client_a.post(
        reverse("candidates:tutor_update", args=[tutor.pk]),
        {"first_name": "Paul", "last_name": "Roche", "email": "p.roche@forges.test"},
    )
    tutor.refresh_from_db()
    assert tutor.email == "p.roche@forges.test"
    page = client_a.get(reverse("candidates:company_detail", args=[company.pk])).content.decode()
    assert "Roche" in page and "73282932000074" in page


@pytest.mark.django_db
def test_update_page_changes_contact_and_audits_without_names(client_a, centre_a):
    candidate = CandidateFactory(centre=centre_a, vae=True, birth_name="Visible")
    url = reverse("candidates:update", args=[candidate.pk])
    data = {
        "birth_name": "Visible",
        "first_names": candidate.first_names,
        "sex": candidate.sex,
        "birth_date": candidate.birth_date.isoformat(),
        "birth_country": "France",
        "email": "nouvelle@exemple.test",
        "pathway": Pathway.VAE,
    }
    assert client_a.post(url, data).status_code == 302
    candidate.refresh_from_db()
    assert candidate.email == "nouvelle@exemple.test"
    event = AuditEvent.objects.get(action="candidate.updated")
    assert "email" in event.data["fields"] and "Visible" not in str(event.data) + event.message


@pytest.mark.django_db
def test_other_apps_can_register_list_filters(client_a, centre_a, certification):
    import django_filters

    from candidates.filters import CandidateFilter, register_filter

    kept = CandidateFactory(centre=centre_a, certification=certification, birth_name="Gardé")
    CandidateFactory(centre=centre_a, certification=certification, birth_name="Filtré")
    register_filter(
        "born_before", django_filters.DateFilter(label="Né avant", field_name="birth_date", lookup_expr="lte")
    )
    try:
        response = client_a.get(reverse("candidates:list"), {"born_before": kept.birth_date.isoformat()})
        assert "Né avant" in response.content.decode()
        assert [c["pk"] for c in response.context["candidates"]] == [kept.pk]
    finally:
        del CandidateFilter.base_filters["born_before"]


@pytest.mark.django_db
def test_candidate_and_dossier_pages_show_capitalised_competencies(client_a, centre_a):
    from django.utils import formats, translation

    first = CandidateFactory(centre=centre_a, status=S.DELIBERATED)
    second = CandidateFactory(
        centre=centre_a,
        certification=first.certification,
        previous_attempt=first,
        with_dossier__modalities=[],
    )
    acquired_on, until = datetime.date(2026, 3, 12), datetime.date(2031, 3, 12)
    item, *others = list(second.dossier.items.order_by("competency__number"))
    item.already_acquired, item.acquired_on, item.acquired_until = True, acquired_on, until
    item.acquired_through_block = 1  # the mirror of a bloc's record (deliberations.capitalisation)
    item.save()
    with translation.override("fr"):
        expected = (
            f"Compétence acquise le {formats.date_format(acquired_on, 'DATE_FORMAT')} valable jusqu'au "
            f"{formats.date_format(until, 'DATE_FORMAT')}, non réévaluée"
        )
    detail = client_a.get(reverse("candidates:detail", args=[second.pk])).content.decode()
    dossier = client_a.get(reverse("candidates:dossier_edit", args=[second.pk])).content.decode()
    for page in (detail, dossier):
        assert expected in html.unescape(page)
        assert "(au titre du bloc 1)" in page
        assert page.count("non réévaluée") == 1  # only the capitalised competency
        assert first.reference in page


@pytest.mark.django_db
def test_dossier_modalities_applied_to_every_competency_in_one_go(client_a, centre_a):
    candidate = CandidateFactory(centre=centre_a, with_dossier__modalities=[])
    items = list(candidate.dossier.items.order_by("competency__number"))
    url = reverse("candidates:dossier_edit", args=[candidate.pk])
    assert "Appliquer à toutes les compétences" in client_a.get(url).content.decode()
    # the last competency is held by an earlier deliberation (the dossier mirrors its record):
    # « appliquer à toutes » leaves it alone
    items[-1].already_acquired = True
    items[-1].save(update_fields=["already_acquired"])
    data = {"apply_all": [ModalityCode.WORKPLACE_OBSERVATION]}
    if candidate.company_id and not candidate.is_vae:
        data["company_opinion_applies"] = "on"
    response = client_a.post(url, data)
    assert response.status_code == 302, response.content.decode()[-3000:]
    for item in items:
        item.refresh_from_db()
    assert all(item.modalities == [ModalityCode.WORKPLACE_OBSERVATION] for item in items[:-1])
    assert items[-1].already_acquired and items[-1].modalities == []


@pytest.mark.django_db
def test_tutor_options_carry_their_company_for_the_filter(client_a, centre_a):
    from tests.candidates.factories import CompanyFactory, TutorFactory

    first, second = CompanyFactory(centre=centre_a), CompanyFactory(centre=centre_a)
    tutor_1, tutor_2 = TutorFactory(company=first), TutorFactory(company=second)
    page = client_a.get(reverse("candidates:create")).content.decode()
    assert 'name="company"' in page and 'data-filter-by="company"' in page
    assert f'data-company="{first.pk}" value="{tutor_1.pk}"' in page or (
        f'value="{tutor_1.pk}" data-company="{first.pk}"' in page
    )
    assert f'data-company="{second.pk}"' in page and str(tutor_2.pk) in page
