"""The jury paritaire de délibération and its members, by college (domain.md)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class College(models.TextChoices):
    EMPLOYEES = "employees", _("Collège salariés")
    EMPLOYERS = "employers", _("Collège employeurs")


class Jury(models.Model):
    centre = models.ForeignKey(
        "core.CertificationCentre", verbose_name=_("centre"), on_delete=models.PROTECT, related_name="juries"
    )
    name = models.CharField(_("nom"), max_length=200)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("jury paritaire")
        verbose_name_plural = _("jurys paritaires")
        constraints = [models.UniqueConstraint(fields=["centre", "name"], name="deliberations_jury_name")]

    def __str__(self):
        return self.name


class JuryMember(models.Model):
    """One seat of the jury: employees' side (one per representative union) or employers' side."""

    jury = models.ForeignKey(Jury, verbose_name=_("jury"), on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("compte"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="jury_seats",
        help_text=_("Compte utilisateur du membre, s'il consulte les délibérations en ligne."),
    )
    full_name = models.CharField(_("nom et prénom"), max_length=200)
    email = models.EmailField(_("adresse électronique"), blank=True)
    college = models.CharField(_("collège"), max_length=10, choices=College.choices)
    union = models.CharField(
        _("organisation syndicale"), max_length=100, blank=True, help_text=_("Collège salariés uniquement.")
    )
    is_president = models.BooleanField(_("président"), default=False)

    class Meta:
        ordering = ["jury", "-is_president", "college", "full_name"]
        verbose_name = _("membre du jury")
        verbose_name_plural = _("membres du jury")
        constraints = [
            models.CheckConstraint(
                condition=Q(college__in=College.values), name="deliberations_member_college"
            ),
            # The president comes from the employers' side (domain.md).
            models.CheckConstraint(
                condition=Q(is_president=False) | Q(college=College.EMPLOYERS),
                name="deliberations_president_employer",
            ),
            models.UniqueConstraint(
                fields=["jury"], condition=Q(is_president=True), name="deliberations_one_president"
            ),
            # Employees' side: one member per representative union.
            models.CheckConstraint(
                condition=~Q(college=College.EMPLOYEES) | ~Q(union=""), name="deliberations_employee_union"
            ),
            models.UniqueConstraint(
                fields=["jury", "union"],
                condition=Q(college=College.EMPLOYEES),
                name="deliberations_one_member_per_union",
            ),
            models.UniqueConstraint(
                fields=["jury", "user"], condition=Q(user__isnull=False), name="deliberations_member_user"
            ),
        ]

    def __str__(self):
        return self.full_name
