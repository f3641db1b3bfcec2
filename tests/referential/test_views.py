import html
import json
import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core.models import CertificationCentre, Role
from referential import formats, services
from referential.models import Certification, CertificationStatus, Criterion, CriterionCategory
from referential.selectors import certification_detail
from tests.referential.factories import CertificationFactory

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data"
EXAMPLE = DATA / "cqpm-exemple-operateur-maintenance.json"
SEED = (
    Path(__file__).resolve().parents[2] / "fixtures" / "referential" / "cqpm-charge-ressources-humaines.json"
)


@pytest.fixture
def users(django_user_model):
    centre_a = CertificationCentre.objects.create(code="A", name="Centre A")
    centre_b = CertificationCentre.objects.create(code="B", name="Centre B")
    made = {}
    for name, role, centre in [
        ("staff-a", Role.STAFF, centre_a),
        ("staff-b", Role.STAFF, centre_b),
        ("evaluator", Role.EVALUATOR, centre_a),
        ("jury", Role.JURY, centre_a),
        ("tutor", Role.TUTOR, centre_a),
    ]:
        user = django_user_model.objects.create_user(name, role=role)
        user.centres.add(centre)
        made[name] = user
    return made


def login(client, users, name):
    client.force_login(users[name])
    return client


@pytest.fixture
def published():
    return CertificationFactory(code="CQPM-T", title="CQPM de test")


@pytest.fixture
def draft(published):
    return CertificationFactory(
        code="CQPM-T", title="CQPM de test", version=2, status=CertificationStatus.DRAFT, published_at=None
    )


def text_of(response):
    """The page with whitespace collapsed and HTML entities decoded (' → ')."""
    return html.unescape(re.sub(r"\s+", " ", response.content.decode()))


# -- who may see what ----------------------------------------------------------------------------------


READ_PAGES = [
    ("referential:list", False),
    ("referential:detail", True),
    ("referential:export", True),
]
STAFF_GET_PAGES = [("referential:upload", False)]
STAFF_POST_ACTIONS = ["referential:publish", "referential:new_draft", "referential:delete_draft"]


def url(name, certification, with_pk):
    return reverse(name, kwargs={"pk": certification.pk}) if with_pk else reverse(name)


@pytest.mark.parametrize("name, with_pk", READ_PAGES)
@pytest.mark.parametrize(
    "username, status",
    [("staff-a", 200), ("staff-b", 200), ("evaluator", 200), ("jury", 200), ("tutor", 403)],
)
def test_read_pages_by_role(client, users, published, name, with_pk, username, status):
    response = login(client, users, username).get(url(name, published, with_pk))
    assert response.status_code == status


@pytest.mark.parametrize("name, with_pk", READ_PAGES + STAFF_GET_PAGES)
def test_anonymous_is_sent_to_login(client, published, name, with_pk):
    response = client.get(url(name, published, with_pk))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("username", ["evaluator", "jury", "tutor"])
def test_staff_actions_are_forbidden_to_other_roles(client, users, draft, username):
    client = login(client, users, username)
    assert client.get(reverse("referential:upload")).status_code == 403
    upload = SimpleUploadedFile("r.json", EXAMPLE.read_bytes(), content_type="application/json")
    assert client.post(reverse("referential:upload"), {"file": upload}).status_code == 403
    for name in STAFF_POST_ACTIONS:
        assert client.post(reverse(name, kwargs={"pk": draft.pk})).status_code == 403, name
    edit = reverse("referential:edit_competency", kwargs={"pk": draft.pk, "number": 1})
    assert client.get(edit).status_code == 403
    criterion = draft.competencies.get(number=1).criteria.first()
    response = client.post(
        edit, {"action": "update", "criterion": criterion.pk, f"c{criterion.pk}-text": "X"}
    )
    assert response.status_code == 403
    draft.refresh_from_db()
    assert draft.status == CertificationStatus.DRAFT
    assert Certification.objects.count() == 2
    assert Criterion.objects.get(pk=criterion.pk).text != "X"


