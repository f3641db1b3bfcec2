import json
from pathlib import Path

import pytest

from core.exceptions import BusinessRuleError
from core.models import AuditEvent
from referential import formats, services
from referential.models import (
    Block,
    Certification,
    CertificationStatus,
    Competency,
    Criterion,
    CriterionCategory,
    ExpectedResult,
)
from referential.selectors import certification_detail
from tests.referential.factories import CertificationFactory

pytestmark = pytest.mark.django_db

EXAMPLE = Path(__file__).parent / "data" / "cqpm-exemple-operateur-maintenance.json"
SEED = (
    Path(__file__).resolve().parents[2] / "fixtures" / "referential" / "cqpm-charge-ressources-humaines.json"
)


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def export(certification):
    return formats.serialise(certification_detail(certification.pk))


# -- import ----------------------------------------------------------------------------------------


def test_import_creates_a_draft_with_every_item_in_order():
    certification = services.import_certification(data=load(SEED))
    assert certification.status == CertificationStatus.DRAFT
    assert certification.blocks.count() == 3
    assert certification.competencies.count() == 7
    assert Criterion.objects.filter(competency__certification=certification).count() == sum(
        len(c["criteria"]) for b in load(SEED)["blocks"] for c in b["competencies"]
    )
    competency4 = certification.competencies.get(number=4)
    assert competency4.block.number == 2
    assert "déployer" in competency4.title and "exploiter" in competency4.evaluation_title
    assert list(competency4.criteria.values_list("order", flat=True)) == list(range(1, 14))
    assert AuditEvent.objects.filter(action="referential.imported", target_id=str(certification.pk)).exists()


def test_a_second_cqpm_is_imported_next_to_the_seed():
    services.import_certification(data=load(SEED))
    example = services.import_certification(data=load(EXAMPLE))
    assert Certification.objects.count() == 2
    assert example.code == "CQPM-EXEMPLE-OM" and example.rncp_number == "RNCP00000"
    assert list(example.competencies.values_list("number", "block__number")) == [(1, 1), (2, 2)]
    assert list(example.modalities.values_list("code", flat=True)) == [
        "workplace_observation",
        "project_presentation",
    ]


def test_export_import_export_is_identical():
    first = services.import_certification(data=load(SEED))
    exported = export(first)
    assert exported == load(SEED)
    Certification.objects.all().delete()
    second = services.import_certification(data=json.loads(formats.dumps(exported)))
    assert formats.dumps(export(second)) == formats.dumps(exported)


def test_an_invalid_document_writes_nothing_and_lists_every_error():
    data = load(EXAMPLE)
    data["blocks"][1]["competencies"][0]["criteria"][1]["category"] = "foo"
    data["blocks"][0]["competencies"][0]["expected_results"] = []
    with pytest.raises(services.ReferentialImportError) as caught:
        services.import_certification(data=data)
    assert [e.location for e in caught.value.errors] == [
        "blocks[0].competencies[0].expected_results",
        "blocks[1].competencies[0].criteria[1]",
    ]
    assert "2 erreur(s)" in caught.value.message
    assert not Certification.objects.exists() and not Block.objects.exists()
    assert not AuditEvent.objects.filter(action="referential.imported").exists()


def test_a_failure_while_writing_rolls_back_everything(monkeypatch):
    """Atomic: a database error half-way (after the blocks were written) leaves nothing behind."""

    def explode(*args, **kwargs):
        raise RuntimeError("panne pendant l'écriture")

    monkeypatch.setattr(ExpectedResult.objects, "bulk_create", explode)
    with pytest.raises(RuntimeError):
        services.import_certification(data=load(EXAMPLE))
    assert not Certification.objects.exists() and not Competency.objects.exists()


def test_importing_an_existing_version_is_refused():
    services.import_certification(data=load(EXAMPLE))
    with pytest.raises(services.ReferentialImportError) as caught:
        services.import_certification(data=load(EXAMPLE))
    assert [str(e) for e in caught.value.errors] == [
        'version: la version 1 du référentiel "CQPM-EXEMPLE-OM" existe déjà'
    ]
    assert Certification.objects.count() == 1


@pytest.mark.parametrize(
    "content, location",
    [(b"{", ""), (b"[]", "(racine)"), (b'{"format": "cqpm-referential"}', "format_version")],
)
def test_import_file_reports_parse_and_structure_errors(content, location):
    with pytest.raises(services.ReferentialImportError) as caught:
        services.import_certification_file(content=content)
    assert caught.value.errors[0].location == location
    assert not Certification.objects.exists()


