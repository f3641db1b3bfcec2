"""Forms of the candidates pages (crispy-forms, Bootstrap 5). Forms collect input; services decide."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Div, Fieldset, Layout, Row, Submit
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.forms import Form, ModelForm
from core.models import CertificationCentre
from core.text import REASON_MAX
from referential.models import Certification, ModalityCode

from . import selectors
from .models import AccessChannel, Candidate, CandidateStatus, Company, DocumentKind, LegalBasis, Tutor
from .services import IDENTITY_FIELDS, manual_transitions
from .validators import normalise_siret, validate_siret


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


def centre_field(user):
    """A centre choice, only shown to users who work for several centres."""
    queryset = CertificationCentre.objects.filter(pk__in=user.centre_ids()).order_by("code")
    field = forms.ModelChoiceField(queryset=queryset, label=_("Centre de certification"), empty_label=None)
    if len(user.centre_ids()) == 1:
        field.widget = forms.HiddenInput()
        field.initial = next(iter(user.centre_ids()))
    return field


class TutorSelect(forms.Select):
    """Each tutor's option says its company (`data-company`): static/js/app.js shows only the tutors of
    the company chosen in the same form (issue 16: the tutor list filtered by the chosen company)."""

    def __init__(self, attrs=None):
        super().__init__({"data-filter-by": "company", **(attrs or {})})

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex=subindex, attrs=attrs)
        instance = getattr(value, "instance", None)
        if instance is not None:
            option["attrs"]["data-company"] = str(instance.company_id)
        return option


class TutorChoiceField(forms.ModelChoiceField):
    widget = TutorSelect

    def label_from_instance(self, obj):
        return f"{obj.first_name} {obj.last_name} — {obj.company.name}"


class CompanyChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} ({obj.siret})"


class CertificationChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.code} — {obj.title} (version {obj.version})"


IDENTITY_LAYOUT = Fieldset(
    _("Identité"),
    Row(
        Column("birth_name", css_class="col-md-4"),
        Column("usage_name", css_class="col-md-4"),
        Column("first_names", css_class="col-md-4"),
    ),
    Row(
        Column("sex", css_class="col-md-2"),
        Column("birth_date", css_class="col-md-3"),
        Column("birth_place", css_class="col-md-4"),
        Column("birth_country", css_class="col-md-3"),
    ),
    Row(
        Column("birth_insee_code", css_class="col-md-4"),
        Column("birth_postcode", css_class="col-md-4"),
    ),
)
CONTACT_LAYOUT = Fieldset(
    _("Coordonnées"),
    Row(Column("email", css_class="col-md-6"), Column("phone", css_class="col-md-6")),
    Row(
        Column("address", css_class="col-md-6"),
        Column("postcode", css_class="col-md-2"),
        Column("city", css_class="col-md-4"),
    ),
)
PATHWAY_LAYOUT = Fieldset(
    _("Parcours"),
    Row(
        Column("pathway", css_class="col-md-4"),
        Column("company", css_class="col-md-4"),
        Column("tutor", css_class="col-md-4"),
    ),
    HTML(
        '<p class="form-text mt-0">{% load i18n %}{% translate "L\'entreprise et le tuteur sont obligatoires, '
        "sauf pour les demandeurs d'emploi et en VAE.\" %}</p>"
    ),
)


class CandidateForm(ModelForm):
    """Registration (« inscription préalable »)."""

    centre = forms.ModelChoiceField(queryset=CertificationCentre.objects.none())
    certification = CertificationChoiceField(
        queryset=Certification.objects.published().order_by("code"),
        label=_("CQPM"),
        help_text=_("Le candidat est inscrit sur la version en vigueur (publiée) de ce CQPM."),
    )
    company = CompanyChoiceField(queryset=Company.objects.none(), required=False, label=_("Entreprise"))
    tutor = TutorChoiceField(queryset=Tutor.objects.none(), required=False, label=_("Tuteur"))
    consent_given = forms.BooleanField(
        required=False,
        label=_("Le candidat a reçu l'information sur le traitement de ses données et y consent"),
        help_text=_("Obligatoire si la base légale est le consentement."),
    )
    confirm_duplicate = forms.BooleanField(
        required=False,
        widget=forms.HiddenInput(),
        label=_("Je confirme qu'il ne s'agit pas d'un doublon : inscrire quand même"),
    )

    class Meta:
        model = Candidate
        fields = [
            *IDENTITY_FIELDS,
            "pathway",
            "company",
            "tutor",
            "certification",
            "registered_on",
            "legal_basis",
        ]
        widgets = {"birth_date": DateInput(), "registered_on": DateInput()}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["centre"] = centre_field(user)
        self.fields["company"].queryset = selectors.companies_visible_to(user).order_by("name")
        self.fields["tutor"].queryset = selectors.tutors_visible_to(user).select_related("company")
        self.fields["registered_on"].initial = timezone.localdate
        self.fields["legal_basis"].initial = LegalBasis.CONTRACT
        self.helper = FormHelper()
        self.helper.layout = Layout(
            "centre",
            "confirm_duplicate",
            IDENTITY_LAYOUT,
            CONTACT_LAYOUT,
            PATHWAY_LAYOUT,
            Fieldset(
                _("Certification"),
                Row(
                    Column("certification", css_class="col-md-8"),
                    Column("registered_on", css_class="col-md-4"),
                ),
            ),
            Fieldset(_("Données personnelles (RGPD)"), "legal_basis", "consent_given"),
            Submit("submit", _("Inscrire le candidat")),
        )

    def ask_duplicate_confirmation(self):
        """Show the « create anyway » checkbox (after a duplicate warning)."""
        self.fields["confirm_duplicate"].widget = forms.CheckboxInput()
        self.helper.layout[1] = Div("confirm_duplicate", css_class="alert alert-warning")

    def clean(self):
        data = super().clean()
        tutor = data.get("tutor")
        if tutor is not None and data.get("company") is None:
            data["company"] = tutor.company  # choosing the tutor is enough
        return data

    def service_kwargs(self):
        data = self.cleaned_data
        kwargs = {name: data[name] for name in IDENTITY_FIELDS}
        kwargs.update(
            centre=data["centre"],
            certification=data["certification"],
            pathway=data["pathway"],
            company=data.get("company"),
            tutor=data.get("tutor"),
            registered_on=data["registered_on"],
            legal_basis=data["legal_basis"],
            consent_given=data["consent_given"],
            confirm_duplicate=data["confirm_duplicate"],
        )
        return kwargs


class CandidateUpdateForm(ModelForm):
    company = CompanyChoiceField(queryset=Company.objects.none(), required=False, label=_("Entreprise"))
    tutor = TutorChoiceField(queryset=Tutor.objects.none(), required=False, label=_("Tuteur"))

    class Meta:
        model = Candidate
        fields = [*IDENTITY_FIELDS, "pathway", "company", "tutor"]
        widgets = {"birth_date": DateInput()}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        centre_id = self.instance.centre_id
        self.fields["company"].queryset = selectors.companies_visible_to(user).filter(centre_id=centre_id)
        self.fields["tutor"].queryset = (
            selectors.tutors_visible_to(user).filter(company__centre_id=centre_id).select_related("company")
        )
        dossier = getattr(self.instance, "dossier", None)
        self.pathway_locked = dossier is not None and dossier.is_frozen
        if self.pathway_locked:
            for name in ("pathway", "company", "tutor"):
                self.fields[name].disabled = True
                self.fields[name].help_text = _("Le dossier est validé : ce champ ne peut plus changer.")
        self.helper = FormHelper()
        self.helper.layout = Layout(
            IDENTITY_LAYOUT, CONTACT_LAYOUT, PATHWAY_LAYOUT, Submit("submit", _("Enregistrer"))
        )

    def clean(self):
        data = super().clean()
        if data.get("tutor") is not None and data.get("company") is None:
            data["company"] = data["tutor"].company
        return data

    def changes(self):
        fields = (
            list(IDENTITY_FIELDS)
            if self.pathway_locked
            else [*IDENTITY_FIELDS, "pathway", "company", "tutor"]
        )
        return {name: self.cleaned_data[name] for name in fields}


class TransitionForm(Form):
    """« Changer le statut »: by hand only the withdrawal (services.manual_transitions), nothing chosen
    in advance, the reason required. The other statuses follow the process (see the help text)."""

    to_status = forms.ChoiceField(
        label=_("Nouveau statut"),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choisissez le nouveau statut."),
            "invalid_choice": _("Ce statut ne se choisit pas ici : les autres suivent le déroulement."),
        },
    )
    reason = forms.CharField(
        label=_("Motif"),
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Indiquez le motif de ce changement de statut.")},
        help_text=_("Gardé dans l'historique des statuts du candidat."),
    )

    def __init__(self, *args, candidate, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_status"].choices = [
            (status, CandidateStatus(status).label) for status in manual_transitions(candidate)
        ]
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout("to_status", "reason")


class AccessRequestForm(Form):
    """A request of access to personal data (RGPD art. 15), as received."""

    requester = forms.CharField(
        label=_("Demandeur"),
        max_length=200,
        help_text=_("Le candidat lui-même, ou la personne qui le représente (et à quel titre)."),
    )
    received_on = forms.DateField(label=_("Reçue le"), widget=DateInput())
    channel = forms.ChoiceField(label=_("Reçue par"), choices=AccessChannel.choices)
    identity_check = forms.CharField(
        label=_("Vérification de l'identité"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Par exemple : copie de la pièce d'identité comparée au dossier, puis détruite."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["received_on"].initial = timezone.localdate()
        self.helper = FormHelper()
        self.helper.layout = Layout(
            Row(
                Column("requester", css_class="col-md-6"),
                Column("received_on", css_class="col-md-3"),
                Column("channel", css_class="col-md-3"),
            ),
            "identity_check",
            Submit("submit", _("Enregistrer la demande")),
        )


class AccessSentForm(Form):
    sent_on = forms.DateField(label=_("Réponse envoyée le"), widget=DateInput())
    channel = forms.ChoiceField(label=_("Envoyée par"), choices=AccessChannel.choices)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sent_on"].initial = timezone.localdate()


class DossierReopenForm(Form):
    reason = forms.CharField(
        label=_("Motif de la réouverture"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Gardé dans l'historique des statuts du candidat."),
    )


class DossierForm(Form):
    report_due_date = forms.DateField(
        label=_("Date limite de remise du rapport"),
        required=False,
        widget=DateInput(),
        help_text=_("Obligatoire si une présentation de projet est prévue."),
    )
    company_opinion_applies = forms.BooleanField(
        label=_("L'avis de l'entreprise (tuteur) est recueilli"),
        required=False,
        help_text=_(
            "Jamais en VAE ni pour un parcours sans entreprise ; obligatoire sinon (référentiel §3.2) : "
            "il suppose un tuteur."
        ),
    )

    def __init__(self, *args, dossier, allowed_codes, **kwargs):
        super().__init__(*args, **kwargs)
        self.dossier = dossier
        self.items = list(dossier.items.select_related("competency"))
        self.acquired_items = [item for item in self.items if item.already_acquired]
        choices = [(code, ModalityCode(code).label) for code in ModalityCode.values if code in allowed_codes]
        self.fields["report_due_date"].initial = dossier.report_due_date
        self.fields["company_opinion_applies"].initial = dossier.company_opinion_applies
        if dossier.candidate.is_vae:
            self.fields["company_opinion_applies"].disabled = True
        # Fewer clicks (issue 16): the same modalities for every competency to evaluate in one go.
        self.fields["apply_all"] = forms.MultipleChoiceField(
            label=_("Appliquer à toutes les compétences"),
            choices=choices,
            required=False,
            widget=forms.CheckboxSelectMultiple,
            help_text=_(
                "Cochées ici, ces modalités remplacent celles de chaque compétence à évaluer (les compétences "
                "déjà acquises ne changent pas)."
            ),
        )
        fieldsets = [
            Fieldset(
                _("Toutes les compétences"), "apply_all", css_class="border rounded p-3 mb-3 bg-body-tertiary"
            )
        ]
        for item in self.items:
            prefix = f"item_{item.pk}"
            self.fields[f"{prefix}_modalities"] = forms.MultipleChoiceField(
                label=_("Modalités d'évaluation"),
                choices=choices,
                required=False,
                widget=forms.CheckboxSelectMultiple,
                initial=item.modalities,
            )
            # No « déjà acquise » box here: a competency is acquired only by a deliberation (one of
            # ours, or an earlier one recorded with its PV on the candidate's page) — issue 22.
            fieldsets.append(
                Fieldset(
                    f"{item.competency.number}. {item.competency.title}",
                    f"{prefix}_modalities",
                    css_class="border rounded p-3 mb-3",
                )
            )
        self.helper = FormHelper()
        self.helper.layout = Layout(
            Row(
                Column("report_due_date", css_class="col-md-4"),
                Column("company_opinion_applies", css_class="col-md-8"),
            ),
            *fieldsets,
            Submit("submit", _("Enregistrer le dossier")),
        )

    def service_kwargs(self):
        data = self.cleaned_data
        items = {}
        for item in self.items:
            prefix = f"item_{item.pk}"
            items[item.pk] = {
                "modalities": (data["apply_all"] if not item.already_acquired else [])
                or data[f"{prefix}_modalities"],
            }
        opinion = False if self.dossier.candidate.is_vae else data["company_opinion_applies"]
        return {
            "report_due_date": data["report_due_date"],
            "company_opinion_applies": opinion,
            "items": items,
        }


class DocumentUploadForm(Form):
    kind = forms.ChoiceField(
        label=_("Type de document"),
        # The PV of an earlier deliberation comes with its record (centre, date, number, reason):
        # deliberations:prior_deliberation_create, never as a loose file.
        # An appeal's attachments come with the appeal (the candidate's space), never loose either.
        choices=[
            choice
            for choice in DocumentKind.choices
            if choice[0] not in (DocumentKind.PRIOR_PV, DocumentKind.APPEAL)
        ],
        initial=DocumentKind.REPORT,
    )
    file = forms.FileField(
        label=_("Fichier"),
        help_text=_("PDF, ODT, DOCX, PNG ou JPEG. Le contenu du fichier est vérifié, pas seulement son nom."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.layout = Layout("kind", "file", Submit("submit", _("Déposer le document")))


class ImportUploadForm(Form):
    file = forms.FileField(label=_("Fichier CSV ou XLSX"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields = {"centre": centre_field(user), **self.fields}
        self.helper = FormHelper()
        self.helper.layout = Layout("centre", "file", Submit("submit", _("Vérifier le fichier")))


class CompanyForm(ModelForm):
    # Spaces are accepted while typing ("732 829 320 00074"); the check digit is verified on the digits.
    siret = forms.CharField(
        label=_("SIRET"), max_length=20, help_text=_("14 chiffres (clé de Luhn vérifiée).")
    )

    class Meta:
        model = Company
        fields = ["name", "siret", "address", "postcode", "city", "opco"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            self.fields = {"centre": centre_field(user), **self.fields}
        self.helper = FormHelper()
        self.helper.layout = Layout(
            *(["centre"] if "centre" in self.fields else []),
            Row(Column("name", css_class="col-md-8"), Column("siret", css_class="col-md-4")),
            Row(
                Column("address", css_class="col-md-6"),
                Column("postcode", css_class="col-md-2"),
                Column("city", css_class="col-md-4"),
            ),
            "opco",
            Submit("submit", _("Enregistrer")),
        )

    def clean_siret(self):
        siret = normalise_siret(self.cleaned_data["siret"])
        validate_siret(siret)
        return siret

    def changes(self):
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class TutorForm(ModelForm):
    class Meta:
        model = Tutor
        fields = ["first_name", "last_name", "function", "email", "phone"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.layout = Layout(
            Row(Column("first_name", css_class="col-md-6"), Column("last_name", css_class="col-md-6")),
            "function",
            Row(Column("email", css_class="col-md-6"), Column("phone", css_class="col-md-6")),
            Submit("submit", _("Enregistrer")),
        )

    def changes(self):
        return {name: self.cleaned_data[name] for name in self.Meta.fields}
