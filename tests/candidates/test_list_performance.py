"""The candidate list and the candidate page at national scale (issue 9).

The list never renders a choice per company: the company is searched by name or SIRET (suggestions
from `candidates:company_search`, role-scoped), `company=<id>` links still filter; rows and the
candidate page are built from `.values()` with labels computed once. These tests pin the behaviour
(rows present / absent, scope, escaping, accessibility) and the constant number of queries.
"""

import html
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from candidates.models import CandidateStatus, CandidateStatusChange, DocumentKind, Pathway
from candidates.selectors import company_search_term
from core.models import Role
from referential.models import ModalityCode
from tests.candidates.factories import CandidateDocumentFactory, CandidateFactory, CompanyFactory, make_siret
from tests.core.factories import StaffFactory, UserFactory

S = CandidateStatus
LIST = "candidates:list"
SEARCH = "candidates:company_search"


def listed(response):
    """References of the candidates whose row is in the page's HTML."""
    assert response.status_code == 200
    return set(re.findall(r'<a href="/candidats/\d+/">([^<]+)</a>', response.content.decode()))


def options(response):
    """The suggestion values of the company search endpoint."""
    assert response.status_code == 200
    return [html.unescape(v) for v in re.findall(r'<option value="([^"]*)"', response.content.decode())]


@pytest.fixture
def companies(centre_a, centre_b, certification):
    """Two companies of centre A with close names, one of centre B with the same name as one of A."""
    forges = CompanyFactory(centre=centre_a, name="Forges de Lorraine", siret=make_siret(101))
    forges_est = CompanyFactory(centre=centre_a, name="Forges de l'Est", siret=make_siret(102))
    other = CompanyFactory(centre=centre_b, name="Forges de Lorraine", siret=make_siret(103))
    return {
        "forges": forges,
        "forges_est": forges_est,
        "other": other,
        "at_forges": CandidateFactory(centre=centre_a, certification=certification, company=forges),
        "at_forges_est": CandidateFactory(centre=centre_a, certification=certification, company=forges_est),
        "vae": CandidateFactory(centre=centre_a, certification=certification, vae=True),
        "at_other": CandidateFactory(centre=centre_b, certification=certification, company=other),
    }


# --- the company filter ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", None),
        ("   ", None),
        ("Forges", ("name", "Forges")),
        ("  forges   de  ", ("name", "forges de")),
        ("7 0000", ("siret_prefix", "70000")),
        ("73282932000074", ("siret", "73282932000074")),
        ("Forges de Lorraine — 73282932000074", ("siret", "73282932000074")),
        ("3M France", ("name", "3M France")),
        ("123456789012345", ("siret_prefix", "123456789012345")),  # 15 digits: not a SIRET
    ],
)
def test_how_a_company_search_text_reads(text, expected):
    assert company_search_term(text) == expected


@pytest.mark.django_db
def test_company_text_filter_by_name_and_siret(client_a, companies):
    c = companies
    url = reverse(LIST)
    everyone = {c["at_forges"].reference, c["at_forges_est"].reference, c["vae"].reference}
    assert listed(client_a.get(url)) == everyone
    assert listed(client_a.get(url, {"company_search": "forges de"})) == {
        c["at_forges"].reference,
        c["at_forges_est"].reference,
    }
    assert listed(client_a.get(url, {"company_search": "LORRAINE"})) == {c["at_forges"].reference}
    assert listed(client_a.get(url, {"company_search": c["forges_est"].siret})) == {
        c["at_forges_est"].reference
    }
    assert listed(client_a.get(url, {"company_search": c["forges"].siret[:13]})) == {c["at_forges"].reference}
    suggestion = f"{c['forges'].name} — {c['forges'].siret}"
    assert listed(client_a.get(url, {"company_search": suggestion})) == {c["at_forges"].reference}
    assert listed(client_a.get(url, {"company_search": "Aciéries"})) == set()
    # Combined with another filter.
    assert listed(client_a.get(url, {"company_search": "forges", "pathway": Pathway.VAE})) == set()
    # Centre B's candidate never appears, whatever the text (its company has the same name).
    assert c["at_other"].reference not in listed(client_a.get(url, {"company_search": c["other"].siret}))


