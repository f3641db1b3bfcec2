"""Legal reporting of certified holders to the CPF information system (« accrochage »).

A certifier must send each holder's data within 3 months of issue (domain.md, settings.CQPM
["ACCROCHAGE_DEADLINE_DAYS"]). Every export that produced a file is an `AccrochageBatch` (the flux:
its idFlux, the file, its SHA-256, who, when, the records left out); each holder in it is an
`AccrochageRecord` with its idTechnique and the portal's answer (sent → accepted / rejected, from a
`ProcessingReport` uploaded by staff). A holder is "reported" once a batch contains it; the first
batch's date decides whether it was reported late. Accepted holders are never sent again; rejected
ones are offered again in the next file.
"""

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.text import REASON_MAX, max_length_constraint


def batch_upload_to(instance, filename):
    """A random storage path: the name says nothing about the centre or the holders."""
    token = secrets.token_hex(16)
    return f"reporting/accrochage/{token[:2]}/{token}.xml"


def report_upload_to(instance, filename):
    token = secrets.token_hex(16)
    return f"reporting/accrochage-reports/{token[:2]}/{token}.csv"


def new_flux_id():
    """idFlux: unique per file, at most 50 characters, saying nothing about the holders."""
    return f"CQPM-{uuid.uuid4().hex.upper()}"


class DeclarationStatus(models.TextChoices):
    SENT = "sent", _("Envoyé, en attente du portail")
    ACCEPTED = "accepted", _("Accepté")
    REJECTED = "rejected", _("Rejeté")


class AccrochageBatch(models.Model):
    flux_id = models.CharField(_("idFlux"), max_length=50, unique=True, default=new_flux_id, editable=False)
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
    # Records of the scope left out of this file: [{"candidate_id", "reference", "field", "message"}]
    # (no names: those are read from the candidate when shown).
    left_out = models.JSONField(_("titulaires laissés de côté"), default=list, blank=True)
    schema_name = models.CharField(_("schéma XSD de validation"), max_length=255, blank=True)
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
        return (
            f"accrochage-{self.centre.code}-{timezone.localtime(self.created_at):%Y%m%d-%H%M}-{self.pk}.xml"
        )


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
    id_technique = models.CharField(_("idTechnique"), max_length=255, blank=True)
    status = models.CharField(
        _("réponse du portail"),
        max_length=10,
        choices=DeclarationStatus.choices,
        default=DeclarationStatus.SENT,
    )
    reason = models.TextField(_("motif du rejet"), blank=True, max_length=REASON_MAX)
    answered_at = models.DateTimeField(_("réponse enregistrée le"), null=True, blank=True)
    report = models.ForeignKey(
        "ProcessingReport",
        verbose_name=_("accusé de traitement"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="records",
    )

    class Meta:
        ordering = ["batch", "candidate__reference"]
        verbose_name = _("titulaire déclaré")
        verbose_name_plural = _("titulaires déclarés")
        constraints = [
            max_length_constraint("reporting_accrochagerecord", "reason", REASON_MAX),
            models.UniqueConstraint(fields=["batch", "outcome"], name="reporting_record_once_per_batch"),
        ]
        indexes = [models.Index(fields=["outcome", "reported_at"])]

    def __str__(self):
        return f"{self.batch_id}/{self.candidate_id}"


class ProcessingReport(models.Model):
    """The portal's processing report (« accusé de traitement ») of one file, uploaded by staff."""

    batch = models.ForeignKey(
        AccrochageBatch, verbose_name=_("export"), on_delete=models.CASCADE, related_name="reports"
    )
    file = models.FileField(_("fichier"), upload_to=report_upload_to, max_length=255)
    original_name = models.CharField(_("nom du fichier"), max_length=255, blank=True)
    sha256 = models.CharField(_("empreinte SHA-256"), max_length=64)
    accepted_count = models.PositiveIntegerField(_("acceptés"), default=0)
    rejected_count = models.PositiveIntegerField(_("rejetés"), default=0)
    uploaded_at = models.DateTimeField(_("déposé le"), auto_now_add=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("déposé par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        verbose_name = _("accusé de traitement du portail")
        verbose_name_plural = _("accusés de traitement du portail")

    def __str__(self):
        return f"Accusé {self.pk} (déclaration {self.batch_id})"
