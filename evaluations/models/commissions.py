"""Commissions d'évaluation, their members, conflicts of interest, sessions and convocations."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import CertificationCentre
from core.text import REASON_MAX, max_length_constraint

from .choices import College


class Commission(models.Model):
    """A commission d'évaluation: several qualified members who evaluate competencies."""

    centre = models.ForeignKey(
        CertificationCentre, verbose_name=_("centre"), on_delete=models.PROTECT, related_name="commissions"
    )
    name = models.CharField(_("nom"), max_length=200)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("commission d'évaluation")
        verbose_name_plural = _("commissions d'évaluation")
        constraints = [
            models.UniqueConstraint(fields=["centre", "name"], name="evaluations_commission_name_per_centre"),
        ]

    def __str__(self):
        return self.name


class CommissionMember(models.Model):
    commission = models.ForeignKey(
        Commission, verbose_name=_("commission"), on_delete=models.CASCADE, related_name="members"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("évaluateur"),
        on_delete=models.PROTECT,
        related_name="commission_memberships",
    )
    qualification = models.CharField(
        _("qualification / domaine"),
        max_length=200,
        help_text=_("Qualification ou domaine d'expertise du membre (ex. : usinage, maintenance)."),
    )
    college = models.CharField(_("collège"), max_length=20, choices=College.choices, blank=True)
    is_president = models.BooleanField(_("président(e)"), default=False)
    added_at = models.DateTimeField(_("ajouté le"), auto_now_add=True)

    class Meta:
        ordering = ["-is_president", "user__last_name", "user__first_name", "id"]
        verbose_name = _("membre de commission")
        verbose_name_plural = _("membres de commission")
        constraints = [
            models.UniqueConstraint(fields=["commission", "user"], name="evaluations_member_once"),
            models.UniqueConstraint(
                fields=["commission"],
                condition=Q(is_president=True),
                name="evaluations_one_president_per_commission",
            ),
        ]

    def __str__(self):
        return f"{self.user} ({self.commission})"


class ConflictOfInterest(models.Model):
    """A declared conflict: the user may not evaluate this candidate, or any candidate of this company."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("membre"),
        on_delete=models.CASCADE,
        related_name="conflicts_of_interest",
    )
    company = models.ForeignKey(
        "candidates.Company",
        verbose_name=_("entreprise"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="conflicts_of_interest",
    )
    candidate = models.ForeignKey(
        "candidates.Candidate",
        verbose_name=_("candidat"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="conflicts_of_interest",
    )
    reason = models.TextField(_("motif"), max_length=REASON_MAX)
    declared_at = models.DateTimeField(_("déclaré le"), default=timezone.now)
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("déclaré par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-declared_at", "-id"]
        verbose_name = _("conflit d'intérêts")
        verbose_name_plural = _("conflits d'intérêts")
        constraints = [
            max_length_constraint("evaluations_conflictofinterest", "reason", REASON_MAX),
            models.CheckConstraint(
                condition=Q(company__isnull=False) | Q(candidate__isnull=False),
                name="evaluations_conflict_has_target",
            ),
        ]

    def __str__(self):
        return f"Conflit {self.pk}"


class EvaluationSession(models.Model):
    centre = models.ForeignKey(
        CertificationCentre,
        verbose_name=_("centre"),
        on_delete=models.PROTECT,
        related_name="evaluation_sessions",
    )
    commission = models.ForeignKey(
        Commission, verbose_name=_("commission"), on_delete=models.PROTECT, related_name="sessions"
    )
    date = models.DateField(_("date"))
    place = models.CharField(_("lieu"), max_length=255, blank=True)
    is_remote = models.BooleanField(_("à distance"), default=False)
    remote_details = models.CharField(
        _("modalités de connexion"),
        max_length=500,
        blank=True,
        help_text=_("Lien ou instructions de visioconférence, communiqués dans la convocation."),
    )
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("créée par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # « Saisie a posteriori » (issue 16): a session dated in the past is entered after the fact only
    # with a reason, kept here and in the audit journal.
    late_entry_reason = models.TextField(
        _("motif de la saisie a posteriori"), blank=True, max_length=REASON_MAX
    )
    late_entry_at = models.DateTimeField(_("saisie a posteriori le"), null=True, blank=True)
    late_entry_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("saisie a posteriori par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name = _("session d'évaluation")
        verbose_name_plural = _("sessions d'évaluation")
        constraints = [
            max_length_constraint("evaluations_evaluationsession", "late_entry_reason", REASON_MAX),
            models.CheckConstraint(
                condition=Q(is_remote=True) | ~Q(place=""), name="evaluations_session_place_or_remote"
            ),
        ]

    def __str__(self):
        return f"{self.commission} — {self.date:%d/%m/%Y}"


class Convocation(models.Model):
    """A candidate convened to a session, at a time slot, evaluated by the assigned members."""

    session = models.ForeignKey(
        EvaluationSession, verbose_name=_("session"), on_delete=models.CASCADE, related_name="convocations"
    )
    candidate = models.ForeignKey(
        "candidates.Candidate",
        verbose_name=_("candidat"),
        on_delete=models.PROTECT,
        related_name="convocations",
    )
    time_slot = models.TimeField(_("horaire"))
    convened_at = models.DateTimeField(_("convocation envoyée le"), null=True, blank=True)
    evaluators = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("évaluateurs"),
        through="ConvocationEvaluator",
        through_fields=("convocation", "evaluator"),
        related_name="assigned_convocations",
        blank=True,
    )
    # When the commission's president has a conflict of interest with this candidate, the member the
    # staff designate records the commission's proposals for him instead (services.commissions).
    acting_president = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("président(e) de séance pour ce candidat"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)

    class Meta:
        ordering = ["session", "time_slot", "id"]
        verbose_name = _("convocation")
        verbose_name_plural = _("convocations")
        constraints = [
            models.UniqueConstraint(fields=["session", "candidate"], name="evaluations_convocation_once"),
        ]

    def __str__(self):
        return f"Convocation {self.pk}"


class ConvocationEvaluator(models.Model):
    """The assignment of a commission member to a convened candidate (never with a conflict)."""

    convocation = models.ForeignKey(
        Convocation, verbose_name=_("convocation"), on_delete=models.CASCADE, related_name="assignments"
    )
    evaluator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("évaluateur"),
        on_delete=models.PROTECT,
        related_name="convocation_assignments",
    )
    assigned_at = models.DateTimeField(_("affecté le"), auto_now_add=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("affecté par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["convocation", "evaluator__last_name", "id"]
        verbose_name = _("affectation d'un évaluateur")
        verbose_name_plural = _("affectations des évaluateurs")
        constraints = [
            models.UniqueConstraint(fields=["convocation", "evaluator"], name="evaluations_assignment_once"),
        ]

    def __str__(self):
        return f"Affectation {self.pk}"
