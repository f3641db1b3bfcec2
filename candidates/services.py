"""State changes of the candidates app. Views, commands and other apps call these functions only.

Each function validates (raising `BusinessRuleError` with a French message), changes, audits (ids only,
never names) and queues side effects after commit.
"""

import calendar
import datetime
import hashlib
import logging
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Q
from django.db.models.functions import Left
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from core.dates import long_date
from core.exceptions import BusinessRuleError
from core.files import safe_filename, validate_upload
from core.services import audit, identity_changes, notify_email_changed, queue_email, safe_delay
from core.text import REASON_MAX, check_length
from referential.models import Certification, Competency, ModalityCode

from . import attempts, importing, tasks
from .importing import (
    ImportFileError,
    ImportReport,
    Problem,
    RowResult,
    parse_row,
    prefetch_lookups,
    read_table,
)
from .models import (
    CANDIDATE_UPLOAD_KINDS,
    OPEN_STATUSES,
    PATHWAYS_WITHOUT_COMPANY,
    AccessChannel,
    AccessRequest,
    AccessRequestKind,
    Candidate,
    CandidateDocument,
    CandidateStatus,
    CandidateStatusChange,
    Company,
    DocumentKind,
    Dossier,
    DossierCompetency,
    ImportJob,
    ImportJobStatus,
    LegalBasis,
    Pathway,
    Tutor,
)
from .rgpd import build_candidate_archive
from .selectors import find_duplicates, normalise_name
from .signals import candidate_anonymised, dossier_validated
from .validators import normalise_siret, validate_siret

logger = logging.getLogger(__name__)

S = CandidateStatus
PATHWAY_VALUES = frozenset(Pathway.values)

# The candidate lifecycle (issue 4). Anything not listed here is refused.
TRANSITIONS = {
    S.REGISTERED: {S.DOSSIER_VALIDATED, S.WITHDRAWN},
    # Back to « inscrit » only by reopening the dossier before any evaluation (reopen_dossier).
    S.DOSSIER_VALIDATED: {S.IN_EVALUATION, S.WITHDRAWN, S.REGISTERED},
    S.IN_EVALUATION: {S.AWAITING_DELIBERATION, S.WITHDRAWN},
    # Back to evaluation when a commission reopens a scoring sheet before the jury (reason required).
    S.AWAITING_DELIBERATION: {S.DELIBERATED, S.IN_EVALUATION, S.WITHDRAWN},
    S.DELIBERATED: set(),
    S.WITHDRAWN: set(),
}
# Transitions that need a written reason.
REASON_REQUIRED = {(S.AWAITING_DELIBERATION, S.IN_EVALUATION), (S.DOSSIER_VALIDATED, S.REGISTERED)} | {
    (s, S.WITHDRAWN) for s in OPEN_STATUSES
}

# Fields a staff member may change after registration (the CQPM version is bound for good).
IDENTITY_FIELDS = (
    "birth_name",
    "usage_name",
    "first_names",
    "sex",
    "birth_date",
    "birth_place",
    "birth_country",
    "birth_insee_code",
    "birth_postcode",
    "email",
    "phone",
    "address",
    "postcode",
    "city",
)
PATHWAY_FIELDS = ("pathway", "company", "tutor")
CODE_FIELDS = ("birth_insee_code", "birth_postcode")  # stored upper-case (2A004)


class DuplicateCandidateError(BusinessRuleError):
    """Someone with the same birth name, first names and birth date is already registered in the centre."""

    def __init__(self, duplicates):
        super().__init__(
            _(
                "Un candidat portant les mêmes nom de naissance, prénoms et date de naissance est déjà inscrit "
                "dans ce centre. Vérifiez qu'il ne s'agit pas d'un doublon, puis confirmez l'inscription."
            ),
            code="duplicate",
        )
        self.duplicates = duplicates


# --- helpers --------------------------------------------------------------------------------


def _check_staff_of(user, centre):
    """Defence in depth: views already scope objects, services refuse a foreign centre anyway."""
    if user is None:  # management commands and tasks
        return
    if not (user.is_centre_staff and centre.pk in user.centre_ids()):
        raise BusinessRuleError(_("Vous n'intervenez pas pour ce centre de certification."), code="centre")


