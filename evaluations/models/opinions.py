"""Avis de l'entreprise: the tutor's invitation link and his opinion per competency (never in VAE)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core.text import COMMENT_MAX, max_length_constraint

from .choices import Opinion


class TutorInvitation(models.Model):
    """An expiring, single-use link sent to a tutor. Only the SHA-256 of the token is stored."""

    tutor = models.ForeignKey(
        "candidates.Tutor", verbose_name=_("tuteur"), on_delete=models.CASCADE, related_name="invitations"
    )
    candidate = models.ForeignKey(
        "candidates.Candidate",
        verbose_name=_("candidat"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="tutor_invitations",
    )
    token_hash = models.CharField(_("empreinte du jeton"), max_length=64, unique=True, editable=False)
    expires_at = models.DateTimeField(_("expire le"))
    used_at = models.DateTimeField(_("utilisée le"), null=True, blank=True)
    created_at = models.DateTimeField(_("créée le"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("créée par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("invitation d'un tuteur")
        verbose_name_plural = _("invitations des tuteurs")

    def __str__(self):
        return f"Invitation {self.pk}"

    @property
    def is_used(self):
        return self.used_at is not None

    @property
    def is_expired(self):
        return self.expires_at <= timezone.now()


class CompanyOpinion(models.Model):
    candidate = models.ForeignKey(
        "candidates.Candidate",
        verbose_name=_("candidat"),
        on_delete=models.PROTECT,
        related_name="company_opinions",
    )
    competency = models.ForeignKey(
        "referential.Competency",
        verbose_name=_("compétence"),
        on_delete=models.PROTECT,
        related_name="company_opinions",
    )
    tutor = models.ForeignKey(
        "candidates.Tutor",
        verbose_name=_("tuteur"),
        on_delete=models.PROTECT,
        related_name="company_opinions",
    )
    opinion = models.CharField(_("avis"), max_length=20, choices=Opinion.choices, blank=True)
    comment = models.TextField(_("commentaire"), blank=True, max_length=COMMENT_MAX)
    due_date = models.DateField(_("à rendre avant le"), null=True, blank=True)
    signed_at = models.DateTimeField(_("signé le"), null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("signé par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["candidate", "competency__number", "id"]
        verbose_name = _("avis de l'entreprise")
        verbose_name_plural = _("avis de l'entreprise")
        constraints = [
            max_length_constraint("evaluations_companyopinion", "comment", COMMENT_MAX),
            models.UniqueConstraint(fields=["candidate", "competency"], name="evaluations_opinion_once"),
            models.CheckConstraint(
                condition=Q(opinion__in=[*Opinion.values, ""]), name="evaluations_opinion_value"
            ),
            models.CheckConstraint(
                condition=Q(signed_at__isnull=True) | ~Q(opinion=""), name="evaluations_signed_opinion_given"
            ),
        ]

    def __str__(self):
        return f"Avis {self.pk}"

    @property
    def is_signed(self):
        return self.signed_at is not None
