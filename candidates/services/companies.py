"""Companies and tutors of a centre."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from core.exceptions import BusinessRuleError
from core.services import audit, identity_changes, notify_email_changed

from ..models import (
    Company,
    Tutor,
)
from ..validators import normalise_siret, validate_siret
from .common import (
    _check_staff_of,
    _full_clean,
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