# -- lifecycle -------------------------------------------------------------------------------------


def test_publish_archives_the_version_in_force(django_user_model):
    actor = django_user_model.objects.create_user("staff", role="staff")
    v1 = CertificationFactory(code="X", version=1)
    v2 = services.create_draft_from(certification=v1, actor=actor)
    services.publish(certification=v2, actor=actor)
    v1.refresh_from_db()
    v2.refresh_from_db()
    assert (v1.status, v2.status) == (CertificationStatus.ARCHIVED, CertificationStatus.PUBLISHED)
    assert v1.archived_at is not None and v2.published_at is not None
    assert Certification.objects.in_force("X") == v2
    assert set(AuditEvent.objects.values_list("action", flat=True)) >= {
        "referential.draft_created",
        "referential.published",
        "referential.archived",
    }


def test_a_new_draft_is_a_deep_copy_with_the_next_version():
    source = CertificationFactory(code="X", version=3)
    draft = services.create_draft_from(certification=source)
    assert (draft.version, draft.status, draft.derived_from) == (4, CertificationStatus.DRAFT, source)
    expected = export(source)
    expected["version"] = 4
    assert export(draft) == expected
    # distinct rows: editing the copy leaves the published version untouched
    services.update_criterion(
        criterion=draft.competencies.get(number=1).criteria.first(), text="Nouveau texte"
    )
    assert export(source)["blocks"][0]["competencies"][0]["criteria"][0]["text"] != "Nouveau texte"


@pytest.mark.parametrize(
    "status, message",
    [
        (CertificationStatus.DRAFT, "déjà un brouillon"),
    ],
)
def test_create_draft_from_refuses_a_draft(status, message):
    with pytest.raises(BusinessRuleError, match=message):
        services.create_draft_from(certification=CertificationFactory(status=status, published_at=None))


def test_only_one_draft_per_code():
    published = CertificationFactory(code="X")
    services.create_draft_from(certification=published)
    with pytest.raises(BusinessRuleError, match="existe déjà"):
        services.create_draft_from(certification=published)


@pytest.mark.parametrize("status", [CertificationStatus.PUBLISHED, CertificationStatus.ARCHIVED])
def test_publish_refuses_anything_but_a_draft(status):
    certification = CertificationFactory(status=status)
    with pytest.raises(BusinessRuleError, match="Seule une version brouillon"):
        services.publish(certification=certification)


def test_publish_refuses_an_incomplete_draft():
    draft = CertificationFactory(status=CertificationStatus.DRAFT, published_at=None)
    Criterion.objects.filter(competency__number=2, competency__certification=draft).delete()
    with pytest.raises(BusinessRuleError, match="la compétence 2 n'a aucun critère"):
        services.publish(certification=draft)
    draft.refresh_from_db()
    assert draft.status == CertificationStatus.DRAFT


def test_publish_refuses_an_older_draft_than_the_version_in_force():
    CertificationFactory(code="X", version=5)
    old_draft = CertificationFactory(code="X", version=2, status=CertificationStatus.DRAFT, published_at=None)
    with pytest.raises(BusinessRuleError, match="plus récente"):
        services.publish(certification=old_draft)


def test_delete_draft_removes_only_drafts():
    draft = CertificationFactory(status=CertificationStatus.DRAFT, published_at=None)
    services.delete_draft(certification=draft)
    assert not Certification.objects.filter(pk=draft.pk).exists()
    published = CertificationFactory()
    with pytest.raises(BusinessRuleError, match="publiée"):
        services.delete_draft(certification=published)
    assert Certification.objects.filter(pk=published.pk).exists()


# -- published versions are immutable --------------------------------------------------------------


def _first_criterion(certification):
    return Criterion.objects.filter(competency__certification=certification).order_by(
        "competency__number", "order"
    )[0]


EDITS = {
    "update_criterion": lambda c: services.update_criterion(criterion=_first_criterion(c), text="Modifié"),
    "update_category": lambda c: services.update_criterion(
        criterion=_first_criterion(c), text="Modifié", category=CriterionCategory.MEANS
    ),
    "add_criterion": lambda c: services.add_criterion(
        competency=c.competencies.first(), category=CriterionCategory.MEANS, text="Nouveau"
    ),
    "remove_criterion": lambda c: services.remove_criterion(criterion=_first_criterion(c)),
    "delete_draft": lambda c: services.delete_draft(certification=c),
}