def _field_errors(instance, exclude=None):
    """[(field, "label : message")] of the model's own field checks (lengths, formats, choices)."""
    try:
        instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        found = []
        for field, errors in exc.message_dict.items():
            label = instance._meta.get_field(field).verbose_name if field != "__all__" else ""
            found.extend((field, f"{label} : {error}" if label else error) for error in errors)
        return found
    return []


def _full_clean(instance, exclude=None):
    errors = _field_errors(instance, exclude=exclude)
    if errors:
        raise BusinessRuleError(" ".join(message for _field, message in errors), code="invalid")


def _check_company_and_tutor(*, centre, pathway, company, tutor):
    if pathway not in PATHWAY_VALUES:
        raise BusinessRuleError(_("Parcours inconnu."), code="pathway")
    if pathway not in PATHWAYS_WITHOUT_COMPANY and (company is None or tutor is None):
        raise BusinessRuleError(
            _(
                "L'entreprise et le tuteur sont obligatoires pour ce parcours (sauf demandeur d'emploi et VAE)."
            ),
            code="company_required",
        )
    if company is not None and company.centre_id != centre.pk:
        raise BusinessRuleError(_("Cette entreprise n'est pas rattachée à ce centre."), code="company_centre")
    if tutor is not None:
        if company is None:
            raise BusinessRuleError(_("Choisissez l'entreprise du tuteur."), code="tutor_company")
        if tutor.company_id != company.pk:
            raise BusinessRuleError(
                _("Ce tuteur n'appartient pas à l'entreprise choisie."), code="tutor_company"
            )


def _next_reference(centre, year):
    prefix = f"{centre.code.upper()}-{year}-"
    last = (
        Candidate.objects.filter(reference__startswith=prefix)
        .order_by("-reference")
        .values_list("reference", flat=True)
        .first()
    )
    number = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{number:05d}"


def _record_status(candidate, *, from_status, to_status, by, reason):
    CandidateStatusChange.objects.create(
        candidate=candidate, from_status=from_status, to_status=to_status, by=by, reason=reason
    )


def allowed_modality_codes(certification):
    """The modalities the candidate's CQPM version allows (referential §3.2)."""
    return list(certification.modalities.values_list("code", flat=True))


def _default_company_opinion(candidate):
    # Seed §3.2: the company's opinion, except in VAE; someone must give it (a tutor).
    return not candidate.is_vae and candidate.tutor_id is not None


def create_dossier(candidate):
    """The dossier with one item per competency of the candidate's CQPM version (idempotent)."""
    dossier, _created = Dossier.objects.get_or_create(
        candidate=candidate, defaults={"company_opinion_applies": _default_company_opinion(candidate)}
    )
    existing = set(dossier.items.values_list("competency_id", flat=True))
    DossierCompetency.objects.bulk_create(
        [
            DossierCompetency(dossier=dossier, competency=competency, modalities=[])
            for competency in candidate.certification.competencies.all()
            if competency.pk not in existing
        ]
    )
    return dossier


# --- registration ---------------------------------------------------------------------------


def check_registration(
    *,
    centre,
    certification,
    in_force,
    pathway,
    company,
    tutor,
    legal_basis,
    consent_given,
    previous_attempt=None,
):
    """The registration rules that need no query (the form and the import both apply them):
    `in_force` is the version in force of the CQPM's code, looked up by the caller."""
    if in_force is None or in_force.pk != certification.pk:
        raise BusinessRuleError(
            _(
                "Le candidat ne peut être inscrit que sur la version en vigueur (publiée) du CQPM « %(code)s »."
            )
            % {"code": certification.code},
            code="certification_not_in_force",
        )
    _check_company_and_tutor(centre=centre, pathway=pathway, company=company, tutor=tutor)
    if legal_basis == LegalBasis.CONSENT and not consent_given:
        raise BusinessRuleError(
            _(
                "La base légale choisie est le consentement : cochez que le candidat a donné son consentement."
            ),
            code="consent",
        )
    if previous_attempt is not None and previous_attempt.centre_id != centre.pk:
        raise BusinessRuleError(_("La tentative précédente doit appartenir au même centre."), code="previous")


