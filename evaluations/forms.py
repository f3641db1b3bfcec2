"""Forms of the evaluations pages. The scoring grid and the opinion form are parsed by hand (one
radio group per criterion / competency) in `parse_scoring_post` and `parse_opinion_post`."""

from crispy_forms.helper import FormHelper
from django import forms
from django.utils.translation import gettext_lazy as _

from candidates.models import Candidate, Company
from core.forms import Form
from core.models import Role, User
from core.text import REASON_MAX

from .models import College, Commission, Conclusion, Judgement, Opinion


def _helper(form=None):
    helper = FormHelper()
    helper.form_tag = False
    return helper


class CommissionForm(Form):
    centre = forms.ModelChoiceField(label=_("Centre"), queryset=None)
    name = forms.CharField(label=_("Nom de la commission"), max_length=200)

    def __init__(self, *args, centres, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["centre"].queryset = centres
        if centres.count() == 1:
            self.fields["centre"].initial = centres.first()
            self.fields["centre"].widget = forms.HiddenInput()
        self.helper = _helper(self)


class MemberForm(Form):
    user = forms.ModelChoiceField(label=_("Évaluateur"), queryset=User.objects.none())
    qualification = forms.CharField(
        label=_("Qualification / domaine"),
        max_length=200,
        help_text=_("Par exemple : usinage, maintenance, qualité, encadrement d'équipe."),
    )
    college = forms.ChoiceField(
        label=_("Collège"), choices=[("", _("Sans objet")), *College.choices], required=False
    )
    is_president = forms.BooleanField(label=_("Président(e) de la commission"), required=False)

    def __init__(self, *args, evaluators, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = evaluators
        self.fields["user"].label_from_instance = lambda user: user.get_full_name() or user.username
        self.helper = _helper(self)


class ConflictForm(Form):
    user = forms.ModelChoiceField(label=_("Évaluateur"), queryset=User.objects.none())
    candidate = forms.ModelChoiceField(label=_("Candidat"), queryset=None, required=False)
    company = forms.ModelChoiceField(label=_("ou entreprise"), queryset=None, required=False)
    reason = forms.CharField(
        label=_("Motif"), max_length=REASON_MAX, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, centre_ids, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = User.objects.filter(
            role=Role.EVALUATOR, is_active=True, centres__in=centre_ids
        ).distinct()
        self.fields["user"].label_from_instance = lambda user: user.get_full_name() or user.username
        self.fields["candidate"].queryset = Candidate.objects.filter(
            centre_id__in=centre_ids, anonymised_at__isnull=True
        ).order_by("birth_name", "first_names")
        self.fields["candidate"].label_from_instance = lambda c: f"{c.full_name} ({c.reference})"
        self.fields["company"].queryset = Company.objects.filter(centre_id__in=centre_ids)
        self.helper = _helper(self)

    def clean(self):
        data = super().clean()
        if not data.get("candidate") and not data.get("company"):
            raise forms.ValidationError(_("Choisissez le candidat ou l'entreprise concerné."))
        return data


class SessionForm(Form):
    commission = forms.ModelChoiceField(label=_("Commission"), queryset=Commission.objects.none())
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    place = forms.CharField(label=_("Lieu"), max_length=255, required=False)
    is_remote = forms.BooleanField(label=_("Session à distance (visioconférence)"), required=False)
    remote_details = forms.CharField(
        label=_("Modalités de connexion"),
        max_length=500,
        required=False,
        help_text=_("Lien ou instructions, repris dans la convocation."),
    )
    late_entry_reason = forms.CharField(
        label=_("Saisie a posteriori : motif"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "Seulement pour enregistrer une session déjà tenue (date passée) : pourquoi elle est saisie "
            "après coup. Le motif est conservé et tracé dans le journal."
        ),
    )

    def __init__(self, *args, commissions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["commission"].queryset = commissions
        self.helper = _helper(self)

    def clean(self):
        data = super().clean()
        if not data.get("is_remote") and not (data.get("place") or "").strip():
            self.add_error("place", _("Indiquez le lieu, ou cochez « à distance »."))
        return data


class ConveneForm(Form):
    candidate = forms.ModelChoiceField(label=_("Candidat"), queryset=None)
    time_slot = forms.TimeField(label=_("Horaire de passage"), widget=forms.TimeInput(attrs={"type": "time"}))
    evaluators = forms.ModelMultipleChoiceField(
        label=_("Évaluateurs affectés"),
        queryset=User.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Un membre en conflit d'intérêts avec le candidat ne peut pas être affecté."),
    )

    def __init__(self, *args, candidates, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["candidate"].queryset = candidates
        self.fields["candidate"].label_from_instance = lambda c: f"{c.full_name} ({c.reference})"
        self.fields["evaluators"].queryset = User.objects.filter(pk__in=[m.user_id for m in members])
        self.fields["evaluators"].label_from_instance = lambda user: user.get_full_name() or user.username
        self.fields["evaluators"].initial = [m.user_id for m in members]
        self.helper = _helper(self)


class AssignForm(Form):
    user = forms.ModelChoiceField(label=_("Ajouter un évaluateur"), queryset=User.objects.none())

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = User.objects.filter(pk__in=[m.user_id for m in members])
        self.fields["user"].label_from_instance = lambda user: user.get_full_name() or user.username


class ResendForm(Form):
    time_slot = forms.TimeField(label=_("Horaire"), widget=forms.TimeInput(attrs={"type": "time"}))


class ReasonForm(Form):
    reason = forms.CharField(
        label=_("Motif"), max_length=REASON_MAX, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(self)


class InviteTutorForm(Form):
    due_date = forms.DateField(
        label=_("Avis à rendre avant le"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(self)


class ProposalForm(Form):
    conclusion = forms.ChoiceField(
        label=_("Proposition de la commission"), choices=Conclusion.choices, widget=forms.RadioSelect
    )
    reason = forms.CharField(
        label=_("Motif"),
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_("Obligatoire lorsque les membres ne sont pas unanimes."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(self)


class TutorPasswordForm(Form):
    password1 = forms.CharField(
        label=_("Mot de passe"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("Confirmation du mot de passe"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(self)

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", _("Les deux mots de passe ne correspondent pas."))
        return data


def parse_scoring_post(data, criteria):
    """Read the scoring grid from POST data: j-<id> (judgement), c-<id> (comment)."""
    judgements = {}
    for criterion in criteria:
        value = data.get(f"j-{criterion.pk}", "")
        if value not in Judgement.values:
            value = ""
        judgements[criterion.pk] = (value, data.get(f"c-{criterion.pk}", "").strip())
    conclusion = data.get("conclusion", "")
    if conclusion not in Conclusion.values:
        conclusion = ""
    return {
        "judgements": judgements,
        "conclusion": conclusion,
        "justification": data.get("justification", "").strip(),
        "version": data.get("version", ""),
    }


def parse_opinion_post(data, opinions):
    values = {}
    for opinion in opinions:
        value = data.get(f"o-{opinion.competency_id}", "")
        if value not in Opinion.values:
            value = ""
        values[opinion.competency_id] = (value, data.get(f"m-{opinion.competency_id}", "").strip())
    return values
