"""The CPF holders file (« accrochage ») in the Caisse des Dépôts format, record by record.

Pure module: it takes plain `HolderRecord`s (built by `reporting.selectors`), says what is wrong with
each one (`record_errors`), writes the official flux (`render_flux`, namespace
urn:cdc:cpf:pc5:schema:1.0.0), validates it against an XSD with lxml (`schema_errors`) and reads the
portal's processing report (`parse_processing_report`). The flux, the mappings and the anomalies are
documented in docs/accrochage.md; the XSD we wrote from the public shape of the flux is
reporting/xsd/cpf-pc5-1.0.0.xsd (the official one, when configured, takes precedence).
"""

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from lxml import etree

NAMESPACE = "urn:cdc:cpf:pc5:schema:1.0.0"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
NSMAP = {"cpf": NAMESPACE, "xsi": XSI}
XSD_PATH = Path(__file__).resolve().parent / "xsd" / "cpf-pc5-1.0.0.xsd"

# Our pathways (candidates.Pathway) → modaliteAcces (and voieAccessVAE for VAE). The product does
# not distinguish apprenticeship from the professionalisation contract: its « alternant » pathway is
# labelled « contrat de professionnalisation », the usual CQPM route.
ACCESS_MODES = {
    "employee": "FORMATION_CONTINUE_HORS_CONTRAT_DE_PROFESSIONNALISATION",
    "apprentice": "FORMATION_CONTINUE_CONTRAT_DE_PROFESSIONNALISATION",
    "job_seeker": "FORMATION_CONTINUE_HORS_CONTRAT_DE_PROFESSIONNALISATION",
    "vae": "VAE",
    "other": "CANDIDAT_LIBRE",
}
VAE_ROUTES = {"vae": "VAE_CLASSIQUE"}  # a « congé VAE » is not recorded by the product
# Delivery mode of the evaluations → modalitePassageExamen.
ON_SITE, REMOTE, MIXED = "on_site", "remote", "mixed"
DELIVERY_CODES = {ON_SITE: "EN_PRESENTIEL", REMOTE: "A_DISTANCE", MIXED: "MIXTE"}
CERTIFIED = "certified"
AWARD = "PAR_ADMISSION"  # a jury award (« obtentionCertification »)
SEX_CODES = {"F": "F", "M": "M"}

# Lengths of the schema (docs/accrochage.md).
NAME_MAX = 60
LABEL_MAX = 40
ID_FLUX_MAX = 50
ID_CLIENT_LENGTH = 8
ID_CONTRAT_MAX = 20
RNCP_CODE = re.compile(r"^RNCP[0-9]{3,6}$")
INSEE_CODE = re.compile(r"^(?:[0-9]{5}|2[AB][0-9]{3})$")
POSTCODE = re.compile(r"^[0-9]{5}$")  # French postcodes: 5 digits (Corsica too: 20xxx)
MIN_AGE_AT_ISSUE = 14
DEMO_RNCP_NUMBER = "RNCP00000"  # = referential.models.DEMO_RNCP_NUMBER (no import: pure module)

# XML 1.0 forbids most control characters: a stray one pasted in a name must not break the file.
_FORBIDDEN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def clean_text(value):
    return re.sub(r"\s+", " ", _FORBIDDEN_XML.sub("", str(value or ""))).strip()


def split_first_names(first_names):
    """« Léa Marie Anne Sophie » → ["Léa", "Marie", "Anne Sophie"]: prenom1, prenom2, prenom3.

    Names are separated by spaces or commas (a hyphenated name stays one); beyond the third, the
    remaining names go together into prenom3 so that none is lost.
    """
    names = [n for n in re.split(r"[\s,]+", clean_text(first_names)) if n]
    if len(names) > 3:
        names = [*names[:2], " ".join(names[2:])]
    return names


