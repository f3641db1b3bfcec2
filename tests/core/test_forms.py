"""One empty choice everywhere: « Choisissez… » in forms, never Django's « --------- » (issue 16)."""

import importlib
import pkgutil

import pytest
from django import forms
from django.conf import settings

from core.forms import CHOOSE, ChooseEmptyChoices, Form, ModelForm, PlainSelect

PROJECT_APPS = ("core", "referential", "candidates", "evaluations", "deliberations", "reporting", "people")


def _project_form_classes():
    for app in PROJECT_APPS:
        package = importlib.import_module(app)
        for info in pkgutil.walk_packages(package.__path__, f"{app}."):
            if ".migrations" in info.name or ".management" in info.name or info.name.endswith(".tests"):
                continue
            importlib.import_module(info.name)

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    return {
        cls
        for cls in subclasses(forms.BaseForm)
        if cls.__module__.split(".")[0] in PROJECT_APPS and cls not in (Form, ModelForm)
    }


def test_every_form_of_the_project_names_its_empty_choice():
    classes = _project_form_classes()
    assert len(classes) > 30
    missing = sorted(
        f"{cls.__module__}.{cls.__qualname__}" for cls in classes if not issubclass(cls, ChooseEmptyChoices)
    )
    assert not missing, "dérivez de core.forms.Form / ModelForm : " + ", ".join(missing)


class _Sample(Form):
    colour = forms.ChoiceField(choices=[("", "---------"), ("r", "Rouge")])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # a field added by the form's own __init__ is covered too
        self.fields["size"] = forms.TypedChoiceField(
            choices=[("", "---------"), ("1", "Petit")], required=False
        )


@pytest.mark.django_db
def test_selects_read_choisissez_even_for_fields_added_in_init():
    from core.models import CertificationCentre

    class WithModel(Form):
        centre = forms.ModelChoiceField(queryset=CertificationCentre.objects.all())

    html = str(_Sample()) + str(WithModel())
    assert "---------" not in html
    assert html.count(str(CHOOSE)) == 3


@pytest.mark.django_db
def test_a_model_forms_foreign_key_and_the_filters_have_no_dashes(rf):
    from deliberations.forms import SessionForm
    from tests.core.factories import CentreFactory, StaffFactory

    staff = StaffFactory(centres=[CentreFactory(code="A")])
    html = str(SessionForm(user=staff))
    assert "---------" not in html and str(CHOOSE) in html
    assert settings.FILTERS_EMPTY_CHOICE_LABEL == "Tous"


@pytest.mark.parametrize("value", [None, "", "a&b", ["x"], "absent"])
def test_plain_select_renders_what_djangos_select_renders(value):
    """core.forms.PlainSelect (the candidate list's filters): the same HTML as Select, escaped."""
    choices = [("", "Tous"), ("a&b", 'A <b> & "c"'), ("x", "Été")]

    def render(widget):
        html = widget(attrs={"class": "form-select"}, choices=choices).render("status", value, {"id": "id_s"})
        return "".join(html.split())

    assert render(PlainSelect) == render(forms.Select)
    assert "<b>" not in render(PlainSelect)


def test_plain_select_refuses_grouped_choices():
    with pytest.raises(ValueError, match="optgroup"):
        PlainSelect(choices=[("Groupe", [("a", "A")])]).render("g", None)