def new_candidate(
    *,
    centre,
    certification,
    by,
    now,
    birth_name,
    first_names,
    sex,
    birth_date,
    pathway,
    usage_name="",
    birth_place="",
    birth_country="France",
    birth_insee_code="",
    birth_postcode="",
    email="",
    phone="",
    address="",
    postcode="",
    city="",
    company=None,
    tutor=None,
    registered_on=None,
    legal_basis=LegalBasis.CONTRACT,
    consent_given=False,
    previous_attempt=None,
):
    """The unsaved candidate of a registration (reference still to allocate)."""
    return Candidate(
        centre=centre,
        certification=certification,
        birth_name=birth_name.strip(),
        usage_name=usage_name.strip(),
        first_names=first_names.strip(),
        sex=sex,
        birth_date=birth_date,
        birth_place=birth_place.strip(),
        birth_country=birth_country.strip(),
        birth_insee_code=birth_insee_code.strip().upper(),
        birth_postcode=birth_postcode.strip().upper(),
        email=email.strip(),
        phone=phone.strip(),
        address=address.strip(),
        postcode=postcode.strip(),
        city=city.strip(),
        pathway=pathway,
        company=company,
        tutor=tutor,
        registered_on=registered_on or timezone.localdate(now),
        status=CandidateStatus.REGISTERED,
        status_changed_at=now,
        legal_basis=legal_basis,
        consent_given_at=now if consent_given else None,
        previous_attempt=previous_attempt,
        created_by=by,
        reference="pending",
    )


@transaction.atomic
def register_candidate(
    *,
    centre,
    certification,
    by,
    birth_name,
    first_names,
    sex,
    birth_date,
    pathway,
    usage_name="",
    birth_place="",
    birth_country="France",
    birth_insee_code="",
    birth_postcode="",
    email="",
    phone="",
    address="",
    postcode="",
    city="",
    company=None,
    tutor=None,
    registered_on=None,
    legal_basis=LegalBasis.CONTRACT,
    consent_given=False,
    previous_attempt=None,
    confirm_duplicate=False,
):
    """« Inscription préalable »: bind the candidate to the version in force of the chosen CQPM."""
    _check_staff_of(by, centre)
    check_registration(
        centre=centre,
        certification=certification,
        in_force=Certification.objects.in_force(certification.code),
        pathway=pathway,
        company=company,
        tutor=tutor,
        legal_basis=legal_basis,
        consent_given=consent_given,
        previous_attempt=previous_attempt,
    )
    duplicates = find_duplicates(
        centre=centre, birth_name=birth_name, first_names=first_names, birth_date=birth_date
    )
    # A new attempt of the same person for the same CQPM after a closed deliberation is not a
    # duplicate: it is linked to the previous attempt and starts with what was capitalised.
    earlier_attempts = _deliberated_attempts(duplicates, certification)
    if previous_attempt is None and earlier_attempts:
        previous_attempt = next(d for d in duplicates if d.pk == earlier_attempts[0])
    blocking = [d for d in duplicates if d.pk not in earlier_attempts]
    if blocking and not confirm_duplicate:
        raise DuplicateCandidateError(blocking)

    candidate = new_candidate(
        centre=centre,
        certification=certification,
        by=by,
        now=timezone.now(),
        birth_name=birth_name,
        first_names=first_names,
        sex=sex,
        birth_date=birth_date,
        pathway=pathway,
        usage_name=usage_name,
        birth_place=birth_place,
        birth_country=birth_country,
        birth_insee_code=birth_insee_code,
        birth_postcode=birth_postcode,
        email=email,
        phone=phone,
        address=address,
        postcode=postcode,
        city=city,
        company=company,
        tutor=tutor,
        registered_on=registered_on,
        legal_basis=legal_basis,
        consent_given=consent_given,
        previous_attempt=previous_attempt,
    )
    _full_clean(candidate, exclude=["reference"])
    for _attempt in range(5):
        candidate.reference = _next_reference(centre, candidate.registered_on.year)
        try:
            with transaction.atomic():
                candidate.save()
            break
        except IntegrityError:  # a concurrent registration took the number: take the next one
            candidate.pk = None
            continue
    else:
        raise BusinessRuleError(_("Impossible d'attribuer une référence, réessayez."), code="reference")
    _record_status(candidate, from_status="", to_status=CandidateStatus.REGISTERED, by=by, reason="")
    create_dossier(candidate)
    audit(
        actor=by,
        action="candidate.registered",
        target=candidate,
        message=f"Inscription {candidate.reference}",
        certification_id=certification.pk,
        pathway=pathway,
        duplicate_of=[d.pk for d in blocking],
        previous_attempt_id=candidate.previous_attempt_id,
    )
    if candidate.previous_attempt_id is not None:
        # Same transaction, once the candidate and its dossier rows exist: a failed registration
        # leaves no capitalisation behind. The jury's award rules read the records anyway.
        attempts.reattempt_registered.send(sender=Candidate, candidate=candidate, actor=by)
    return candidate