@pytest.mark.django_db
def test_company_id_links_still_filter_and_show_the_company(client_a, companies):
    c = companies
    response = client_a.get(reverse(LIST), {"company": c["forges"].pk})
    assert listed(response) == {c["at_forges"].reference}
    field = re.search(r'<input type="search" name="company_search"[^>]*>', response.content.decode()).group()
    assert f'value="{html.escape(c["forges"].name)} — {c["forges"].siret}"' in field
    # Another centre's company is not a valid choice: an error, and no row of centre B.
    response = client_a.get(reverse(LIST), {"company": c["other"].pk})
    assert "company" in response.context["filter"].form.errors
    assert c["at_other"].reference not in response.content.decode()
    assert "is-invalid" in re.search(r'<input type="search"[^>]*>', response.content.decode()).group()
    # A tampered id is an error too, never a crash.
    response = client_a.get(reverse(LIST), {"company": "abc"})
    assert response.status_code == 200 and "company" in response.context["filter"].form.errors


@pytest.mark.django_db
def test_posting_a_company_search_designating_one_company_becomes_its_id(client_a, companies):
    c = companies
    url = reverse(LIST)
    # A suggestion (name — SIRET), a bare SIRET, an exact name: one company of the centre → its id.
    for text in (
        f"{c['forges'].name} — {c['forges'].siret}",
        c["forges"].siret,
        "forges de lorraine",  # centre B's homonym is out of scope: A's is the only one
    ):
        response = client_a.post(url, {"company_search": text, "status": S.REGISTERED})
        assert response.status_code == 302
        assert response["Location"] == f"{url}?status={S.REGISTERED}&company={c['forges'].pk}", text
        assert listed(client_a.get(response["Location"])) == {c["at_forges"].reference}
    # Several companies match: the text stays the filter.
    response = client_a.post(url, {"company_search": "Forges"})
    assert response["Location"] == f"{url}?company_search=Forges"
    assert listed(client_a.get(response["Location"])) == {
        c["at_forges"].reference,
        c["at_forges_est"].reference,
    }
    # A company id posted with the form is ignored: only the visible search field counts.
    response = client_a.post(url, {"company": c["forges"].pk, "company_search": ""})
    assert response["Location"] == url


@pytest.mark.django_db
def test_the_list_renders_no_option_per_company(client_a, centre_a, certification):
    for n in range(30):
        CompanyFactory(centre=centre_a, name=f"Sous-traitant {n:02d}")
    CandidateFactory(centre=centre_a, certification=certification)
    page = client_a.get(reverse(LIST)).content.decode()
    assert "Sous-traitant" not in page
    assert '<datalist id="company-options"></datalist>' in page


# --- the suggestions endpoint ---------------------------------------------------------------


@pytest.mark.django_db
def test_company_suggestions_are_scoped_to_the_users_centres(client, companies, staff_a, staff_b):
    c = companies
    url = reverse(SEARCH)
    client.force_login(staff_a)
    assert set(options(client.get(url, {"company_search": "forges"}))) == {
        f"{c['forges_est'].name} — {c['forges_est'].siret}",
        f"{c['forges'].name} — {c['forges'].siret}",
    }
    # Centre B's company, by its SIRET or its name: never suggested to centre A's staff.
    assert options(client.get(url, {"company_search": c["other"].siret})) == []
    assert c["other"].siret not in client.get(url, {"company_search": "Lorraine"}).content.decode()
    client.force_login(staff_b)
    assert options(client.get(url, {"company_search": "forges"})) == [
        f"{c['other'].name} — {c['other'].siret}"
    ]
    assert options(client.get(url, {"company_search": c["forges"].siret})) == []
    # A national administrator sees every centre's companies, labelled with their centre.
    client.force_login(UserFactory(role=Role.STAFF, is_superuser=True))
    response = client.get(url, {"company_search": "lorraine"})
    assert len(options(response)) == 2
    assert ">A</option>" in response.content.decode() and ">B</option>" in response.content.decode()


@pytest.mark.django_db
def test_company_suggestions_are_bounded_and_need_two_characters(client_a, centre_a):
    for n in range(25):
        CompanyFactory(centre=centre_a, name=f"Usinage {n:02d}")
    url = reverse(SEARCH)
    found = options(client_a.get(url, {"company_search": "usinage"}))
    assert len(found) == 20 and found[0].startswith("Usinage 00") and found[-1].startswith("Usinage 19")
    assert options(client_a.get(url, {"company_search": "u"})) == []
    assert options(client_a.get(url)) == []


