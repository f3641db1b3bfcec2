"""Evaluations held before the product: staff record their dates and delivery mode (audited)."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import BusinessRuleError
from core.services import audit

from ..models import DeliveryMode, LegacyExamination
from .common import check_staff_of


@transaction.atomic
def record_legacy_examination(*, actor, candidate, first_date, last_date, delivery_mode):
    """Record (or correct) when and how a candidate evaluated before the product was examined.

    `actor` None: demo data and commands. The dates are those of the evaluation (first and last day);
    the delivery mode is on site, remote or mixed. Read by the CPF holders declaration.
    """
    check_staff_of(actor, candidate.centre_id)
    if candidate.anonymised_at is not None:
        raise BusinessRuleError(
            _("Ce candidat a été anonymisé : il ne peut plus être modifié."), code="anonymised"
        )
    if first_date is None or last_date is None:
        raise BusinessRuleError(
            _("Indiquez la date de début et la date de fin de l'évaluation."), code="dates"
        )
    if first_date > last_date:
        raise BusinessRuleError(
            _("La date de début de l'évaluation est postérieure à sa date de fin."), code="dates"
        )
    if last_date > timezone.localdate():
        raise BusinessRuleError(
            _("Une évaluation antérieure ne peut pas être datée dans le futur."), code="future"
        )
    if delivery_mode not in DeliveryMode.values:
        raise BusinessRuleError(_("Choisissez la modalité de passage de l'évaluation."), code="mode")
    examination, created = LegacyExamination.objects.update_or_create(
        candidate=candidate,
        defaults={
            "first_date": first_date,
            "last_date": last_date,
            "delivery_mode": delivery_mode,
            "recorded_by": actor if getattr(actor, "is_authenticated", False) else None,
        },
    )
    audit(
        actor=actor,
        action="evaluations.legacy_examination_recorded",
        target=examination,
        centre=candidate.centre,
        message=f"Évaluation antérieure du candidat {candidate.pk} {'enregistrée' if created else 'corrigée'}",
        candidate=candidate.pk,
        first_date=first_date.isoformat(),
        last_date=last_date.isoformat(),
        delivery_mode=delivery_mode,
    )
    return examination