@dataclass(frozen=True)
class HolderRecord:
    """Everything declared for one holder (one certified outcome), read from the models."""

    outcome_id: int
    candidate_id: int
    reference: str
    display_name: str
    centre_code: str
    certification_code: str
    certification_title: str
    rncp_number: str
    birth_name: str
    usage_name: str
    first_names: str
    sex: str
    birth_date: date | None
    birth_place: str
    birth_country: str
    birth_insee_code: str
    birth_postcode: str
    pathway: str
    registered_on: date | None
    exam_start: date | None
    exam_end: date | None
    delivery_mode: str
    outcome: str
    centre_postcode: str
    issue_date: date
    session_id: int
    anonymised: bool = False
    first_reported_at: datetime | None = None
    # the portal's answers: "" (never sent), "sent" (no answer yet), "accepted", "rejected"
    declaration_status: str = ""
    rejection_reason: str = ""

    @property
    def id_technique(self):
        """Our stable id of this award (candidate + deliberation): the same on every resend."""
        return f"{self.reference}-D{self.session_id}"

    @property
    def due_date(self):
        return self.issue_date + timedelta(days=settings.CQPM["ACCROCHAGE_DEADLINE_DAYS"])

    @property
    def is_reported(self):
        return self.first_reported_at is not None

    @property
    def reported_late(self):
        return self.is_reported and timezone.localtime(self.first_reported_at).date() > self.due_date

    @property
    def to_declare(self):
        """Never sent, or rejected by the portal: offered in the next file."""
        return self.declaration_status in ("", "rejected")

    @property
    def is_pending(self):
        return self.declaration_status == "sent"

    @property
    def is_accepted(self):
        return self.declaration_status == "accepted"

    def is_overdue(self, today=None):
        return self.to_declare and (today or timezone.localdate()) > self.due_date

    def days_left(self, today=None):
        return (self.due_date - (today or timezone.localdate())).days

    @property
    def days_overdue(self):
        """Days past the deadline of a holder still to declare (0 when in time or declared)."""
        return max(0, -self.days_left()) if self.to_declare else 0

    @property
    def rncp_registered(self):
        return bool(self.rncp_number)


@dataclass(frozen=True)
class RecordError:
    """One anomaly of one record. `blocking`: the record stays out of the file; otherwise it goes in
    with the correction described (a label cut to the schema's length)."""

    reference: str
    name: str
    field: str
    message: str
    blocking: bool = True
    candidate_id: int | None = None
    code: str = ""


# field → label shown to staff (the same words as the candidate form)
FIELD_LABELS = {
    "identity": "Identité",
    "rncp": "Enregistrement RNCP du CQPM",
    "birth_name": "Nom de naissance",
    "usage_name": "Nom d'usage",
    "first_names": "Prénoms",
    "sex": "Sexe",
    "birth_date": "Date de naissance",
    "birth_place": "Lieu de naissance",
    "birth_code": "Code INSEE / postal de naissance",
    "birth_country": "Pays de naissance",
    "pathway": "Voie d'accès",
    "exam_date": "Date de l'examen",
    "delivery_mode": "Modalité de passage",
    "outcome": "Résultat",
    "centre_postcode": "Code postal du centre d'examen",
    "schema": "Schéma XSD",
}


def _blank(value):
    return not clean_text(value)