@pytest.mark.django_db
def test_company_suggestions_escape_names(client_a, centre_a):
    CompanyFactory(centre=centre_a, name='Atelier "<b>gras</b>"')
    body = client_a.get(reverse(SEARCH), {"company_search": "atelier"}).content.decode()
    assert "<b>" not in body and "&lt;b&gt;gras&lt;/b&gt;" in body


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.TUTOR, Role.EVALUATOR, Role.JURY])
def test_company_suggestions_refuse_other_roles(client, centre_a, role):
    CompanyFactory(centre=centre_a, name="Forges de Lorraine")
    client.force_login(UserFactory(role=role, centres=[centre_a]))
    response = client.get(reverse(SEARCH), {"company_search": "forges"})
    assert response.status_code == 403
    assert b"Forges" not in response.content


@pytest.mark.django_db
def test_company_suggestions_send_anonymous_users_to_login(client):
    response = client.get(reverse(SEARCH), {"company_search": "forges"})
    assert response.status_code == 302 and reverse("login") in response["Location"]


# --- accessibility of the filter form -------------------------------------------------------


@pytest.mark.django_db
def test_every_filter_input_has_its_label(client_a, companies):
    page = client_a.get(reverse(LIST)).content.decode()
    start = page.index('<form method="post" action="/candidats/"')
    form = page[start : page.index("</form>", start)]
    controls = re.findall(r'<(?:input|select)(?![^>]*type="hidden")[^>]*\sid="([^"]+)"', form)
    assert {"id_q", "id_status", "id_pathway", "id_company_search", "id_certification"} <= set(controls)
    for control in controls:
        assert f'<label for="{control}"' in form, control
    search = re.search(r'<input type="search" name="company_search"[^>]*>', form).group()
    assert 'list="company-options"' in search
    assert f'hx-get="{reverse(SEARCH)}"' in search
    assert 'aria-describedby="id_company_search_helptext"' in search
    assert 'id="id_company_search_helptext"' in form and "SIRET" in form


@pytest.mark.django_db
def test_selects_keep_the_chosen_value(client_a, companies):
    page = client_a.get(reverse(LIST), {"status": S.REGISTERED, "pathway": Pathway.VAE}).content.decode()
    assert f'<option value="{S.REGISTERED}" selected>' in page
    assert f'<option value="{Pathway.VAE}" selected>' in page
    assert '<option value="" selected>' in page  # CQPM: none chosen, as Django's Select renders it
    assert page.count(" selected>") == 3


# --- the rows -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_rows_show_the_candidate_as_the_model_does(client_a, centre_a, certification):
    usage = CandidateFactory(
        centre=centre_a, certification=certification, birth_name="Martin", usage_name="Durand"
    )
    anonymised = CandidateFactory(
        centre=centre_a, certification=certification, status=S.WITHDRAWN, anonymised_at=timezone.now()
    )
    vae = CandidateFactory(centre=centre_a, certification=certification, vae=True, status=S.DELIBERATED)
    page = html.unescape(client_a.get(reverse(LIST)).content.decode())
    for candidate in (usage, anonymised, vae):
        row = re.search(rf"<tr><td><a href=\"/candidats/{candidate.pk}/\">.*?</tr>", page).group()
        assert candidate.full_name in row
        assert candidate.get_status_display() in row and candidate.get_pathway_display() in row
        assert certification.code in row and f"v{certification.version}" in row
    assert "DURAND Léa Marie" in page and "MARTIN" not in page
    row = re.search(rf"<tr><td><a href=\"/candidats/{vae.pk}/\">.*?</tr>", page).group()
    assert "<td>—</td>" in row and "text-bg-success" in row
    row = re.search(rf"<tr><td><a href=\"/candidats/{anonymised.pk}/\">.*?</tr>", page).group()
    assert "Candidat anonymisé" in row and "Anonymisé</span>" in row and "text-bg-dark" in row
    assert usage.registered_on.strftime("%d/%m/%Y") in page


