"""RGPD: the candidate's data export, right of access, rectification and anonymisation."""

import calendar
import hashlib
import logging

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import BusinessRuleError
from core.services import audit
from core.text import REASON_MAX, check_length

from ..models import (
    OPEN_STATUSES,
    AccessChannel,
    AccessRequest,
    AccessRequestKind,
    Candidate,
)
from ..rgpd import build_candidate_archive
from ..signals import candidate_anonymised
from .common import (
    _check_staff_of,
    _field_errors,
)
from .documents import (
    _check_own_candidate,
)

logger = logging.getLogger(__name__)

# --- RGPD -----------------------------------------------------------------------------------


def export_personal_data(*, candidate, by):
    """The machine-readable archive of everything held on one candidate (ZIP of JSON + documents)."""

    _check_staff_of(by, candidate.centre)
    if candidate.is_anonymised:
        raise BusinessRuleError(_("Ce candidat a été anonymisé : il n'y a plus de données personnelles."))
    archive = build_candidate_archive(candidate)
    audit(actor=by, action="candidate.personal_data_exported", target=candidate, size=len(archive))
    return archive


def export_own_personal_data(*, candidate, by):
    """The same archive, downloaded by the candidate himself from his space (his own data only)."""

    _check_own_candidate(by, candidate)
    archive = build_candidate_archive(candidate)
    audit(
        actor=by,
        action="candidate.personal_data_exported",
        target=candidate,
        size=len(archive),
        by_candidate=True,
    )
    return archive


# --- RGPD: right of access (issue 22, point 5) ----------------------------------------------


def access_due_on(received_on):
    """RGPD art. 12.3: the answer is due within one month of receipt (same day of the next month,
    the month's last day when it has no such day)."""
    month = received_on.month % 12 + 1
    year = received_on.year + (received_on.month == 12)
    return received_on.replace(
        year=year, month=month, day=min(received_on.day, calendar.monthrange(year, month)[1])
    )


@transaction.atomic
def record_access_request(*, candidate, by, requester, received_on, channel, identity_check):
    """Record a request of access to the candidate's personal data: who, when, through which
    channel, how the identity was verified; its deadline is computed (one month)."""
    _check_staff_of(by, candidate.centre)
    if candidate.is_anonymised:
        raise BusinessRuleError(_("Ce candidat a été anonymisé : il n'y a plus de données personnelles."))
    requester, identity_check = (requester or "").strip(), (identity_check or "").strip()
    if not requester or not identity_check:
        raise BusinessRuleError(_("Indiquez le demandeur et la façon dont son identité a été vérifiée."))
    if channel not in AccessChannel.values:
        raise BusinessRuleError(_("Indiquez comment la demande a été reçue."))
    if received_on is None or received_on > timezone.localdate():
        raise BusinessRuleError(_("La date de réception ne peut pas être postérieure à aujourd'hui."))
    access_request = AccessRequest(
        candidate=candidate,
        requester=requester,
        received_on=received_on,
        channel=channel,
        identity_check=identity_check,
        due_on=access_due_on(received_on),
        recorded_by=by,
    )
    errors = _field_errors(access_request, exclude=["candidate", "recorded_by"])
    if errors:
        raise BusinessRuleError(" ".join(message for _field, message in errors))
    access_request.save()
    audit(
        actor=by,
        action="rgpd.access_request_recorded",
        target=candidate,
        access_request_id=access_request.pk,
        received_on=received_on.isoformat(),
        due_on=access_request.due_on.isoformat(),
        channel=channel,
    )
    return access_request


@transaction.atomic
def produce_access_answer(*, access_request, by):
    """The answer is the candidate's personal-data export (ZIP): produced, its SHA-256 recorded
    with who and when (produced again, the last one is recorded). Returns the archive's bytes."""
    access_request = (
        AccessRequest.objects.select_for_update()
        .select_related("candidate__centre")
        .get(pk=access_request.pk)
    )
    archive = export_personal_data(candidate=access_request.candidate, by=by)
    access_request.answer_produced_at = timezone.now()
    access_request.answer_produced_by = by
    access_request.answer_sha256 = hashlib.sha256(archive).hexdigest()
    access_request.save(update_fields=["answer_produced_at", "answer_produced_by", "answer_sha256"])
    audit(
        actor=by,
        action="rgpd.access_answer_produced",
        target=access_request.candidate,
        access_request_id=access_request.pk,
        sha256=access_request.answer_sha256,
    )
    return archive


