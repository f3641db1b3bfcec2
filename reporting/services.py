"""State changes of the legal reporting: producing an « accrochage » file records who was reported."""

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import BusinessRuleError
from core.services import audit

from . import accrochage, selectors
from .models import AccrochageBatch, AccrochageRecord


class AccrochageValidationError(BusinessRuleError):
    """Some holders cannot be reported as they are; `errors` lists them (reference, name, field, why)."""

    def __init__(self, errors):
        super().__init__(
            _("%(n)s anomalie(s) empêchent la déclaration : corrigez les fiches des candidats concernés.")
            % {"n": len(errors)},
            code="accrochage_invalid",
        )
        self.errors = errors


@dataclass(frozen=True)
class ExportScope:
    centre: object
    session: object = None
    date_from: object = None
    date_to: object = None
    unreported_only: bool = False

    def check(self):
        if self.session is None and (self.date_from is None or self.date_to is None):
            raise BusinessRuleError(
                _("Choisissez une session de délibération ou une période (début et fin).")
            )
        if self.session is not None and self.session.centre_id != self.centre.pk:
            raise BusinessRuleError(_("Cette session de délibération n'appartient pas au centre choisi."))
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise BusinessRuleError(_("La date de début de la période est postérieure à sa date de fin."))


def prepare_export(*, outcomes, scope):
    """Records of the holders in `scope` (from the already scoped `outcomes`), validated."""
    scope.check()
    outcomes = selectors.filter_outcomes(
        outcomes,
        centre=scope.centre,
        session=scope.session,
        date_from=scope.date_from,
        date_to=scope.date_to,
        unreported_only=scope.unreported_only,
    )
    return accrochage.validate(selectors.holder_records(outcomes))


@transaction.atomic
def export_accrochage(*, actor, outcomes, scope, now=None):
    """Validate every holder of `scope`, write the XML file and record the batch.

    `outcomes` is the caller's scope: `selectors.holders_visible_to(user)` for a view, all the holders
    of the centre for the management command. Nothing is written when a record is invalid: the
    error lists each anomaly with the candidate's reference and name.
    """
    now = now or timezone.now()
    report = prepare_export(outcomes=outcomes, scope=scope)
    if not report.records:
        raise BusinessRuleError(_("Aucun titulaire à déclarer pour ce périmètre."))
    if not report.is_valid:
        raise AccrochageValidationError(report.errors)
    period = (scope.date_from, scope.date_to) if scope.session is None else None
    content = accrochage.render_xml(
        report.records,
        certifier_name=settings.CQPM["CERTIFIER_LEGAL_NAME"],
        centre=scope.centre,
        session=scope.session,
        period=period,
        generated_at=now,
    )
    batch = AccrochageBatch(
        centre=scope.centre,
        session=scope.session,
        period_start=scope.date_from if period else None,
        period_end=scope.date_to if period else None,
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
        record_count=len(report.records),
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    batch.file.save("accrochage.xml", ContentFile(content), save=False)
    batch.save()
    today = timezone.localtime(now).date()
    AccrochageRecord.objects.bulk_create(
        AccrochageRecord(
            batch=batch,
            outcome_id=record.outcome_id,
            candidate_id=record.candidate_id,
            issued_on=record.issue_date,
            reported_at=now,
            # Late when this is the first report and it comes after the deadline.
            is_late=record.first_reported_at is None and today > record.due_date,
        )
        for record in report.records
    )
    audit(
        actor=batch.created_by,
        action="reporting.accrochage_exported",
        target=batch,
        centre=scope.centre,
        message=f"Déclaration {batch.pk} : {batch.record_count} titulaire(s)",
        records=batch.record_count,
        session=scope.session.pk if scope.session else None,
        sha256=batch.sha256,
    )
    return batch, content
