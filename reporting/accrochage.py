"""The « accrochage » file: holder records, their validation and the XML document.

The structure is documented field by field in docs/accrochage.md (element, meaning, source model
field, rule). This module is pure: it takes plain `HolderRecord`s (built by `reporting.selectors`)
and returns errors or XML bytes, so every rule is tested without a database.
"""

import re
import xml.etree.ElementTree as ET  # noqa: S405 - used to *build* XML, never to parse untrusted input
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.utils import timezone

SCHEMA_VERSION = "1"
ROOT_TAG = "declarationTitulaires"

# Access route (candidate.pathway) → code in the file.
PATHWAY_CODES = {
    "employee": "SALARIE",
    "apprentice": "ALTERNANCE",
    "job_seeker": "DEMANDEUR_EMPLOI",
    "vae": "VAE",
    "other": "AUTRE",
}
# Delivery mode of the evaluations (EvaluationSession.is_remote of the candidate's convocations).
ON_SITE, REMOTE, MIXED = "on_site", "remote", "mixed"
DELIVERY_CODES = {ON_SITE: "PRESENTIEL", REMOTE: "DISTANCIEL", MIXED: "MIXTE"}
OUTCOME_CODES = {"certified": "ADMIS"}
SEX_CODES = {"F": "F", "M": "M"}

# XML 1.0 forbids most control characters: a stray one pasted in a name must not break the file.
_FORBIDDEN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
POSTCODE = re.compile(r"^[0-9]{5}$")  # French postcodes: 5 digits (Corsica too: 20xxx)
MIN_AGE_AT_ISSUE = 14


@dataclass(frozen=True)
class HolderRecord:
    """Everything reported for one holder, read from the models (see docs/accrochage.md)."""

    outcome_id: int
    candidate_id: int
    reference: str
    display_name: str
    centre_code: str
    certification_code: str
    certification_title: str
    certification_version: int
    rncp_number: str
    birth_name: str
    usage_name: str
    first_names: str
    sex: str
    birth_date: date | None
    birth_place: str
    birth_country: str
    pathway: str
    exam_date: date | None
    outcome: str
    delivery_mode: str
    centre_postcode: str
    issue_date: date
    session_id: int
    anonymised: bool = False
    first_reported_at: datetime | None = None

    @property
    def due_date(self):
        return self.issue_date + timedelta(days=settings.CQPM["ACCROCHAGE_DEADLINE_DAYS"])

    @property
    def is_reported(self):
        return self.first_reported_at is not None

    @property
    def reported_late(self):
        return self.is_reported and timezone.localtime(self.first_reported_at).date() > self.due_date

    def is_overdue(self, today=None):
        today = today or timezone.localdate()
        return not self.is_reported and today > self.due_date

    def days_left(self, today=None):
        return (self.due_date - (today or timezone.localdate())).days

    @property
    def days_overdue(self):
        """Days past the deadline of a holder not yet reported (0 when still in time or reported)."""
        return 0 if self.is_reported else max(0, -self.days_left())


@dataclass(frozen=True)
class RecordError:
    reference: str
    name: str
    field: str
    message: str


@dataclass
class ValidationReport:
    records: list
    errors: list = field(default_factory=list)

    @property
    def is_valid(self):
        return not self.errors


# field → label shown to staff (the same words as the candidate form)
FIELD_LABELS = {
    "birth_name": "Nom de naissance",
    "first_names": "Prénoms",
    "sex": "Sexe",
    "birth_date": "Date de naissance",
    "birth_place": "Lieu de naissance",
    "birth_country": "Pays de naissance",
    "pathway": "Voie d'accès",
    "exam_date": "Date de l'examen",
    "delivery_mode": "Modalité de passage",
    "outcome": "Résultat",
    "centre_postcode": "Code postal du centre d'examen",
    "issue_date": "Date de délivrance",
    "identity": "Identité",
}


def _blank(value):
    return not (value or "").strip()


