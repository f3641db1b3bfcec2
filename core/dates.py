"""Dates as the product speaks them: « today » is the Paris calendar day (settings.TIME_ZONE), and a
date in running text reads « mercredi 9 décembre 2026 » (tables use 09/12/2026, SHORT_DATE_FORMAT)."""

from django.utils import formats, timezone
from django.utils.translation import gettext as _

from .exceptions import BusinessRuleError


def today():
    """The local (Europe/Paris) date: the date rules compare session dates with this day."""
    return timezone.localdate()


def long_date(value):
    """« mercredi 9 décembre 2026 » — the one format for a date inside a sentence."""
    return formats.date_format(value, "DATE_FORMAT")


LATE_ENTRY_CODES = ("late_entry_reason", "late_entry_not_past")


def late_entry_reason(*, date, reason, on=None):
    """The « saisie a posteriori » rule shared by evaluation and deliberation sessions: a session dated
    before today is recorded after the fact, only with a written reason (kept on the session and in
    the audit journal). Returns the cleaned reason ("" for a session dated today or later); raises
    `BusinessRuleError` with a French message otherwise."""

    reason = (reason or "").strip()
    if date < (on or today()):
        if not reason:
            raise BusinessRuleError(
                _(
                    "Le %(date)s est passé : une session déjà tenue s'enregistre en « saisie a posteriori ». "
                    "Indiquez-en le motif."
                )
                % {"date": long_date(date)},
                code="late_entry_reason",
            )
        return reason
    if reason:
        raise BusinessRuleError(
            _(
                "La saisie a posteriori concerne seulement une session déjà tenue (datée avant aujourd'hui) : "
                "effacez le motif ou corrigez la date."
            ),
            code="late_entry_not_past",
        )
    return ""
