"""Bulk import of candidates: validation of a whole file, all-or-nothing commit, import jobs."""

import datetime
import hashlib
import logging

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Q
from django.db.models.functions import Left
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import BusinessRuleError
from core.files import safe_filename, validate_upload
from core.services import audit, safe_delay
from referential.models import Certification, Competency

from .. import attempts, importing, tasks
from ..importing import (
    ImportFileError,
    ImportReport,
    Problem,
    RowResult,
    parse_row,
    prefetch_lookups,
    read_table,
)
from ..models import (
    Candidate,
    CandidateStatus,
    CandidateStatusChange,
    Dossier,
    DossierCompetency,
    ImportJob,
    ImportJobStatus,
)
from ..selectors import normalise_name
from .common import (
    _check_staff_of,
    _field_errors,
)
from .registration import (
    _default_company_opinion,
    check_registration,
    new_candidate,
)

logger = logging.getLogger(__name__)

# --- bulk import ----------------------------------------------------------------------------
#
# The same rules as `register_candidate` (check_registration, the model's field checks, duplicates,
# earlier attempts), applied to a whole file in memory with a constant number of queries: the
# versions in force, the centre's companies and their tutors once (importing.prefetch_lookups), the
# duplicates of the whole file once, the references of the file once; then bulk inserts and ONE
# audit event. All or nothing: one row in error and nothing is imported.

# The field checks of the import skip the relations: they are the objects the lookups just fetched
# (checking that they exist would be one query per row and per relation).
_IMPORT_CLEAN_EXCLUDE = [
    "reference",
    "centre",
    "certification",
    "company",
    "tutor",
    "previous_attempt",
    "created_by",
]
# Column of the file a problem is about: candidate field → column, rule code → column.
_FIELD_COLUMNS = {
    "birth_name": "nom_naissance",
    "usage_name": "nom_usage",
    "first_names": "prenoms",
    "sex": "sexe",
    "birth_date": "date_naissance",
    "birth_place": "lieu_naissance",
    "birth_country": "pays_naissance",
    "email": "email",
    "phone": "telephone",
    "address": "adresse",
    "postcode": "code_postal",
    "city": "ville",
    "pathway": "parcours",
    "registered_on": "date_inscription",
    "legal_basis": "base_legale",
}
_RULE_COLUMNS = {
    "certification_not_in_force": "cqpm",
    "pathway": "parcours",
    "company_required": "siret_entreprise",
    "company_centre": "siret_entreprise",
    "tutor_company": "email_tuteur",
    "consent": "consentement",
}


class ImportValidation:
    """The checked rows of a file: the report (every row, its located problems) and the unsaved
    candidates of the rows without problem, in file order."""

    def __init__(self, centre, report):
        self.centre = centre
        self.report = report
        self.prepared = []  # [(RowResult, Candidate)]

    @property
    def candidates(self):
        return [candidate for result, candidate in self.prepared if not result.problems]


def _add_problem(result, column, message, *, duplicate=False):
    result.problems.append(Problem(column, message, duplicate=duplicate))


def prepare_import_rows(*, centre, rows, by, progress=None, field_checks=True):
    """Per-row checks of a whole file, in memory (3 queries whatever the number of rows). `progress`
    is called with the number of rows checked every `importing.CHUNK_ROWS` rows and at the end.
    `field_checks=False` skips the model's field checks (lengths, formats), which depend on the row's
    text only: the commit of a job uses it for the very file (same SHA-256) its validation checked."""

    _check_staff_of(by, centre)
    cache = prefetch_lookups(rows, centre=centre)
    validation = ImportValidation(centre, ImportReport(rows=[]))
    now = timezone.now()
    today = timezone.localdate(now)
    for index, row in enumerate(rows, start=1):
        result = RowResult(line=row["line"], values=row["values"])
        validation.report.rows.append(result)
        kwargs, problems = parse_row(row["values"], centre=centre, cache=cache)
        result.problems.extend(problems)
        if not problems:
            try:
                check_registration(
                    centre=centre,
                    certification=kwargs["certification"],
                    in_force=kwargs["certification"],  # looked up as the version in force of its code
                    pathway=kwargs["pathway"],
                    company=kwargs["company"],
                    tutor=kwargs["tutor"],
                    legal_basis=kwargs["legal_basis"],
                    consent_given=kwargs["consent_given"],
                )
            except BusinessRuleError as exc:
                _add_problem(result, _RULE_COLUMNS.get(exc.code, ""), exc.message)
        if not result.problems:
            kwargs["registered_on"] = kwargs.get("registered_on") or today
            candidate = new_candidate(centre=centre, by=by, now=now, **kwargs)
            for field, message in (
                _field_errors(candidate, exclude=_IMPORT_CLEAN_EXCLUDE) if field_checks else ()
            ):
                _add_problem(result, _FIELD_COLUMNS.get(field, ""), message)
            if not result.problems:
                validation.prepared.append((result, candidate))
        if progress is not None and index % importing.CHUNK_ROWS == 0:
            progress(index)
    if progress is not None:
        progress(len(rows))
    return validation


