"""Validators of French business identifiers."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# La Poste's establishments share this SIREN; their SIRET follows a different rule (INSEE):
# the sum of the 14 digits is a multiple of 5, not a Luhn number.
LA_POSTE_SIREN = "356000000"


def luhn_is_valid(digits):
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def normalise_siret(value):
    return "".join(str(value or "").split())


def siret_is_valid(value):
    siret = normalise_siret(value)
    if len(siret) != 14 or not siret.isdigit():
        return False
    if siret.startswith(LA_POSTE_SIREN) and sum(int(c) for c in siret) % 5 == 0:
        return True
    return luhn_is_valid(siret)


def validate_siret(value):
    siret = normalise_siret(value)
    if len(siret) != 14 or not siret.isdigit():
        raise ValidationError(_("Le SIRET doit comporter exactement 14 chiffres."), code="siret_format")
    if not siret_is_valid(siret):
        raise ValidationError(
            _("Ce SIRET est invalide : sa clé de contrôle ne correspond pas (vérifiez la saisie)."),
            code="siret_checksum",
        )