@pytest.mark.django_db
def test_rows_escape_what_the_database_holds(client_a, centre_a, certification):
    company = CompanyFactory(centre=centre_a, name="<img src=x onerror=alert(1)>")
    CandidateFactory(
        centre=centre_a,
        certification=certification,
        company=company,
        birth_name="<script>alert(1)</script>",
        first_names='"><b>',
    )
    page = client_a.get(reverse(LIST)).content.decode()
    assert "<script>alert" not in page and "<img src=x" not in page and '"><b>' not in page
    assert "&lt;SCRIPT&gt;ALERT(1)&lt;/SCRIPT&gt;" in page and "&lt;img src=x" in page


# --- constant number of queries -------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("rows", [5, 50])
@pytest.mark.parametrize(
    "params",
    [{}, {"status": S.REGISTERED}, {"company_search": "forges"}, {"company": "FORGES"}],
    ids=["all", "status", "company-text", "company-id"],
)
def test_list_queries_do_not_grow_with_rows(
    client_a, centre_a, certification, rows, params, django_assert_max_num_queries
):
    forges = CompanyFactory(centre=centre_a, name="Forges de Lorraine")
    for n in range(rows):
        CandidateFactory(
            centre=centre_a,
            certification=certification,
            company=forges if n % 2 else CompanyFactory(centre=centre_a),
            with_dossier=False,
            anonymised_at=timezone.now() if n == 3 else None,
        )
    params = {k: (forges.pk if v == "FORGES" else v) for k, v in params.items()}
    with django_assert_max_num_queries(7):  # session, user, centres, count, rows, CQPM codes, company
        response = client_a.get(reverse(LIST), params)
    assert response.status_code == 200
    expected = rows if not params or "status" in params else rows // 2
    assert len(listed(response)) == expected


@pytest.mark.django_db
@pytest.mark.parametrize("rows", [5, 50])
def test_candidate_page_queries_do_not_grow_with_documents_and_history(
    client_a, centre_a, staff_a, rows, django_assert_max_num_queries
):
    candidate = CandidateFactory(centre=centre_a, status=S.IN_EVALUATION)
    for n in range(rows):
        CandidateDocumentFactory(candidate=candidate, uploaded_by=staff_a, original_name=f"piece-{n}.pdf")
        CandidateStatusChange.objects.create(
            candidate=candidate, from_status=S.REGISTERED, to_status=S.DOSSIER_VALIDATED, by=staff_a
        )
    # session, user, centres, candidate, dossier, documents, history + the hub's sections (issue 16: the
    # evaluation's and the jury's, six queries each at most, whatever the rows)
    with django_assert_max_num_queries(19):
        response = client_a.get(reverse("candidates:detail", args=[candidate.pk]))
    page = response.content.decode()
    assert page.count("piece-") == rows and page.count("Dossier validé</strong>") == rows


# --- the candidate page ---------------------------------------------------------------------