def check_import_duplicates(validation):
    """Duplicates of the whole file in one query (plus one per CQPM code of the rows that match
    someone): with the centre's candidates (an earlier attempt closed by a deliberation on the same
    CQPM is not a duplicate: the row becomes its new attempt), and between rows of the file."""

    def key(birth_name, first_names, birth_date):
        return (normalise_name(birth_name), normalise_name(first_names), birth_date)

    prepared = [(result, candidate) for result, candidate in validation.prepared if not result.problems]
    if not prepared:
        return validation
    existing = {}
    dates = {candidate.birth_date for _result, candidate in prepared}
    rows = Candidate.objects.filter(
        centre=validation.centre, birth_date__in=dates, anonymised_at__isnull=True
    ).values_list("pk", "birth_name", "first_names", "birth_date")
    for pk, birth_name, first_names, birth_date in rows:
        existing.setdefault(key(birth_name, first_names, birth_date), []).append(pk)
    matches = {}  # certification code → ids of the candidates some rows match
    for _result, candidate in prepared:
        ids = existing.get(key(candidate.birth_name, candidate.first_names, candidate.birth_date))
        if ids:
            matches.setdefault(candidate.certification.code, set()).update(ids)
    deliberated = {}  # code → ids deliberated on that CQPM, most recent first
    if matches:
        for code, ids in matches.items():
            deliberated[code] = attempts.deliberated_attempts(sorted(ids), code)
    seen = {}  # key → line of the first valid row
    for result, candidate in prepared:
        row_key = key(candidate.birth_name, candidate.first_names, candidate.birth_date)
        ids = existing.get(row_key, [])
        earlier = [pk for pk in deliberated.get(candidate.certification.code, []) if pk in ids]
        blocking = [pk for pk in ids if pk not in earlier]
        candidate.previous_attempt_id = earlier[0] if earlier else None
        if blocking:
            _add_problem(
                result,
                "",
                _("Doublon : un candidat de même nom, prénoms et date de naissance est déjà inscrit."),
                duplicate=True,
            )
        elif row_key in seen:
            _add_problem(
                result,
                "",
                _("Doublon : même nom, prénoms et date de naissance que la ligne %(line)s du fichier.")
                % {"line": seen[row_key]},
                duplicate=True,
            )
        else:
            seen[row_key] = result.line
    return validation


def validate_import_rows(*, centre, rows, by, progress=None):
    """Every rule of the registration on every row (nothing written). Constant number of queries."""
    validation = prepare_import_rows(centre=centre, rows=rows, by=by, progress=progress)
    return check_import_duplicates(validation)


def _recheck_versions_in_force(validation):
    """At commit time (one query): a CQPM version published since the check takes over."""
    candidates = validation.candidates
    codes = {candidate.certification.code for candidate in candidates}
    if not codes:
        return
    in_force = {}
    for pk, code in (
        Certification.objects.published()
        .filter(code__in=codes)
        .order_by("code", "-version")
        .values_list("pk", "code")
    ):
        in_force.setdefault(code, pk)
    for result, candidate in validation.prepared:
        if not result.problems and in_force.get(candidate.certification.code) != candidate.certification_id:
            _add_problem(
                result,
                "cqpm",
                _(
                    "Le candidat ne peut être inscrit que sur la version en vigueur (publiée) du CQPM « %(code)s »."
                )
                % {"code": candidate.certification.code},
            )


