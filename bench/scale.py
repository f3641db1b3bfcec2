"""National-scale data for benchmarks and query budgets (issue 9): `manage.py seed_scale`.

Builds, on the seed referential, dozens of centres and tens of thousands of candidates whose data is
coherent across every app: companies and tutors, candidates with their dossier and status history,
commissions, evaluation sessions and convocations, scoring sheets with a judgement for every
criterion, commission proposals, company opinions, juries, deliberation sessions with attendance,
decisions, outcomes and capitalised competencies/blocs (computed by `deliberations.awards`, the same
pure rules the jury services apply).

Speed: rows are built in memory one chunk of candidates at a time and written with `bulk_create`
(no per-row save, no signal, no history row); password hashing is done once for every account.
The whole build runs in one transaction: it is all there or not at all.

Two deliberation sessions of `jury_session_size` candidates are created in the first centre for the
benchmarks: a closed one (decisions, outcomes; for the PV and the document pack) and an open one
(proposals ready, no decision yet; the jury board as the jury works on it).
"""

import functools
import io
import json
import operator
import os
import queue
import random
import threading
import time
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.db.models import Max
from django.utils import timezone

from candidates.models import (
    Candidate,
    CandidateStatus,
    CandidateStatusChange,
    Company,
    Dossier,
    DossierCompetency,
    LegalBasis,
    Pathway,
    Sex,
    Tutor,
)
from core.demo import DEMO_PASSWORD
from core.models import AuditEvent, CertificationCentre, Role, User
from core.services import audit
from deliberations import awards
from deliberations.models import (
    Attendance,
    CandidateOutcome,
    CapitalisedBlock,
    CapitalisedCompetency,
    CompetencyDecision,
    DeliberationSession,
    Jury,
    JuryMember,
    Result,
    SessionCandidate,
    SessionStatus,
)
from deliberations.models import College as JuryCollege
from evaluations.models import (
    College,
    Commission,
    CommissionMember,
    CommissionProposal,
    CompanyOpinion,
    Conclusion,
    Convocation,
    ConvocationEvaluator,
    CriterionJudgement,
    EvaluationSession,
    Judgement,
    Opinion,
    ScoringSheet,
    SheetStatus,
)
from referential import services as referential_services
from referential.models import Certification, CertificationStatus, Criterion, ModalityCode
from reporting.models import AccrochageBatch, AccrochageRecord, DeclarationStatus

REFERENTIAL_FILE = (
    Path(settings.BASE_DIR) / "fixtures" / "referential" / "cqpm-charge-ressources-humaines.json"
)
CENTRE_PREFIX = "S"  # scale centres are S01, S02, ... (the demo centres are A and B)
BENCH_CENTRE_CODE = "S01"
BENCH_CLOSED_PLACE = "Salle du conseil — session de référence (close)"
BENCH_OPEN_PLACE = "Salle du conseil — session de référence (ouverte)"
USERNAME_PREFIX = "scale-"
ADMIN_USERNAME = f"{USERNAME_PREFIX}admin"

EVALUATION_SESSION_SIZE = 12  # candidates per evaluation session (30-minute slots from 8:00)
DELIBERATION_SESSION_SIZE = 40  # candidates per ordinary deliberation session
EVALUATORS_PER_CENTRE = 6
COMMISSIONS_PER_CENTRE = 2
CANDIDATES_PER_COMPANY = 8
UNIONS = ["CFDT", "CFE-CGC", "CFTC", "CGT", "FO"]
EMPLOYER_SEATS = 3
EMPLOYEE_SEATS = 3

# Share of candidates in each status (the bench centre's two reference sessions come on top).
STATUS_WEIGHTS = [
    (CandidateStatus.REGISTERED, 15),
    (CandidateStatus.DOSSIER_VALIDATED, 12),
    (CandidateStatus.IN_EVALUATION, 15),
    (CandidateStatus.AWAITING_DELIBERATION, 15),
    (CandidateStatus.DELIBERATED, 38),
    (CandidateStatus.WITHDRAWN, 5),
]
PATHWAY_WEIGHTS = [
    (Pathway.EMPLOYEE, 55),
    (Pathway.APPRENTICE, 25),
    (Pathway.JOB_SEEKER, 8),
    (Pathway.VAE, 10),
    (Pathway.OTHER, 2),
]
EVALUATED_STATUSES = frozenset(
    {
        CandidateStatus.IN_EVALUATION.value,
        CandidateStatus.AWAITING_DELIBERATION.value,
        CandidateStatus.DELIBERATED.value,
    }
)
# Registration this many days ago (min, max) by status: candidates further along registered earlier.
REGISTRATION_AGE_DAYS = {
    CandidateStatus.REGISTERED: (1, 60),
    CandidateStatus.DOSSIER_VALIDATED: (20, 120),
    CandidateStatus.IN_EVALUATION: (60, 240),
    CandidateStatus.AWAITING_DELIBERATION: (120, 300),
    CandidateStatus.DELIBERATED: (200, 540),
    CandidateStatus.WITHDRAWN: (30, 400),
}
FOREIGN_COUNTRIES = ["Maroc", "Portugal", "Algérie", "Belgique", "Italie"]
PATTERN_POOL_SIZE = 64  # judgement vectors drawn per competency and conclusion
ACQUIRED_RATE = 0.88  # share of competencies the commission concludes acquired
OPINION_AGREES_RATE = 0.92
DECLARED_AFTER_DAYS = 20  # holders of sessions closed before were declared to the CPF portal and accepted

