"""Bulk import of candidates from CSV / XLSX: reading the table and turning a row into the keyword
arguments of `services.register_candidate`. The import itself (all-or-nothing, same rules as the
registration form, checked in memory for the whole file) is `services.validate_import_rows` /
`services.commit_import_rows`; `services.import_candidates` runs both synchronously (command), the
`ImportJob` tasks run them in a Celery worker with progress (pages).

Every problem is located: `Problem(column, message)`, the column being the canonical header below
("" when the problem concerns the whole row).

Columns (first row; case, accents and spaces do not matter):
nom_naissance*, nom_usage, prenoms*, sexe* (F/M), date_naissance* (JJ/MM/AAAA or AAAA-MM-JJ),
lieu_naissance, pays_naissance, email, telephone, adresse, code_postal, ville,
parcours* (salarie, alternant, demandeur_emploi, vae, autre), siret_entreprise, email_tuteur,
cqpm* (code; the version in force is used), date_inscription, base_legale, consentement (oui/non).
"""

import csv
import datetime
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field

import openpyxl
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.files import validate_upload
from core.text import strip_bidi
from referential.models import Certification

from .models import Company, LegalBasis, Pathway, Sex, Tutor
from .validators import normalise_siret

# A national body's yearly intake of one centre fits in one file; larger files are split by the user.
MAX_ROWS = 20000
# An XLSX is a ZIP archive: a few hundred KB can inflate to gigabytes (decompression bomb). The sum of
# the uncompressed sizes of its members is capped before the workbook is opened; 20 000 rows of
# 19 columns take about 60 MB of sheet XML.
MAX_XLSX_UNCOMPRESSED = 100 * 1024 * 1024
# Progress of the import tasks is recorded every CHUNK_ROWS rows.
CHUNK_ROWS = 500

COLUMNS = [
    "nom_naissance",
    "nom_usage",
    "prenoms",
    "sexe",
    "date_naissance",
    "lieu_naissance",
    "pays_naissance",
    "email",
    "telephone",
    "adresse",
    "code_postal",
    "ville",
    "parcours",
    "siret_entreprise",
    "email_tuteur",
    "cqpm",
    "date_inscription",
    "base_legale",
    "consentement",
]
REQUIRED_COLUMNS = ["nom_naissance", "prenoms", "sexe", "date_naissance", "parcours", "cqpm"]
HEADER_ALIASES = {
    "nom": "nom_naissance",
    "nom_de_naissance": "nom_naissance",
    "prenom": "prenoms",
    "date_de_naissance": "date_naissance",
    "lieu_de_naissance": "lieu_naissance",
    "pays_de_naissance": "pays_naissance",
    "courriel": "email",
    "adresse_electronique": "email",
    "cp": "code_postal",
    "siret": "siret_entreprise",
    "tuteur_email": "email_tuteur",
    "courriel_tuteur": "email_tuteur",
    "code_cqpm": "cqpm",
}


def _fold(value):
    text = unicodedata.normalize("NFKD", str(value or "")).encode("ascii", "ignore").decode("ascii")
    return " ".join(text.replace("'", " ").casefold().split())


PATHWAY_ALIASES = {
    **{_fold(code): code for code in Pathway.values},
    **{_fold(label): code for code, label in Pathway.choices},
    "salarie": Pathway.EMPLOYEE,
    "alternant": Pathway.APPRENTICE,
    "apprenti": Pathway.APPRENTICE,
    "alternance": Pathway.APPRENTICE,
    "contrat de professionnalisation": Pathway.APPRENTICE,
    "demandeur d emploi": Pathway.JOB_SEEKER,
    "demandeur_emploi": Pathway.JOB_SEEKER,
    "demandeur emploi": Pathway.JOB_SEEKER,
    "vae": Pathway.VAE,
    "autre": Pathway.OTHER,
}
SEX_ALIASES = {"f": Sex.FEMALE, "femme": Sex.FEMALE, "m": Sex.MALE, "h": Sex.MALE, "homme": Sex.MALE}
LEGAL_BASIS_ALIASES = {
    **{_fold(code): code for code in LegalBasis.values},
    **{_fold(label): code for code, label in LegalBasis.choices},
    "contrat": LegalBasis.CONTRACT,
    "obligation legale": LegalBasis.LEGAL_OBLIGATION,
    "interet legitime": LegalBasis.LEGITIMATE_INTEREST,
    "consentement": LegalBasis.CONSENT,
}
YES = {"oui", "o", "yes", "y", "1", "vrai", "true", "x"}
NO = {"", "non", "n", "no", "0", "faux", "false"}


