"""State changes of the legal reporting: producing a CPF holders file (record by record) and reading
back the portal's processing report."""

import hashlib
from dataclasses import dataclass, field

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from lxml import etree

from core.exceptions import BusinessRuleError
from core.services import audit

from . import accrochage, selectors
from .models import AccrochageBatch, AccrochageRecord, DeclarationStatus, ProcessingReport, new_flux_id


class AccrochageValidationError(BusinessRuleError):
    """No holder of the scope can be declared; `errors` lists why (reference, name, field, reason)."""

    def __init__(self, errors):
        super().__init__(
            _(
                "Aucun titulaire de ce périmètre n'est déclarable : %(n)s anomalie(s) à corriger, "
                "aucun fichier n'a été produit."
            )
            % {"n": len(errors)},
            code="accrochage_invalid",
        )
        self.errors = errors


class ProcessingReportError(BusinessRuleError):
    """The processing report cannot be read; `problems` lists each line's problem. Nothing changed."""

    def __init__(self, problems):
        super().__init__(
            _("L'accusé de traitement n'a pas été pris en compte : %(n)s problème(s), rien n'a été modifié.")
            % {"n": len(problems)},
            code="report_invalid",
        )
        self.problems = problems


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


@dataclass
class ExportResult:
    batch: object
    content: bytes
    declared: list
    anomalies: list = field(default_factory=list)  # every anomaly, warnings of declared records included

    @property
    def left_out(self):
        declared = {r.reference for r in self.declared}
        return [e for e in self.anomalies if e.reference not in declared]


def check_credentials():
    """(idClient, idContrat), or a clear refusal when they are not configured outside demo mode."""
    credentials = selectors.accrochage_credentials()
    if credentials is None:
        raise BusinessRuleError(
            _(
                "Les identifiants du certificateur auprès de la Caisse des Dépôts ne sont pas configurés : "
                "renseignez CPF_ID_CLIENT et CPF_ID_CONTRAT (voir docs/accrochage.md). Aucun fichier n'a été produit."
            ),
            code="credentials",
        )
    id_client, id_contrat = credentials
    if len(id_client) != accrochage.ID_CLIENT_LENGTH or len(id_contrat) > accrochage.ID_CONTRAT_MAX:
        raise BusinessRuleError(
            _(
                "Identifiants du certificateur invalides : CPF_ID_CLIENT a 8 caractères et CPF_ID_CONTRAT "
                "au plus 20. Aucun fichier n'a été produit."
            ),
            code="credentials",
        )
    return credentials


def candidate_records(*, outcomes, scope):
    """The holders of `scope` (from the already scoped `outcomes`) that may go into a file: never the
    accepted ones; with `unreported_only`, not those awaiting the portal's answer either."""
    scope.check()
    outcomes = selectors.filter_outcomes(
        outcomes,
        centre=scope.centre,
        session=scope.session,
        date_from=scope.date_from,
        date_to=scope.date_to,
    )
    records = [r for r in selectors.holder_records(outcomes) if not r.is_accepted]
    if scope.unreported_only:
        records = [r for r in records if r.to_declare]
    return records


def _schema_anomaly(record, messages):
    return accrochage.RecordError(
        reference=record.reference,
        name=record.display_name,
        field=accrochage.FIELD_LABELS["schema"],
        message="Refusé par le schéma XSD : " + " ; ".join(m[:200] for m in messages[:3]),
        candidate_id=record.candidate_id,
        code="schema",
    )