def _deliberated_attempts(duplicates, certification):
    """Ids of the duplicates that are earlier attempts at the same CQPM, closed by a deliberation
    (most recent first)."""
    if not duplicates:
        return []
    return attempts.deliberated_attempts([d.pk for d in duplicates], certification.code)


@transaction.atomic
def update_candidate(*, candidate, by, **changes):
    """Change identity, contact and — while the dossier is not validated — pathway, company, tutor."""
    candidate = Candidate.objects.select_for_update().get(pk=candidate.pk)
    _check_staff_of(by, candidate.centre)
    if candidate.is_anonymised:
        raise BusinessRuleError(
            _("Ce candidat a été anonymisé : il ne peut plus être modifié."), code="anonymised"
        )
    unknown = set(changes) - set(IDENTITY_FIELDS) - set(PATHWAY_FIELDS)
    if unknown:
        raise BusinessRuleError(_("Ces informations ne peuvent pas être modifiées."), code="fields")
    dossier = getattr(candidate, "dossier", None)
    pathway_changed = any(
        field in changes and getattr(candidate, field) != changes[field] for field in PATHWAY_FIELDS
    )
    if pathway_changed and dossier is not None and dossier.is_frozen:
        raise BusinessRuleError(
            _(
                "Le dossier d'évaluation est validé : le parcours, l'entreprise et le tuteur ne peuvent plus changer."
            ),
            code="dossier_frozen",
        )
    changed = []
    for field, value in changes.items():
        if isinstance(value, str):
            value = value.strip()
        if field in CODE_FIELDS:
            value = value.upper()
        if getattr(candidate, field) != value:
            setattr(candidate, field, value)
            changed.append(field)
    if not changed:
        return candidate
    _check_company_and_tutor(
        centre=candidate.centre, pathway=candidate.pathway, company=candidate.company, tutor=candidate.tutor
    )
    _full_clean(candidate)
    candidate.save()
    if pathway_changed and dossier is not None and not _default_company_opinion(candidate):
        dossier.company_opinion_applies = False
        dossier.save(update_fields=["company_opinion_applies", "updated_at"])
    audit(actor=by, action="candidate.updated", target=candidate, fields=sorted(changed))
    return candidate


# --- lifecycle ------------------------------------------------------------------------------


def allowed_transitions(candidate):
    return sorted(TRANSITIONS.get(candidate.status, set()), key=list(CandidateStatus.values).index)


# « Changer le statut » (issue 16): by hand, staff only withdraw a candidate (reason required). Every
# other status follows the process, through the service that checks it: the page says which.
MANUAL_STATUSES = (S.WITHDRAWN,)
PROCESS_STEPS = {
    S.REGISTERED: _lazy(
        "Le statut « Inscrit » n'est pas à choisir : il revient en rouvrant le dossier d'évaluation, motif à "
        "l'appui."
    ),
    S.DOSSIER_VALIDATED: _lazy(
        "Le statut « Dossier validé » est atteint en validant le dossier d'évaluation."
    ),
    S.IN_EVALUATION: _lazy(
        "Le statut « En évaluation » est atteint en convoquant le candidat à une session d'évaluation "
        "(ou en rouvrant une fiche de notation, motif à l'appui)."
    ),
    S.AWAITING_DELIBERATION: _lazy(
        "Le statut « En attente de délibération » est atteint quand la commission a fait une proposition "
        "pour chaque compétence évaluée : il ne se choisit pas à la main."
    ),
    S.DELIBERATED: _lazy("Le statut « Délibéré » est atteint à la clôture de la délibération du jury."),
}


