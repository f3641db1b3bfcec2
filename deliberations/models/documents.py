"""Generated documents (pretix pattern): a record per file, rendered by a Celery task.

The record exists before the file: the view creates it (UUID), the task renders the PDF, writes it
to the storage under a fresh name, then flips the record to `done` in one transaction. A worker that
dies mid-job leaves the record `rendering` and no file referenced; the retry renders again.
"""

import secrets
import uuid
from datetime import timedelta

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.text import REASON_MAX, max_length_constraint


class DocumentKind(models.TextChoices):
    PV = "pv", _("Procès-verbal de délibération")
    ATTENDANCE = "attendance", _("Feuille d'émargement")
    LETTER = "letter", _("Lettre de résultat")
    CERTIFICATE = "certificate", _("Parchemin CQPM")
    BLOCK_ATTESTATION = "block_attestation", _("Attestation de blocs de compétences")
    PACK = "pack", _("Archive des documents de la session")
    GTP = "gtp", _("Dossier pour le GTP « Certifications »")


# Kinds that concern one candidate (the others concern the whole session).
CANDIDATE_KINDS = frozenset({DocumentKind.LETTER, DocumentKind.CERTIFICATE, DocumentKind.BLOCK_ATTESTATION})
# Kinds a third party may check on the public verification page: every numbered document.
VERIFIABLE_KINDS = frozenset(DocumentKind.values)
# Archival kinds: PDF/A with the certifier's electronic seal (PAdES).
SEALED_KINDS = frozenset({DocumentKind.PV, DocumentKind.CERTIFICATE, DocumentKind.BLOCK_ATTESTATION})

NUMBER_PREFIX = {
    DocumentKind.PV: "PV",
    DocumentKind.ATTENDANCE: "EM",
    DocumentKind.LETTER: "LR",
    DocumentKind.CERTIFICATE: "CQPM",
    DocumentKind.BLOCK_ATTESTATION: "AB",
    DocumentKind.PACK: "ZIP",
    DocumentKind.GTP: "GTP",
}
STALE_AFTER_MINUTES = 15
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud or typed from paper


class DocumentStatus(models.TextChoices):
    QUEUED = "queued", _("En file d'attente")
    RENDERING = "rendering", _("En cours de production")
    DONE = "done", _("Prêt")
    FAILED = "failed", _("Échec")


def new_document_number(kind, centre_code, year):
    """Unique, non-sequential number (a verification page must not be enumerable)."""
    token = "".join(secrets.choice(_ALPHABET) for _ in range(10))
    return f"{NUMBER_PREFIX[kind]}-{centre_code}-{year}-{token}".upper()


