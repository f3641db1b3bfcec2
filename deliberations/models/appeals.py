"""The candidate's appeal (recours) against a closed deliberation (issue 23).

Filed by the candidate from his space within the centre's deadline (`CentreDocumentSettings.contest_days`
after the session closed, the delay printed in the result letter), with a written reason and optional
attachments (`candidates.CandidateDocument` of kind « appeal », stored through the same checks as every
upload). Staff see the open appeals on their dashboard; the jury's re-examination goes through the
amendment of the closed deliberation (`deliberations.services.amend_outcome`); the appeal then records
its outcome — upheld (linked to that amendment) or rejected — with the reason told to the candidate.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.text import REASON_MAX, max_length_constraint


class AppealStatus(models.TextChoices):
    OPEN = "open", _("En cours d'examen")
    UPHELD = "upheld", _("Recours accueilli : décision modifiée")
    REJECTED = "rejected", _("Recours rejeté : décision maintenue")


class Appeal(models.Model):
    candidate = models.ForeignKey(
        "candidates.Candidate", verbose_name=_("candidat"), on_delete=models.CASCADE, related_name="appeals"
    )
    session = models.ForeignKey(
        "deliberations.DeliberationSession",
        verbose_name=_("délibération"),
        on_delete=models.PROTECT,
        related_name="appeals",
    )
    reason = models.TextField(_("motifs du recours"), max_length=REASON_MAX)
    attachments = models.ManyToManyField(
        "candidates.CandidateDocument", verbose_name=_("pièces jointes"), blank=True, related_name="appeals"
    )
    filed_at = models.DateTimeField(_("déposé le"), auto_now_add=True)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("déposé par"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(
        _("état"), max_length=10, choices=AppealStatus.choices, default=AppealStatus.OPEN
    )
    answer = models.TextField(_("réponse au candidat"), max_length=REASON_MAX, blank=True)
    amendment = models.ForeignKey(
        "deliberations.OutcomeAmendment",
        verbose_name=_("modification de la décision"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appeals",
    )
    decided_at = models.DateTimeField(_("issue enregistrée le"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issue enregistrée par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-filed_at", "-id"]
        verbose_name = _("recours")
        verbose_name_plural = _("recours")
        indexes = [models.Index(fields=["status", "filed_at"], name="deliberations_appeal_open")]
        constraints = [
            max_length_constraint("deliberations_appeal", "reason", REASON_MAX),
            max_length_constraint("deliberations_appeal", "answer", REASON_MAX),
            models.CheckConstraint(condition=~Q(reason=""), name="deliberations_appeal_reasoned"),
            models.CheckConstraint(
                condition=Q(status="open") | ~Q(answer=""), name="deliberations_appeal_answered"
            ),
            models.CheckConstraint(
                condition=~Q(status="upheld") | Q(amendment__isnull=False),
                name="deliberations_appeal_upheld_amended",
            ),
        ]

    def __str__(self):
        return f"Recours {self.pk}"

    @property
    def is_open(self):
        return self.status == AppealStatus.OPEN
