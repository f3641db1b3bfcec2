"""Documents of a candidate: staff uploads, the candidate's own uploads and their window, downloads."""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.dates import long_date
from core.exceptions import BusinessRuleError
from core.files import safe_filename, validate_upload
from core.services import audit, queue_email

from ..models import (
    CANDIDATE_UPLOAD_KINDS,
    Candidate,
    CandidateDocument,
    CandidateStatus,
    DocumentKind,
    Dossier,
)
from .common import (
    _check_staff_of,
)

# --- documents ------------------------------------------------------------------------------


@transaction.atomic
def upload_document(*, candidate, kind, uploaded_file, by):
    """Store a report or evidence file after checking its real content; nothing existing is replaced."""
    _check_staff_of(by, candidate.centre)
    if kind not in DocumentKind.values or kind == DocumentKind.APPEAL:
        raise BusinessRuleError(_("Type de document inconnu."), code="kind")
    due = Dossier.objects.filter(candidate=candidate).values_list("report_due_date", flat=True).first()
    is_late = kind == DocumentKind.REPORT and due is not None and timezone.localdate() > due
    return _store_document(
        candidate=candidate, kind=kind, uploaded_file=uploaded_file, by=by, is_late=is_late
    )


def _store_document(*, candidate, kind, uploaded_file, by, is_late=False):
    """THE upload path of a candidate's file, whoever uploads it (staff, or the candidate from his
    space): real content checked (magic bytes, size limit), SHA-256, stored under the detected
    extension, audited; a new version never replaces an older one."""
    if candidate.is_anonymised:
        raise BusinessRuleError(_("Ce candidat a été anonymisé."), code="anonymised")
    try:
        info = validate_upload(uploaded_file)
    except ValidationError as exc:
        raise BusinessRuleError(" ".join(exc.messages), code="upload") from exc
    document = CandidateDocument(
        candidate=candidate,
        kind=kind,
        original_name=safe_filename(uploaded_file.name, extension=info.extension),
        content_type=info.content_type,
        size=info.size,
        sha256=info.sha256,
        uploaded_by=by,
        is_late=is_late,
    )
    uploaded_file.seek(0)
    document.file.save(f"upload.{info.extension}", uploaded_file, save=False)
    stored_name = document.file.name
    try:
        document.save()
        audit(
            actor=by,
            action="candidate_document.uploaded",
            target=candidate,
            document_id=document.pk,
            kind=kind,
            size=info.size,
            sha256=info.sha256,
            is_late=is_late,
        )
    except Exception:
        # The row is rolled back: the stored file must not stay behind as an orphan.
        document.file.storage.delete(stored_name)
        raise
    return document


# --- the candidate's own uploads (issue 23) -------------------------------------------------

# Without a report due date, the candidate's uploads close this many days before his first
# evaluation session (the commission must be able to read them).
UPLOAD_CLOSES_DAYS_BEFORE_SESSION = 1


def _check_own_candidate(by, candidate):
    """The candidate acts on his own record only (defence in depth: his views start from it)."""
    if by is None or not by.is_candidate or getattr(by, "candidate_record", None) != candidate:
        raise BusinessRuleError(_("Vous ne pouvez agir que sur votre propre dossier."), code="own")
    if candidate.is_anonymised:
        raise BusinessRuleError(_("Ce dossier a été anonymisé."), code="anonymised")


# Where the candidate's first evaluation date comes from (evaluations registers it: its convocations
# sit above this app). `provider(candidate)` → the date of the first session he is convened to, or None.
_FIRST_EVALUATION_DATE = []


def register_first_evaluation_date(provider):
    """Called from `evaluations`' `AppConfig.ready`: the date uploads close before, without a due date."""
    _FIRST_EVALUATION_DATE[:] = [provider]
    return provider


def first_evaluation_date(candidate):
    return _FIRST_EVALUATION_DATE[0](candidate) if _FIRST_EVALUATION_DATE else None


def own_upload_window(candidate, *, today=None):
    """(open, closes_on, reason): whether the candidate may upload his report and evidence now.

    The deadline is the report's due date set by the centre on the dossier; without one, the day
    before the candidate's first evaluation session he is convened to; without either, uploads stay
    open while the evaluation has not taken place. `reason` is the French sentence shown when closed."""
    today = today or timezone.localdate()
    dossier = Dossier.objects.filter(candidate=candidate).first()
    if dossier is None or not dossier.is_frozen:
        return False, None, _("Le dépôt ouvrira lorsque le centre aura validé votre dossier d'évaluation.")
    closes_on = dossier.report_due_date
    if closes_on is None:
        first = first_evaluation_date(candidate)
        if first is not None:
            closes_on = first - timedelta(days=UPLOAD_CLOSES_DAYS_BEFORE_SESSION)
    if candidate.status not in (CandidateStatus.DOSSIER_VALIDATED, CandidateStatus.IN_EVALUATION):
        return False, closes_on, _("Le dépôt est clos : votre évaluation a eu lieu.")
    if closes_on is not None and today > closes_on:
        return (
            False,
            closes_on,
            _(
                "Le dépôt est clos depuis le %(date)s (date limite fixée par le centre). Pour toute "
                "pièce tardive, contactez votre centre de certification."
            )
            % {"date": long_date(closes_on)},
        )
    return True, closes_on, ""


@transaction.atomic
def upload_own_document(*, candidate, kind, uploaded_file, by):
    """The candidate uploads his report or an evidence file himself, before the deadline, through
    the same checks, hashing and storage as staff uploads; a new version keeps the older ones."""
    candidate = Candidate.objects.select_for_update().get(pk=candidate.pk)
    _check_own_candidate(by, candidate)
    if kind not in CANDIDATE_UPLOAD_KINDS:
        raise BusinessRuleError(
            _("Vous pouvez déposer votre rapport ou des éléments de preuve."), code="kind"
        )
    is_open, _closes_on, reason = own_upload_window(candidate)
    if not is_open:
        raise BusinessRuleError(reason, code="closed")
    document = _store_document(candidate=candidate, kind=kind, uploaded_file=uploaded_file, by=by)
    queue_email(
        to_email=candidate.email,
        recipient=by,
        subject=_("Accusé de réception de votre dépôt"),
        template="candidates_upload_receipt",
        context={"candidate": candidate, "document": document},
        kind="candidates.upload_receipt",
        dedup_key=f"candidate-upload-receipt-{document.pk}",
    )
    return document


def store_appeal_attachment(*, candidate, uploaded_file, by):
    """An attachment of the candidate's appeal: the same upload path (called by
    `deliberations.services.file_appeal`, inside its transaction)."""
    _check_own_candidate(by, candidate)
    return _store_document(candidate=candidate, kind=DocumentKind.APPEAL, uploaded_file=uploaded_file, by=by)