@pytest.mark.django_db
def test_candidate_page_shows_what_the_models_hold(client_a, centre_a):
    staff = StaffFactory(centres=[centre_a], first_name="Paule", last_name="Validatrice")
    first = CandidateFactory(centre=centre_a, status=S.DELIBERATED)
    candidate = CandidateFactory(
        centre=centre_a,
        certification=first.certification,
        previous_attempt=first,
        status=S.IN_EVALUATION,
        with_dossier__validated_by=staff,
        with_dossier__modalities=[ModalityCode.WORKPLACE_OBSERVATION, ModalityCode.PROJECT_PRESENTATION],
    )
    CandidateStatusChange.objects.create(candidate=candidate, from_status="", to_status=S.REGISTERED, by=None)
    CandidateStatusChange.objects.create(
        candidate=candidate, from_status=S.REGISTERED, to_status=S.DOSSIER_VALIDATED, by=staff, reason="OK"
    )
    CandidateDocumentFactory(
        candidate=candidate, kind=DocumentKind.REPORT, uploaded_by=staff, is_late=True, original_name="r.pdf"
    )
    page = html.unescape(client_a.get(reverse("candidates:detail", args=[candidate.pk])).content.decode())
    certification, tutor = candidate.certification, candidate.tutor
    assert f"{certification.code} — {certification.title}" in page
    assert f'href="{reverse("referential:detail", args=[certification.pk])}"' in page
    assert candidate.centre.name in page
    assert f'href="{reverse("candidates:company_detail", args=[candidate.company.pk])}"' in page
    assert f"{tutor.first_name} {tutor.last_name} ({tutor.function})" in page
    assert f'href="/candidats/{first.pk}/">{first.reference}</a>' in page
    assert '<span class="badge text-bg-primary">En évaluation</span>' in page
    # Dossier: validated by whom, every competency with its modalities' labels.
    assert f"par {staff.get_full_name()}" in page and "Validé — figé" in page
    for item in candidate.dossier.items.select_related("competency__block"):
        assert f"{item.competency.number}. {item.competency.title}" in page
    labels = f"{ModalityCode.WORKPLACE_OBSERVATION.label} ; {ModalityCode.PROJECT_PRESENTATION.label}"
    assert page.count(labels) == candidate.dossier.items.count()
    # Documents and history, with French labels and names.
    assert "Rapport" in page and "Remis en retard" in page and "r.pdf" in page
    assert page.count("Paule Validatrice") == 4  # timeline (dossier validated), dossier, document, history
    assert "<strong>Inscrit</strong>" in page and "opération automatique" in page
    assert "Inscrit → Dossier validé" in page and "OK" in page
    # A candidate in evaluation may change status: the form is there; a deliberated one has none.
    assert 'id="statut"' in page
    page = client_a.get(reverse("candidates:detail", args=[first.pk])).content.decode()
    assert 'id="statut"' not in page


@pytest.mark.django_db
def test_candidate_page_without_dossier_company_or_tutor(client_a, centre_a):
    candidate = CandidateFactory(centre=centre_a, job_seeker=True, with_dossier=False)
    page = html.unescape(client_a.get(reverse("candidates:detail", args=[candidate.pk])).content.decode())
    assert "Tentative précédente" not in page and "Validé — figé" not in page
    assert re.search(r"Entreprise</dt><dd[^>]*>—</dd>", page) and re.search(
        r"Tuteur</dt><dd[^>]*>—</dd>", page
    )
    assert "Aucun document" in page and "Aucun changement de statut" in page


@pytest.mark.django_db
def test_candidate_page_says_which_modalities_are_still_to_choose(client_a, centre_a):
    candidate = CandidateFactory(centre=centre_a, with_dossier__modalities=[])
    page = client_a.get(reverse("candidates:detail", args=[candidate.pk])).content.decode()
    assert page.count("À choisir") == candidate.dossier.items.count() > 0


@pytest.mark.django_db
def test_list_pages_keep_the_newest_first_order_without_gap_or_repeat(
    client, staff_a, centre_a, centre_b, certification, django_assert_max_num_queries
):
    """The list's page ids are read apart from its rows (`selectors.candidate_list_page`, keyset
    pagination): walking every page through « Suivants » must give each visible candidate exactly
    once, newest registration first (ties by id), with the company of each row, and nothing of
    another centre."""
    from datetime import timedelta

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from candidates.views import PAGE_SIZE

    today = timezone.localdate()
    company = CompanyFactory(centre=centre_a, name="Aciéries du Nord", siret=make_siret(201))
    mine = [
        CandidateFactory(
            centre=centre_a,
            certification=certification,
            company=company,
            registered_on=today - timedelta(days=n % 7),
        )
        for n in range(PAGE_SIZE + 7)
    ]
    CandidateFactory(centre=centre_b, certification=certification)
    expected = [c.reference for c in sorted(mine, key=lambda c: (c.registered_on, c.pk), reverse=True)]

    client.force_login(staff_a)
    seen = []
    url = reverse(LIST)
    while url:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        content = response.content.decode()
        seen += re.findall(r'<a href="/candidats/\d+/">([^<]+)</a>', content)
        assert "Aciéries du Nord" in html.unescape(content)
        count_sql = next(q["sql"] for q in queries.captured_queries if "COUNT(*)" in q["sql"])
        assert "JOIN" not in count_sql and "OFFSET" not in count_sql  # the candidate table alone
        following = re.search(r'<a class="page-link" rel="next" href="([^"]+)"', content)
        url = html.unescape(following.group(1)) if following else None
    assert seen == expected
    assert f"{len(mine)} candidats" in content  # the total shown counts this centre only