def manual_transitions(candidate):
    """The statuses staff may choose by hand for `candidate` (the withdrawal while it is open)."""
    return [status for status in allowed_transitions(candidate) if status in MANUAL_STATUSES]


@transaction.atomic
def change_status_by_hand(*, candidate, to_status, by, reason):
    """« Changer le statut »: only a withdrawal, with a reason; the process statuses are refused with
    the step that reaches them."""
    if to_status in PROCESS_STEPS:
        raise BusinessRuleError(str(PROCESS_STEPS[to_status]), code="process_step")
    if to_status not in CandidateStatus.values:
        raise BusinessRuleError(_("Choisissez le nouveau statut."), code="unknown_status")
    if not (reason or "").strip():
        raise BusinessRuleError(_("Indiquez le motif de ce changement de statut."), code="reason_required")
    return transition(candidate=candidate, to_status=to_status, by=by, reason=reason)


@transaction.atomic
def transition(*, candidate, to_status, by, reason=""):
    """Move `candidate` to `to_status` if the lifecycle allows it; records who, when and why."""
    locked = Candidate.objects.select_for_update().select_related("centre").get(pk=candidate.pk)
    if by is not None and by.is_centre_staff:
        # Staff act only for their centres; other roles reach here through their own app's service,
        # which has already checked their scope (commission, jury).
        _check_staff_of(by, locked.centre)
    from_status = locked.status
    reason = check_length(reason, REASON_MAX, _("Motif")).strip()
    if to_status not in CandidateStatus.values:
        raise BusinessRuleError(_("Statut inconnu."), code="unknown_status")
    if locked.is_anonymised:
        raise BusinessRuleError(
            _("Ce candidat a été anonymisé : son statut ne peut plus changer."), code="anonymised"
        )
    if to_status not in TRANSITIONS[from_status]:
        raise BusinessRuleError(
            _("Changement de statut impossible : un candidat « %(from)s » ne peut pas passer à « %(to)s ».")
            % {"from": CandidateStatus(from_status).label, "to": CandidateStatus(to_status).label},
            code="illegal_transition",
        )
    if (from_status, to_status) in REASON_REQUIRED and not reason:
        raise BusinessRuleError(_("Indiquez le motif de ce changement de statut."), code="reason_required")
    if to_status == CandidateStatus.DOSSIER_VALIDATED:
        dossier = Dossier.objects.filter(candidate=locked).first()
        if dossier is None or not dossier.is_frozen:
            raise BusinessRuleError(
                _("Le dossier d'évaluation doit d'abord être validé."), code="dossier_not_validated"
            )
    if (
        to_status == CandidateStatus.REGISTERED
        and Dossier.objects.filter(candidate=locked, validated_at__isnull=False).exists()
    ):
        raise BusinessRuleError(
            _("Pour revenir au statut « Inscrit », rouvrez le dossier d'évaluation."), code="dossier_frozen"
        )
    locked.status = to_status
    locked.status_changed_at = timezone.now()
    locked.save(update_fields=["status", "status_changed_at"])
    _record_status(locked, from_status=from_status, to_status=to_status, by=by, reason=reason)
    audit(
        actor=by,
        action="candidate.status_changed",
        target=locked,
        message=f"{locked.reference} : {from_status} → {to_status}",
        from_status=from_status,
        to_status=to_status,
    )
    candidate.status = locked.status
    candidate.status_changed_at = locked.status_changed_at
    return candidate


def start_evaluation(*, candidate, by, reason=""):
    """Dossier validated → in evaluation (called by `evaluations` when the candidate is convened)."""
    return transition(candidate=candidate, to_status=CandidateStatus.IN_EVALUATION, by=by, reason=reason)


def mark_awaiting_deliberation(*, candidate, by, reason=""):
    """In evaluation → awaiting deliberation (every competency has a commission proposal)."""
    return transition(
        candidate=candidate, to_status=CandidateStatus.AWAITING_DELIBERATION, by=by, reason=reason
    )


def reopen_evaluation(*, candidate, by, reason):
    """Awaiting deliberation → in evaluation (a sheet was reopened); the reason is required."""
    return transition(candidate=candidate, to_status=CandidateStatus.IN_EVALUATION, by=by, reason=reason)