CITIES = [
    ("Nancy", "54000"), ("Lyon", "69002"), ("Lille", "59000"), ("Nantes", "44000"),
    ("Toulouse", "31000"), ("Bordeaux", "33000"), ("Strasbourg", "67000"), ("Rennes", "35000"),
    ("Grenoble", "38000"), ("Clermont-Ferrand", "63000"), ("Rouen", "76000"), ("Metz", "57000"),
    ("Dijon", "21000"), ("Le Mans", "72000"), ("Saint-Étienne", "42000"), ("Mulhouse", "68100"),
    ("Reims", "51100"), ("Amiens", "80000"), ("Orléans", "45000"), ("Besançon", "25000"),
    ("Valenciennes", "59300"), ("Montbéliard", "25200"), ("Toulon", "83000"), ("Pau", "64000"),
]  # fmt: skip
LAST_NAMES = (  # noqa: SIM905 - a readable word list
    "Martin|Bernard|Thomas|Petit|Robert|Richard|Durand|Dubois|Moreau|Laurent|Simon|Michel|"
    "Lefebvre|Leroy|Roux|David|Bertrand|Morel|Fournier|Girard|Bonnet|Dupont|Lambert|Fontaine|"
    "Rousseau|Vincent|Muller|Lefevre|Faure|Andre|Mercier|Blanc|Guerin|Boyer|Garnier|Chevalier|"
    "Francois|Legrand|Gauthier|Garcia|Perrin|Robin|Clement|Morin|Nicolas|Henry|Roussel|Mathieu|"
    "Gautier|Masson|Marchand|Duval|Denis|Dumont|Marie|Lemaire|Noel|Meyer|Dufour|Meunier|Brun|"
    "Blanchard|Giraud|Joly|Riviere|Lucas|Brunet|Gaillard|Barbier|Arnaud|Martinez|Gerard|Roche|"
    "Renard|Schmitt|Roy|Leroux|Colin|Vidal|Caron|Picard|Roger|Fabre|Aubert|Lemoine|Renaud|Dumas|"
    "Lacroix|Olivier|Philippe|Bourgeois|Pierre|Benoit|Rey|Leclerc|Payet|Rolland|Leclercq|"
    "Guillaume|Lecomte|Lopez|Jean|Dupuy|Guillot|Hubert|Berger|Carpentier|Sanchez|Dupuis|Moulin|"
    "Louis|Deschamps|Huet|Vasseur|Perez|Boucher|Fleury|Royer|Klein|Jacquet|Adam|Paris|Poirier|"
    "Marty|Aubry|Guyot|Carre|Charles|Renault|Charpentier|Menard|Maillard|Baron|Bertin|Bailly|"
    "Herve|Schneider|Fernandez|Le Gall|Collet|Leger|Bouvier|Julien|Prevost|Millet|Perrot|Daniel|"
    "Le Roux|Cousin|Germain|Breton|Besson|Langlois|Remy|Le Goff|Pelletier|Leveque|Perrier"
).split("|")
FEMALE_FIRST = (  # noqa: SIM905 - a readable word list
    "Marie Camille Léa Manon Chloé Emma Inès Sarah Julie Laura Pauline Mathilde Clara Lucie Anaïs "
    "Océane Marine Élodie Nadia Sophie Aurélie Émilie Céline Claire Charlotte Justine Margaux "
    "Amandine"
).split()
MALE_FIRST = (  # noqa: SIM905 - a readable word list
    "Thomas Nicolas Julien Maxime Alexandre Kevin Quentin Antoine Romain Hugo Lucas Mathieu "
    "Florian Guillaume Clément Jérémy Sébastien Yanis Karim Mehdi Pierre Louis Baptiste Théo "
    "Adrien Vincent"
).split()
STREETS = (  # noqa: SIM905 - a readable word list
    "rue de la Forge|avenue de l'Industrie|rue des Lilas|boulevard Gambetta|rue Victor Hugo|"
    "rue Jean Jaurès|allée des Tilleuls|rue Pasteur|place de la République|rue du Moulin|"
    "chemin des Vignes|rue de la Gare"
).split("|")
COMPANY_WORDS = (  # noqa: SIM905 - a readable word list
    "Mécanique Usinage Chaudronnerie Fonderie Forge Métallerie Tôlerie Découpe Outillage "
    "Précision Aéro Auto Rail Énergie Hydraulique Composites Soudure Emboutissage Traitement "
    "Assemblage"
).split()
COMPANY_SUFFIXES = ["SAS", "SA", "SARL", "Industries", "Groupe", "et Fils", "Technologies", "Systèmes"]
OPCOS = ["OPCO 2i", "OPCO 2i", "OPCO 2i", "Constructys", "Akto"]
FUNCTIONS = [
    "Responsable RH",
    "Chef d'atelier",
    "Directeur des ressources humaines",
    "Responsable de service",
]
QUALIFICATIONS = ["Ressources humaines", "Droit social", "Paie et administration", "Formation", "Management"]
JUDGEMENT_COMMENTS = [
    "Démarche conforme, documents complets.",
    "Explications claires, éléments de preuve pertinents.",
    "Quelques imprécisions corrigées lors du questionnement.",
    "",
    "",
    "",
]
JUSTIFICATIONS = {
    Conclusion.ACQUIRED: "Les résultats attendus sont atteints ; les critères sont observés en situation.",
    Conclusion.NOT_ACQUIRED: "Plusieurs critères ne sont pas satisfaits : résultats attendus non atteints.",
}
OPINION_COMMENTS = {
    Opinion.FAVOURABLE: "Le candidat exerce cette activité en autonomie dans l'entreprise.",
    Opinion.RESERVED: "Activité exercée avec un accompagnement régulier.",
    Opinion.UNFAVOURABLE: "Le candidat n'a pas encore exercé cette activité.",
}
REVIEW_MOTIVATION = (
    "Après réexamen de la grille d'évaluation, le jury retient la conclusion de la commission."
)


# The candidates' tables, written by the bulk path (foreign keys checked once at the end on PostgreSQL).
CANDIDATE_TARGET = f"{Candidate._meta.app_label}.{Candidate._meta.model_name}"
SHEET_TARGET = f"{ScoringSheet._meta.app_label}.{ScoringSheet._meta.model_name}"

BULK_MODELS = [
    AuditEvent,
    Candidate,
    CandidateStatusChange,
    Dossier,
    DossierCompetency,
    EvaluationSession,
    Convocation,
    ConvocationEvaluator,
    ScoringSheet,
    CriterionJudgement,
    CommissionProposal,
    CompanyOpinion,
    DeliberationSession,
    Attendance,
    SessionCandidate,
    CompetencyDecision,
    CandidateOutcome,
    CandidateOutcome.blocks_acquired.through,
    CapitalisedCompetency,
    CapitalisedBlock,
    AccrochageBatch,
    AccrochageRecord,
]


@dataclass
class ScaleOptions:
    centres: int = 20
    candidates: int = 20000
    jury_session_size: int = 300
    chunk_size: int = 1000
    seed: int = 9


@dataclass
class ScaleReport:
    counts: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # this process
    database_cpu_seconds: float | None = None  # the PostgreSQL backend, when measurable

    def add(self, model, number):
        name = model._meta.label
        self.counts[name] = self.counts.get(name, 0) + number


def scale_data_present():
    return CertificationCentre.objects.filter(code=BENCH_CENTRE_CODE).exists()


def ensure_referential(stdout=None):
    """The seed referential in force: imported (and published) through the referential app if absent."""

    with open(REFERENTIAL_FILE, "rb") as handle:
        document = json.load(handle)
    code, version = document["code"], document["version"]
    certification = Certification.objects.filter(code=code, version=version).first()
    if certification is None:
        call_command("import_referential", str(REFERENTIAL_FILE), "--if-absent", stdout=stdout)
        certification = Certification.objects.get(code=code, version=version)
    if certification.status == CertificationStatus.DRAFT and Certification.objects.in_force(code) is None:
        certification = referential_services.publish(certification=certification)
    in_force = Certification.objects.in_force(code)
    if in_force is None:
        raise RuntimeError(f"Aucune version publiée du référentiel {code}.")
    return in_force


FROZEN = set()  # tables COPYed with FREEZE during the current build (see frozen_tables)
_ISO = {}  # the same few thousand instants and days recur: format each once


def _copy_text(value):
    """One value in PostgreSQL COPY text format."""
    kind = type(value)
    if kind is int:
        return str(value)
    if kind is str:
        if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
            value = value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
        return value
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, (datetime, date, dtime)):
        text = _ISO.get(value)
        if text is None:
            if len(_ISO) > 200_000:
                _ISO.clear()
            text = _ISO[value] = value.isoformat()
        return text
    return _copy_text(str(value))


_INTEGER_TYPES = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "SmallAutoField",
        "IntegerField",
        "BigIntegerField",
        "SmallIntegerField",
        "PositiveIntegerField",
        "PositiveBigIntegerField",
        "PositiveSmallIntegerField",
    }
)


def _copy_line_formatter(fields):
    """row tuple → one COPY text line, compiled once per table and column list.

    Non-null integer columns (ids, foreign keys: most of the values) are formatted by the f-string
    itself; every other value goes through _copy_text.
    """
    parts = []
    for index, f in enumerate(fields):
        target = f.target_field if f.is_relation else f
        if not f.null and target.get_internal_type() in _INTEGER_TYPES:
            parts.append(f"{{r[{index}]}}")
        else:
            parts.append(f"{{T(r[{index}])}}")
    source = "lambda r: f'" + "\\t".join(parts) + "\\n'"
    return eval(source, {"T": _copy_text})  # noqa: S307 - source built above from column positions only


class CopyWriter:
    """PostgreSQL: the COPY of each batch runs in a background thread while the builder computes the
    next one (both sides of the load then use a processor each instead of taking turns).

    The thread uses the transaction's own psycopg2 connection (thread-safe; Django's `connection`
    is per thread). The builder does not touch the database while batches are queued: `drain()`
    waits for them first. An error in a COPY is raised in the builder at the next put or drain.
    """

    def __init__(self, raw_connection, depth=3):
        self.raw = raw_connection
        self.queue = queue.Queue(maxsize=depth)
        self.error = None
        self.thread = threading.Thread(target=self._run, name="seed-scale-copy", daemon=True)
        self.thread.start()

    def _run(self):
        while True:
            item = self.queue.get()
            try:
                if item is None:
                    return
                if self.error is None:
                    sql, buffer = item
                    with self.raw.cursor() as cursor:
                        cursor.copy_expert(sql, buffer, size=1 << 20)
            except BaseException as exc:  # noqa: BLE001 - handed to the builder's thread
                self.error = exc
            finally:
                self.queue.task_done()

    def _check(self):
        if self.error is not None:
            error, self.error = self.error, None
            raise error

    def put(self, sql, buffer):
        self._check()
        self.queue.put((sql, buffer))

    def drain(self):
        self.queue.join()
        self._check()

    def close(self):
        self.queue.put(None)
        self.thread.join()
        self._check()


