"""What the candidates services share: the defence-in-depth centre check, the model's own field checks,
the duplicate error, references and status history.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from core.exceptions import BusinessRuleError

from ..models import (
    PATHWAYS_WITHOUT_COMPANY,
    Candidate,
    CandidateStatus,
    CandidateStatusChange,
    Pathway,
)

S = CandidateStatus
PATHWAY_VALUES = frozenset(Pathway.values)


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
