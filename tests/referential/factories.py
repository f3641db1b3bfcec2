"""Factories of the referential, imported by the other apps' tests.

`CertificationFactory()` builds a small *published* CQPM: 2 blocks, 3 competencies (block 1: 1 and 2,
block 2: 3), each competency with 2 conditions, one criterion in each of the 4 categories (order 1..4:
methods, means, relations, environment), 2 expected results; 2 knowledge items per block and the 3
evaluation modalities. `CertificationFactory(with_content=False)` gives a bare certification.
`CertificationFactory(status="draft")` gives a draft.
"""

import factory
from django.utils import timezone

from referential.models import (
    AssociatedKnowledge,
    Block,
    Certification,
    CertificationStatus,
    Competency,
    Criterion,
    CriterionCategory,
    EvaluationModality,
    ExpectedResult,
    ModalityCode,
    RealisationCondition,
)

CATEGORY_ORDER = [
    CriterionCategory.METHODS,
    CriterionCategory.MEANS,
    CriterionCategory.RELATIONS,
    CriterionCategory.ENVIRONMENT,
]


class BlockFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Block

    certification = factory.SubFactory("tests.referential.factories.CertificationFactory", with_content=False)
    number = factory.Sequence(lambda n: n + 1)
    title = factory.Sequence(lambda n: f"Bloc de test {n + 1}")


class CompetencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Competency

    block = factory.SubFactory(BlockFactory)
    certification = factory.SelfAttribute("block.certification")
    number = factory.Sequence(lambda n: n + 1)
    title = factory.Sequence(lambda n: f"Réaliser l'activité de test {n + 1}")
    evaluation_title = factory.SelfAttribute("title")


class CriterionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Criterion

    competency = factory.SubFactory(CompetencyFactory)
    category = CriterionCategory.METHODS
    order = factory.Sequence(lambda n: n + 1)
    text = factory.Sequence(lambda n: f"Le critère de test {n + 1} est respecté")


class CertificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Certification
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"CQPM-TEST-{n + 1}")
    title = factory.Sequence(lambda n: f"CQPM de test {n + 1}")
    rncp_number = ""
    version = 1
    status = CertificationStatus.PUBLISHED
    published_at = factory.LazyAttribute(
        lambda o: timezone.now() if o.status == CertificationStatus.PUBLISHED else None
    )
    mission = "Le titulaire réalise les activités de test."
    work_environment = "Atelier de test."
    interactions = "Il travaille avec son responsable."
    evaluation_modalities_text = "Évaluation en situation professionnelle réelle."
    admission_rule = "Toutes les compétences professionnelles doivent être acquises."

    @factory.post_generation
    def with_content(obj, create, extracted, **kwargs):
        """`with_content=False` → no blocks/competencies/modalities (default: the small CQPM)."""
        if not create or extracted is False:
            return
        build_small_content(obj)


def build_small_content(certification):
    """2 blocks, 3 competencies, criteria in all 4 categories, results, conditions, knowledge, modalities."""
    blocks = [
        Block.objects.create(certification=certification, number=1, title="Préparer l'activité"),
        Block.objects.create(certification=certification, number=2, title="Réaliser et rendre compte"),
    ]
    for block in blocks:
        for order in (1, 2):
            AssociatedKnowledge.objects.create(
                block=block, order=order, text=f"Connaissance {order} du bloc {block.number}"
            )
    for number, block in ((1, blocks[0]), (2, blocks[0]), (3, blocks[1])):
        competency = Competency.objects.create(
            certification=certification,
            block=block,
            number=number,
            title=f"Réaliser l'activité {number}",
            evaluation_title=f"Réaliser l'activité {number}",
        )
        for order in (1, 2):
            RealisationCondition.objects.create(
                competency=competency, order=order, text=f"A partir de la donnée {order}"
            )
        for order, category in enumerate(CATEGORY_ORDER, start=1):
            Criterion.objects.create(
                competency=competency,
                category=category,
                order=order,
                text=f"Critère {category.value} de la compétence {number}",
            )
        for order in (1, 2):
            ExpectedResult.objects.create(
                competency=competency, order=order, text=f"Résultat {order} de la compétence {number}"
            )
    for order, code in enumerate(ModalityCode, start=1):
        EvaluationModality.objects.create(
            certification=certification, code=code, label=code.label, description="", order=order
        )
