"""State changes of the candidates app. Views, commands and other apps call these functions only.

Each function validates (raising `BusinessRuleError` with a French message), changes, audits (ids only,
never names) and queues side effects after commit.
"""

import logging

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import BusinessRuleError
from core.files import safe_filename, validate_upload
from core.services import audit
from referential.models import Certification, ModalityCode

from .models import (
    OPEN_STATUSES,
    PATHWAYS_WITHOUT_COMPANY,
    Candidate,
    CandidateDocument,
    CandidateStatus,
    CandidateStatusChange,
    Company,
    DocumentKind,
    Dossier,
    DossierCompetency,
    LegalBasis,
    Pathway,
    Tutor,
)
from .selectors import find_duplicates
from .signals import candidate_anonymised
from .validators import normalise_siret, validate_siret

logger = logging.getLogger(__name__)

S = CandidateStatus

# The candidate lifecycle (issue 4). Anything not listed here is refused.
TRANSITIONS = {
    S.REGISTERED: {S.DOSSIER_VALIDATED, S.WITHDRAWN},
    S.DOSSIER_VALIDATED: {S.IN_EVALUATION, S.WITHDRAWN},
    S.IN_EVALUATION: {S.AWAITING_DELIBERATION, S.WITHDRAWN},
    # Back to evaluation when a commission reopens a scoring sheet before the jury (reason required).
    S.AWAITING_DELIBERATION: {S.DELIBERATED, S.IN_EVALUATION, S.WITHDRAWN},
    S.DELIBERATED: set(),
    S.WITHDRAWN: set(),
}
# Transitions that need a written reason.
REASON_REQUIRED = {(S.AWAITING_DELIBERATION, S.IN_EVALUATION)} | {(s, S.WITHDRAWN) for s in OPEN_STATUSES}

# Fields a staff member may change after registration (the CQPM version is bound for good).
IDENTITY_FIELDS = (
    "birth_name",
    "usage_name",
    "first_names",
    "sex",
    "birth_date",
    "birth_place",
    "birth_country",
    "email",
    "phone",
    "address",
    "postcode",
    "city",
)
PATHWAY_FIELDS = ("pathway", "company", "tutor")


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


def _full_clean(instance, exclude=None):
    try:
        instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        messages = []
        for field, errors in exc.message_dict.items():
            label = instance._meta.get_field(field).verbose_name if field != "__all__" else ""
            messages.extend(f"{label} : {error}" if label else error for error in errors)
        raise BusinessRuleError(" ".join(messages), code="invalid") from exc


def _check_company_and_tutor(*, centre, pathway, company, tutor):
    if pathway not in Pathway.values:
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
    in_force = Certification.objects.in_force(certification.code)
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

    now = timezone.now()
    registered_on = registered_on or timezone.localdate()
    candidate = Candidate(
        centre=centre,
        certification=certification,
        birth_name=birth_name.strip(),
        usage_name=usage_name.strip(),
        first_names=first_names.strip(),
        sex=sex,
        birth_date=birth_date,
        birth_place=birth_place.strip(),
        birth_country=birth_country.strip(),
        email=email.strip(),
        phone=phone.strip(),
        address=address.strip(),
        postcode=postcode.strip(),
        city=city.strip(),
        pathway=pathway,
        company=company,
        tutor=tutor,
        registered_on=registered_on,
        status=CandidateStatus.REGISTERED,
        status_changed_at=now,
        legal_basis=legal_basis,
        consent_given_at=now if consent_given else None,
        previous_attempt=previous_attempt,
        created_by=by,
        reference="pending",
    )
    _full_clean(candidate, exclude=["reference"])
    for _attempt in range(5):
        candidate.reference = _next_reference(centre, registered_on.year)
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
        from deliberations.services import apply_capitalisation

        apply_capitalisation(candidate=candidate, actor=by)
    return candidate


def _deliberated_attempts(duplicates, certification):
    """Ids of the duplicates that are earlier attempts at the same CQPM, closed by a deliberation
    (most recent first)."""
    if not duplicates:
        return []
    from deliberations.selectors import deliberated_attempts

    return deliberated_attempts([d.pk for d in duplicates], certification.code)


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


@transaction.atomic
def transition(*, candidate, to_status, by, reason=""):
    """Move `candidate` to `to_status` if the lifecycle allows it; records who, when and why."""
    locked = Candidate.objects.select_for_update().select_related("centre").get(pk=candidate.pk)
    if by is not None and by.is_centre_staff:
        # Staff act only for their centres; other roles reach here through their own app's service,
        # which has already checked their scope (commission, jury).
        _check_staff_of(by, locked.centre)
    from_status = locked.status
    reason = (reason or "").strip()
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
    if applies and candidate.is_vae:
        raise BusinessRuleError(_("L'avis de l'entreprise ne s'applique jamais en VAE."), code="opinion_vae")
    if applies and candidate.tutor_id is None:
        raise BusinessRuleError(
            _("L'avis de l'entreprise suppose un tuteur : renseignez d'abord l'entreprise et le tuteur."),
            code="opinion_tutor",
        )