def record_errors(record):
    """Every reason this record cannot be reported as is (empty list: valid)."""
    problems = []

    def error(field_name, message):
        problems.append(
            RecordError(
                reference=record.reference,
                name=record.display_name,
                field=FIELD_LABELS[field_name],
                message=message,
            )
        )

    if record.anonymised:
        error("identity", "Le candidat a été anonymisé : son identité ne peut plus être déclarée.")
        return problems
    if _blank(record.birth_name):
        error("birth_name", "Le nom de naissance manque.")
    if _blank(record.first_names):
        error("first_names", "Les prénoms manquent.")
    if record.sex not in SEX_CODES:
        error("sex", "Le sexe doit être F ou M.")
    if record.birth_date is None:
        error("birth_date", "La date de naissance manque.")
    elif record.birth_date > record.issue_date - timedelta(days=365 * MIN_AGE_AT_ISSUE):
        error("birth_date", "La date de naissance est invraisemblable (moins de 14 ans à la délivrance).")
    if _blank(record.birth_place):
        error("birth_place", "Le lieu de naissance manque.")
    if _blank(record.birth_country):
        error("birth_country", "Le pays de naissance manque.")
    if record.pathway not in PATHWAY_CODES:
        error("pathway", "La voie d'accès est inconnue.")
    if record.exam_date is None:
        error("exam_date", "Aucune session d'évaluation avant la délibération : date d'examen inconnue.")
    elif record.exam_date > record.issue_date:
        error("exam_date", "La date d'examen est postérieure à la date de délivrance.")
    if record.delivery_mode not in DELIVERY_CODES:
        error("delivery_mode", "La modalité de passage (présentiel, distanciel, mixte) est inconnue.")
    if record.outcome not in OUTCOME_CODES:
        error("outcome", "Seuls les titulaires du CQPM sont déclarés.")
    if not POSTCODE.match(record.centre_postcode or ""):
        error("centre_postcode", "Le code postal du centre d'examen manque ou n'a pas 5 caractères.")
    return problems


def validate(records):
    """Validate every record before anything is written: the file is all valid or not produced."""
    report = ValidationReport(records=list(records))
    for record in report.records:
        report.errors.extend(record_errors(record))
    return report


def delivery_mode(remote_flags):
    """On site / remote / mixed from the `is_remote` flags of the candidate's evaluation sessions."""
    flags = set(remote_flags)
    if not flags:
        return ""
    if flags == {True}:
        return REMOTE
    if flags == {False}:
        return ON_SITE
    return MIXED


def _text(parent, tag, value):
    element = ET.SubElement(parent, tag)
    element.text = _FORBIDDEN_XML.sub("", str(value or "")).strip()
    return element


def render_xml(records, *, certifier_name, centre, session=None, period=None, generated_at=None):
    """The XML document (UTF-8 bytes). Refuses invalid records: validate() first."""
    invalid = [r.reference for r in records if record_errors(r)]
    if invalid:
        raise ValueError(f"Invalid records: {', '.join(invalid)}")
    generated_at = timezone.localtime(generated_at or timezone.now())
    root = ET.Element(
        ROOT_TAG,
        {"version": SCHEMA_VERSION, "dateGeneration": generated_at.isoformat(timespec="seconds")},
    )
    certifier = ET.SubElement(root, "certificateur")
    _text(certifier, "raisonSociale", certifier_name)
    centre_element = ET.SubElement(certifier, "centre", {"code": centre.code})
    _text(centre_element, "nom", centre.legal_name or centre.name)
    _text(centre_element, "codePostal", centre.postcode)
    scope = ET.SubElement(root, "perimetre")
    if session is not None:
        ET.SubElement(scope, "sessionDeliberation", {"id": str(session.pk), "date": session.date.isoformat()})
    if period is not None:
        ET.SubElement(scope, "periode", {"debut": period[0].isoformat(), "fin": period[1].isoformat()})
    holders = ET.SubElement(root, "titulaires", {"nombre": str(len(records))})
    for record in records:
        holder = ET.SubElement(holders, "titulaire", {"reference": record.reference})
        certification = ET.SubElement(
            holder,
            "certification",
            {"code": record.certification_code, "version": str(record.certification_version)},
        )
        _text(certification, "intitule", record.certification_title)
        if record.rncp_number:
            _text(certification, "numeroRNCP", record.rncp_number)
        _text(holder, "nomNaissance", record.birth_name)
        _text(holder, "nomUsage", record.usage_name)
        _text(holder, "prenoms", record.first_names)
        _text(holder, "sexe", SEX_CODES[record.sex])
        _text(holder, "dateNaissance", record.birth_date.isoformat())
        _text(holder, "lieuNaissance", record.birth_place)
        _text(holder, "paysNaissance", record.birth_country)
        _text(holder, "voieAcces", PATHWAY_CODES[record.pathway])
        _text(holder, "dateExamen", record.exam_date.isoformat())
        _text(holder, "resultat", OUTCOME_CODES[record.outcome])
        _text(holder, "modalitePassage", DELIVERY_CODES[record.delivery_mode])
        _text(holder, "codePostalCentreExamen", record.centre_postcode)
        _text(holder, "dateDelivrance", record.issue_date.isoformat())
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


# The documented structure, checked by the tests against the files produced (docs/accrochage.md).
HOLDER_ELEMENTS = (
    "certification",
    "nomNaissance",
    "nomUsage",
    "prenoms",
    "sexe",
    "dateNaissance",
    "lieuNaissance",
    "paysNaissance",
    "voieAcces",
    "dateExamen",
    "resultat",
    "modalitePassage",
    "codePostalCentreExamen",
    "dateDelivrance",
)