def record_errors(record, *, demo_mode=False):
    """Every anomaly of this record (empty list: declarable as is)."""
    problems = []

    def error(field_name, message, *, blocking=True):
        problems.append(
            RecordError(
                reference=record.reference,
                name=record.display_name,
                field=FIELD_LABELS[field_name],
                message=message,
                blocking=blocking,
                candidate_id=record.candidate_id,
                code=field_name,
            )
        )

    if record.anonymised:
        error("identity", "Le candidat a été anonymisé : son identité ne peut plus être déclarée.")
        return problems
    if not record.rncp_number:
        error(
            "rncp",
            f"Le CQPM {record.certification_code} n'est pas enregistré au RNCP : il ne se déclare pas au SI CPF "
            "(s'il l'est, saisissez son numéro sur le référentiel).",
        )
    elif not RNCP_CODE.match(record.rncp_number):
        error("rncp", f"Le numéro RNCP « {record.rncp_number} » n'a pas la forme RNCP suivi de chiffres.")
    elif record.rncp_number == DEMO_RNCP_NUMBER and not demo_mode:
        error("rncp", "Le numéro RNCP du CQPM est le numéro fictif des données de démonstration.")
    if _blank(record.birth_name):
        error("birth_name", "Le nom de naissance manque.")
    elif len(clean_text(record.birth_name)) > NAME_MAX:
        error("birth_name", f"Le nom de naissance dépasse {NAME_MAX} caractères : abrégez-le sur la fiche.")
    if len(clean_text(record.usage_name)) > NAME_MAX:
        error("usage_name", f"Le nom d'usage dépasse {NAME_MAX} caractères : abrégez-le sur la fiche.")
    names = split_first_names(record.first_names)
    if not names:
        error("first_names", "Les prénoms manquent.")
    elif any(len(name) > NAME_MAX for name in names):
        error("first_names", f"Un prénom dépasse {NAME_MAX} caractères : abrégez-le sur la fiche.")
    if record.sex not in SEX_CODES:
        error("sex", "Le sexe doit être F ou M.")
    if record.birth_date is None:
        error("birth_date", "La date de naissance manque.")
    elif record.birth_date > record.issue_date - timedelta(days=365 * MIN_AGE_AT_ISSUE):
        error("birth_date", "La date de naissance est invraisemblable (moins de 14 ans à la délivrance).")
    if _blank(record.birth_place):
        error("birth_place", "Le lieu de naissance manque.")
    elif len(clean_text(record.birth_place)) > LABEL_MAX:
        error(
            "birth_place",
            f"Le lieu de naissance dépasse {LABEL_MAX} caractères : il est coupé dans le fichier.",
            blocking=False,
        )
    if not (INSEE_CODE.match(record.birth_insee_code or "") or POSTCODE.match(record.birth_postcode or "")):
        error(
            "birth_code",
            "Le code INSEE (ou à défaut le code postal) de la commune de naissance manque : "
            "complétez la fiche du candidat.",
        )
    if _blank(record.birth_country):
        error("birth_country", "Le pays de naissance manque.")
    elif len(clean_text(record.birth_country)) > LABEL_MAX:
        error(
            "birth_country",
            f"Le pays de naissance dépasse {LABEL_MAX} caractères : il est coupé dans le fichier.",
            blocking=False,
        )
    if record.pathway not in ACCESS_MODES:
        error("pathway", "La voie d'accès est inconnue.")
    if record.exam_start is None or record.exam_end is None:
        error(
            "exam_date",
            "Date d'examen inconnue : aucune session d'évaluation avant la délibération. "
            "Pour un candidat évalué avant le logiciel, saisissez son évaluation antérieure.",
        )
    elif record.exam_end > record.issue_date:
        error("exam_date", "La date d'examen est postérieure à la date de délivrance.")
    if record.delivery_mode not in DELIVERY_CODES:
        error("delivery_mode", "La modalité de passage (présentiel, à distance, mixte) est inconnue.")
    if record.outcome != CERTIFIED:
        error("outcome", "Seuls les titulaires du CQPM sont déclarés.")
    if not POSTCODE.match(record.centre_postcode or ""):
        error("centre_postcode", "Le code postal du centre d'examen manque ou n'a pas 5 chiffres.")
    return problems


def is_declarable(record, *, demo_mode=False):
    return not any(e.blocking for e in record_errors(record, demo_mode=demo_mode))


def delivery_mode(remote_flags):
    """On site / remote / mixed from the `is_remote` flags of the candidate's evaluations."""
    flags = set(remote_flags)
    if not flags:
        return ""
    if flags == {True}:
        return REMOTE
    if flags == {False}:
        return ON_SITE
    return MIXED


# --- the flux -----------------------------------------------------------------------------------------


def _q(tag):
    return f"{{{NAMESPACE}}}{tag}"


def _el(parent, tag, value=None):
    element = etree.SubElement(parent, _q(tag))
    if value is not None:
        element.text = clean_text(value)
    return element


def _nil(parent, tag):
    element = etree.SubElement(parent, _q(tag))
    element.set(f"{{{XSI}}}nil", "true")
    return element


def _bool(value):
    return "true" if value else "false"