@transaction.atomic
def record_access_answer_sent(*, access_request, by, sent_on, channel):
    access_request = (
        AccessRequest.objects.select_for_update()
        .select_related("candidate__centre")
        .get(pk=access_request.pk)
    )
    _check_staff_of(by, access_request.candidate.centre)
    if access_request.kind == AccessRequestKind.ACCESS and access_request.answer_produced_at is None:
        raise BusinessRuleError(_("Produisez d'abord la réponse (l'export des données personnelles)."))
    if access_request.sent_on is not None:
        raise BusinessRuleError(_("L'envoi de la réponse est déjà enregistré."))
    if channel not in AccessChannel.values:
        raise BusinessRuleError(_("Indiquez comment la réponse a été envoyée."))
    earliest = (
        timezone.localdate(access_request.answer_produced_at)
        if access_request.answer_produced_at
        else access_request.received_on
    )
    if sent_on is None or sent_on > timezone.localdate() or sent_on < earliest:
        raise BusinessRuleError(
            _("La date d'envoi doit être comprise entre la production de la réponse et aujourd'hui.")
        )
    access_request.sent_on, access_request.sent_channel, access_request.sent_by = sent_on, channel, by
    access_request.save(update_fields=["sent_on", "sent_channel", "sent_by"])
    audit(
        actor=by,
        action="rgpd.access_answer_sent",
        target=access_request.candidate,
        access_request_id=access_request.pk,
        sent_on=sent_on.isoformat(),
        late=sent_on > access_request.due_on,
    )
    return access_request


@transaction.atomic
def request_rectification(*, candidate, by, details):
    """The candidate asks from his space for a correction of his data (RGPD art. 16): a request in
    the same register as the requests of access, received online today, answered within one month
    by staff (who correct the record, then record the answer sent)."""
    _check_own_candidate(by, candidate)
    details = (details or "").strip()
    if not details:
        raise BusinessRuleError(_("Indiquez les données à corriger et leur valeur exacte."), code="details")
    check_length(details, REASON_MAX, _("Données à corriger"))
    today = timezone.localdate()
    access_request = AccessRequest.objects.create(
        candidate=candidate,
        kind=AccessRequestKind.RECTIFICATION,
        details=details,
        requester=str(_("Le candidat (espace candidat)")),
        received_on=today,
        channel=AccessChannel.ONLINE,
        identity_check=str(_("Connexion authentifiée au compte personnel du candidat.")),
        due_on=access_due_on(today),
        recorded_by=by,
    )
    audit(
        actor=by,
        action="rgpd.rectification_requested",
        target=candidate,
        access_request_id=access_request.pk,
        due_on=access_request.due_on.isoformat(),
    )
    return access_request


ANONYMOUS_NAME = "ANONYME"


@transaction.atomic
def anonymise_candidate(*, candidate, by=None, reason="retention"):
    """Remove identity, contact and documents; keep what anonymous statistics and the jury's legal
    record need: centre, CQPM version, pathway, sex, birth year, dates, status, company, results
    (rows of the other apps pointing at the candidate are kept)."""
    candidate = Candidate.objects.select_for_update().get(pk=candidate.pk)
    if candidate.is_anonymised:
        return candidate
    if candidate.status in OPEN_STATUSES:
        raise BusinessRuleError(
            _("Un candidat dont le parcours est en cours ne peut pas être anonymisé."), code="open"
        )
    stored_files = []
    for document in candidate.documents.all():
        if document.file:
            stored_files.append((document.file.storage, document.file.name))
    document_count = candidate.documents.count()
    candidate.documents.all().delete()
    candidate.birth_name = ANONYMOUS_NAME
    candidate.usage_name = ""
    candidate.first_names = ""
    # Only the birth year is kept (age statistics): the date becomes 1 January of that year.
    candidate.birth_date = candidate.birth_date.replace(month=1, day=1)
    candidate.birth_place = ""
    candidate.birth_country = ""
    candidate.birth_insee_code = ""
    candidate.birth_postcode = ""
    candidate.email = ""
    candidate.phone = ""
    candidate.address = ""
    candidate.postcode = ""
    candidate.city = ""
    candidate.tutor = None
    candidate.consent_given_at = None
    candidate.anonymised_at = timezone.now()
    candidate.save()
    # Free-text reasons may name the person.
    candidate.status_changes.exclude(reason="").update(reason="")
    # The register of access requests stays (proof the requests were answered), without names.
    candidate.access_requests.update(requester=ANONYMOUS_NAME, identity_check="")
    audit(
        actor=by,
        action="candidate.anonymised",
        target=candidate,
        message=f"Anonymisation {candidate.reference}",
        reason=reason,
        documents_deleted=document_count,
    )
    candidate_anonymised.send(sender=Candidate, candidate=candidate)

    def delete_files():
        for storage, name in stored_files:
            try:
                storage.delete(name)
            except OSError:
                logger.warning("Could not delete a stored file of anonymised candidate %s", candidate.pk)

    transaction.on_commit(delete_files)
    return candidate