@pytest.mark.parametrize("username", ["evaluator", "jury"])
def test_drafts_are_hidden_from_readers(client, users, draft, username):
    client = login(client, users, username)
    listing = text_of(client.get(reverse("referential:list")))
    assert f'href="{reverse("referential:detail", kwargs={"pk": draft.pk})}"' not in listing
    assert client.get(reverse("referential:detail", kwargs={"pk": draft.pk})).status_code == 404
    assert client.get(reverse("referential:export", kwargs={"pk": draft.pk})).status_code == 404


def test_staff_of_any_centre_see_drafts(client, users, draft):
    """A referential belongs to the branch: every centre's staff manage the same versions."""
    for name in ("staff-a", "staff-b"):
        response = login(client, users, name).get(reverse("referential:list"))
        assert reverse("referential:detail", kwargs={"pk": draft.pk}) in response.content.decode()


def test_unknown_certification_is_404(client, users):
    assert (
        login(client, users, "staff-a").get(reverse("referential:detail", kwargs={"pk": 999})).status_code
        == 404
    )


@pytest.mark.parametrize("name", STAFF_POST_ACTIONS)
def test_actions_refuse_get(client, users, draft, name):
    assert login(client, users, "staff-a").get(reverse(name, kwargs={"pk": draft.pk})).status_code == 405


# -- list ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rows", [5, 50])
def test_list_query_count_does_not_grow(client, users, rows, django_assert_max_num_queries):
    for index in range(rows):
        CertificationFactory(with_content=index % 10 == 0)
    client = login(client, users, "staff-a")
    with django_assert_max_num_queries(5):
        response = client.get(reverse("referential:list"))
    assert response.context["certifications"].count() == rows


def test_list_shows_versions_status_and_counts(client, users, draft):
    body = text_of(login(client, users, "staff-a").get(reverse("referential:list")))
    assert "CQPM de test" in body and "Brouillon" in body and "Publié" in body
    assert "<td>2</td> <td>3</td>" in body  # 2 blocks, 3 competencies
    assert reverse("referential:upload") in body


def test_empty_list_says_what_to_do(client, users):
    assert "Importez un fichier" in text_of(login(client, users, "staff-a").get(reverse("referential:list")))
    assert "Aucun référentiel publié" in text_of(
        login(client, users, "evaluator").get(reverse("referential:list"))
    )


# -- detail --------------------------------------------------------------------------------------------


def test_detail_shows_blocks_competencies_and_criteria_grouped_by_category(client, users):
    certification = services.publish(
        certification=services.import_certification(data=json.loads(SEED.read_text()))
    )
    response = login(client, users, "evaluator").get(
        reverse("referential:detail", kwargs={"pk": certification.pk})
    )
    body = text_of(response)
    for number in range(1, 8):
        assert f'id="competence-{number}"' in body
    assert body.count('<h2 class="h4">Bloc ') == 3
    for category in CriterionCategory:
        assert body.count(f">{category.label}</h5>") == 7
    # within competency 4, every criterion appears, in order, after its category heading
    competency = certification.competencies.get(number=4)
    section = body[body.index('id="competence-4"') : body.index('id="competence-5"')]
    positions = [section.index(f"<li>{c.text}</li>") for c in competency.criteria.all()]
    assert positions == sorted(positions)
    assert "Intitulé dans le référentiel d'évaluation : Concevoir et / ou exploiter" in section
    for result in competency.expected_results.all():
        assert result.text in section
    assert "Les outils de gestion des compétences" in body  # associated knowledge of block 2
    assert "Observation en situation de travail" in body
    assert "jury paritaire de délibération" in body
    # printable: print stylesheet and a print button handled by a static script (no inline JS)
    assert (
        "referential/referential.css" in body
        and "data-print" in body
        and "referential/referential.js" in body
    )
    assert "onclick" not in body and "<script>" not in body
    # read-only for an evaluator
    assert reverse("referential:new_draft", kwargs={"pk": certification.pk}) not in body


def test_detail_query_count_is_constant(client, users, django_assert_max_num_queries):
    small = CertificationFactory()
    big = services.publish(
        certification=services.import_certification(data=json.loads(SEED.read_text(encoding="utf-8")))
    )
    client = login(client, users, "staff-a")
    for certification in (small, big):
        with django_assert_max_num_queries(12):
            response = client.get(reverse("referential:detail", kwargs={"pk": certification.pk}))
        assert response.status_code == 200