def _column_adapter(field):
    """Python value → what the database driver expects for this column (as Django would send it)."""
    ops = connection.ops
    if isinstance(field, models.JSONField):
        encoder = field.encoder
        return lambda value: None if value is None else json.dumps(value, cls=encoder)
    if connection.vendor == "postgresql":
        return None  # COPY text: _copy_text formats dates, datetimes and booleans
    if isinstance(field, models.DateTimeField):
        # The same few thousand instants recur (session days, hours): convert each once.
        return functools.lru_cache(maxsize=65536)(ops.adapt_datetimefield_value)
    if isinstance(field, models.DateField):
        return ops.adapt_datefield_value
    if isinstance(field, models.TimeField):
        return ops.adapt_timefield_value
    return None


def insert_rows(model, fields, rows, writer=None):
    """Insert `rows` (tuples of Python values in the order of `fields`) into `model`'s table.

    `writer` (PostgreSQL): a CopyWriter that runs the COPY in the background.

    Columns not listed get their model default (auto_now fields: now), so a field added to a model
    later does not break the seeding.
    """
    meta = model._meta
    model_fields = [meta.get_field(name) for name in fields]
    listed = {f.column for f in model_fields}
    extra_fields, extra_values = [], []
    for f in meta.concrete_fields:
        if f.primary_key or f.column in listed or f.generated:  # generated: the database computes it
            continue
        extra_fields.append(f)
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            extra_values.append(timezone.now())
        else:
            extra_values.append(f.get_default())
    if extra_fields:
        model_fields += extra_fields
        extra = tuple(extra_values)
        rows = [tuple(row) + extra for row in rows]
    adapters = [(index, adapter) for index, f in enumerate(model_fields) if (adapter := _column_adapter(f))]
    if adapters:
        adapted = []
        for row in rows:
            row = list(row)
            for index, adapter in adapters:
                row[index] = adapter(row[index])
            adapted.append(row)
        rows = adapted
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    columns = ", ".join(quote(f.column) for f in model_fields)
    with connection.cursor() as cursor:
        raw = getattr(cursor, "cursor", cursor)
        if connection.vendor == "postgresql" and hasattr(raw, "copy_expert"):
            line = _copy_line_formatter(model_fields)
            buffer = io.StringIO("".join(map(line, rows)))
            freeze = " WITH (FREEZE)" if meta.db_table in FROZEN else ""
            sql = f"COPY {table} ({columns}) FROM STDIN{freeze}"
            if writer is not None:
                writer.put(sql, buffer)
            else:
                raw.copy_expert(sql, buffer, size=1 << 20)
        else:
            placeholders = ", ".join(["%s"] * len(model_fields))
            # Table and column names come from the model's metadata, quoted; values are parameters.
            sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"  # noqa: S608
            cursor.executemany(sql, rows)


@contextmanager
def foreign_keys_suspended(tables):
    """PostgreSQL: drop the foreign keys of `tables` (and those pointing at them, so that they can
    be truncated: see `frozen_tables`) during the load and add them back after it.

    Django's foreign keys are DEFERRABLE INITIALLY DEFERRED: each inserted row queues one check per
    foreign key, run one by one at commit (millions for 20 000 candidates, longer than the load).
    Adding a constraint back validates it in one set-based pass instead (PostgreSQL manual,
    "Populating a Database"). Everything happens in the build's transaction: on any error the
    constraints are back as they were. Elsewhere (SQLite) nothing changes.
    """
    if connection.vendor != "postgresql":
        yield
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        # ALTER TABLE refuses tables with pending deferred checks: run those checks now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE contype = 'f' AND (conrelid = ANY(%s::regclass[]) OR confrelid = ANY(%s::regclass[])) "
            "ORDER BY conrelid, conname",
            [list(tables), list(tables)],
        )
        constraints = cursor.fetchall()
        for table, name, _definition in constraints:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {quote(name)}")
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        for table, name, definition in constraints:
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {quote(name)} {definition}")


