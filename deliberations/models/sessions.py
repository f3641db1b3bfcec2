"""A deliberation session of a jury for one CQPM, its attendance and the candidates put before it."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.text import REASON_MAX, max_length_constraint


class SessionStatus(models.TextChoices):
    PLANNED = "planned", _("Planifiée")
    OPEN = "open", _("En délibération")
    CLOSED = "closed", _("Clôturée")


class DeliberationSession(models.Model):
    centre = models.ForeignKey(
        "core.CertificationCentre",
        verbose_name=_("centre"),
        on_delete=models.PROTECT,
        related_name="deliberation_sessions",
    )
    certification = models.ForeignKey(
        "referential.Certification",
        verbose_name=_("CQPM"),
        on_delete=models.PROTECT,
        related_name="deliberation_sessions",
    )
    jury = models.ForeignKey(
        "deliberations.Jury", verbose_name=_("jury"), on_delete=models.PROTECT, related_name="sessions"
    )
    date = models.DateField(_("date"))
    place = models.CharField(_("lieu"), max_length=255)
    status = models.CharField(
        _("statut"), max_length=10, choices=SessionStatus.choices, default=SessionStatus.PLANNED
    )
    unions_asked_on = models.DateField(_("organisations syndicales sollicitées le"), null=True, blank=True)
    members_notified_on = models.DateField(_("membres salariés convoqués le"), null=True, blank=True)
    decisions_recorded_at = models.DateTimeField(_("décisions enregistrées le"), null=True, blank=True)
    closed_at = models.DateTimeField(_("close le"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("close par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    pv_version = models.PositiveIntegerField(_("version du PV"), default=0)
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
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    # Bumped in the same transaction by every write the jury board reads (deliberations.board_version,
    # issue 21): the board's session-wide summary and pages are cached by (session, version).
    board_version = models.PositiveBigIntegerField(_("version du tableau du jury"), default=0, editable=False)

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name = _("session de délibération")
        verbose_name_plural = _("sessions de délibération")
        constraints = [
            max_length_constraint("deliberations_deliberationsession", "late_entry_reason", REASON_MAX),
            models.CheckConstraint(
                condition=Q(status__in=SessionStatus.values), name="deliberations_session_status"
            ),
            models.CheckConstraint(
                condition=~Q(status="closed") | Q(closed_at__isnull=False),
                name="deliberations_closed_has_date",
            ),
        ]
        indexes = [models.Index(fields=["centre", "status", "date"])]

    def __str__(self):
        return f"{self.certification.code} — {self.date:%d/%m/%Y}"

    @property
    def is_closed(self):
        return self.status == SessionStatus.CLOSED

    @property
    def union_deadline(self):
        """Unions are asked to name their members at least 15 calendar days before (settings)."""
        return self.date - timedelta(days=settings.CQPM["UNION_NOTICE_DAYS"])

    @property
    def notification_deadline(self):
        """Employee members get at least 8 days' notice (settings)."""
        return self.date - timedelta(days=settings.CQPM["EMPLOYEE_MEMBER_NOTICE_DAYS"])


class Attendance(models.Model):
    session = models.ForeignKey(
        DeliberationSession, verbose_name=_("session"), on_delete=models.CASCADE, related_name="attendances"
    )
    member = models.ForeignKey(
        "deliberations.JuryMember",
        verbose_name=_("membre"),
        on_delete=models.PROTECT,
        related_name="attendances",
    )
    present = models.BooleanField(_("présent"), default=False)
    recorded_at = models.DateTimeField(_("enregistré le"), auto_now=True)

    class Meta:
        ordering = ["session", "member__college", "member__full_name"]
        verbose_name = _("présence")
        verbose_name_plural = _("feuille de présence")
        constraints = [
            models.UniqueConstraint(fields=["session", "member"], name="deliberations_attendance_member")
        ]

    def __str__(self):
        return f"{self.member_id}: {'présent' if self.present else 'absent'}"


class SessionCandidate(models.Model):
    session = models.ForeignKey(
        DeliberationSession, verbose_name=_("session"), on_delete=models.CASCADE, related_name="entries"
    )
    candidate = models.ForeignKey(
        "candidates.Candidate",
        verbose_name=_("candidat"),
        on_delete=models.PROTECT,
        related_name="deliberation_entries",
    )
    added_at = models.DateTimeField(_("ajouté le"), auto_now_add=True)

    class Meta:
        ordering = ["session", "candidate__reference"]
        verbose_name = _("candidat présenté au jury")
        verbose_name_plural = _("candidats présentés au jury")
        constraints = [
            models.UniqueConstraint(fields=["session", "candidate"], name="deliberations_session_candidate")
        ]

    def __str__(self):
        return f"{self.session_id}/{self.candidate_id}"
