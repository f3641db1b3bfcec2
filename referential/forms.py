from crispy_forms.helper import FormHelper
from django import forms
from django.utils.translation import gettext_lazy as _

from core.files import validate_upload
from core.forms import Form
from core.text import REFERENTIAL_ITEM_MAX

from .models import CriterionCategory

MAX_REFERENTIAL_FILE_SIZE = 2 * 1024 * 1024


class ReferentialUploadForm(Form):
    file = forms.FileField(
        label=_("Fichier du référentiel (JSON)"),
        help_text=_(
            "Format « cqpm-referential » (voir docs/referential-format.md), par exemple un fichier obtenu "
            "par « Télécharger (JSON) ». La version est importée comme brouillon."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".json,application/json"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean_file(self):
        uploaded = self.cleaned_data["file"]
        validate_upload(uploaded, allowed=("json",), max_size=MAX_REFERENTIAL_FILE_SIZE)
        return uploaded


class RncpRegistrationForm(Form):
    rncp_number = forms.CharField(
        label=_("Numéro RNCP"),
        required=False,
        max_length=20,
        help_text=_(
            "Par exemple RNCP35000, tel qu'il figure sur la fiche France compétences. Vide : non enregistré."
        ),
    )
    rncp_level = forms.ChoiceField(
        label=_("Niveau RNCP"),
        required=False,
        choices=[("", _("— non enregistré —"))]
        + [(str(n), _("Niveau %(n)s") % {"n": n}) for n in range(1, 9)],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False


class CriterionForm(Form):
    category = forms.ChoiceField(label=_("Catégorie"), choices=CriterionCategory.choices)
    text = forms.CharField(
        label=_("Texte du critère"),
        max_length=REFERENTIAL_ITEM_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        strip=True,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
