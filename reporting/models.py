"""Legal reporting of certified holders to the CPF information system (« accrochage »).

A certifier must send each holder's data within 3 months of issue (domain.md, settings.CQPM
["ACCROCHAGE_DEADLINE_DAYS"]). Every export that produced a file is an `AccrochageBatch` (the file,
its SHA-256, who, when, which holders); each holder in it is an `AccrochageRecord`. A holder is
"reported" once a batch contains it; the first batch's date decides whether it was reported late.
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


def batch_upload_to(instance, filename):
    """A random storage path: the name says nothing about the centre or the holders."""
    token = secrets.token_hex(16)
    return f"reporting/accrochage/{token[:2]}/{token}.xml"


class AccrochageBatch(models.Model):
    centre = models.ForeignKey(
        "core.CertificationCentre",
        verbose_name=_("centre"),
        on_delete=models.PROTECT,
        related_name="accrochage_batches",
    )
    session = models.ForeignKey(
        "deliberations.DeliberationSession",
        verbose_name=_("session de délibération"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="accrochage_batches",
    )
    period_start = models.DateField(_("délivrés à partir du"), null=True, blank=True)
    period_end = models.DateField(_("délivrés jusqu'au"), null=True, blank=True)
    file = models.FileField(_("fichier XML"), upload_to=batch_upload_to, max_length=255)
    sha256 = models.CharField(_("empreinte SHA-256"), max_length=64)
    size = models.PositiveBigIntegerField(_("taille (octets)"), default=0)
    record_count = models.PositiveIntegerField(_("nombre de titulaires"), default=0)
    created_at = models.DateTimeField(_("produit le"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("produit par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Vide pour un export fait en ligne de commande."),
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("export de déclaration des titulaires")
        verbose_name_plural = _("exports de déclaration des titulaires")
        constraints = [
            models.CheckConstraint(
                condition=Q(session__isnull=False)
                | (Q(period_start__isnull=False) & Q(period_end__isnull=False)),
                name="reporting_batch_session_or_period",
            ),
        ]

    def __str__(self):
        return f"Déclaration {self.pk}"

    @property
    def filename(self):
        return f"accrochage-{self.centre.code}-{self.created_at:%Y%m%d-%H%M}-{self.pk}.xml"


class AccrochageRecord(models.Model):
    """One holder (a certified outcome) in one export file."""

    batch = models.ForeignKey(
        AccrochageBatch, verbose_name=_("export"), on_delete=models.CASCADE, related_name="records"
    )
    outcome = models.ForeignKey(
        "deliberations.CandidateOutcome",
        verbose_name=_("résultat"),
        on_delete=models.PROTECT,
        related_name="accrochage_records",
    )
    candidate = models.ForeignKey(
        "candidates.Candidate",
        verbose_name=_("candidat"),
        on_delete=models.PROTECT,
        related_name="accrochage_records",
    )
    issued_on = models.DateField(_("date de délivrance"))
    reported_at = models.DateTimeField(_("déclaré le"))
    is_late = models.BooleanField(
        _("déclaré en retard"), default=False, help_text=_("Déclaré plus de 90 jours après la délivrance.")
    )

    class Meta:
        ordering = ["batch", "candidate__reference"]
        verbose_name = _("titulaire déclaré")
        verbose_name_plural = _("titulaires déclarés")
        constraints = [
            models.UniqueConstraint(fields=["batch", "outcome"], name="reporting_record_once_per_batch"),
        ]
        indexes = [models.Index(fields=["outcome", "reported_at"])]

    def __str__(self):
        return f"{self.batch_id}/{self.candidate_id}"