def _allocate_references(centre, candidates):
    """Consecutive references per registration year, after the last one taken (one query)."""

    prefixes = {f"{centre.code.upper()}-{candidate.registered_on.year}-" for candidate in candidates}
    length = len(next(iter(prefixes)))  # same centre code, four-digit years: one prefix length
    condition = Q()
    for prefix in prefixes:
        condition |= Q(reference__startswith=prefix)
    last = dict(
        Candidate.objects.filter(condition)
        .annotate(prefix=Left("reference", length))
        .values("prefix")
        .annotate(last=Max("reference"))
        .values_list("prefix", "last")
        .order_by()
    )
    numbers = {prefix: int(last[prefix].rsplit("-", 1)[1]) if prefix in last else 0 for prefix in prefixes}
    for candidate in candidates:
        prefix = f"{centre.code.upper()}-{candidate.registered_on.year}-"
        numbers[prefix] += 1
        candidate.reference = f"{prefix}{numbers[prefix]:05d}"


def _insert_candidates(validation, *, by):
    """Bulk inserts of the candidates, their first status, their dossiers and dossier competencies."""
    candidates = validation.candidates
    centre = validation.centre
    for _attempt in range(5):
        _allocate_references(centre, candidates)
        try:
            with transaction.atomic():
                Candidate.objects.bulk_create(candidates, batch_size=1000)
            break
        except IntegrityError:  # a registration took one of the numbers meanwhile: allocate again
            for candidate in candidates:
                candidate.pk = None
                candidate._state.adding = True
    else:
        raise BusinessRuleError(_("Impossible d'attribuer les références, réessayez."), code="reference")
    CandidateStatusChange.objects.bulk_create(
        [
            CandidateStatusChange(
                candidate=candidate, from_status="", to_status=CandidateStatus.REGISTERED, by=by, reason=""
            )
            for candidate in candidates
        ],
        batch_size=2000,
    )
    dossiers = Dossier.objects.bulk_create(
        [
            Dossier(candidate=candidate, company_opinion_applies=_default_company_opinion(candidate))
            for candidate in candidates
        ],
        batch_size=2000,
    )
    _insert_dossier_competencies([dossier.pk for dossier in dossiers])
    return candidates


def _insert_dossier_competencies(dossier_ids):
    """One item per competency of the candidate's CQPM version for each new dossier (as
    `create_dossier`), written by the database itself: INSERT … SELECT joining the dossiers with the
    competencies of their candidate's version (7 items per candidate: 70 000 rows for 10 000
    candidates, which model instances would cost seconds to build)."""

    item, dossier, candidate, competency = (
        DossierCompetency._meta,
        Dossier._meta,
        Candidate._meta,
        Competency._meta,
    )
    qn = connection.ops.quote_name
    empty = "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"
    # PostgreSQL takes the whole list as one array parameter; SQLite caps the parameters of a query.
    chunks = (
        [dossier_ids]
        if connection.vendor == "postgresql"
        else [dossier_ids[i : i + 900] for i in range(0, len(dossier_ids), 900)]
    )
    with connection.cursor() as cursor:
        for chunk in chunks:
            if not chunk:
                continue
            if connection.vendor == "postgresql":
                condition, params = f"d.{qn('id')} = ANY(%s)", [list(chunk)]
            else:
                condition, params = f"d.{qn('id')} IN ({', '.join(['%s'] * len(chunk))})", list(chunk)
            # Identifiers come from the models' _meta, values are parameters.
            sql = (
                f"INSERT INTO {qn(item.db_table)} "  # noqa: S608
                f"({qn('dossier_id')}, {qn('competency_id')}, {qn('modalities')}, {qn('already_acquired')}) "
                f"SELECT d.{qn('id')}, c.{qn('id')}, {empty}, %s "
                f"FROM {qn(dossier.db_table)} d "
                f"JOIN {qn(candidate.db_table)} ca ON ca.{qn('id')} = d.{qn('candidate_id')} "
                f"JOIN {qn(competency.db_table)} c ON c.{qn('certification_id')} = ca.{qn('certification_id')} "
                f"WHERE {condition} ORDER BY d.{qn('id')}, c.{qn('number')}"
            )
            cursor.execute(sql, ["[]", False, *params])