class ImportFileError(Exception):
    """The file itself cannot be read (type, encoding, headers, size)."""


@dataclass(frozen=True)
class Problem:
    """One problem of one row: the column it concerns (canonical header, "" for the whole row)."""

    column: str
    message: str
    duplicate: bool = False

    def __str__(self):
        return self.message


@dataclass
class RowResult:
    line: int
    values: dict
    problems: list = field(default_factory=list)
    reference: str = ""

    @property
    def errors(self):
        """The messages of the row's problems (French, shown as they are)."""
        return [problem.message for problem in self.problems]

    @property
    def is_duplicate(self):
        return any(problem.duplicate for problem in self.problems)

    @property
    def display_name(self):
        return f"{self.values.get('nom_naissance', '')} {self.values.get('prenoms', '')}".strip()


@dataclass
class ImportReport:
    rows: list
    committed: bool = False

    @property
    def error_rows(self):
        return [row for row in self.rows if row.problems]

    @property
    def duplicate_rows(self):
        return [row for row in self.rows if row.is_duplicate]

    @property
    def is_valid(self):
        return bool(self.rows) and not self.error_rows


def normalise_header(value):
    key = _fold(value).replace(" ", "_").replace("-", "_")
    return HEADER_ALIASES.get(key, key)


def _cell_to_text(value):
    """The text of a cell, bidi controls removed (rows are written with bulk_create: no pre_save)."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return strip_bidi(str(value)).strip()


def _too_many_rows():
    return ImportFileError(
        _(
            "Le fichier contient plus de %(max)s lignes : au plus %(max)s candidats par import. "
            "Découpez-le en plusieurs fichiers."
        )
        % {"max": MAX_ROWS}
    )


def _capped(rows):
    """The non-empty rows of a table, read lazily; refuses the file as soon as it has more than
    MAX_ROWS rows after its header (never reads the rest: a bomb stops at MAX_ROWS + 2 rows)."""
    table = []
    for row in rows:
        if not any(str(cell).strip() for cell in row):
            continue
        table.append(row)
        if len(table) > MAX_ROWS + 1:
            raise _too_many_rows()
    return table


def _read_csv(content):
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ImportFileError(_("Le fichier CSV n'est ni en UTF-8 ni en Windows-1252."))
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=";,\t")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ";"
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return _capped(list(row) for row in reader)
    except csv.Error as exc:  # e.g. a stray carriage return or NUL: the file is not a table
        raise ImportFileError(
            _("Le fichier CSV est mal formé (ligne %(line)s).") % {"line": reader.line_num}
        ) from exc


def _check_archive_size(content):
    """Refuse an XLSX whose members inflate beyond MAX_XLSX_UNCOMPRESSED, before opening it (the
    sizes are read from the archive's directory; a member lying about its size fails to inflate)."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            total = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ImportFileError(_("Le classeur XLSX est illisible.")) from exc
    if total > MAX_XLSX_UNCOMPRESSED:
        raise ImportFileError(
            _(
                "Le classeur XLSX est trop volumineux une fois décompressé (%(size)s) : au plus %(max)s. "
                "Découpez-le en plusieurs fichiers."
            )
            % {"size": filesizeformat(total), "max": filesizeformat(MAX_XLSX_UNCOMPRESSED)}
        )


def _read_xlsx(content):
    _check_archive_size(content)
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable workbook is a user error
        raise ImportFileError(_("Le classeur XLSX est illisible.")) from exc
    try:
        sheet = workbook.worksheets[0]
        # Streaming (read-only mode): rows are parsed one at a time and reading stops past the cap.
        return _capped([_cell_to_text(cell) for cell in row] for row in sheet.iter_rows(values_only=True))
    except ImportFileError:
        raise
    except Exception as exc:  # noqa: BLE001 - a corrupt sheet is a user error
        raise ImportFileError(_("Le classeur XLSX est illisible.")) from exc
    finally:
        workbook.close()


def read_table(uploaded_file):
    """Rows of the file as dicts {column: text}, with their line numbers. Raises ImportFileError."""
    try:
        info = validate_upload(uploaded_file, allowed=("csv", "xlsx"))
    except ValidationError as exc:
        raise ImportFileError(" ".join(exc.messages)) from exc
    uploaded_file.seek(0)
    content = uploaded_file.read()
    table = _read_xlsx(content) if info.kind == "xlsx" else _read_csv(content)
    if not table:
        raise ImportFileError(_("Le fichier ne contient aucune ligne."))
    headers = [normalise_header(cell) for cell in table[0]]
    missing = [column for column in REQUIRED_COLUMNS if column not in headers]
    if missing:
        raise ImportFileError(
            _("Colonnes obligatoires absentes : %(columns)s.") % {"columns": ", ".join(missing)}
        )
    if len(table) - 1 > MAX_ROWS:  # _capped stops at the first row past the cap
        raise _too_many_rows()
    rows = []
    for index, cells in enumerate(table[1:], start=2):
        values = {
            header: _cell_to_text(cell)
            for header, cell in zip(headers, cells, strict=False)
            if header in COLUMNS
        }
        rows.append({"line": index, "values": values})
    if not rows:
        raise ImportFileError(_("Le fichier ne contient que la ligne d'en-tête."))
    return rows


_DAY_FIRST = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


def parse_date(text):
    text = (text or "").strip()
    match = _DAY_FIRST.match(text)
    if match:  # the common JJ/MM/AAAA without strptime (10 000 rows per file)
        day, month, year = (int(part) for part in match.groups())
        try:
            return datetime.date(year, month, day)
        except ValueError:
            return None
    for fmt in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def prefetch_lookups(rows, *, centre):
    """What the rows refer to, fetched once for the whole file: the version in force of each CQPM code
    (one query), the centre's companies with the SIRETs of the file (one query) and their tutors (one
    query). The result is the `cache` of `parse_row`, marked complete: a miss means « unknown »."""
    codes, sirets = set(), set()
    for row in rows:
        values = row["values"]
        code = (values.get("cqpm") or "").strip()
        if code and "\x00" not in code:
            codes.add(code)
        siret = normalise_siret(values.get("siret_entreprise"))
        if siret and "\x00" not in siret:
            sirets.add(siret)
    certifications = dict.fromkeys(codes)
    if codes:
        # Highest published version first: the first one seen per code is the version in force.
        for certification in (
            Certification.objects.published().filter(code__in=codes).order_by("code", "-version")
        ):
            if certifications.get(certification.code) is None:
                certifications[certification.code] = certification
    companies = {(centre.pk, siret): None for siret in sirets}
    tutors = {}
    if sirets:
        found = {company.pk: company for company in Company.objects.filter(centre=centre, siret__in=sirets)}
        for company in found.values():
            companies[(centre.pk, company.siret)] = company
        if found:
            for tutor in Tutor.objects.filter(company_id__in=list(found)).order_by(*Tutor._meta.ordering):
                tutor.company = found[tutor.company_id]
                tutors.setdefault((tutor.company_id, tutor.email.strip().upper()), tutor)
    return {"certifications": certifications, "companies": companies, "tutors": tutors, "complete": True}


def _certification(code, cache):
    if code not in cache["certifications"]:
        cache["certifications"][code] = (
            None if cache.get("complete") else Certification.objects.in_force(code)
        )
    return cache["certifications"][code]


def _company(centre, siret, cache):
    key = (centre.pk, siret)
    if key not in cache["companies"]:
        cache["companies"][key] = (
            None if cache.get("complete") else Company.objects.filter(centre=centre, siret=siret).first()
        )
    return cache["companies"][key]


def _tutor(company, email, cache):
    tutors = cache.setdefault("tutors", {})
    key = (company.pk, email.upper())
    if key not in tutors:
        tutors[key] = (
            None
            if cache.get("complete")
            else Tutor.objects.filter(company=company, email__iexact=email).first()
        )
    return tutors[key]


def row_to_kwargs(values, *, centre, cache):
    """Keyword arguments for register_candidate, or raise ValueError with the list of problems."""
    kwargs, problems = parse_row(values, centre=centre, cache=cache)
    if problems:
        raise ValueError([problem.message for problem in problems])
    return kwargs


def parse_row(values, *, centre, cache):
    """(keyword arguments for register_candidate, [Problem]) of one row. `cache` comes from
    `prefetch_lookups` (no query) or is {"certifications": {}, "companies": {}} (queries as needed)."""
    if any("\x00" in str(value or "") for value in values.values()):
        # PostgreSQL refuses NUL in text: say so instead of failing on the first query.
        return {}, [Problem("", _("La ligne contient un caractère nul (0x00) : corrigez le fichier."))]
    errors = []
    kwargs = {}

    def problem(column, message):
        errors.append(Problem(column, message))

    def required(column, label):
        value = (values.get(column) or "").strip()
        if not value:
            problem(column, _("%(label)s manquant.") % {"label": label})
        return value

    kwargs["birth_name"] = required("nom_naissance", gettext_lazy("Nom de naissance"))
    kwargs["first_names"] = required("prenoms", gettext_lazy("Prénoms"))
    for column, name in (
        ("nom_usage", "usage_name"),
        ("lieu_naissance", "birth_place"),
        ("email", "email"),
        ("telephone", "phone"),
        ("adresse", "address"),
        ("code_postal", "postcode"),
        ("ville", "city"),
    ):
        kwargs[name] = (values.get(column) or "").strip()
    kwargs["birth_country"] = (values.get("pays_naissance") or "").strip() or "France"

    sex_text = required("sexe", gettext_lazy("Sexe"))
    if sex_text:
        kwargs["sex"] = SEX_ALIASES.get(_fold(sex_text))
        if kwargs["sex"] is None:
            problem("sexe", _("Sexe inconnu (F ou M attendu)."))

    birth_text = required("date_naissance", gettext_lazy("Date de naissance"))
    if birth_text:
        kwargs["birth_date"] = parse_date(birth_text)
        if kwargs["birth_date"] is None:
            problem("date_naissance", _("Date de naissance illisible (JJ/MM/AAAA attendu)."))

    registered_text = (values.get("date_inscription") or "").strip()
    if registered_text:
        kwargs["registered_on"] = parse_date(registered_text)
        if kwargs["registered_on"] is None:
            problem("date_inscription", _("Date d'inscription illisible (JJ/MM/AAAA attendu)."))

    pathway_text = required("parcours", gettext_lazy("Parcours"))
    if pathway_text:
        kwargs["pathway"] = PATHWAY_ALIASES.get(_fold(pathway_text))
        if kwargs["pathway"] is None:
            problem("parcours", _("Parcours inconnu (salarié, alternant, demandeur d'emploi, VAE ou autre)."))

    code = required("cqpm", gettext_lazy("Code CQPM"))
    if code:
        kwargs["certification"] = _certification(code, cache)
        if kwargs["certification"] is None:
            problem("cqpm", _("Aucune version en vigueur du CQPM « %(code)s ».") % {"code": code})

    siret = normalise_siret(values.get("siret_entreprise"))
    company = None
    if siret:
        company = _company(centre, siret, cache)
        if company is None:
            problem(
                "siret_entreprise",
                _("Aucune entreprise de ce centre n'a le SIRET %(siret)s.") % {"siret": siret},
            )
    kwargs["company"] = company

    tutor_email = (values.get("email_tuteur") or "").strip()
    tutor = None
    if tutor_email:
        if company is None:
            if not siret:
                problem("email_tuteur", _("Un tuteur est indiqué sans SIRET d'entreprise."))
        else:
            tutor = _tutor(company, tutor_email, cache)
            if tutor is None:
                problem("email_tuteur", _("Aucun tuteur de cette entreprise n'a cette adresse électronique."))
    kwargs["tutor"] = tutor

    basis_text = (values.get("base_legale") or "").strip()
    kwargs["legal_basis"] = LEGAL_BASIS_ALIASES.get(_fold(basis_text)) if basis_text else LegalBasis.CONTRACT
    if kwargs["legal_basis"] is None:
        problem("base_legale", _("Base légale inconnue."))
    consent_text = _fold(values.get("consentement"))
    if consent_text in YES:
        kwargs["consent_given"] = True
    elif consent_text in NO:
        kwargs["consent_given"] = False
    else:
        problem("consentement", _("Consentement : « oui » ou « non » attendu."))
    return kwargs, errors