def _passage(parent, record):
    passage = _el(parent, "passageCertification")
    _el(passage, "idTechnique", record.id_technique)
    _el(passage, "obtentionCertification", AWARD)
    _el(passage, "donneeCertifiee", _bool(True))
    _el(passage, "dateDebutExamen", record.exam_start.isoformat())
    _el(passage, "dateFinExamen", record.exam_end.isoformat())
    _el(passage, "modalitePassageExamen", DELIVERY_CODES[record.delivery_mode])
    _el(passage, "codePostalCentreExamen", record.centre_postcode)
    _el(passage, "dateDebutValidite", record.issue_date.isoformat())
    _nil(passage, "dateFinValidite")  # a CQPM does not expire
    _el(passage, "presenceNiveauLangueEuro", _bool(False))
    _el(passage, "presenceNiveauNumeriqueEuro", _bool(False))
    _nil(passage, "scoring")
    _nil(passage, "mentionValidee")
    registration = _el(passage, "modalitesInscription")
    _el(registration, "modaliteAcces", ACCESS_MODES[record.pathway])
    if record.pathway in VAE_ROUTES:
        _el(registration, "voieAccessVAE", VAE_ROUTES[record.pathway])
    if record.registered_on and record.registered_on <= record.issue_date:
        _el(registration, "dateInscription", record.registered_on.isoformat())
    holder = _el(_el(passage, "identificationTitulaire"), "titulaire")
    _el(holder, "nomNaissance", record.birth_name)
    if _blank(record.usage_name):
        _nil(holder, "nomUsage")
    else:
        _el(holder, "nomUsage", record.usage_name)
    for position, name in enumerate(split_first_names(record.first_names), start=1):
        _el(holder, f"prenom{position}", name)
    _el(holder, "anneeNaissance", f"{record.birth_date.year:04d}")
    _el(holder, "moisNaissance", f"{record.birth_date.month:02d}")
    _el(holder, "jourNaissance", f"{record.birth_date.day:02d}")
    _el(holder, "sexe", SEX_CODES[record.sex])
    commune = _el(holder, "codeCommuneNaissance")
    if INSEE_CODE.match(record.birth_insee_code or ""):
        _el(_el(commune, "codeInseeNaissance"), "codeInsee", record.birth_insee_code)
    else:
        _el(_el(commune, "codePostalNaissance"), "codePostal", record.birth_postcode)
    _el(holder, "libelleCommuneNaissance", clean_text(record.birth_place)[:LABEL_MAX])
    # codePaysNaissance is left out: the product keeps the country's name, not its code.
    _el(holder, "libellePaysNaissance", clean_text(record.birth_country)[:LABEL_MAX])
    return passage


def render_flux(records, *, id_flux, generated_at, id_client, id_contrat):
    """The flux (UTF-8 bytes): one `certification` per RNCP code, one `passageCertification` per
    record. Refuses a record with a blocking anomaly: filter with `is_declarable` first."""
    invalid = [r.reference for r in records if not is_declarable(r, demo_mode=True)]
    if invalid:
        raise ValueError(f"Invalid records: {', '.join(invalid)}")
    root = etree.Element(_q("flux"), nsmap=NSMAP)
    _el(root, "idFlux", id_flux)
    _el(root, "horodatage", timezone.localtime(generated_at).replace(microsecond=0).isoformat())
    sender = _el(root, "emetteur")
    _el(sender, "idClient", id_client)
    certifier = _el(_el(sender, "certificateurs"), "certificateur")
    _el(certifier, "idClient", id_client)
    _el(certifier, "idContrat", id_contrat)
    certifications = _el(certifier, "certifications")
    by_code = {}
    for record in records:
        by_code.setdefault(record.rncp_number, []).append(record)
    for code in sorted(by_code):
        certification = _el(certifications, "certification")
        _el(certification, "type", "RNCP")
        _el(certification, "code", code)
        _el(certification, "natureDeposant", "CERTIFICATEUR")
        passages = _el(certification, "passageCertifications")
        for record in by_code[code]:
            _passage(passages, record)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


# --- the XSD ------------------------------------------------------------------------------------------


def schema_path():
    """The official XSD when the certifier configured one (CPF_ACCROCHAGE_XSD), else ours."""
    configured = settings.CPF_ACCROCHAGE.get("XSD_PATH")
    return Path(configured) if configured else XSD_PATH


@lru_cache(maxsize=4)
def _schema(path, mtime):
    return etree.XMLSchema(etree.parse(str(path)))


def load_schema():
    path = schema_path()
    if not path.is_file():
        raise FileNotFoundError(f"XSD introuvable : {path}")
    return _schema(str(path), path.stat().st_mtime)


