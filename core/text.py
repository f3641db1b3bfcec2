"""The shared cleaner of free text, and the maximum lengths of the free-text fields.

Bidirectional controls (U+202A–U+202E embeddings and overrides, U+2066–U+2069 isolates, U+200E/U+200F
marks, U+061C) have no use in a French platform's data, and one U+202E in a name prints the rest of a
line reversed on a certificate or a PV. They are removed at input: by `strip_bidi` in the imports, and
for every CharField/TextField of the project's models before each save (`clean_model_text`, a
pre_save receiver). The same receiver refuses a value longer than the field's max_length with a French
message (BusinessRuleError), so that no service can store an unbounded text; the database enforces the
limits too (varchar, CheckConstraint on the length of TextFields, `max_length_constraint`).
"""

from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils.translation import gettext as _

from .exceptions import BusinessRuleError

BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
_BIDI_TABLE = str.maketrans("", "", BIDI_CONTROLS)

# Maximum lengths of free text (characters). A reason or comment is a paragraph; a referential's
# descriptive text is a few pages (the longest of the national referentials is under 3 000).
REASON_MAX = 2000
COMMENT_MAX = 5000
REFERENTIAL_ITEM_MAX = 2000
REFERENTIAL_TITLE_MAX = 1000
REFERENTIAL_TEXT_MAX = 20000

# The apps whose models are cleaned before each save.
PROJECT_APPS = {"core", "referential", "candidates", "evaluations", "deliberations", "reporting"}


def strip_bidi(value):
    """`value` without bidirectional control characters (other values are returned as they are)."""
    if isinstance(value, str):
        return value.translate(_BIDI_TABLE)
    return value


def strip_bidi_deep(data):
    """The same for every string of a parsed document (dicts, lists)."""
    if isinstance(data, dict):
        return {strip_bidi(key): strip_bidi_deep(value) for key, value in data.items()}
    if isinstance(data, list):
        return [strip_bidi_deep(value) for value in data]
    return strip_bidi(data)


def too_long_message(label, max_length, length):
    return _("« %(field)s » : %(max)s caractères au plus (%(length)s saisis).") % {
        "field": label,
        "max": max_length,
        "length": length,
    }


def check_length(value, max_length, label):
    """For services taking free text outside a form: raise BusinessRuleError past the limit."""
    value = strip_bidi(value or "")
    if len(value) > max_length:
        raise BusinessRuleError(too_long_message(label, max_length, len(value)), code="too_long")
    return value


def max_length_constraint(prefix, field, max_length):
    """The database's guard on a TextField: CHECK (LENGTH(field) <= max_length)."""
    return models.CheckConstraint(
        condition=LessThanOrEqual(Length(field), max_length), name=f"{prefix}_{field}_maxlen"
    )


def clean_model_text(sender, instance, raw=False, **kwargs):
    """pre_save: strip bidi controls from every text field, refuse a text longer than its field."""
    if raw or sender._meta.app_label not in PROJECT_APPS:
        return
    for field in sender._meta.concrete_fields:
        if not isinstance(field, models.CharField | models.TextField):
            continue
        value = getattr(instance, field.attname)
        if not isinstance(value, str):
            continue
        cleaned = value.translate(_BIDI_TABLE)
        if cleaned != value:
            setattr(instance, field.attname, cleaned)
        if field.max_length and len(cleaned) > field.max_length:
            raise BusinessRuleError(
                too_long_message(field.verbose_name, field.max_length, len(cleaned)), code="too_long"
            )