def mark_deliberated(*, candidate, by, reason=""):
    """Awaiting deliberation → deliberated (called by `deliberations` when the session closes)."""
    return transition(candidate=candidate, to_status=CandidateStatus.DELIBERATED, by=by, reason=reason)


def withdraw_candidate(*, candidate, by, reason):
    """Any open state → withdrawn; the reason is required."""
    return transition(candidate=candidate, to_status=CandidateStatus.WITHDRAWN, by=by, reason=reason)


# --- evaluation dossier ---------------------------------------------------------------------


def _check_dossier_editable(dossier):
    if dossier.is_frozen:
        raise BusinessRuleError(
            _("Le dossier d'évaluation est validé : il ne peut plus être modifié."), code="dossier_frozen"
        )
    if dossier.candidate.is_anonymised or dossier.candidate.status != CandidateStatus.REGISTERED:
        raise BusinessRuleError(
            _("Le dossier ne peut être modifié que pour un candidat au statut « Inscrit »."), code="status"
        )


def _check_company_opinion(candidate, applies):
    """Seed §3.2: the company gives its opinion except in VAE; a pathway without a company has
    nobody to give it. Waiving it in any other case is refused (issue 22, point 2)."""
    if applies and candidate.is_vae:
        raise BusinessRuleError(_("L'avis de l'entreprise ne s'applique jamais en VAE."), code="opinion_vae")
    if not applies and not candidate.is_vae and candidate.company_id is not None:
        raise BusinessRuleError(
            _(
                "L'avis de l'entreprise est requis pour ce candidat (référentiel §3.2) : il ne peut être "
                "écarté qu'en VAE ou pour un parcours sans entreprise."
            ),
            code="opinion_required",
        )
    if applies and candidate.tutor_id is None:
        raise BusinessRuleError(
            _("L'avis de l'entreprise suppose un tuteur : renseignez d'abord l'entreprise et le tuteur."),
            code="opinion_tutor",
        )


@transaction.atomic
def update_dossier(*, dossier, by, report_due_date, company_opinion_applies, items):
    """`items` maps DossierCompetency pk → {"modalities": [codes]}.

    Whether a competency is already acquired is not an input: only a deliberation makes it so (ours,
    or an earlier one recorded with its PV — `deliberations.services.record_prior_deliberation`),
    and the dossier mirrors the capitalisation records (issue 22, point 1)."""
    dossier = Dossier.objects.select_for_update().select_related("candidate__centre").get(pk=dossier.pk)
    candidate = dossier.candidate
    _check_staff_of(by, candidate.centre)
    _check_dossier_editable(dossier)
    _check_company_opinion(candidate, company_opinion_applies)
    allowed = set(allowed_modality_codes(candidate.certification))
    rows = {item.pk: item for item in dossier.items.select_related("competency")}
    if set(items) - set(rows):
        raise BusinessRuleError(_("Cette compétence n'appartient pas au dossier."), code="item")
    if any("already_acquired" in values or "acquired_until" in values for values in items.values()):
        raise BusinessRuleError(
            _(
                "Une compétence n'est acquise que par une délibération : enregistrez la délibération "
                "antérieure (avec son PV) sur la fiche du candidat."
            ),
            code="acquired_by_deliberation",
        )
    for pk, values in items.items():
        item = rows[pk]
        modalities = list(dict.fromkeys(values.get("modalities", [])))
        refused = [code for code in modalities if code not in allowed]
        if refused:
            raise BusinessRuleError(
                _("Compétence %(number)s : modalité non prévue par le référentiel de ce CQPM.")
                % {"number": item.competency.number},
                code="modality",
            )
        item.modalities = modalities
        item.save(update_fields=["modalities"])
    dossier.report_due_date = report_due_date
    dossier.company_opinion_applies = company_opinion_applies
    dossier.save(update_fields=["report_due_date", "company_opinion_applies", "updated_at"])
    audit(
        actor=by, action="dossier.updated", target=candidate, centre=candidate.centre, dossier_id=dossier.pk
    )
    return dossier