def commit_import_rows(*, validation, by, source=None):
    """Write the checked rows, all or nothing (call it inside a transaction). The duplicates and the
    versions in force are checked again here, inside the transaction: the world may have changed
    since the preview. Returns True when written, False when a row is now refused (nothing written)."""
    check_import_duplicates(validation)
    _recheck_versions_in_force(validation)
    report = validation.report
    if not report.is_valid:
        return False
    candidates = _insert_candidates(validation, by=by)
    for result, candidate in validation.prepared:
        result.reference = candidate.reference
    reattempts = [candidate for candidate in candidates if candidate.previous_attempt_id is not None]
    if reattempts:
        # A new attempt after a closed deliberation starts with what was capitalised (as in the form).
        for candidate in reattempts:
            attempts.reattempt_registered.send(sender=Candidate, candidate=candidate, actor=by)
    pathways = {}
    for candidate in candidates:
        pathways[candidate.pathway] = pathways.get(candidate.pathway, 0) + 1
    audit(
        actor=by,
        action="candidates.imported",
        centre=validation.centre,
        message=f"Import de {len(candidates)} candidat(s)",
        count=len(candidates),
        first_reference=candidates[0].reference,
        last_reference=candidates[-1].reference,
        certification_ids=sorted({candidate.certification_id for candidate in candidates}),
        pathways=pathways,
        new_attempts=len(reattempts),
        **(source or {}),
    )
    report.committed = True
    return True


def import_candidates(*, centre, rows, by, dry_run=False):
    """Register every row with exactly the registration rules; all or nothing (synchronous: the
    `import_candidates` command; the pages go through an ImportJob and its tasks).

    `rows` come from `importing.read_table` ([{"line": n, "values": {...}}]). Every row is checked (so
    the report lists all problems at once); if one fails, or with `dry_run`, nothing is written.
    Duplicates (with existing candidates or between rows) are errors: confirm them one by one in the
    registration form.
    """
    validation = prepare_import_rows(centre=centre, rows=rows, by=by)
    if dry_run or not validation.report.is_valid:
        check_import_duplicates(validation)
        return validation.report
    with transaction.atomic():
        commit_import_rows(validation=validation, by=by)  # checks the duplicates, inside the transaction
    return validation.report


# --- import jobs (Celery: a page shows the progress) ------------------------------------------
#
# upload → `create_import_job` (file stored, validation task queued) → `run_import_validation`
# (task: counts, located errors; the job is READY or INVALID) → `confirm_import_job` (staff) →
# `run_import_commit` (task: all or nothing) → DONE. The run_* functions are the tasks' bodies and
# are idempotent: a job past their step is left as it is.


def _job_progress(job_id):
    def progress(rows_done):
        ImportJob.objects.filter(pk=job_id).update(rows_done=rows_done)

    return progress


def _delete_job_file(job):
    """The uploaded file holds personal data: removed once the job no longer needs it."""
    if not job.file:
        return
    storage, name = job.file.storage, job.file.name
    job.file = ""

    def delete():
        try:
            storage.delete(name)
        except OSError:
            logger.warning("Could not delete the file of import job %s", job.pk)

    transaction.on_commit(delete)


def _error_report(report):
    return [
        {
            "line": row.line,
            "column": problem.column,
            "message": problem.message,
            "duplicate": problem.duplicate,
        }
        for row in report.rows
        for problem in row.problems
    ]


def _record_report(job, report):
    job.rows_total = len(report.rows)
    job.rows_done = len(report.rows)
    job.error_count = len(report.error_rows)
    job.duplicate_count = len(report.duplicate_rows)
    job.valid_count = job.rows_total - job.error_count
    job.errors = _error_report(report)


class ImportJobError(BusinessRuleError):
    """The job cannot go on (its file is gone, its author left the centre…): it is marked failed."""