@transaction.atomic
def update_dossier(*, dossier, by, report_due_date, company_opinion_applies, items):
    """`items` maps DossierCompetency pk → {"modalities": [codes], "already_acquired": bool,
    "acquired_until": date|None}."""
    dossier = Dossier.objects.select_for_update().select_related("candidate__centre").get(pk=dossier.pk)
    candidate = dossier.candidate
    _check_staff_of(by, candidate.centre)
    _check_dossier_editable(dossier)
    _check_company_opinion(candidate, company_opinion_applies)
    allowed = set(allowed_modality_codes(candidate.certification))
    rows = {item.pk: item for item in dossier.items.select_related("competency")}
    if set(items) - set(rows):
        raise BusinessRuleError(_("Cette compétence n'appartient pas au dossier."), code="item")
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
        item.already_acquired = bool(values.get("already_acquired", False))
        item.acquired_until = values.get("acquired_until") if item.already_acquired else None
        if not item.already_acquired:
            item.acquired_on = None
        item.save(update_fields=["modalities", "already_acquired", "acquired_until", "acquired_on"])
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
    return dossier


# --- documents ------------------------------------------------------------------------------


@transaction.atomic
def upload_document(*, candidate, kind, uploaded_file, by):
    """Store a report or evidence file after checking its real content; nothing existing is replaced."""
    _check_staff_of(by, candidate.centre)
    if candidate.is_anonymised:
        raise BusinessRuleError(_("Ce candidat a été anonymisé."), code="anonymised")
    if kind not in DocumentKind.values:
        raise BusinessRuleError(_("Type de document inconnu."), code="kind")
    try:
        info = validate_upload(uploaded_file)
    except ValidationError as exc:
        raise BusinessRuleError(" ".join(exc.messages), code="upload") from exc
    now = timezone.now()
    due = Dossier.objects.filter(candidate=candidate).values_list("report_due_date", flat=True).first()
    is_late = kind == DocumentKind.REPORT and due is not None and timezone.localdate(now) > due
    document = CandidateDocument(
        candidate=candidate,
        kind=kind,
        original_name=safe_filename(uploaded_file.name),
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
    for field, value in changes.items():
        setattr(tutor, field, value.strip() if isinstance(value, str) else value)
    _full_clean(tutor, exclude=["user"])
    tutor.save()
    audit(actor=by, action="tutor.updated", target=tutor, centre=tutor.company.centre, fields=sorted(changes))
    return tutor


# --- RGPD -----------------------------------------------------------------------------------


def export_personal_data(*, candidate, by):
    """The machine-readable archive of everything held on one candidate (ZIP of JSON + documents)."""
    from .rgpd import build_candidate_archive

    _check_staff_of(by, candidate.centre)
    if candidate.is_anonymised:
        raise BusinessRuleError(_("Ce candidat a été anonymisé : il n'y a plus de données personnelles."))
    archive = build_candidate_archive(candidate)
    audit(actor=by, action="candidate.personal_data_exported", target=candidate, size=len(archive))
    return archive


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


def import_candidates(*, centre, rows, by, dry_run=False):
    """Register every row with exactly the registration rules; all or nothing.

    `rows` come from `importing.read_table` ([{"line": n, "values": {...}}]). Every row is tried (so the
    report lists all errors at once); if one fails, or with `dry_run`, the whole transaction is rolled
    back. Duplicates (with existing candidates or between rows) are errors: confirm them one by one in
    the registration form.
    """
    from .importing import ImportReport, RowResult, row_to_kwargs

    _check_staff_of(by, centre)
    report = ImportReport(rows=[])
    cache = {"certifications": {}, "companies": {}}
    with transaction.atomic():
        for row in rows:
            result = RowResult(line=row["line"], values=row["values"])
            report.rows.append(result)
            try:
                kwargs = row_to_kwargs(row["values"], centre=centre, cache=cache)
            except ValueError as exc:
                result.errors.extend(exc.args[0])
                continue
            try:
                with transaction.atomic():
                    candidate = register_candidate(centre=centre, by=by, **kwargs)
                result.reference = candidate.reference
            except DuplicateCandidateError:
                result.errors.append(
                    _("Doublon : un candidat de même nom, prénoms et date de naissance est déjà inscrit.")
                )
            except BusinessRuleError as exc:
                result.errors.append(exc.message)
        if dry_run or not report.is_valid:
            transaction.set_rollback(True)
        else:
            report.committed = True
            audit(actor=by, action="candidates.imported", centre=centre, count=len(report.rows))
    if not report.committed:
        for result in report.rows:
            result.reference = ""
    return report
