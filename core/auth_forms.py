"""Forms of the second authentication factor and of the password reset."""

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import PasswordResetForm
from django.utils.translation import gettext_lazy as _

from core.forms import ChooseEmptyChoices, Form

from .backends import looks_like_email


class OTPCodeForm(Form):
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


class LoginOrEmailPasswordResetForm(ChooseEmptyChoices, PasswordResetForm):
    """« Mot de passe oublié » with the e-mail address or the login (the link goes to the account's
    address either way, and the e-mail says the login). Several accounts sharing an address each get
    their own link, each naming its login."""

    email = forms.CharField(
        label=_("Adresse e-mail ou identifiant"),
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )

    def clean_email(self):
        return self.cleaned_data["email"].strip()

    def get_users(self, email):
        if looks_like_email(email):
            return super().get_users(email)
        users = get_user_model()._default_manager.filter(username=email, is_active=True).exclude(email="")
        return (user for user in users if user.has_usable_password())

    def throttle_key(self):
        """What the per-address counter counts: the account's address when a login was typed, so that
        alternating the login and the address does not double the number of mails."""
        value = self.cleaned_data["email"]
        if not looks_like_email(value):
            found = (
                get_user_model()
                ._default_manager.filter(username=value)
                .values_list("email", flat=True)
                .first()
            )
            value = found or value
        return value.lower()