def test_detail_of_a_draft_offers_publish_with_confirmation_and_edit_links(client, users, draft):
    body = text_of(
        login(client, users, "staff-a").get(reverse("referential:detail", kwargs={"pk": draft.pk}))
    )
    publish_url = reverse("referential:publish", kwargs={"pk": draft.pk})
    assert re.search(rf'<form method="post" action="{publish_url}" data-confirm="[^"]+"', body)
    assert reverse("referential:edit_competency", kwargs={"pk": draft.pk, "number": 3}) in body
    assert "Brouillon : cette version n'est pas en vigueur" in body


def test_published_detail_offers_a_new_draft_only_when_none_exists(client, users, published):
    client = login(client, users, "staff-a")
    detail = reverse("referential:detail", kwargs={"pk": published.pk})
    new_draft = reverse("referential:new_draft", kwargs={"pk": published.pk})
    body = client.get(detail).content.decode()
    assert new_draft in body
    assert reverse("referential:publish", kwargs={"pk": published.pk}) not in body
    services.create_draft_from(certification=published)
    assert new_draft not in client.get(detail).content.decode()


# -- export --------------------------------------------------------------------------------------------


def test_export_downloads_the_exchange_document(client, users, published):
    response = login(client, users, "jury").get(reverse("referential:export", kwargs={"pk": published.pk}))
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"] == 'attachment; filename="referentiel-CQPM-T-v1.json"'
    assert json.loads(response.content) == formats.serialise(certification_detail(published.pk))


# -- upload --------------------------------------------------------------------------------------------


def upload(client, content, name="referentiel.json"):
    return client.post(reverse("referential:upload"), {"file": SimpleUploadedFile(name, content)})


def test_staff_uploads_a_second_cqpm_as_a_draft(client, users):
    response = upload(login(client, users, "staff-a"), EXAMPLE.read_bytes())
    certification = Certification.objects.get(code="CQPM-EXEMPLE-OM")
    assert response.status_code == 302
    assert response["Location"] == reverse("referential:detail", kwargs={"pk": certification.pk})
    assert certification.status == CertificationStatus.DRAFT
    assert certification.competencies.count() == 2


def test_upload_with_errors_lists_them_with_locations_and_writes_nothing(client, users):
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["blocks"][1]["competencies"][0]["criteria"][2]["category"] = "foo"
    data["blocks"][0]["title"] = ""
    response = upload(login(client, users, "staff-a"), json.dumps(data).encode())
    assert response.status_code == 400
    body = text_of(response)
    assert "2 erreurs dans le fichier — rien n'a été importé" in body
    assert "<code>blocks[0].title</code> : ne doit pas être vide" in body
    assert '<code>blocks[1].competencies[0].criteria[2]</code> : catégorie "foo" inconnue' in body
    assert not Certification.objects.exists()


@pytest.mark.parametrize(
    "content, expected",
    [
        (b"%PDF-1.4 not a referential", "n'est pas d'un type accepté"),
        (b"", "Le fichier soumis est vide"),
        (b'{"format": "cqpm-referential", ', "JSON invalide ligne 1"),
    ],
)
def test_upload_refuses_what_is_not_a_referential(client, users, content, expected):
    response = upload(login(client, users, "staff-a"), content)
    assert response.status_code == 400
    assert expected in text_of(response)
    assert not Certification.objects.exists()


# -- lifecycle through the pages -----------------------------------------------------------------------