def _read_job_rows(job):
    """The rows of the job's stored file, which must be the very file uploaded (SHA-256)."""

    try:
        with job.file.open("rb") as handle:
            content = handle.read()
    except (FileNotFoundError, OSError, ValueError) as exc:
        raise ImportJobError(_("Le fichier déposé est introuvable : déposez-le à nouveau.")) from exc
    if hashlib.sha256(content).hexdigest() != job.sha256:
        raise ImportJobError(_("Le fichier stocké a été modifié depuis son dépôt : déposez-le à nouveau."))
    return read_table(SimpleUploadedFile(job.original_name, content))


# A checked file waits this long for its confirmation; then it is deleted (personal data).
IMPORT_CONFIRMATION_DAYS = 7


def expire_import_jobs(*, centre=None, now=None):
    """Checked imports never confirmed within IMPORT_CONFIRMATION_DAYS: their file is deleted and the
    job says so. Run at each upload (for its centre) and by the `expire_import_jobs` task."""

    limit = (now or timezone.now()) - datetime.timedelta(days=IMPORT_CONFIRMATION_DAYS)
    stale = ImportJob.objects.filter(status=ImportJobStatus.READY, validated_at__lt=limit)
    if centre is not None:
        stale = stale.filter(centre=centre)
    expired = 0
    for job in stale:
        with transaction.atomic():
            job.status = ImportJobStatus.FAILED
            job.message = _(
                "Import non confirmé dans les %(days)s jours : le fichier a été supprimé. Déposez-le à nouveau."
            ) % {"days": IMPORT_CONFIRMATION_DAYS}
            job.finished_at = timezone.now()
            _delete_job_file(job)
            job.save()
        expired += 1
    return expired


@transaction.atomic
def create_import_job(*, centre, uploaded_file, by):
    """Store the file (checked by content, private storage) and queue its validation."""

    _check_staff_of(by, centre)
    expire_import_jobs(centre=centre)
    try:
        info = validate_upload(uploaded_file, allowed=("csv", "xlsx"))
    except ValidationError as exc:
        raise BusinessRuleError(" ".join(exc.messages), code="upload") from exc
    job = ImportJob(
        centre=centre,
        created_by=by,
        original_name=safe_filename(uploaded_file.name, default="import", extension=info.extension),
        size=info.size,
        sha256=info.sha256,
    )
    uploaded_file.seek(0)
    job.file.save(f"import.{info.extension}", uploaded_file, save=False)
    stored_name = job.file.name
    try:
        job.save()
        audit(actor=by, action="candidates.import_uploaded", target=job, size=info.size, sha256=info.sha256)
    except Exception:
        job.file.storage.delete(stored_name)
        raise
    transaction.on_commit(lambda: _queue_validation(tasks.validate_import, job.pk))
    return job


def _queue_validation(task, job_id):
    """Queue the check through the safe path: with the broker down the job says so (never a 500)."""
    if safe_delay(task, job_id) is None:
        fail_import_job(
            job_id,
            _(
                "Le service de traitement des imports est momentanément indisponible : le fichier n'a pas "
                "été vérifié. Déposez-le à nouveau dans quelques minutes."
            ),
        )


def _queue_commit(task, job_id):
    """Queue the import through the safe path: with the broker down the job is ready to be confirmed
    again (nothing was imported), and says why."""
    if safe_delay(task, job_id) is None:
        ImportJob.objects.filter(pk=job_id, status=ImportJobStatus.COMMITTING).update(
            status=ImportJobStatus.READY,
            message=_(
                "Le service de traitement des imports est momentanément indisponible : rien n'a été importé. "
                "Confirmez à nouveau dans quelques minutes."
            ),
        )


