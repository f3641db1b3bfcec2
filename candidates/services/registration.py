"""Registration of a candidate and changes of his identity, pathway and CQPM modalities."""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import BusinessRuleError
from core.services import audit
from referential.models import Certification

from .. import attempts
from ..models import (
    Candidate,
    CandidateStatus,
    Dossier,
    DossierCompetency,
    LegalBasis,
)
from ..selectors import find_duplicates
from .common import (
    CODE_FIELDS,
    IDENTITY_FIELDS,
    PATHWAY_FIELDS,
    DuplicateCandidateError,
    _check_company_and_tutor,
    _check_staff_of,
    _full_clean,
    _next_reference,
    _record_status,
)


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