@transaction.atomic
def validate_dossier(*, dossier, by):
    """Staff validate the dossier: it is frozen and the candidate moves to « dossier validé »."""
    dossier = Dossier.objects.select_for_update().select_related("candidate__centre").get(pk=dossier.pk)
    candidate = dossier.candidate
    _check_staff_of(by, candidate.centre)
    _check_dossier_editable(dossier)
    _check_company_opinion(candidate, dossier.company_opinion_applies)
    items = list(dossier.items.select_related("competency"))
    to_evaluate = [item for item in items if not item.already_acquired]
    if not to_evaluate:
        raise BusinessRuleError(_("Aucune compétence n'est à évaluer dans ce dossier."), code="empty")
    missing = [str(item.competency.number) for item in to_evaluate if not item.modalities]
    if missing:
        raise BusinessRuleError(
            _("Choisissez au moins une modalité d'évaluation pour les compétences : %(numbers)s.")
            % {"numbers": ", ".join(missing)},
            code="modality_missing",
        )
    allowed = set(allowed_modality_codes(candidate.certification))
    if any(code not in allowed for item in to_evaluate for code in item.modalities):
        raise BusinessRuleError(
            _("Une modalité choisie n'est pas prévue par le référentiel."), code="modality"
        )
    needs_report = any(ModalityCode.PROJECT_PRESENTATION in item.modalities for item in to_evaluate)
    if needs_report and dossier.report_due_date is None:
        raise BusinessRuleError(
            _("Une présentation de projet est prévue : fixez la date limite de remise du rapport."),
            code="report_due_date",
        )
    dossier.validated_at = timezone.now()
    dossier.validated_by = by
    dossier.save(update_fields=["validated_at", "validated_by", "updated_at"])
    audit(
        actor=by, action="dossier.validated", target=candidate, centre=candidate.centre, dossier_id=dossier.pk
    )
    transition(candidate=candidate, to_status=CandidateStatus.DOSSIER_VALIDATED, by=by)
    dossier_validated.send(sender=Candidate, candidate=candidate, by=by)
    return dossier


# Checks the apps above add to `dossier_reopen_obstacle` (evaluations: the company opinion was asked):
# `check(candidate)` → a French reason, or "".
_REOPEN_CHECKS = []


def register_reopen_check(check):
    """Called from an app's `AppConfig.ready`: its reason to keep a validated dossier closed."""
    if check not in _REOPEN_CHECKS:
        _REOPEN_CHECKS.append(check)
    return check


def dossier_reopen_obstacle(*, candidate, dossier_frozen):
    """Why the validated dossier of `candidate` cannot be reopened, or "" when it can: only before any
    evaluation (not convened yet) and before the tutor was asked for the company opinion (his opinions
    follow the dossier's competencies; `evaluations` registers that check). One query, and only for a
    candidate that could qualify."""
    if not dossier_frozen:
        return _("Le dossier d'évaluation n'est pas validé.")
    if candidate.is_anonymised:
        return _("Ce candidat a été anonymisé : il ne peut plus être modifié.")
    if candidate.status != CandidateStatus.DOSSIER_VALIDATED:
        return _(
            "Le dossier ne peut être rouvert que tant que le candidat n'est pas convoqué (statut « Dossier validé »)."
        )
    for check in _REOPEN_CHECKS:
        reason = check(candidate)
        if reason:
            return reason
    return ""


@transaction.atomic
def reopen_dossier(*, dossier, by, reason):
    """Staff unfreeze a validated dossier to correct it (modalities, competencies already acquired,
    report date): the candidate goes back to « inscrit », the reason is kept in his status history."""
    dossier = Dossier.objects.select_for_update().select_related("candidate__centre").get(pk=dossier.pk)
    candidate = dossier.candidate
    _check_staff_of(by, candidate.centre)
    reason = (reason or "").strip()
    if not reason:
        raise BusinessRuleError(_("Indiquez le motif de la réouverture du dossier."), code="reason_required")
    obstacle = dossier_reopen_obstacle(candidate=candidate, dossier_frozen=dossier.is_frozen)
    if obstacle:
        raise BusinessRuleError(obstacle, code="not_reopenable")
    dossier.validated_at = None
    dossier.validated_by = None
    dossier.save(update_fields=["validated_at", "validated_by", "updated_at"])
    audit(
        actor=by, action="dossier.reopened", target=candidate, centre=candidate.centre, dossier_id=dossier.pk
    )
    transition(candidate=candidate, to_status=CandidateStatus.REGISTERED, by=by, reason=reason)
    return dossier


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