def run_import_validation(job_id):
    """Task body: check every row of the file (nothing written), record counts and located errors."""
    job = ImportJob.objects.select_related("centre", "created_by").filter(pk=job_id).first()
    if job is None or job.status not in (ImportJobStatus.PENDING, ImportJobStatus.VALIDATING):
        return job

    job.status = ImportJobStatus.VALIDATING
    job.rows_done = 0
    job.attempts += 1
    job.save(update_fields=["status", "rows_done", "attempts"])
    if job.created_by is None:
        raise ImportJobError(_("Le compte qui a déposé le fichier n'existe plus : déposez-le à nouveau."))
    try:
        rows = _read_job_rows(job)
    except ImportFileError as exc:  # the file itself: type, encoding, headers, size
        with transaction.atomic():
            job.status = ImportJobStatus.INVALID
            job.message = str(exc)
            job.validated_at = job.finished_at = timezone.now()
            _delete_job_file(job)
            job.save()
        return job
    ImportJob.objects.filter(pk=job.pk).update(rows_total=len(rows))
    validation = validate_import_rows(
        centre=job.centre, rows=rows, by=job.created_by, progress=_job_progress(job.pk)
    )
    report = validation.report
    with transaction.atomic():
        _record_report(job, report)
        job.validated_at = timezone.now()
        if report.is_valid:
            job.status = ImportJobStatus.READY
        else:
            job.status = ImportJobStatus.INVALID
            job.finished_at = job.validated_at
            _delete_job_file(job)
        job.save()
    return job


@transaction.atomic
def confirm_import_job(*, job, by):
    """Staff confirm a checked file: the import task is queued (all or nothing)."""

    job = ImportJob.objects.select_for_update().select_related("centre").get(pk=job.pk)
    _check_staff_of(by, job.centre)
    if job.status != ImportJobStatus.READY:
        raise BusinessRuleError(
            _("Cet import ne peut pas être confirmé : il est au statut « %(status)s ».")
            % {"status": job.get_status_display()},
            code="import_status",
        )
    job.status = ImportJobStatus.COMMITTING
    job.rows_done = 0
    job.confirmed_by = by
    job.confirmed_at = timezone.now()
    job.message = ""
    job.save(update_fields=["status", "rows_done", "confirmed_by", "confirmed_at", "message"])
    audit(actor=by, action="candidates.import_confirmed", target=job, rows=job.rows_total)
    transaction.on_commit(lambda: _queue_commit(tasks.commit_import, job.pk))
    return job


def run_import_commit(job_id):
    """Task body: check the rows again, then write them all in one transaction (or none)."""
    job = ImportJob.objects.select_related("centre", "confirmed_by").filter(pk=job_id).first()
    if job is None or job.status != ImportJobStatus.COMMITTING:
        return job  # done already (a re-delivered task), or not confirmed
    ImportJob.objects.filter(pk=job.pk).update(rows_done=0, attempts=job.attempts + 1)
    by = job.confirmed_by
    if by is None:
        raise ImportJobError(
            _("Le compte qui a confirmé l'import n'existe plus : déposez le fichier à nouveau.")
        )
    rows = _read_job_rows(job)
    # The per-row checks (the long part) run outside the transaction so that the page sees progress.
    # The field checks ran at validation on this very file (same SHA-256): not again. The rules that
    # depend on the database (versions in force, companies, tutors, duplicates) are checked again.
    validation = prepare_import_rows(
        centre=job.centre, rows=rows, by=by, progress=_job_progress(job.pk), field_checks=False
    )
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().select_related("centre").get(pk=job.pk)
        if job.status != ImportJobStatus.COMMITTING:
            return job  # another delivery of the task finished it meanwhile
        written = validation.report.is_valid and commit_import_rows(
            validation=validation, by=by, source={"import_job_id": job.pk, "sha256": job.sha256}
        )
        if not written:
            # The world changed since the check (a duplicate registered, a new version published…).
            check_import_duplicates(validation)
            _record_report(job, validation.report)
            job.status = ImportJobStatus.INVALID
            job.message = _("Le fichier n'est plus valide : aucun candidat n'a été importé.")
        else:
            _record_report(job, validation.report)
            job.status = ImportJobStatus.DONE
            job.imported_ids = [candidate.pk for candidate in validation.candidates]
            job.imported_count = len(job.imported_ids)
        job.finished_at = timezone.now()
        _delete_job_file(job)
        job.save()
    return job


def fail_import_job(job_id, message):
    """A task could not finish: the job says why (nothing was imported: the commit is all or nothing)."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status in (ImportJobStatus.DONE, ImportJobStatus.INVALID):
            return job
        job.status = ImportJobStatus.FAILED
        job.message = message
        job.finished_at = timezone.now()
        _delete_job_file(job)
        job.save()
    return job