def test_new_draft_edit_and_publish_through_the_pages(client, users, published):
    client = login(client, users, "staff-a")
    response = client.post(reverse("referential:new_draft", kwargs={"pk": published.pk}))
    draft = Certification.objects.get(code="CQPM-T", version=2)
    assert response["Location"] == reverse("referential:detail", kwargs={"pk": draft.pk})

    edit = reverse("referential:edit_competency", kwargs={"pk": draft.pk, "number": 1})
    criterion = draft.competencies.get(number=1).criteria.get(category="means")
    response = client.post(
        edit,
        {
            "action": "update",
            "criterion": criterion.pk,
            f"c{criterion.pk}-category": "means",
            f"c{criterion.pk}-text": "Les outillages sont adaptés",
        },
    )
    assert response.status_code == 302 and response["Location"].endswith(f"#critere-{criterion.pk}")
    criterion.refresh_from_db()
    assert criterion.text == "Les outillages sont adaptés"

    client.post(edit, {"action": "add", "new-category": "environment", "new-text": "Le poste est rangé"})
    removed = draft.competencies.get(number=1).criteria.get(category="relations")
    client.post(edit, {"action": "remove", "criterion": removed.pk})
    assert list(draft.competencies.get(number=1).criteria.values_list("category", "text")) == [
        ("methods", "Critère methods de la compétence 1"),
        ("means", "Les outillages sont adaptés"),
        ("environment", "Critère environment de la compétence 1"),
        ("environment", "Le poste est rangé"),
    ]

    response = client.post(reverse("referential:publish", kwargs={"pk": draft.pk}))
    assert response.status_code == 302
    published.refresh_from_db()
    draft.refresh_from_db()
    assert (published.status, draft.status) == (CertificationStatus.ARCHIVED, CertificationStatus.PUBLISHED)
    assert Certification.objects.in_force("CQPM-T") == draft


def test_edit_page_of_a_published_version_redirects_and_posts_change_nothing(client, users, published):
    client = login(client, users, "staff-a")
    edit = reverse("referential:edit_competency", kwargs={"pk": published.pk, "number": 1})
    response = client.get(edit)
    assert response.status_code == 302
    criterion = published.competencies.get(number=1).criteria.first()
    response = client.post(
        edit,
        {
            "action": "update",
            "criterion": criterion.pk,
            f"c{criterion.pk}-category": criterion.category,
            f"c{criterion.pk}-text": "Réécrit",
        },
        follow=True,
    )
    assert "est publiée : elle ne peut plus être modifiée" in text_of(response)
    response = client.post(edit, {"action": "remove", "criterion": criterion.pk})
    assert Criterion.objects.get(pk=criterion.pk).text == criterion.text


def test_edit_with_an_empty_text_rerenders_with_the_error(client, users, draft):
    client = login(client, users, "staff-a")
    edit = reverse("referential:edit_competency", kwargs={"pk": draft.pk, "number": 2})
    criterion = draft.competencies.get(number=2).criteria.first()
    response = client.post(
        edit,
        {
            "action": "update",
            "criterion": criterion.pk,
            f"c{criterion.pk}-category": "methods",
            f"c{criterion.pk}-text": "  ",
        },
    )
    assert response.status_code == 400
    assert "Ce champ est obligatoire" in text_of(response)
    assert Criterion.objects.get(pk=criterion.pk).text == criterion.text


def test_edit_cannot_reach_a_criterion_of_another_competency(client, users, draft):
    client = login(client, users, "staff-a")
    other = draft.competencies.get(number=3).criteria.first()
    edit = reverse("referential:edit_competency", kwargs={"pk": draft.pk, "number": 1})
    assert client.post(edit, {"action": "remove", "criterion": other.pk}).status_code == 404
    assert Criterion.objects.filter(pk=other.pk).exists()


def test_publishing_twice_shows_an_error_not_a_500(client, users, published):
    response = login(client, users, "staff-a").post(
        reverse("referential:publish", kwargs={"pk": published.pk}), follow=True
    )
    assert response.status_code == 200
    assert "Seule une version brouillon peut être publiée" in text_of(response)


def test_delete_draft_page(client, users, draft):
    response = login(client, users, "staff-a").post(
        reverse("referential:delete_draft", kwargs={"pk": draft.pk})
    )
    assert response["Location"] == reverse("referential:list")
    assert not Certification.objects.filter(pk=draft.pk).exists()


# -- admin ---------------------------------------------------------------------------------------------


def test_admin_lists_referentials_read_only(admin_client, published):
    response = admin_client.get(reverse("admin:referential_certification_changelist"))
    assert response.status_code == 200 and "CQPM-T" in response.content.decode()
    assert admin_client.get(reverse("admin:referential_certification_add")).status_code == 403
    change = admin_client.get(reverse("admin:referential_certification_change", args=[published.pk]))
    assert change.status_code == 200 and 'name="_save"' not in change.content.decode()
