"""Shared form helpers."""

import functools

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html
from django.utils.safestring import mark_safe
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


class PlainSelect(forms.Select):
    """A `<select>` rendered in Python, for the filters of pages read all day (the candidate list).

    Django's `Select` renders every `<option>` through its own template (≈ 0.1 ms each on our
    machine): on the candidate list the three filter selects cost 4–5 ms of its ≈ 20 ms of CPU in
    `make bench` (issue 20, docs/performance.md). Same HTML as `Select` for flat choices; values and
    labels are escaped by `format_html`. Grouped choices (optgroups) are refused: use `Select` for them.
    """

    def render(self, name, value, attrs=None, renderer=None):
        final_attrs = self.build_attrs(self.attrs, attrs)
        selected = {str(v) for v in self.format_value(value)}
        options = []
        for choice, label in self.choices:
            if isinstance(label, list | tuple):
                raise ValueError(
                    "PlainSelect ne rend pas les groupes d'options (optgroup) : utilisez Select."
                )
            choice = "" if choice is None else str(choice)
            options.append(
                format_html(
                    '<option value="{}"{}>{}</option>',
                    choice,
                    " selected" if choice in selected else "",
                    label,
                )
            )
        return format_html(
            '<select name="{}"{}>{}</select>', name, flatatt(final_attrs), mark_safe("".join(options))
        )
