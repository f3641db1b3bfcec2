from django.utils.translation import gettext as _

from core.exceptions import BusinessRuleError


def check_staff_of(user, centre_id):
    """Defence in depth: views already scope objects; services refuse a foreign centre anyway."""
    if user is None:  # management commands, tasks, demo data
        return
    if not (user.is_centre_staff and centre_id in user.centre_ids()):
        raise BusinessRuleError(_("Vous n'intervenez pas pour ce centre de certification."), code="centre")


def required_text(value, message):
    value = (value or "").strip()
    if not value:
        raise BusinessRuleError(message, code="required")
    return value


def with_history_user(instance, user):
    """simple_history takes the author from the request; services set it explicitly (tasks, tests)."""
    if user is not None and getattr(user, "is_authenticated", False):
        instance._history_user = user
    return instance