def record_document_download(*, document, by, ip_address=None):
    """Access to a candidate's file is personal-data access: it is journaled (RGPD)."""
    audit(
        actor=by,
        action="candidate_document.downloaded",
        target=document.candidate,
        ip_address=ip_address,
        document_id=document.pk,
    )


# --- companies and tutors -------------------------------------------------------------------


@transaction.atomic
def create_company(*, centre, by, name, siret, address="", postcode="", city="", opco=""):
    _check_staff_of(by, centre)
    siret = normalise_siret(siret)
    try:
        validate_siret(siret)
    except ValidationError as exc:
        raise BusinessRuleError(" ".join(exc.messages), code="siret") from exc
    if Company.objects.filter(centre=centre, siret=siret).exists():
        raise BusinessRuleError(
            _("Une entreprise avec ce SIRET existe déjà dans ce centre."), code="siret_taken"
        )
    company = Company(
        centre=centre,
        name=name.strip(),
        siret=siret,
        address=address,
        postcode=postcode,
        city=city,
        opco=opco,
    )
    _full_clean(company)
    company.save()
    audit(actor=by, action="company.created", target=company)
    return company


@transaction.atomic
def update_company(*, company, by, **changes):
    _check_staff_of(by, company.centre)
    allowed = {"name", "siret", "address", "postcode", "city", "opco"}
    if set(changes) - allowed:
        raise BusinessRuleError(_("Ces informations ne peuvent pas être modifiées."), code="fields")
    if "siret" in changes:
        changes["siret"] = normalise_siret(changes["siret"])
        if (
            Company.objects.filter(centre=company.centre, siret=changes["siret"])
            .exclude(pk=company.pk)
            .exists()
        ):
            raise BusinessRuleError(
                _("Une entreprise avec ce SIRET existe déjà dans ce centre."), code="siret_taken"
            )
    for field, value in changes.items():
        setattr(company, field, value.strip() if isinstance(value, str) else value)
    _full_clean(company)
    company.save()
    audit(actor=by, action="company.updated", target=company, fields=sorted(changes))
    return company


@transaction.atomic
def create_tutor(*, company, by, first_name, last_name, email, function="", phone=""):
    _check_staff_of(by, company.centre)
    tutor = Tutor(
        company=company,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        email=email.strip(),
        function=function.strip(),
        phone=phone.strip(),
    )
    _full_clean(tutor, exclude=["user"])
    tutor.save()
    audit(actor=by, action="tutor.created", target=tutor, centre=company.centre, company_id=company.pk)
    return tutor


@transaction.atomic
def update_tutor(*, tutor, by, **changes):
    _check_staff_of(by, tutor.company.centre)
    allowed = {"first_name", "last_name", "email", "function", "phone"}
    if set(changes) - allowed:
        raise BusinessRuleError(_("Ces informations ne peuvent pas être modifiées."), code="fields")
    before = {field: getattr(tutor, field) for field in TUTOR_IDENTITY_FIELDS}
    for field, value in changes.items():
        setattr(tutor, field, value.strip() if isinstance(value, str) else value)
    _full_clean(tutor, exclude=["user"])
    tutor.save()
    after = {field: getattr(tutor, field) for field in TUTOR_IDENTITY_FIELDS}
    identity = identity_changes(before, after, TUTOR_IDENTITY_FIELDS)
    audit(
        actor=by,
        action="tutor.updated",
        target=tutor,
        centre=tutor.company.centre,
        fields=sorted(changes),
        changes=identity,
    )
    if "email" in identity:
        # The tutor's invitations go to this address: the previous one learns of the change.
        notify_email_changed(
            old_email=before["email"],
            subject_label=_("votre fiche de tuteur (entreprise %(company)s)")
            % {"company": tutor.company.name},
            recipient_name=f"{tutor.first_name} {tutor.last_name}",
            centre_name=tutor.company.centre.name,
        )
    return tutor


# Changes of these fields are journaled with their old and new values (traceability of an address
# diverted to take an account over, SECURITY.md).
TUTOR_IDENTITY_FIELDS = ("first_name", "last_name", "email", "phone")


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