@pytest.mark.parametrize("edit", EDITS)
@pytest.mark.parametrize(
    "status, message",
    [(CertificationStatus.PUBLISHED, "est publiée"), (CertificationStatus.ARCHIVED, "est archivée")],
)
def test_published_and_archived_versions_cannot_be_modified(edit, status, message):
    certification = CertificationFactory(status=status)
    before = export(certification)
    with pytest.raises(BusinessRuleError, match=message):
        EDITS[edit](certification)
    assert export(certification) == before


def test_an_edit_is_refused_even_when_the_caller_holds_a_stale_draft():
    """The status is re-read under lock: a draft published meanwhile is no longer editable."""
    draft = CertificationFactory(status=CertificationStatus.DRAFT, published_at=None)
    stale_competency = draft.competencies.first()
    Certification.objects.filter(pk=draft.pk).update(status=CertificationStatus.PUBLISHED)
    with pytest.raises(BusinessRuleError, match="publiée"):
        services.add_criterion(competency=stale_competency, category="methods", text="Trop tard")


# -- edits of a draft ------------------------------------------------------------------------------


@pytest.fixture
def draft():
    return CertificationFactory(status=CertificationStatus.DRAFT, published_at=None)


def criteria_of(competency):
    return list(competency.criteria.order_by("order").values_list("order", "category", "text"))


def test_update_criterion_text(draft):
    criterion = _first_criterion(draft)
    services.update_criterion(criterion=criterion, text="  Le texte corrigé  ")
    criterion.refresh_from_db()
    assert criterion.text == "Le texte corrigé"
    assert AuditEvent.objects.filter(action="referential.criterion_updated").count() == 1


def test_changing_the_category_moves_the_criterion_to_the_end_of_its_new_group(draft):
    competency = draft.competencies.get(number=1)
    methods = competency.criteria.get(category="methods")
    services.update_criterion(criterion=methods, text=methods.text, category="relations")
    assert [row[:2] for row in criteria_of(competency)] == [
        (1, "means"),
        (2, "relations"),
        (3, "relations"),
        (4, "environment"),
    ]
    assert criteria_of(competency)[2][2] == methods.text


@pytest.mark.parametrize(
    "category, expected_categories",
    [
        ("methods", ["methods", "methods", "means", "relations", "environment"]),
        ("relations", ["methods", "means", "relations", "relations", "environment"]),
        ("environment", ["methods", "means", "relations", "environment", "environment"]),
    ],
)
def test_add_criterion_appends_to_its_category_group(draft, category, expected_categories):
    competency = draft.competencies.get(number=2)
    created = services.add_criterion(competency=competency, category=category, text="Nouveau critère")
    rows = criteria_of(competency)
    assert [r[0] for r in rows] == [1, 2, 3, 4, 5]
    assert [r[1] for r in rows] == expected_categories
    last_of_group = max(i for i, r in enumerate(rows) if r[1] == category)
    assert rows[last_of_group][2] == "Nouveau critère" and created.order == last_of_group + 1


def test_remove_criterion_renumbers(draft):
    competency = draft.competencies.get(number=3)
    services.remove_criterion(criterion=competency.criteria.get(order=2))
    assert [r[:2] for r in criteria_of(competency)] == [(1, "methods"), (2, "relations"), (3, "environment")]


@pytest.mark.parametrize(
    "kwargs, message",
    [({"category": "methods", "text": "  "}, "vide"), ({"category": "foo", "text": "Un texte"}, "inconnue")],
)
def test_add_criterion_validates_its_input(draft, kwargs, message):
    competency = draft.competencies.first()
    with pytest.raises(BusinessRuleError, match=message):
        services.add_criterion(competency=competency, **kwargs)
    assert competency.criteria.count() == 4


def test_draft_edited_then_published_becomes_the_version_in_force():
    v1 = CertificationFactory(code="X")
    draft = services.create_draft_from(certification=v1)
    services.add_criterion(
        competency=draft.competencies.get(number=1), category="means", text="Critère ajouté"
    )
    services.publish(certification=draft)
    in_force = Certification.objects.in_force("X")
    assert in_force == draft
    assert "Critère ajouté" in in_force.competencies.get(number=1).criteria.values_list("text", flat=True)
    assert "Critère ajouté" not in v1.competencies.get(number=1).criteria.values_list("text", flat=True)


def test_delete_draft_in_use_is_refused_cleanly(monkeypatch):
    from django.db.models import ProtectedError

    draft = CertificationFactory(status=CertificationStatus.DRAFT)

    def protected(self, *args, **kwargs):
        raise ProtectedError("utilisé", set())

    monkeypatch.setattr(Certification, "delete", protected)
    with pytest.raises(BusinessRuleError, match="déjà utilisé"):
        services.delete_draft(certification=draft)