class GeneratedDocument(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("type"), max_length=20, choices=DocumentKind.choices)
    session = models.ForeignKey(
        "deliberations.DeliberationSession",
        verbose_name=_("session"),
        on_delete=models.PROTECT,
        related_name="documents",
    )
    candidate = models.ForeignKey(
        "candidates.Candidate",
        verbose_name=_("candidat"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="generated_documents",
    )
    number = models.CharField(_("numéro"), max_length=50, unique=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    file = models.FileField(_("fichier"), max_length=255, blank=True)
    sha256 = models.CharField(_("empreinte SHA-256"), max_length=64, blank=True)
    size = models.PositiveBigIntegerField(_("taille (octets)"), default=0)
    status = models.CharField(
        _("statut"), max_length=10, choices=DocumentStatus.choices, default=DocumentStatus.QUEUED
    )
    is_current = models.BooleanField(_("version en vigueur"), default=False)
    error = models.TextField(_("erreur"), blank=True)
    attempts = models.PositiveIntegerField(_("tentatives"), default=0)
    requested_by = models.ForeignKey(
        "core.User",
        verbose_name=_("demandé par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    started_at = models.DateTimeField(_("commencé le"), null=True, blank=True)
    finished_at = models.DateTimeField(_("terminé le"), null=True, blank=True)
    sealed_by = models.CharField(
        _("scellé par"),
        max_length=255,
        blank=True,
        help_text=_("Titulaire du certificat du cachet électronique ; vide si le fichier n'est pas scellé."),
    )
    erased_at = models.DateTimeField(
        _("fichier effacé le"),
        null=True,
        blank=True,
        help_text=_(
            "Fichier supprimé du stockage à l'anonymisation du candidat (RGPD) ; le numéro reste vérifiable."
        ),
    )

    class Meta:
        ordering = ["session", "kind", "candidate", "-version"]
        verbose_name = _("document produit")
        verbose_name_plural = _("documents produits")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=DocumentStatus.values), name="deliberations_document_status"
            ),
            # At most one current file per document: running a job twice never yields two current PVs.
            models.UniqueConstraint(
                fields=["session", "kind"],
                condition=Q(is_current=True, candidate__isnull=True),
                name="deliberations_one_current_session_document",
            ),
            models.UniqueConstraint(
                fields=["session", "kind", "candidate"],
                condition=Q(is_current=True, candidate__isnull=False),
                name="deliberations_one_current_candidate_document",
            ),
            # One record per version of a document: a re-render replaces the file of that record.
            models.UniqueConstraint(
                fields=["session", "kind", "version"],
                condition=Q(candidate__isnull=True),
                name="deliberations_session_document_version",
            ),
            models.UniqueConstraint(
                fields=["session", "kind", "candidate", "version"],
                condition=Q(candidate__isnull=False),
                name="deliberations_candidate_document_version",
            ),
            models.CheckConstraint(
                condition=~Q(is_current=True) | Q(status="done"), name="deliberations_current_is_done"
            ),
        ]

    def __str__(self):
        return self.number

    @property
    def is_pending(self):
        return self.status in (DocumentStatus.QUEUED, DocumentStatus.RENDERING)

    @property
    def is_stale(self):
        """Rendering for too long: its worker was lost and the message too (the page offers a retry)."""

        return (
            self.status == DocumentStatus.RENDERING
            and self.started_at is not None
            and timezone.now() - self.started_at > timedelta(minutes=STALE_AFTER_MINUTES)
        )

    @property
    def can_retry(self):
        return self.status == DocumentStatus.FAILED or self.is_stale

    @property
    def extension(self):
        return "zip" if self.kind in (DocumentKind.PACK, DocumentKind.GTP) else "pdf"

    @property
    def content_type(self):
        return "application/zip" if self.extension == "zip" else "application/pdf"

    @property
    def filename(self):
        return f"{self.number}.{self.extension}"


DEFAULT_CONTEST_DAYS = 60


def signature_image_path(instance, filename):
    return f"centres/{instance.centre_id}/signature-{instance.signature_sha256[:12]}.png"


class CentreDocumentSettings(models.Model):
    """What each centre prints on its documents: the signatory's title and scanned signature, and how
    a candidate contests a decision (the signatory's name is `CertificationCentre.certifier_signatory`)."""

    centre = models.OneToOneField(
        "core.CertificationCentre",
        verbose_name=_("centre"),
        on_delete=models.CASCADE,
        related_name="document_settings",
    )
    signatory_title = models.CharField(
        _("qualité du signataire"),
        max_length=200,
        blank=True,
        help_text=_("Par exemple « Délégué général de l'UIMM Alpha »."),
    )
    signature_image = models.FileField(
        _("signature numérisée (PNG)"), max_length=255, blank=True, upload_to=signature_image_path
    )
    signature_sha256 = models.CharField(_("empreinte SHA-256 de la signature"), max_length=64, blank=True)
    contest_text = models.TextField(
        _("voies de recours"),
        max_length=REASON_MAX,
        blank=True,
        help_text=_(
            "Imprimé dans la lettre de résultat. Vide : texte par défaut (recours écrit auprès du "
            "centre de certification, adressé au président du jury)."
        ),
    )
    contest_days = models.PositiveSmallIntegerField(
        _("délai de recours (jours)"),
        default=DEFAULT_CONTEST_DAYS,
        help_text=_("Compté à partir de la réception de la lettre de résultat."),
    )
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)

    class Meta:
        verbose_name = _("paramètres des documents du centre")
        verbose_name_plural = _("paramètres des documents des centres")
        constraints = [
            max_length_constraint("deliberations_centredocumentsettings", "contest_text", REASON_MAX),
            models.CheckConstraint(
                condition=Q(contest_days__gte=1, contest_days__lte=365),
                name="deliberations_contest_days_range",
            ),
        ]

    def __str__(self):
        return str(self.centre)