@transaction.atomic
def export_accrochage(*, actor, outcomes, scope, now=None):
    """Write the CPF holders file of `scope`, record by record, and store it as a batch.

    Each holder is checked (`accrochage.record_errors`); those with a blocking anomaly are left out
    and listed, the others are written, then the whole file is validated against the XSD (ours, or
    the official one when configured): a record the schema refuses is left out too and the file
    written again. A file is produced as long as one record is valid; otherwise
    `AccrochageValidationError` lists every anomaly and nothing is stored.
    """
    now = now or timezone.now()
    id_client, id_contrat = check_credentials()
    records = candidate_records(outcomes=outcomes, scope=scope)
    if not records:
        raise BusinessRuleError(
            _(
                "Aucun titulaire à déclarer pour ce périmètre : les titulaires acceptés par le portail ne sont "
                "jamais renvoyés, et ceux qui attendent sa réponse ne le sont que sans l'option « seulement les "
                "titulaires à déclarer »."
            )
        )
    demo = selectors.accrochage_demo_mode()
    anomalies, valid = [], []
    for record in records:
        errors = accrochage.record_errors(record, demo_mode=demo)
        anomalies.extend(errors)
        if not any(e.blocking for e in errors):
            valid.append(record)
    flux_id = new_flux_id()
    content = b""
    try:
        schema = accrochage.load_schema()
    except (OSError, etree.XMLSchemaParseError, etree.XMLSyntaxError) as exc:  # a configured XSD unreadable
        raise BusinessRuleError(
            _("Le schéma XSD de validation est illisible (%(path)s) : aucun fichier n'a été produit.")
            % {"path": accrochage.schema_path()},
            code="schema",
        ) from exc
    while valid:
        content = accrochage.render_flux(
            valid, id_flux=flux_id, generated_at=now, id_client=id_client, id_contrat=id_contrat
        )
        check = accrochage.schema_errors(content, schema)
        if check.is_valid:
            break
        if check.envelope:
            raise BusinessRuleError(
                _("Le fichier ne respecte pas le schéma XSD (%(error)s) : aucun fichier n'a été produit.")
                % {"error": "; ".join(check.envelope[:3])},
                code="schema",
            )
        refused = {r.id_technique: r for r in valid if r.id_technique in check.by_record}
        anomalies.extend(_schema_anomaly(r, check.by_record[key]) for key, r in refused.items())
        valid = [r for r in valid if r.id_technique not in refused]
    if not valid:
        raise AccrochageValidationError([e for e in anomalies if e.blocking])
    declared = {r.reference for r in valid}
    left_out = [
        {"candidate_id": e.candidate_id, "reference": e.reference, "field": e.field, "message": e.message}
        for e in anomalies
        if e.reference not in declared
    ]
    batch = AccrochageBatch(
        flux_id=flux_id,
        centre=scope.centre,
        session=scope.session,
        period_start=scope.date_from if scope.session is None else None,
        period_end=scope.date_to if scope.session is None else None,
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
        record_count=len(valid),
        left_out=left_out,
        schema_name=accrochage.schema_path().name,
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
            id_technique=record.id_technique,
            # Late when this is the first report and it comes after the deadline.
            is_late=record.first_reported_at is None and today > record.due_date,
        )
        for record in valid
    )
    audit(
        actor=batch.created_by,
        action="reporting.accrochage_exported",
        target=batch,
        centre=scope.centre,
        message=f"Déclaration {batch.pk} : {batch.record_count} titulaire(s), {len({e['reference'] for e in left_out})} laissé(s) de côté",
        records=batch.record_count,
        left_out=len({e["reference"] for e in left_out}),
        flux_id=flux_id,
        session=scope.session.pk if scope.session else None,
        sha256=batch.sha256,
        schema=batch.schema_name,
    )
    return ExportResult(batch=batch, content=content, declared=valid, anomalies=anomalies)


@transaction.atomic
def import_processing_report(*, actor, batch, content, filename=""):
    """Mark the records of `batch` accepted or rejected from the portal's processing report.

    The report is read whole first (`accrochage.parse_processing_report`); an unreadable line or an
    idTechnique that is not in this file refuses the whole report (nothing changes). Records the
    report does not name stay « en attente ». Returns the stored `ProcessingReport`.
    """
    lines, problems = accrochage.parse_processing_report(content)
    records = {
        r.id_technique: r
        for r in AccrochageRecord.objects.select_for_update(of=("self",)).filter(batch=batch)
    }
    for line in lines:
        if line.id_technique not in records:
            problems.append(
                accrochage.ReportProblem(
                    line.line, f"idTechnique {line.id_technique[:60]} absent du fichier {batch.flux_id}."
                )
            )
    if problems:
        raise ProcessingReportError(sorted(problems, key=lambda p: p.line))
    now = timezone.now()
    report = ProcessingReport(
        batch=batch,
        original_name=(filename or "")[:255],
        sha256=hashlib.sha256(content).hexdigest(),
        accepted_count=sum(1 for line in lines if line.status == accrochage.ACCEPTED),
        rejected_count=sum(1 for line in lines if line.status == accrochage.REJECTED),
        uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    report.file.save("accuse.csv", ContentFile(content), save=False)
    report.save()
    for line in lines:
        record = records[line.id_technique]
        record.status = (
            DeclarationStatus.ACCEPTED if line.status == accrochage.ACCEPTED else DeclarationStatus.REJECTED
        )
        record.reason = line.reason if line.status == accrochage.REJECTED else ""
        record.answered_at = now
        record.report = report
    AccrochageRecord.objects.bulk_update(
        [records[line.id_technique] for line in lines], ["status", "reason", "answered_at", "report"]
    )
    audit(
        actor=report.uploaded_by,
        action="reporting.processing_report_imported",
        target=batch,
        centre=batch.centre,
        message=(
            f"Accusé de traitement de la déclaration {batch.pk} : {report.accepted_count} accepté(s), "
            f"{report.rejected_count} rejeté(s)"
        ),
        report=report.pk,
        accepted=report.accepted_count,
        rejected=report.rejected_count,
        sha256=report.sha256,
    )
    return report
