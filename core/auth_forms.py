"""Forms of the second authentication factor."""

from django import forms
from django.utils.translation import gettext_lazy as _


class OTPCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code à 6 chiffres"),
        max_length=12,
        help_text=_(
            "Le code affiché par votre application d'authentification (il change toutes les 30 secondes)."
        ),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )

    def clean_code(self):
        code = "".join(self.cleaned_data["code"].split())
        if not code.isdigit() or len(code) != 6:
            raise forms.ValidationError(_("Saisissez les 6 chiffres du code."))
        return code
