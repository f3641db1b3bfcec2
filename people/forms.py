"""Forms of « Personnes ». They shape the input; the rules live in people.services."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.contrib.auth import password_validation
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from candidates.models import CANDIDATE_UPLOAD_KINDS
from core.forms import CHOOSE, Form
from core.models import Role
from core.text import REASON_MAX
from deliberations.models import College as JuryCollege
from evaluations.models import College as CommissionCollege

from . import selectors

ROLE_CHOICES = [
    ("", _("Choisissez le rôle")),
    (Role.EVALUATOR, _("Évaluateur (membre de commission d'évaluation)")),
    (Role.JURY, _("Membre de jury")),
    (Role.TUTOR, _("Tuteur d'entreprise")),
    (Role.STAFF, _("Personnel du centre")),
]


def _helper(label, form_tag=True):
    helper = FormHelper()
    helper.form_tag = form_tag
    if form_tag:
        helper.form_method = "post"
        helper.add_input(Submit("submit", label))
    return helper


def _user_name(user):
    return user.get_full_name() or user.username


class PersonFilterForm(Form):
    q = forms.CharField(label=_("Nom, identifiant ou adresse e-mail"), required=False)
    role = forms.ChoiceField(
        label=_("Rôle"), required=False, choices=[("", _("Tous les rôles")), *Role.choices]
    )
    status = forms.ChoiceField(
        label=_("État du compte"),
        required=False,
        choices=[
            ("", _("Tous")),
            ("active", _("Actifs")),
            ("invited", _("Invitation en attente")),
            ("inactive", _("Désactivés")),
        ],
    )


class PersonCreateForm(Form):
    role = forms.ChoiceField(label=_("Rôle"), choices=ROLE_CHOICES)
    first_name = forms.CharField(label=_("Prénom"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Nom"), max_length=150, required=False)
    email = forms.EmailField(
        label=_("Adresse e-mail"),
        required=False,
        help_text=_("L'invitation y est envoyée ; la personne pourra se connecter avec cette adresse."),
    )
    phone = forms.CharField(label=_("Téléphone"), max_length=30, required=False)
    username = forms.CharField(
        label=_("Identifiant (facultatif)"),
        max_length=150,
        required=False,
        help_text=_(
            "Laissé vide : « prénom.nom » sans accents. Il est rappelé dans chaque e-mail du compte."
        ),
    )
    centres = forms.ModelMultipleChoiceField(
        label=_("Centres de certification"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Évaluateurs, jurys et personnel : les centres pour lesquels la personne intervient."),
    )
    tutor = forms.ModelChoiceField(
        label=_("Tuteurs : fiche tuteur existante"),
        queryset=None,
        required=False,
        empty_label=_("Aucune — créer la fiche dans l'entreprise ci-dessous"),
        help_text=_("Une fiche tuteur sans compte ; nom et adresse vides sont repris de la fiche."),
    )
    company = forms.ModelChoiceField(
        label=_("Tuteurs : entreprise (nouvelle fiche)"),
        queryset=None,
        required=False,
        empty_label=CHOOSE,
    )
    function = forms.CharField(
        label=_("Tuteurs : fonction dans l'entreprise"), max_length=150, required=False
    )

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        centres = selectors.centres_for(actor)
        self.fields["centres"].queryset = centres
        if len(centres) == 1 and not self.is_bound:
            self.initial["centres"] = list(centres)
        self.fields["tutor"].queryset = selectors.tutor_records_without_account(actor)
        self.fields["tutor"].label_from_instance = lambda t: (
            f"{t.first_name} {t.last_name} — {t.company.name}"
        )
        self.fields["company"].queryset = selectors.companies_for(actor)
        self.helper = _helper(_("Créer le compte et envoyer l'invitation"))


class PersonUpdateForm(Form):
    first_name = forms.CharField(label=_("Prénom"), max_length=150)
    last_name = forms.CharField(label=_("Nom"), max_length=150)
    email = forms.EmailField(label=_("Adresse e-mail"))
    phone = forms.CharField(label=_("Téléphone"), max_length=30, required=False)
    centres = forms.ModelMultipleChoiceField(
        label=_("Centres de certification"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, actor, person, **kwargs):
        super().__init__(*args, **kwargs)
        if person.role == Role.TUTOR:
            del self.fields["centres"]  # a tutor works for his company's centre
        else:
            self.fields["centres"].queryset = selectors.centres_for(actor)
        self.helper = _helper(_("Enregistrer"))


class CommissionMembershipForm(Form):
    commission = forms.ModelChoiceField(label=_("Commission d'évaluation"), queryset=None, empty_label=CHOOSE)
    qualification = forms.CharField(
        label=_("Qualification / domaine"),
        max_length=200,
        help_text=_("Qualification ou domaine d'expertise du membre (ex. : usinage, maintenance)."),
    )
    college = forms.ChoiceField(
        label=_("Collège"), required=False, choices=[("", _("Aucun")), *CommissionCollege.choices]
    )
    is_president = forms.BooleanField(label=_("Président(e) de la commission"), required=False)

    def __init__(self, *args, actor, person, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["commission"].queryset = (
            selectors.commissions_for(actor)
            .filter(centre__in=person.centres.all())
            .exclude(members__user=person)
        )
        self.helper = _helper(_("Ajouter à la commission"), form_tag=False)


class JurySeatForm(Form):
    jury = forms.ModelChoiceField(label=_("Jury paritaire"), queryset=None, empty_label=CHOOSE)
    college = forms.ChoiceField(label=_("Collège"), choices=[("", CHOOSE), *JuryCollege.choices])
    union = forms.CharField(
        label=_("Organisation syndicale"),
        max_length=100,
        required=False,
        help_text=_("Collège salariés uniquement : un membre par organisation syndicale."),
    )
    is_president = forms.BooleanField(label=_("Président(e) du jury (collège employeurs)"), required=False)

    def __init__(self, *args, actor, person, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["jury"].queryset = selectors.juries_for(actor).exclude(members__user=person)
        self.helper = _helper(_("Ajouter au jury"), form_tag=False)


class InvitationPasswordForm(Form):
    """Choosing one's password from the invitation link (validated by the project's validators)."""

    new_password1 = forms.CharField(
        label=_("Mot de passe"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    new_password2 = forms.CharField(
        label=_("Confirmation du mot de passe"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Enregistrer mon mot de passe"))

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("new_password1"), cleaned.get("new_password2")
        if first and second and first != second:
            self.add_error("new_password2", _("Les deux mots de passe ne sont pas identiques."))
        elif first:
            try:
                password_validation.validate_password(first, self.user)
            except forms.ValidationError as exc:
                self.add_error("new_password1", exc)
        return cleaned


# --- the candidate's own space (issue 23) ---------------------------------------------------

UPLOAD_HELP = _(
    "PDF, ODT, DOCX, PNG ou JPEG. Le contenu du fichier est vérifié, pas seulement son nom. Une "
    "nouvelle version ne remplace pas la précédente : le centre reçoit les deux."
)


class CandidateUploadForm(Form):
    kind = forms.ChoiceField(label=_("Document"), widget=forms.RadioSelect)
    file = forms.FileField(label=_("Fichier"), help_text=UPLOAD_HELP)

    def __init__(self, *args, **kwargs):

        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(kind.value, kind.label) for kind in CANDIDATE_UPLOAD_KINDS]
        self.fields["kind"].initial = CANDIDATE_UPLOAD_KINDS[0].value
        self.helper = _helper(_("Déposer le document"))


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)] if data else []


class CandidateAppealForm(Form):
    reason = forms.CharField(
        label=_("Motifs de votre recours"),
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Expliquez précisément ce que vous contestez et pourquoi (2 000 caractères au plus)."),
    )
    attachments = MultipleFileField(
        label=_("Pièces jointes (facultatif)"),
        required=False,
        help_text=_("Jusqu'à 5 fichiers : PDF, ODT, DOCX, PNG ou JPEG. Le contenu est vérifié."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Déposer mon recours"))


class RectificationForm(Form):
    details = forms.CharField(
        label=_("Données à corriger"),
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "Indiquez la donnée inexacte et sa valeur exacte (par exemple : « lieu de naissance : Nancy »)."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Envoyer ma demande de rectification"))
        self.helper.form_action = reverse("people:candidate_rectification")