@dataclass
class SchemaCheck:
    """The file's problems against the XSD: per idTechnique, and those outside any record."""

    by_record: dict = field(default_factory=dict)
    envelope: list = field(default_factory=list)

    @property
    def is_valid(self):
        return not self.by_record and not self.envelope


def schema_errors(content, schema=None):
    """Validate `content` (bytes of a flux); attribute each error to the record whose lines hold it."""
    schema = schema or load_schema()
    document = etree.parse(io.BytesIO(content), etree.XMLParser(resolve_entities=False, no_network=True))
    check = SchemaCheck()
    if schema.validate(document):
        return check
    # Each passageCertification covers the lines from its start to the next one's start.
    spans = []
    for passage in document.iter(_q("passageCertification")):
        id_element = passage.find(_q("idTechnique"))
        end_line = max((d.sourceline or 0) for d in passage.iter())
        spans.append((passage.sourceline, end_line, id_element.text if id_element is not None else ""))
    for error in schema.error_log:
        owner = next((ident for start, end, ident in spans if start <= error.line <= end), None)
        if owner is None:
            check.envelope.append(error.message)
        else:
            check.by_record.setdefault(owner, []).append(error.message)
    return check


# --- the portal's processing report -------------------------------------------------------------------

ACCEPTED, REJECTED = "accepted", "rejected"
_STATUS_WORDS = {
    "accepte": ACCEPTED,
    "acceptee": ACCEPTED,
    "accepted": ACCEPTED,
    "ok": ACCEPTED,
    "valide": ACCEPTED,
    "integre": ACCEPTED,
    "rejete": REJECTED,
    "rejetee": REJECTED,
    "rejected": REJECTED,
    "ko": REJECTED,
    "refuse": REJECTED,
    "erreur": REJECTED,
}
REPORT_HEADER = ("idtechnique", "statut", "motif")
MAX_REPORT_SIZE = 5 * 1024 * 1024


@dataclass(frozen=True)
class ReportLine:
    line: int
    id_technique: str
    status: str
    reason: str


@dataclass(frozen=True)
class ReportProblem:
    line: int
    message: str


def _fold(value):
    value = unicodedata.normalize("NFKD", (value or "").strip().lower())
    return "".join(c for c in value if not unicodedata.combining(c))


def parse_processing_report(content):
    """The portal's processing report as CSV `idTechnique;statut;motif` (header line optional).

    Returns (lines, problems). UTF-8 (with or without BOM), else Windows-1252; `;` separator (`,`
    accepted when the file has no `;`). Statuses: ACCEPTE / REJETE (accents, case, OK / KO tolerated).
    """
    if len(content) > MAX_REPORT_SIZE:
        return [], [ReportProblem(0, "Le fichier dépasse 5 Mo : ce n'est pas un accusé de traitement.")]
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("cp1252", errors="replace")
    if "\x00" in text:
        return [], [ReportProblem(0, "Le fichier n'est pas un fichier texte (CSV).")]
    delimiter = ";" if ";" in text or "," not in text else ","
    lines, problems, seen = [], [], {}
    for number, row in enumerate(csv.reader(io.StringIO(text), delimiter=delimiter), start=1):
        cells = [cell.strip() for cell in row]
        if not any(cells):
            continue
        if number == 1 and tuple(_fold(c) for c in cells[:3]) == REPORT_HEADER:
            continue
        if len(cells) < 2:
            problems.append(ReportProblem(number, "Ligne incomplète : idTechnique;statut;motif attendus."))
            continue
        id_technique, status_text = cells[0], cells[1]
        reason = ";".join(cells[2:]).strip()
        status = _STATUS_WORDS.get(_fold(status_text))
        if not id_technique:
            problems.append(ReportProblem(number, "idTechnique manquant."))
        elif status is None:
            problems.append(
                ReportProblem(number, f"Statut « {status_text[:40]} » inconnu (ACCEPTE ou REJETE attendu).")
            )
        elif id_technique in seen:
            problems.append(
                ReportProblem(number, f"idTechnique {id_technique[:60]} déjà lu ligne {seen[id_technique]}.")
            )
        else:
            seen[id_technique] = number
            lines.append(ReportLine(number, id_technique, status, reason[:1000]))
    if not lines and not problems:
        problems.append(ReportProblem(0, "Le fichier ne contient aucune ligne idTechnique;statut;motif."))
    return lines, problems