@contextmanager
def indexes_suspended(tables):
    """PostgreSQL: drop the secondary indexes of `tables` during the load and build them after it.

    Each row COPYed into a table updates every index of the table, one B-tree descent per index
    and row (the candidates' table has 12); building an index once the rows are there sorts them
    in one pass (PostgreSQL manual, "Populating a Database"). Primary keys stay (ids are appended
    in order, cheap to maintain) and so do the indexes a foreign key relies on. Unique indexes and
    constraints are built again with their definition, so a duplicate still fails the build. All in
    the build's transaction: on any error the indexes are back as they were.
    """
    if connection.vendor != "postgresql":
        yield
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid),
                   c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
            FROM pg_index i
            LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid
                 AND c.contype IN ('u', 'x')
            WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary
              AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = i.indexrelid)
            ORDER BY i.indrelid, i.indexrelid
            """,
            [list(tables)],
        )
        indexes = cursor.fetchall()
        for index, _definition, table, constraint, _constraint_definition in indexes:
            if constraint:
                cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {quote(constraint)}")
            else:
                cursor.execute(f"DROP INDEX {index}")
    yield
    with connection.cursor() as cursor:
        # Room to sort in memory, for this transaction only.
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for _index, definition, table, constraint, constraint_definition in indexes:
            if constraint:
                cursor.execute(
                    f"ALTER TABLE {table} ADD CONSTRAINT {quote(constraint)} {constraint_definition}"
                )
            else:
                cursor.execute(definition)


def frozen_tables(tables):
    """PostgreSQL: the tables of `tables` that are empty, truncated in this transaction so that COPY
    can write their rows already frozen (`COPY … WITH (FREEZE)`): visible to every transaction and
    marked so in the visibility map, which spares the VACUUM a bulk load otherwise needs (the
    index-only scans of the candidate list rely on that map). A table that holds rows (demo data)
    is left alone. Needs the foreign keys pointing at them dropped (`foreign_keys_suspended`).
    """
    if connection.vendor != "postgresql":
        return set()
    quote = connection.ops.quote_name
    empty = set()
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {quote(table)})")  # noqa: S608 - model table name
            if not cursor.fetchone()[0]:
                empty.add(table)
        if empty:
            cursor.execute("TRUNCATE " + ", ".join(quote(table) for table in sorted(empty)))
    return empty


def database_backend_cpu_seconds():
    """CPU seconds used so far by this connection's PostgreSQL backend, when it runs on this machine.

    The load is shared between this process and the database server; on a busy machine the wall
    time says little, the CPU time of both sides says what the build costs. None when unknown.
    """
    if connection.vendor != "postgresql":
        return None
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        # utime and stime are fields 14 and 15 of /proc/<pid>/stat (11 and 12 after the name).
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _ascii(text):
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower().replace(" ", "")


def _luhn_siret(n):
    partial = f"8{n:012d}"
    for digit in "0123456789":
        number = partial + digit
        total = 0
        for index, char in enumerate(reversed(number)):
            value = int(char)
            if index % 2 == 1:
                value = value * 2 - 9 if value * 2 > 9 else value * 2
            total += value
        if total % 10 == 0:
            return number
    raise AssertionError("unreachable")


class ScaleBuilder:
    """Builds the data described in the module docstring. Use `build()` once per database."""

    def __init__(self, options: ScaleOptions, stdout=None):
        self.options = options
        self.stdout = stdout
        self.rng = random.Random(options.seed)
        self.report = ScaleReport()
        self.today = timezone.localdate()
        self.now = timezone.now()
        self.tz = timezone.get_current_timezone()
        self.password_hash = make_password(DEMO_PASSWORD)
        self.is_sqlite = connection.vendor == "sqlite"
        # SQLite: Django sizes batches from the variables limit; PostgreSQL: one INSERT per 2 000 rows.
        self.batch = None if self.is_sqlite else 2000
        self._siret_counter = 0
        self._next_id = {}
        self._written = set()
        self._started = time.perf_counter()
        self.frozen = set()  # tables written with COPY FREEZE
        self.writer = None  # CopyWriter during the candidates' load on PostgreSQL

    # -- helpers -----------------------------------------------------------------------------------

    def log(self, message):
        if self.stdout is not None:
            self.stdout.write(f"[{time.perf_counter() - self._started:6.1f} s] {message}")

    def bulk(self, model, objects):
        if not objects:
            return objects
        if self.writer is not None:
            self.writer.drain()
        started = time.perf_counter()
        created = model.objects.bulk_create(objects, batch_size=self.batch)
        self.report.add(model, len(objects))
        self._written.add(model)
        label = model._meta.label
        self.report.timings[label] = self.report.timings.get(label, 0.0) + time.perf_counter() - started
        return created

    def insert(self, model, fields, rows):
        """Leaf rows (no id needed afterwards) as plain tuples: COPY on PostgreSQL, executemany elsewhere.

        bulk_create spends ~20 µs of Python per row preparing each field; the 1.2 million criterion
        judgements of 20 000 candidates would take minutes that way. Values are adapted per column
        type once (dates, datetimes, JSON), so the database gets exactly what Django would write.
        """
        if not rows:
            return
        started = time.perf_counter()
        insert_rows(model, fields, rows, writer=self.writer)
        self.report.add(model, len(rows))
        self._written.add(model)
        label = model._meta.label
        self.report.timings[label] = self.report.timings.get(label, 0.0) + time.perf_counter() - started

    def write(self, model, rows):
        """Rows as dicts (keys starting with "_" are the builder's notes, not columns)."""
        if rows:
            fields = [key for key in rows[0] if not key.startswith("_")]
            getter = operator.itemgetter(*fields)
            self.insert(model, fields, [getter(row) for row in rows])

    def audit_rows(self, events):
        """Journal events (created_at, actor id, centre id, action, target type, target id, message,
        data), written like core.services.audit writes them."""
        self.insert(
            AuditEvent,
            (
                "created_at",
                "actor",
                "centre",
                "action",
                "target_type",
                "target_id",
                "message",
                "data",
                "ip_address",
            ),
            [(*event, None) for event in events],
        )

    def new_ids(self, model, count):
        """Primary keys for `count` new rows, allocated here so that children can point at them.

        The build runs in one transaction on a database nobody else writes to; the PostgreSQL
        sequences are moved past the allocated ids at the end (`reset_sequences`).
        """
        if model not in self._next_id:
            if self.writer is not None:
                self.writer.drain()  # the query below may not run while a COPY is under way
            self._next_id[model] = (model.objects.aggregate(last=Max("pk"))["last"] or 0) + 1
        start = self._next_id[model]
        self._next_id[model] = start + count
        return range(start, start + count)

    def reset_sequences(self):
        statements = connection.ops.sequence_reset_sql(no_style(), list(self._next_id))
        if statements:
            with connection.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement)

    def aware(self, day, hour=10, minute=0):
        return datetime(day.year, day.month, day.day, hour, minute, tzinfo=self.tz)

    def person(self):
        sex = self.rng.choice((Sex.FEMALE, Sex.MALE))
        first = self.rng.choice(FEMALE_FIRST if sex == Sex.FEMALE else MALE_FIRST)
        return sex, first, self.rng.choice(LAST_NAMES)

    def address(self):
        return f"{self.rng.randint(1, 180)} {self.rng.choice(STREETS)}"

    # -- referential -------------------------------------------------------------------------------

    def load_referential(self):
        self.certification = ensure_referential(self.stdout)
        self.competencies = list(self.certification.competencies.order_by("number"))
        self.blocks = list(self.certification.blocks.order_by("number"))
        self.criteria = {c.pk: [] for c in self.competencies}
        rows = Criterion.objects.filter(competency__certification=self.certification).order_by(
            "competency__number", "order"
        )
        for criterion_id, competency_id in rows.values_list("pk", "competency_id"):
            self.criteria[competency_id].append(criterion_id)
        self.modality_codes = list(self.certification.modalities.values_list("code", flat=True)) or [
            ModalityCode.WORKPLACE_OBSERVATION.value
        ]
        self.rncp_registered = bool(self.certification.rncp_number)

    # -- organisations and accounts ----------------------------------------------------------------

    def build_centres(self):
        centres = []
        for index in range(1, self.options.centres + 1):
            city, postcode = CITIES[(index - 1) % len(CITIES)]
            code = f"{CENTRE_PREFIX}{index:02d}"
            centres.append(
                CertificationCentre(
                    code=code,
                    name=f"UIMM {city} (centre {code})",
                    legal_name=f"UIMM territoriale de {city}",
                    address=self.address(),
                    postcode=postcode,
                    city=city,
                    certifier_signatory=" ".join(self.person()[1:]) + ", délégué(e) général(e)",
                )
            )
        self.centres = self.bulk(CertificationCentre, centres)
        self.log(f"{len(self.centres)} centres")

    def new_user(self, username, role, first, last):
        return User(
            username=username,
            role=role,
            first_name=first,
            last_name=last,
            email=f"{username}@scale.cqpm.local",
            password=self.password_hash,
            is_active=True,
        )

    def build_staff_and_members(self):
        """Per centre: 2 staff, evaluators in commissions, and one jury with user accounts."""
        users, memberships = [], []
        self.staff, self.evaluators, self.jury_users = {}, {}, {}
        for centre in self.centres:
            suffix = centre.code.lower()
            staff = [
                self.new_user(f"{USERNAME_PREFIX}staff-{suffix}-{i}", Role.STAFF, *self.person()[1:])
                for i in (1, 2)
            ]
            evaluators = [
                self.new_user(f"{USERNAME_PREFIX}evaluator-{suffix}-{i}", Role.EVALUATOR, *self.person()[1:])
                for i in range(1, EVALUATORS_PER_CENTRE + 1)
            ]
            jury = [
                self.new_user(f"{USERNAME_PREFIX}jury-{suffix}-{i}", Role.JURY, *self.person()[1:])
                for i in range(1, EMPLOYER_SEATS + EMPLOYEE_SEATS + 1)
            ]
            self.staff[centre.pk], self.evaluators[centre.pk], self.jury_users[centre.pk] = (
                staff,
                evaluators,
                jury,
            )
            users.extend(staff + evaluators + jury)
        # The national administrator (superuser): sees every centre, the heaviest lists and statistics.
        admin = self.new_user(ADMIN_USERNAME, Role.STAFF, "Nadine", "Nationale")
        admin.is_superuser = admin.is_staff = True
        users.append(admin)
        self.bulk(User, users)
        through = User.centres.through
        memberships += [
            through(user_id=admin.pk, certificationcentre_id=centre.pk) for centre in self.centres
        ]
        for centre in self.centres:
            for user in self.staff[centre.pk] + self.evaluators[centre.pk] + self.jury_users[centre.pk]:
                memberships.append(through(user_id=user.pk, certificationcentre_id=centre.pk))
        self.bulk(through, memberships)

        commissions, members = [], []
        for centre in self.centres:
            for index in range(COMMISSIONS_PER_CENTRE):
                commissions.append(
                    Commission(centre=centre, name=f"Commission RH n° {index + 1} — {centre.city}")
                )
        self.bulk(Commission, commissions)
        self.commissions = {}
        for commission in commissions:
            self.commissions.setdefault(commission.centre_id, []).append(commission)
        for centre in self.centres:
            evaluators = self.evaluators[centre.pk]
            per = len(evaluators) // COMMISSIONS_PER_CENTRE
            for index, commission in enumerate(self.commissions[centre.pk]):
                team = evaluators[index * per : (index + 1) * per]
                commission.team = team
                for position, user in enumerate(team):
                    members.append(
                        CommissionMember(
                            commission=commission,
                            user=user,
                            qualification=QUALIFICATIONS[position % len(QUALIFICATIONS)],
                            college=College.EMPLOYERS if position % 2 == 0 else College.EMPLOYEES,
                            is_president=position == 0,
                        )
                    )
        self.bulk(CommissionMember, members)

        juries, seats = [], []
        for centre in self.centres:
            juries.append(Jury(centre=centre, name=f"Jury paritaire CQPM RH — {centre.city}"))
        self.bulk(Jury, juries)
        self.juries = {jury.centre_id: jury for jury in juries}
        for centre in self.centres:
            jury = self.juries[centre.pk]
            for position, user in enumerate(self.jury_users[centre.pk]):
                employer = position < EMPLOYER_SEATS
                seats.append(
                    JuryMember(
                        jury=jury,
                        user=user,
                        full_name=f"{user.first_name} {user.last_name}",
                        email=user.email,
                        college=JuryCollege.EMPLOYERS if employer else JuryCollege.EMPLOYEES,
                        union="" if employer else UNIONS[(position - EMPLOYER_SEATS) % len(UNIONS)],
                        is_president=position == 0,
                    )
                )
        self.bulk(JuryMember, seats)
        self.seats = {}
        for seat in seats:
            self.seats.setdefault(seat.jury_id, []).append(seat)
        self.log(f"{len(users)} comptes, {len(commissions)} commissions, {len(juries)} jurys")

    def build_companies(self, per_centre):
        companies = []
        for centre in self.centres:
            for _index in range(max(3, per_centre[centre.pk] // CANDIDATES_PER_COMPANY)):
                self._siret_counter += 1
                name = f"{self.rng.choice(COMPANY_WORDS)} {self.rng.choice(LAST_NAMES)} {self.rng.choice(COMPANY_SUFFIXES)}"
                companies.append(
                    Company(
                        centre=centre,
                        name=name,
                        siret=_luhn_siret(self._siret_counter),
                        address=f"ZI {self.rng.choice(STREETS)}",
                        postcode=centre.postcode,
                        city=centre.city,
                        opco=self.rng.choice(OPCOS),
                    )
                )
        self.bulk(Company, companies)
        # Each company: one tutor with an account (gives the company opinion), one contact without.
        users, tutors = [], []
        for company in companies:
            _sex, first, last = self.person()
            users.append(self.new_user(f"{USERNAME_PREFIX}tutor-{company.pk}", Role.TUTOR, first, last))
        self.bulk(User, users)
        through = User.centres.through
        self.bulk(
            through,
            [
                through(user_id=u.pk, certificationcentre_id=c.centre_id)
                for u, c in zip(users, companies, strict=True)
            ],
        )
        for company, user in zip(companies, users, strict=True):
            tutors.append(
                Tutor(
                    company=company,
                    user=user,
                    first_name=user.first_name,
                    last_name=user.last_name,
                    function=self.rng.choice(FUNCTIONS),
                    email=f"{_ascii(user.first_name)}.{_ascii(user.last_name)}.{company.pk}@entreprise.test",
                    phone=f"03 {self.rng.randint(10, 99)} {self.rng.randint(10, 99)} {self.rng.randint(10, 99)} 00",
                )
            )
            _sex, first, last = self.person()
            tutors.append(
                Tutor(
                    company=company,
                    first_name=first,
                    last_name=last,
                    function="Chef d'équipe",
                    email=f"{_ascii(first)}.{_ascii(last)}.c{company.pk}@entreprise.test",
                )
            )
        self.bulk(Tutor, tutors)
        self.companies = {}
        for company, tutor in zip(companies, tutors[0::2], strict=True):
            company.main_tutor = tutor
            self.companies.setdefault(company.centre_id, []).append(company)
        self.log(f"{len(companies)} entreprises, {len(tutors)} tuteurs")

    # -- candidates --------------------------------------------------------------------------------
    #
    # From here on rows are dicts written by `write` (ids allocated by the builder, see `new_ids`):
    # the candidates' tables hold ~95 % of the rows.

    def plan(self):
        """Candidates per centre and, for each, its status (the bench centre gets the reference sessions)."""
        total, centres = self.options.candidates, self.centres
        per_centre = {
            c.pk: total // len(centres) + (1 if i < total % len(centres) else 0)
            for i, c in enumerate(centres)
        }
        bench = centres[0]
        self.reference_size = min(self.options.jury_session_size, per_centre[bench.pk] // 3)
        statuses, weights = zip(*STATUS_WEIGHTS, strict=True)
        plans = {}
        for centre in centres:
            plan = self.rng.choices(statuses, weights=weights, k=per_centre[centre.pk])
            if centre.pk == bench.pk:
                size = self.reference_size
                plan[:size] = [CandidateStatus.DELIBERATED] * size
                plan[size : 2 * size] = [CandidateStatus.AWAITING_DELIBERATION] * size
            plans[centre.pk] = plan
        return per_centre, plans

    def build_candidates(self, plans):
        for centre in self.centres:
            statuses = plans[centre.pk]
            self.centre_state = {
                "reference": centre.code == BENCH_CENTRE_CODE,
                "closed_deliberation": None,
                "open_deliberation": None,
                "number": 0,
            }
            for start in range(0, len(statuses), self.options.chunk_size):
                self.build_chunk(centre, statuses[start : start + self.options.chunk_size])
            self.log(f"centre {centre.code} : {len(statuses)} candidats")

    def build_chunk(self, centre, statuses):
        rng, today = self.rng, self.today
        companies = self.companies[centre.pk]
        staff_id = self.staff[centre.pk][0].pk
        pathways, pathway_weights = zip(*PATHWAY_WEIGHTS, strict=True)
        chosen_pathways = rng.choices(pathways, weights=pathway_weights, k=len(statuses))
        ids = self.new_ids(Candidate, len(statuses))
        candidates = []
        for candidate_id, status, pathway in zip(ids, statuses, chosen_pathways, strict=True):
            self.centre_state["number"] += 1
            number = self.centre_state["number"]
            sex, first, last = self.person()
            if rng.random() < 0.3:
                first = f"{first} {rng.choice(FEMALE_FIRST if sex == Sex.FEMALE else MALE_FIRST)}"
            company = None if pathway in (Pathway.JOB_SEEKER, Pathway.VAE) else rng.choice(companies)
            low, high = REGISTRATION_AGE_DAYS[status]
            registered_on = today - timedelta(days=rng.randint(low, high))
            tutor_id = company.main_tutor.pk if company else None
            candidates.append(
                {
                    "id": candidate_id,
                    "centre": centre.pk,
                    "certification": self.certification.pk,
                    "reference": f"{centre.code}-{registered_on.year}-{number:05d}",
                    "birth_name": last.upper(),
                    "usage_name": rng.choice(LAST_NAMES).upper()
                    if sex == Sex.FEMALE and rng.random() < 0.15
                    else "",
                    "first_names": first,
                    "sex": sex.value,
                    "birth_date": date(rng.randint(1965, 2005), rng.randint(1, 12), rng.randint(1, 28)),
                    "birth_place": rng.choice(CITIES)[0],
                    "birth_country": "France" if rng.random() < 0.93 else rng.choice(FOREIGN_COUNTRIES),
                    "email": f"{_ascii(first.split()[0])}.{_ascii(last)}.{centre.code.lower()}{number}@exemple.test",
                    "phone": f"06 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}",
                    "address": self.address(),
                    "postcode": centre.postcode,
                    "city": centre.city,
                    "pathway": pathway.value,
                    "company": company.pk if company else None,
                    "tutor": tutor_id,
                    "registered_on": registered_on,
                    "status": status.value,
                    "status_changed_at": self.aware(min(today, registered_on + timedelta(days=low)), 9),
                    "legal_basis": LegalBasis.CONTRACT.value,
                    "created_at": self.aware(registered_on, 9),
                    "created_by": staff_id,
                    # Not columns: what the next steps need to know.
                    "_opinion": pathway != Pathway.VAE and tutor_id is not None,
                    "_tutor_user": company.main_tutor.user_id if company else None,
                }
            )
        self.write(Candidate, candidates)
        references = self.references = {c["id"]: c["reference"] for c in candidates}

        history = []
        for c in candidates:
            history.append((c["id"], "", CandidateStatus.REGISTERED.value, staff_id, c["created_at"], ""))
            if c["status"] != CandidateStatus.REGISTERED:
                reason = (
                    "Retrait à la demande du candidat." if c["status"] == CandidateStatus.WITHDRAWN else ""
                )
                history.append(
                    (
                        c["id"],
                        CandidateStatus.REGISTERED.value,
                        c["status"],
                        staff_id,
                        c["status_changed_at"],
                        reason,
                    )
                )
        self.insert(
            CandidateStatusChange, ("candidate", "from_status", "to_status", "by", "at", "reason"), history
        )
        # The journal of those changes, as candidates.services.lifecycle writes it (issue 21: the
        # journal page at scale). Registrations are journaled as status changes from "".
        self.audit_rows(
            (
                at,
                by,
                centre.pk,
                "candidate.status_changed",
                CANDIDATE_TARGET,
                str(candidate_id),
                f"{references[candidate_id]} : {from_status} → {to_status}",
                {"from_status": from_status, "to_status": to_status},
            )
            for candidate_id, from_status, to_status, by, at, _reason in history
        )

        dossier_ids = self.new_ids(Dossier, len(candidates))
        dossiers, items = [], []
        for dossier_id, c in zip(dossier_ids, candidates, strict=True):
            validated = c["status"] != CandidateStatus.REGISTERED
            validated_at = self.aware(c["registered_on"] + timedelta(days=15)) if validated else None
            dossiers.append(
                (
                    dossier_id,
                    c["id"],
                    c["registered_on"] + timedelta(days=90),
                    c["_opinion"],
                    validated_at,
                    staff_id if validated else None,
                    validated_at or c["created_at"],
                )
            )
            for competency in self.competencies:
                items.append((dossier_id, competency.pk, rng.choice(self.modality_choices), False, None))
        self.insert(
            Dossier,
            (
                "id",
                "candidate",
                "report_due_date",
                "company_opinion_applies",
                "validated_at",
                "validated_by",
                "updated_at",
            ),
            dossiers,
        )
        self.insert(
            DossierCompetency,
            ("dossier", "competency", "modalities", "already_acquired", "acquired_until"),
            items,
        )

        evaluated = [c for c in candidates if c["status"] in EVALUATED_STATUSES]
        self.build_evaluations(centre, evaluated)
        self.build_deliberations(
            centre, [c for c in evaluated if c["status"] != CandidateStatus.IN_EVALUATION]
        )

    # -- evaluations -------------------------------------------------------------------------------

    def judgement_patterns(self):
        """Per competency, a pool of judgement vectors for acquired and not-acquired conclusions.

        Drawing a vector from a pool instead of one random number per criterion keeps the 1.4 million
        judgements of 20 000 candidates cheap while every criterion of every sheet gets a judgement.
        """
        rng = self.rng
        patterns = {}
        for competency in self.competencies:
            criteria = self.criteria[competency.pk]
            pools = {}
            for conclusion in (Conclusion.ACQUIRED, Conclusion.NOT_ACQUIRED):
                pool = []
                for _ in range(PATTERN_POOL_SIZE):
                    failing = set()
                    if conclusion == Conclusion.NOT_ACQUIRED:
                        failing = set(rng.sample(range(len(criteria)), k=max(1, len(criteria) // 4)))
                    vector = []
                    for index, criterion_id in enumerate(criteria):
                        if index in failing:
                            value = Judgement.NOT_ACQUIRED.value
                        elif rng.random() < 0.03:
                            value = Judgement.NOT_OBSERVED.value
                        else:
                            value = Judgement.ACQUIRED.value
                        vector.append((criterion_id, value, rng.choice(JUDGEMENT_COMMENTS)))
                    pool.append(vector)
                pools[conclusion] = pool
            patterns[competency.pk] = pools
        return patterns

    def build_evaluations(self, centre, candidates):
        if not candidates:
            return
        rng = self.rng
        commissions = self.commissions[centre.pk]
        staff_id = self.staff[centre.pk][0].pk
        groups = [
            candidates[start : start + EVALUATION_SESSION_SIZE]
            for start in range(0, len(candidates), EVALUATION_SESSION_SIZE)
        ]
        sessions = []
        for session_id, group in zip(self.new_ids(EvaluationSession, len(groups)), groups, strict=True):
            commission = commissions[session_id % len(commissions)]
            latest = max(c["registered_on"] for c in group)
            day = min(self.today + timedelta(days=20), latest + timedelta(days=rng.randint(60, 100)))
            if all(c["status"] != CandidateStatus.IN_EVALUATION for c in group):
                day = min(day, self.today - timedelta(days=7))
            remote = rng.random() < 0.1
            sessions.append(
                {
                    "id": session_id,
                    "centre": centre.pk,
                    "commission": commission.pk,
                    "date": day,
                    "place": ""
                    if remote
                    else f"Centre de formation de {centre.city}, salle {rng.randint(1, 6)}",
                    "is_remote": remote,
                    "remote_details": "Lien de visioconférence communiqué par le centre." if remote else "",
                    "created_at": self.aware(day - timedelta(days=40)),
                    "created_by": staff_id,
                    "_team": commission.team,
                    "_group": group,
                }
            )
        self.write(EvaluationSession, sessions)

        convocations, assignments = [], []
        ids = iter(self.new_ids(Convocation, len(candidates)))
        for session in sessions:
            team = session["_team"]
            for slot, candidate in enumerate(session["_group"]):
                minutes = 8 * 60 + 30 * slot
                convened_at = self.aware(session["date"] - timedelta(days=21), 11)
                convocation_id = next(ids)
                evaluator = team[slot % len(team)].pk
                convocations.append(
                    (
                        convocation_id,
                        session["id"],
                        candidate["id"],
                        dtime(minutes // 60, minutes % 60),
                        convened_at,
                        convened_at,
                    )
                )
                assignments.append((convocation_id, evaluator, convened_at, staff_id))
                candidate["_convocation"] = convocation_id
                candidate["_evaluator"] = evaluator
                candidate["_session_day"] = session["date"]
        self.insert(
            Convocation,
            ("id", "session", "candidate", "time_slot", "convened_at", "created_at"),
            convocations,
        )
        self.insert(
            ConvocationEvaluator, ("convocation", "evaluator", "assigned_at", "assigned_by"), assignments
        )

        sheets, proposals, opinions, judgements = [], [], [], []
        sheet_ids = iter(self.new_ids(ScoringSheet, len(candidates) * len(self.competencies)))
        patterns = self.patterns
        self.conclusions, self.opinions_given = {}, {}
        for candidate in candidates:
            in_evaluation = candidate["status"] == CandidateStatus.IN_EVALUATION
            session_day = candidate["_session_day"]
            # A candidate still in evaluation has only part of his competencies scored.
            scored = rng.randint(0, len(self.competencies)) if in_evaluation else len(self.competencies)
            for position, competency in enumerate(self.competencies[:scored]):
                conclusion = Conclusion.ACQUIRED if rng.random() < ACQUIRED_RATE else Conclusion.NOT_ACQUIRED
                vector = rng.choice(patterns[competency.pk][conclusion])
                draft = in_evaluation and rng.random() < 0.35
                sheet_id = next(sheet_ids)
                at = self.aware(session_day, 12 + position % 5, rng.randint(0, 59))
                if draft:
                    # A draft in progress: the first criteria are judged, the others still empty.
                    judged = rng.randint(0, len(vector))
                    vector = vector[:judged] + [
                        (criterion_id, "", "") for criterion_id, _v, _c in vector[judged:]
                    ]
                sheets.append(
                    (
                        sheet_id,
                        candidate["id"],
                        competency.pk,
                        candidate["_evaluator"],
                        candidate["_convocation"],
                        SheetStatus.DRAFT.value if draft else SheetStatus.SUBMITTED.value,
                        "" if draft else conclusion.value,
                        "" if draft else JUSTIFICATIONS[conclusion],
                        None if draft else at,
                        1 if draft else 2,
                        at - timedelta(hours=1),
                        at,
                    )
                )
                judgements.extend(
                    (sheet_id, criterion_id, value, comment) for criterion_id, value, comment in vector
                )
                if draft:
                    continue
                self.conclusions[(candidate["id"], competency.pk)] = conclusion
                # One assigned evaluator: the proposal is computed (unanimity), nobody records it.
                proposals.append(
                    (candidate["id"], competency.pk, conclusion.value, "", None, at, False, True)
                )
            if candidate["_opinion"]:
                for position, competency in enumerate(self.competencies):
                    signed = not in_evaluation or rng.random() < 0.5
                    commission_view = self.conclusions.get(
                        (candidate["id"], competency.pk), Conclusion.ACQUIRED
                    )
                    if rng.random() < OPINION_AGREES_RATE:
                        opinion = (
                            Opinion.FAVOURABLE
                            if commission_view == Conclusion.ACQUIRED
                            else Opinion.UNFAVOURABLE
                        )
                    else:
                        opinion = (
                            Opinion.RESERVED if commission_view == Conclusion.ACQUIRED else Opinion.FAVOURABLE
                        )
                    signed_at = self.aware(session_day - timedelta(days=10), 17, position) if signed else None
                    if signed:
                        self.opinions_given[(candidate["id"], competency.pk)] = opinion.value
                    opinions.append(
                        (
                            candidate["id"],
                            competency.pk,
                            candidate["tutor"],
                            opinion.value if signed else "",
                            OPINION_COMMENTS[opinion] if signed else "",
                            session_day - timedelta(days=7),
                            signed_at,
                            candidate["_tutor_user"] if signed else None,
                            signed_at or self.now,
                        )
                    )
        self.insert(
            ScoringSheet,
            (
                "id",
                "candidate",
                "competency",
                "evaluator",
                "convocation",
                "status",
                "conclusion",
                "justification",
                "submitted_at",
                "version",
                "created_at",
                "updated_at",
            ),
            sheets,
        )
        self.insert(CriterionJudgement, ("sheet", "criterion", "judgement", "comment"), judgements)
        self.audit_rows(
            (
                sheet[8],
                sheet[3],
                centre.pk,
                "evaluations.sheet_submitted",
                SHEET_TARGET,
                str(sheet[0]),
                f"fiche {sheet[0]} soumise (candidat {sheet[1]}, compétence {sheet[2]})",
                {"conclusion": sheet[6]},
            )
            for sheet in sheets
            if sheet[8] is not None  # submitted
        )
        self.insert(
            CommissionProposal,
            (
                "candidate",
                "competency",
                "conclusion",
                "reason",
                "recorded_by",
                "recorded_at",
                "has_divergence",
                "is_unanimous",
            ),
            proposals,
        )
        self.insert(
            CompanyOpinion,
            (
                "candidate",
                "competency",
                "tutor",
                "opinion",
                "comment",
                "due_date",
                "signed_at",
                "signed_by",
                "updated_at",
            ),
            opinions,
        )

    # -- deliberations -----------------------------------------------------------------------------

    def deliberation_session(self, centre, *, session_id, status, day, place):
        closed = status == SessionStatus.CLOSED
        return {
            "id": session_id,
            "centre": centre.pk,
            "certification": self.certification.pk,
            "jury": self.juries[centre.pk].pk,
            "date": day,
            "place": place,
            "status": status.value,
            "unions_asked_on": day - timedelta(days=30),
            "members_notified_on": day - timedelta(days=20),
            "decisions_recorded_at": self.aware(day, 17) if closed else None,
            "closed_at": self.aware(day, 18) if closed else None,
            "closed_by": self.staff[centre.pk][0].pk if closed else None,
            "pv_version": 1 if closed else 0,
            "created_at": self.aware(day - timedelta(days=45)),
        }

    def build_deliberations(self, centre, candidates):
        """Awaiting candidates go to planned sessions; deliberated ones to closed sessions with decisions.

        In the bench centre the first `jury_session_size` of each go to the two reference sessions.
        """
        if not candidates:
            return
        state = self.centre_state
        awaiting = [c for c in candidates if c["status"] == CandidateStatus.AWAITING_DELIBERATION]
        deliberated = [c for c in candidates if c["status"] == CandidateStatus.DELIBERATED]
        groups = []  # (session dict, candidates)
        new_sessions = []
        if state["reference"]:
            if state["closed_deliberation"] is None:
                closed_id, open_id = self.new_ids(DeliberationSession, 2)
                state["closed_deliberation"] = self.deliberation_session(
                    centre,
                    session_id=closed_id,
                    status=SessionStatus.CLOSED,
                    day=self.today - timedelta(days=14),
                    place=BENCH_CLOSED_PLACE,
                )
                state["open_deliberation"] = self.deliberation_session(
                    centre,
                    session_id=open_id,
                    status=SessionStatus.OPEN,
                    day=self.today,
                    place=BENCH_OPEN_PLACE,
                )
                state["closed_left"] = state["open_left"] = self.reference_size
                new_sessions += [state["closed_deliberation"], state["open_deliberation"]]
            closed_take, open_take = state["closed_left"], state["open_left"]
            groups.append((state["closed_deliberation"], deliberated[:closed_take]))
            groups.append((state["open_deliberation"], awaiting[:open_take]))
            state["closed_left"] -= len(deliberated[:closed_take])
            state["open_left"] -= len(awaiting[:open_take])
            deliberated, awaiting = deliberated[closed_take:], awaiting[open_take:]
        closed_groups = [
            deliberated[start : start + DELIBERATION_SESSION_SIZE]
            for start in range(0, len(deliberated), DELIBERATION_SESSION_SIZE)
        ]
        planned_groups = [
            awaiting[start : start + DELIBERATION_SESSION_SIZE]
            for start in range(0, len(awaiting), DELIBERATION_SESSION_SIZE)
        ]
        ids = iter(self.new_ids(DeliberationSession, len(closed_groups) + len(planned_groups)))
        place = f"UIMM {centre.city}, salle du conseil"
        for group in closed_groups:
            latest = max(c["registered_on"] for c in group)
            day = min(self.today - timedelta(days=21), latest + timedelta(days=self.rng.randint(150, 200)))
            session = self.deliberation_session(
                centre, session_id=next(ids), status=SessionStatus.CLOSED, day=day, place=place
            )
            new_sessions.append(session)
            groups.append((session, group))
        for group in planned_groups:
            day = self.today + timedelta(days=self.rng.randint(20, 60))
            session = self.deliberation_session(
                centre, session_id=next(ids), status=SessionStatus.PLANNED, day=day, place=place
            )
            new_sessions.append(session)
            groups.append((session, group))
        self.write(DeliberationSession, new_sessions)

        attendance = []
        seats = self.seats[self.juries[centre.pk].pk]
        for session in new_sessions:
            for position, seat in enumerate(seats):
                present = session["status"] != SessionStatus.PLANNED and (
                    position < 4 or self.rng.random() < 0.7
                )
                attendance.append((session["id"], seat.pk, present, self.aware(session["date"], 9)))
        self.insert(Attendance, ("session", "member", "present", "recorded_at"), attendance)

        entries, decisions, outcomes, outcome_blocks = [], [], [], []
        capitalised_competencies, capitalised_blocks = [], []
        policy = awards.Policy.from_settings()
        decided_by = self.staff[centre.pk][0].pk
        to_decide = sum(len(group) for session, group in groups if session["status"] == SessionStatus.CLOSED)
        outcome_ids = iter(self.new_ids(CandidateOutcome, to_decide))
        for session, group in groups:
            day = session["date"]
            for candidate in group:
                entries.append((session["id"], candidate["id"], self.aware(day - timedelta(days=30))))
                if session["status"] != SessionStatus.CLOSED:
                    continue
                facts = self.facts(candidate, day)
                proposals = awards.propose(facts)
                decided = {}
                decided_at = self.aware(day, 15, self.rng.randint(0, 59))
                for competency in self.competencies:
                    proposal = proposals[competency.pk]
                    decision = awards.decide(
                        proposal, None, REVIEW_MOTIVATION if proposal.needs_review else ""
                    )
                    decided[competency.pk] = decision
                    decisions.append(
                        (
                            session["id"],
                            candidate["id"],
                            competency.pk,
                            decision.proposed,
                            proposal.needs_review,
                            decision.decided,
                            decision.motivation,
                            decision.explanation,
                            decided_by,
                            decided_at,
                        )
                    )
                outcome = awards.award(facts, decided, policy)
                outcome_id = next(outcome_ids)
                outcomes.append(
                    (
                        outcome_id,
                        session["id"],
                        candidate["id"],
                        outcome.result,
                        outcome.explanation,
                        decided_by,
                        decided_at,
                    )
                )
                outcome_blocks.extend(
                    (outcome_id, block_id) for block_id in sorted(outcome.acquired_block_ids)
                )
                for competency_id, until in outcome.new_capitalised_competencies.items():
                    capitalised_competencies.append(
                        (candidate["id"], competency_id, session["id"], day, until)
                    )
                for block_id, until in outcome.new_capitalised_blocks.items():
                    capitalised_blocks.append((candidate["id"], block_id, session["id"], day, until))
        self.insert(SessionCandidate, ("session", "candidate", "added_at"), entries)
        self.insert(
            CompetencyDecision,
            (
                "session",
                "candidate",
                "competency",
                "proposed",
                "needs_review",
                "decided",
                "motivation",
                "explanation",
                "decided_by",
                "decided_at",
            ),
            decisions,
        )
        self.insert(
            CandidateOutcome,
            ("id", "session", "candidate", "result", "explanation", "decided_by", "decided_at"),
            outcomes,
        )
        self.insert(CandidateOutcome.blocks_acquired.through, ("candidateoutcome", "block"), outcome_blocks)
        self.build_declarations(centre, groups, outcomes)
        fields = ("candidate", "competency", "session", "acquired_on", "valid_until")
        self.insert(CapitalisedCompetency, fields, capitalised_competencies)
        fields = ("candidate", "block", "session", "acquired_on", "valid_until")
        self.insert(CapitalisedBlock, fields, capitalised_blocks)

    def build_declarations(self, centre, groups, outcomes):
        """The holders of sessions closed more than DECLARED_AFTER_DAYS ago were declared to the CPF
        portal and accepted (one file per session, as the « accrochage » page produces them); the
        holders of the last weeks are still to declare (issue 21: the declaration page over years)."""
        declared = {
            session["id"]: session
            for session, _group in groups
            if session["status"] == SessionStatus.CLOSED
            and session["date"] <= self.today - timedelta(days=DECLARED_AFTER_DAYS)
        }
        holders = {}
        for outcome_id, session_id, candidate_id, result, *_rest in outcomes:
            if session_id in declared and result == Result.CERTIFIED:
                holders.setdefault(session_id, []).append((outcome_id, candidate_id))
        if not holders:
            return
        staff_id = self.staff[centre.pk][0].pk
        batch_ids = iter(self.new_ids(AccrochageBatch, len(holders)))
        batches, records = [], []
        for session_id, session_holders in holders.items():
            day = declared[session_id]["date"]
            batch_id = next(batch_ids)
            sent_at = self.aware(day + timedelta(days=20), 11)
            batches.append(
                {
                    "id": batch_id,
                    "flux_id": f"SCALE-{batch_id:08d}",
                    "centre": centre.pk,
                    "session": session_id,
                    "file": f"reporting/accrochage/scale/{batch_id}.xml",
                    "sha256": "0" * 64,
                    "size": 0,
                    "record_count": len(session_holders),
                    "left_out": [],
                    "created_at": sent_at,
                    "created_by": staff_id,
                }
            )
            for outcome_id, candidate_id in session_holders:
                records.append(
                    (
                        batch_id,
                        outcome_id,
                        candidate_id,
                        day,
                        sent_at,
                        False,
                        f"{self.references[candidate_id]}-D{session_id}",
                        DeclarationStatus.ACCEPTED.value,
                        "",
                        sent_at + timedelta(days=5),
                    )
                )
        self.write(AccrochageBatch, batches)
        self.insert(
            AccrochageRecord,
            (
                "batch",
                "outcome",
                "candidate",
                "issued_on",
                "reported_at",
                "is_late",
                "id_technique",
                "status",
                "reason",
                "answered_at",
            ),
            records,
        )

    def facts(self, candidate, day):
        competencies = tuple(
            awards.CompetencyFacts(
                competency_id=competency.pk,
                number=competency.number,
                block_id=competency.block_id,
                commission=self.conclusions.get((candidate["id"], competency.pk)),
                company_opinion=self.opinions_given.get((candidate["id"], competency.pk)),
            )
            for competency in self.competencies
        )
        # Without a company opinion (VAE, job seeker without tutor) the commission's proposal decides.
        return awards.CandidateFacts(
            is_vae=not candidate["_opinion"],
            deliberation_date=day,
            competencies=competencies,
            blocks=self.block_facts,
            rncp_registered=self.rncp_registered,
        )

    # -- entry point -------------------------------------------------------------------------------

    def build(self):
        started, cpu_started = time.perf_counter(), time.process_time()
        database_cpu_started = database_backend_cpu_seconds()
        if connection.vendor == "sqlite":
            # A larger page cache for this connection only: the indexes of the big tables stay in memory.
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA cache_size = -262144")
        with transaction.atomic():
            self.load_referential()
            self.patterns = self.judgement_patterns()
            self.block_facts = tuple(awards.BlockFacts(block_id=b.pk, number=b.number) for b in self.blocks)
            self.modality_choices = [[code] for code in self.modality_codes] + [
                sorted(pair) for pair in zip(self.modality_codes, self.modality_codes[1:], strict=False)
            ]
            self.build_centres()
            self.build_staff_and_members()
            per_centre, plans = self.plan()
            self.build_companies(per_centre)
            tables = [model._meta.db_table for model in BULK_MODELS]
            with foreign_keys_suspended(tables):
                self.frozen = frozen_tables(tables)
                FROZEN.update(self.frozen)
                with indexes_suspended(tables):
                    if connection.vendor == "postgresql":
                        self.writer = CopyWriter(connection.connection)
                    try:
                        self.build_candidates(plans)
                    finally:
                        FROZEN.clear()
                        if self.writer is not None:
                            writer, self.writer = self.writer, None
                            writer.close()
                    self.log("lignes des candidats écrites")
                self.log("index reconstruits")
            self.log("clés étrangères vérifiées")
            self.reset_sequences()
            audit(
                actor=None,
                action="scale.seeded",
                message=f"Données de volume : {self.options.centres} centres, {self.options.candidates} candidats",
                centres=self.options.centres,
                candidates=self.options.candidates,
            )
        self.log("transaction validée")
        if connection.vendor == "postgresql":
            # Fresh statistics, or the planner would treat the new tables as empty. Outside a
            # transaction, VACUUM also fills the visibility map that autovacuum would fill some time
            # after a bulk load: until then the pages' index-only scans (candidate list) read the heap.
            # Tables written with COPY FREEZE need no VACUUM (their rows are frozen and the map is set).
            vacuum = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
            with connection.cursor() as cursor:
                for model in self._written:
                    table = model._meta.db_table
                    command = "ANALYZE" if table in self.frozen else vacuum
                    cursor.execute(f"{command} {connection.ops.quote_name(table)}")
            self.log(
                f"statistiques du planificateur à jour ({len(self.frozen)} tables figées à l'écriture, VACUUM des autres)"
            )
        self.report.seconds = time.perf_counter() - started
        self.report.cpu_seconds = time.process_time() - cpu_started
        database_cpu = database_backend_cpu_seconds()
        if database_cpu is not None and database_cpu_started is not None:
            self.report.database_cpu_seconds = database_cpu - database_cpu_started
        return self.report
