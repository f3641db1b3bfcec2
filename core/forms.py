"""Shared form helpers."""

import functools

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


class ChooseEmptyChoices:
    """Every select of the form offers « Choisissez… » as its empty choice, never « --------- ».

    Runs after the most derived `__init__` (fields added or changed there are covered too): every form
    of the project derives from `Form` / `ModelForm` below (tests/core/test_forms.py checks it)."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is None or getattr(init, "_names_empty_choices", False):
            return

        @functools.wraps(init)
        def __init__(self, *args, **kwargs):
            init(self, *args, **kwargs)
            name_empty_choices(self)

        __init__._names_empty_choices = True
        cls.__init__ = __init__

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        name_empty_choices(self)


class Form(ChooseEmptyChoices, forms.Form):
    pass


class ModelForm(ChooseEmptyChoices, forms.ModelForm):
    pass
