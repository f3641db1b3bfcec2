"""Scoring sheets (one per candidate, competency and evaluator), criterion judgements and the
commission's consolidated proposal. All three keep their full history (django-simple-history)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core.text import COMMENT_MAX, REASON_MAX, max_length_constraint

from .choices import Conclusion, Judgement, SheetStatus


class ScoringSheet(models.Model):
    """An evaluator's grid for one competency of one candidate.

    `version` is the optimistic lock: every save increments it, and a save made from a stale page
    (an older version) is refused instead of silently overwriting someone else's work.
    """

    candidate = models.ForeignKey(
        "candidates.Candidate",
        verbose_name=_("candidat"),
        on_delete=models.PROTECT,
        related_name="scoring_sheets",
    )
    competency = models.ForeignKey(
        "referential.Competency",
        verbose_name=_("compétence"),
        on_delete=models.PROTECT,
        related_name="scoring_sheets",
    )
    evaluator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("évaluateur"),
        on_delete=models.PROTECT,
        related_name="scoring_sheets",
    )
    convocation = models.ForeignKey(
        "evaluations.Convocation",
        verbose_name=_("convocation"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="scoring_sheets",
    )
    status = models.CharField(
        _("statut"), max_length=10, choices=SheetStatus.choices, default=SheetStatus.DRAFT
    )
    conclusion = models.CharField(_("conclusion"), max_length=20, choices=Conclusion.choices, blank=True)
    justification = models.TextField(_("justification"), blank=True, max_length=COMMENT_MAX)
    submitted_at = models.DateTimeField(_("soumise le"), null=True, blank=True)
    reopened_reason = models.TextField(_("motif de réouverture"), blank=True, max_length=REASON_MAX)
    reopened_at = models.DateTimeField(_("rouverte le"), null=True, blank=True)
    reopened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("rouverte par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifiée le"), auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["candidate", "competency__number", "evaluator__last_name", "id"]
        verbose_name = _("fiche d'évaluation")
        verbose_name_plural = _("fiches d'évaluation")
        constraints = [
            max_length_constraint("evaluations_scoringsheet", "reopened_reason", REASON_MAX),
            max_length_constraint("evaluations_scoringsheet", "justification", COMMENT_MAX),
            models.UniqueConstraint(
                fields=["candidate", "competency", "evaluator"], name="evaluations_sheet_once"
            ),
            models.CheckConstraint(
                condition=Q(status__in=SheetStatus.values), name="evaluations_sheet_status"
            ),
            models.CheckConstraint(
                condition=Q(conclusion__in=[*Conclusion.values, ""]), name="evaluations_sheet_conclusion"
            ),
            models.CheckConstraint(
                condition=Q(status=SheetStatus.DRAFT) | ~Q(conclusion=""),
                name="evaluations_submitted_sheet_has_conclusion",
            ),
        ]

    def __str__(self):
        return f"Fiche {self.pk}"

    @property
    def is_submitted(self):
        return self.status == SheetStatus.SUBMITTED

    @property
    def is_locked(self):
        return self.is_submitted


class CriterionJudgement(models.Model):
    sheet = models.ForeignKey(
        ScoringSheet, verbose_name=_("fiche"), on_delete=models.CASCADE, related_name="judgements"
    )
    criterion = models.ForeignKey(
        "referential.Criterion",
        verbose_name=_("critère"),
        on_delete=models.PROTECT,
        related_name="judgements",
    )
    judgement = models.CharField(_("appréciation"), max_length=20, choices=Judgement.choices, blank=True)
    comment = models.TextField(_("observation"), blank=True, max_length=REASON_MAX)

    history = HistoricalRecords()

    class Meta:
        ordering = ["sheet", "criterion__order", "id"]
        verbose_name = _("appréciation d'un critère")
        verbose_name_plural = _("appréciations des critères")
        constraints = [
            max_length_constraint("evaluations_criterionjudgement", "comment", REASON_MAX),
            models.UniqueConstraint(fields=["sheet", "criterion"], name="evaluations_judgement_once"),
            models.CheckConstraint(
                condition=Q(judgement__in=[*Judgement.values, ""]), name="evaluations_judgement_value"
            ),
        ]

    def __str__(self):
        return f"Appréciation {self.pk}"


class CommissionProposal(models.Model):
    """The commission's proposal on one competency, consolidated from its members' submitted sheets.

    Recorded automatically when the assigned members are unanimous (`recorded_by` empty), by the
    president with a reason when they disagree.
    """

    candidate = models.ForeignKey(
        "candidates.Candidate",
        verbose_name=_("candidat"),
        on_delete=models.PROTECT,
        related_name="commission_proposals",
    )
    competency = models.ForeignKey(
        "referential.Competency",
        verbose_name=_("compétence"),
        on_delete=models.PROTECT,
        related_name="commission_proposals",
    )
    conclusion = models.CharField(_("proposition"), max_length=20, choices=Conclusion.choices)
    reason = models.TextField(_("motif"), blank=True, max_length=REASON_MAX)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("enregistrée par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Vide : proposition calculée automatiquement (unanimité)."),
    )
    recorded_at = models.DateTimeField(_("enregistrée le"), default=timezone.now)
    has_divergence = models.BooleanField(_("divergence entre les membres"), default=False)
    is_unanimous = models.BooleanField(_("unanimité"), default=False)

    history = HistoricalRecords()

    class Meta:
        ordering = ["candidate", "competency__number", "id"]
        verbose_name = _("proposition de la commission")
        verbose_name_plural = _("propositions de la commission")
        constraints = [
            max_length_constraint("evaluations_commissionproposal", "reason", REASON_MAX),
            models.UniqueConstraint(fields=["candidate", "competency"], name="evaluations_proposal_once"),
            models.CheckConstraint(
                condition=Q(conclusion__in=Conclusion.values), name="evaluations_proposal_conclusion"
            ),
        ]

    def __str__(self):
        return f"Proposition {self.pk}"
