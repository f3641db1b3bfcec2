"""Evaluations held before the product (« examen antérieur »): their dates and delivery mode.

A candidate evaluated outside the product (an earlier candidate loaded for the jury, a holder migrated
from another tool) has no `EvaluationSession` to read the exam dates from. Staff record them here so
that the holder can be declared to the CPF information system (docs/accrochage.md).
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class DeliveryMode(models.TextChoices):
    ON_SITE = "on_site", _("En présentiel")
    REMOTE = "remote", _("À distance")
    MIXED = "mixed", _("Mixte (présentiel et à distance)")


class LegacyExamination(models.Model):
    candidate = models.OneToOneField(
        "candidates.Candidate",
        verbose_name=_("candidat"),
        on_delete=models.CASCADE,
        related_name="legacy_examination",
    )
    first_date = models.DateField(_("date de début de l'évaluation"))
    last_date = models.DateField(_("date de fin de l'évaluation"))
    delivery_mode = models.CharField(_("modalité de passage"), max_length=10, choices=DeliveryMode.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("enregistré par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("enregistré le"), auto_now=True)

    class Meta:
        ordering = ["candidate"]
        verbose_name = _("évaluation antérieure au logiciel")
        verbose_name_plural = _("évaluations antérieures au logiciel")
        constraints = [
            models.CheckConstraint(
                condition=Q(first_date__lte=F("last_date")), name="evaluations_legacy_exam_dates_ordered"
            ),
        ]

    def __str__(self):
        return f"{self.candidate_id}: {self.first_date} – {self.last_date}"
