"""Shared form helpers."""

from django import forms
from django.utils.translation import gettext_lazy as _

CHOOSE = _("Choisissez…")
DJANGO_PLACEHOLDER = "---------"


def name_empty_choices(form):
    """Replace Django's « --------- » empty choice of every select of `form` by « Choisissez… »."""
    for field in form.fields.values():
        if isinstance(field, forms.ModelChoiceField) and field.empty_label == DJANGO_PLACEHOLDER:
            field.empty_label = CHOOSE
        elif isinstance(field, forms.ChoiceField) and not isinstance(field, forms.ModelChoiceField):
            choices = list(field.choices)
            if any(value == "" and label == DJANGO_PLACEHOLDER for value, label in choices):
                field.choices = [
                    (v, CHOOSE if (v == "" and label == DJANGO_PLACEHOLDER) else label)
                    for v, label in choices
                ]
    return form
