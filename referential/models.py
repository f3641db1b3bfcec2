"""The CQPM referential: a certification (one row per version), its blocks, competencies,
conditions, criteria, expected results, associated knowledge and evaluation modalities.

A published version is immutable (enforced in `referential.services`): editing it means creating a
new draft version with `create_draft_from`. Candidates point at the version in force when they were
registered, so a version is never deleted once used (PROTECT on the candidate side).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.text import (
    COMMENT_MAX,
    REFERENTIAL_ITEM_MAX,
    REFERENTIAL_TEXT_MAX,
    REFERENTIAL_TITLE_MAX,
    max_length_constraint,
)


class CertificationStatus(models.TextChoices):
    DRAFT = "draft", _("Brouillon")
    PUBLISHED = "published", _("Publié")
    ARCHIVED = "archived", _("Archivé")


class CriterionCategory(models.TextChoices):
    METHODS = "methods", _("Méthodes utilisées")
    MEANS = "means", _("Moyens utilisés")
    RELATIONS = "relations", _("Liens professionnels / relationnels")
    ENVIRONMENT = "environment", _("Contraintes liées au milieu et environnement de travail")


class ModalityCode(models.TextChoices):
    WORKPLACE_OBSERVATION = "workplace_observation", _("Observation en situation de travail")
    WORKPLACE_QUESTIONING = (
        "workplace_questioning",
        _("Questionnements avec apport d'éléments de preuve sur les activités réalisées en entreprise"),
    )
    PROJECT_PRESENTATION = (
        "project_presentation",
        _("Présentation des projets ou activités réalisés en milieu professionnel"),
    )


# The demo data's RNCP number (referential/demo.py): obviously fictitious, shown as such on the pages
# and refused by the CPF holders declaration outside demo mode.
DEMO_RNCP_NUMBER = "RNCP00000"


class CertificationQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status=CertificationStatus.PUBLISHED)

    def in_force(self, code):
        """The published version of `code` (None when no version of that code is published)."""
        return self.filter(code=code, status=CertificationStatus.PUBLISHED).order_by("-version").first()


class Certification(models.Model):
    code = models.CharField(_("code"), max_length=50)
    title = models.CharField(_("intitulé"), max_length=255)
    rncp_number = models.CharField(_("numéro RNCP"), max_length=20, blank=True)
    rncp_level = models.CharField(_("niveau RNCP"), max_length=20, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    status = models.CharField(
        _("statut"), max_length=10, choices=CertificationStatus.choices, default=CertificationStatus.DRAFT
    )
    mission = models.TextField(
        _("mission(s) et activités visées"), blank=True, max_length=REFERENTIAL_TEXT_MAX
    )
    work_environment = models.TextField(
        _("environnement de travail"), blank=True, max_length=REFERENTIAL_TEXT_MAX
    )
    interactions = models.TextField(
        _("interactions dans l'environnement de travail"), blank=True, max_length=REFERENTIAL_TEXT_MAX
    )
    evaluation_modalities_text = models.TextField(
        _("modalités d'évaluation"), blank=True, max_length=REFERENTIAL_TEXT_MAX
    )
    admission_rule = models.TextField(
        _("conditions d'admissibilité"), blank=True, max_length=REFERENTIAL_TEXT_MAX
    )
    published_at = models.DateTimeField(_("publié le"), null=True, blank=True)
    archived_at = models.DateTimeField(_("archivé le"), null=True, blank=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    derived_from = models.ForeignKey(
        "self",
        verbose_name=_("version d'origine"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="derived_versions",
    )

    objects = CertificationQuerySet.as_manager()

    class Meta:
        ordering = ["code", "-version"]
        verbose_name = _("référentiel de certification")
        verbose_name_plural = _("référentiels de certification")
        constraints = [
            max_length_constraint("referential_certification", "admission_rule", REFERENTIAL_TEXT_MAX),
            max_length_constraint(
                "referential_certification", "evaluation_modalities_text", REFERENTIAL_TEXT_MAX
            ),
            max_length_constraint("referential_certification", "interactions", REFERENTIAL_TEXT_MAX),
            max_length_constraint("referential_certification", "work_environment", REFERENTIAL_TEXT_MAX),
            max_length_constraint("referential_certification", "mission", REFERENTIAL_TEXT_MAX),
            models.UniqueConstraint(
                fields=["code", "version"], name="referential_certification_code_version"
            ),
            models.UniqueConstraint(
                fields=["code"],
                condition=models.Q(status="published"),
                name="referential_certification_one_published_per_code",
            ),
        ]

    def __str__(self):
        return f"{self.code} — {self.title} (v{self.version})"

    @property
    def has_demo_rncp_number(self):
        return self.rncp_number == DEMO_RNCP_NUMBER

    @property
    def is_draft(self):
        return self.status == CertificationStatus.DRAFT

    @property
    def is_published(self):
        return self.status == CertificationStatus.PUBLISHED

    @property
    def is_editable(self):
        return self.status == CertificationStatus.DRAFT


class Block(models.Model):
    certification = models.ForeignKey(
        Certification, verbose_name=_("référentiel"), on_delete=models.CASCADE, related_name="blocks"
    )
    number = models.PositiveSmallIntegerField(_("numéro"))
    title = models.CharField(_("intitulé"), max_length=255)

    class Meta:
        ordering = ["certification", "number"]
        verbose_name = _("bloc de compétences")
        verbose_name_plural = _("blocs de compétences")
        constraints = [
            models.UniqueConstraint(fields=["certification", "number"], name="referential_block_number"),
        ]

    def __str__(self):
        return f"Bloc {self.number} — {self.title}"


class OrderedText(models.Model):
    """One numbered sentence of the referential, kept in the order of the source text (word for word)."""

    order = models.PositiveSmallIntegerField(_("ordre"))
    text = models.TextField(_("texte"), max_length=REFERENTIAL_ITEM_MAX)

    class Meta:
        abstract = True

    def __str__(self):
        return self.text


class AssociatedKnowledge(OrderedText):
    block = models.ForeignKey(
        Block, verbose_name=_("bloc"), on_delete=models.CASCADE, related_name="knowledge"
    )

    class Meta:
        ordering = ["block", "order"]
        verbose_name = _("connaissance associée")
        verbose_name_plural = _("connaissances associées")
        constraints = [
            max_length_constraint("referential_associatedknowledge", "text", REFERENTIAL_ITEM_MAX),
            models.UniqueConstraint(fields=["block", "order"], name="referential_knowledge_order"),
        ]


class Competency(models.Model):
    certification = models.ForeignKey(
        Certification, verbose_name=_("référentiel"), on_delete=models.CASCADE, related_name="competencies"
    )
    block = models.ForeignKey(
        Block, verbose_name=_("bloc"), on_delete=models.CASCADE, related_name="competencies"
    )
    number = models.PositiveSmallIntegerField(_("numéro"), help_text=_("Numéro de 1 à n dans tout le CQPM."))
    title = models.TextField(_("intitulé (référentiel de compétences)"), max_length=REFERENTIAL_TITLE_MAX)
    evaluation_title = models.TextField(
        _("intitulé (référentiel d'évaluation)"), blank=True, max_length=REFERENTIAL_TITLE_MAX
    )

    class Meta:
        ordering = ["certification", "number"]
        verbose_name = _("compétence professionnelle")
        verbose_name_plural = _("compétences professionnelles")
        constraints = [
            max_length_constraint("referential_competency", "evaluation_title", REFERENTIAL_TITLE_MAX),
            max_length_constraint("referential_competency", "title", REFERENTIAL_TITLE_MAX),
            models.UniqueConstraint(fields=["certification", "number"], name="referential_competency_number"),
        ]

    def __str__(self):
        return f"{self.number}. {self.title}"

    def criteria_by_category(self):
        """[(category, [criteria…]), …] in the referential's category order, empty categories left out.

        Works on the prefetched `criteria` (see selectors.with_full_content): no extra query.
        """
        groups = {category: [] for category in CriterionCategory}
        for criterion in self.criteria.all():
            groups[CriterionCategory(criterion.category)].append(criterion)
        return [(category, items) for category, items in groups.items() if items]

    @property
    def has_distinct_evaluation_title(self):
        return bool(self.evaluation_title) and self.evaluation_title != self.title


class RealisationCondition(OrderedText):
    competency = models.ForeignKey(
        Competency, verbose_name=_("compétence"), on_delete=models.CASCADE, related_name="conditions"
    )

    class Meta:
        ordering = ["competency", "order"]
        verbose_name = _("condition de réalisation")
        verbose_name_plural = _("conditions de réalisation")
        constraints = [
            max_length_constraint("referential_realisationcondition", "text", REFERENTIAL_ITEM_MAX),
            models.UniqueConstraint(fields=["competency", "order"], name="referential_condition_order"),
        ]


class Criterion(models.Model):
    competency = models.ForeignKey(
        Competency, verbose_name=_("compétence"), on_delete=models.CASCADE, related_name="criteria"
    )
    category = models.CharField(_("catégorie"), max_length=20, choices=CriterionCategory.choices)
    order = models.PositiveSmallIntegerField(_("ordre"), help_text=_("Ordre dans la compétence."))
    text = models.TextField(_("texte"), max_length=REFERENTIAL_ITEM_MAX)

    class Meta:
        ordering = ["competency", "order"]
        verbose_name = _("critère mesurable et observable")
        verbose_name_plural = _("critères mesurables et observables")
        constraints = [
            max_length_constraint("referential_criterion", "text", REFERENTIAL_ITEM_MAX),
            models.UniqueConstraint(fields=["competency", "order"], name="referential_criterion_order"),
        ]

    def __str__(self):
        return self.text


class ExpectedResult(OrderedText):
    competency = models.ForeignKey(
        Competency, verbose_name=_("compétence"), on_delete=models.CASCADE, related_name="expected_results"
    )

    class Meta:
        ordering = ["competency", "order"]
        verbose_name = _("résultat attendu")
        verbose_name_plural = _("résultats attendus")
        constraints = [
            max_length_constraint("referential_expectedresult", "text", REFERENTIAL_ITEM_MAX),
            models.UniqueConstraint(fields=["competency", "order"], name="referential_result_order"),
        ]


class EvaluationModality(models.Model):
    certification = models.ForeignKey(
        Certification, verbose_name=_("référentiel"), on_delete=models.CASCADE, related_name="modalities"
    )
    code = models.CharField(_("code"), max_length=30, choices=ModalityCode.choices)
    label = models.CharField(_("libellé"), max_length=255)
    description = models.TextField(_("description"), blank=True, max_length=COMMENT_MAX)
    order = models.PositiveSmallIntegerField(_("ordre"))

    class Meta:
        ordering = ["certification", "order"]
        verbose_name = _("modalité d'évaluation")
        verbose_name_plural = _("modalités d'évaluation")
        constraints = [
            max_length_constraint("referential_evaluationmodality", "description", COMMENT_MAX),
            models.UniqueConstraint(fields=["certification", "code"], name="referential_modality_code"),
            models.UniqueConstraint(fields=["certification", "order"], name="referential_modality_order"),
        ]

    def __str__(self):
        return self.label
