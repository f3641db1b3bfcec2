from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import Form, ModelForm
from core.models import CertificationCentre, Role, User
from core.text import COMMENT_MAX, REASON_MAX
from referential.models import Certification

from .models import AppealStatus, College, DeliberationSession, Jury, JuryMember
from .selectors import capitalised_text


class _CrispyMixin:
    submit_label = _("Enregistrer")

    def _setup_helper(self):
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", self.submit_label))


class JuryForm(_CrispyMixin, Form):
    centre = forms.ModelChoiceField(label=_("Centre"), queryset=CertificationCentre.objects.none())
    name = forms.CharField(label=_("Nom du jury"), max_length=200)
    submit_label = _("Créer le jury")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["centre"].queryset = CertificationCentre.objects.filter(pk__in=user.centre_ids())
        self._setup_helper()


class JuryMemberForm(_CrispyMixin, Form):
    full_name = forms.CharField(label=_("Nom et prénom"), max_length=200)
    email = forms.EmailField(label=_("Adresse électronique"), required=False)
    college = forms.ChoiceField(label=_("Collège"), choices=College.choices)
    union = forms.CharField(
        label=_("Organisation syndicale"),
        required=False,
        max_length=JuryMember._meta.get_field("union").max_length,
        help_text=_("Collège salariés : un membre par syndicat."),
    )
    is_president = forms.BooleanField(label=_("Président du jury (collège employeurs)"), required=False)
    user = forms.ModelChoiceField(
        label=_("Compte « membre de jury »"), queryset=User.objects.none(), required=False
    )
    submit_label = _("Ajouter le membre")

    def __init__(self, *args, jury, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = User.objects.filter(
            role=Role.JURY, is_active=True, centres=jury.centre
        )
        self._setup_helper()


class SessionForm(_CrispyMixin, ModelForm):
    class Meta:
        model = DeliberationSession
        fields = ["centre", "certification", "jury", "date", "place"]
        widgets = {"date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    late_entry_reason = forms.CharField(
        label=_("Saisie a posteriori : motif"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "Seulement pour enregistrer une délibération déjà tenue (date passée) : pourquoi elle est "
            "saisie après coup. Le motif est conservé et tracé dans le journal."
        ),
    )
    submit_label = _("Planifier la session")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        centre_ids = user.centre_ids()
        centres = CertificationCentre.objects.filter(pk__in=centre_ids)
        self.fields["centre"].queryset = centres
        if len(centre_ids) == 1 and not self.is_bound:
            self.initial.setdefault("centre", next(iter(centre_ids)))  # one centre: chosen already
        self.fields["certification"].queryset = Certification.objects.published()
        self.fields["jury"].queryset = Jury.objects.filter(centre_id__in=centre_ids)
        self._setup_helper()


class ConvocationForm(_CrispyMixin, Form):
    unions_asked_on = forms.DateField(
        label=_("Organisations syndicales sollicitées le"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    members_notified_on = forms.DateField(
        label=_("Membres salariés convoqués le"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Enregistrer cette date envoie la convocation par courriel aux membres salariés."),
    )
    submit_label = _("Enregistrer les convocations")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._setup_helper()


class AttendanceForm(_CrispyMixin, Form):
    present = forms.ModelMultipleChoiceField(
        label=_("Membres présents"),
        queryset=JuryMember.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    submit_label = _("Enregistrer les présences")

    def __init__(self, *args, session, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["present"].queryset = session.jury.members.all()
        self.fields["present"].label_from_instance = lambda m: (
            f"{m.full_name} — {m.get_college_display()}{' (' + m.union + ')' if m.union else ''}"
            f"{' — ' + str(_('président')) if m.is_president else ''}"
        )
        self._setup_helper()


class LateEntryForm(_CrispyMixin, Form):
    """« Saisie a posteriori »: the jury met on an earlier day than the one planned."""

    date = forms.DateField(
        label=_("Date à laquelle le jury s'est réuni"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    reason = forms.CharField(
        label=_("Motif de la saisie a posteriori"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Conservé sur la session et tracé dans le journal."),
    )
    submit_label = _("Enregistrer la saisie a posteriori")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._setup_helper()


class AddCandidatesForm(_CrispyMixin, Form):
    candidates = forms.ModelMultipleChoiceField(
        label=_("Candidats à présenter au jury"), queryset=None, widget=forms.CheckboxSelectMultiple
    )
    submit_label = _("Ajouter à la session")

    def __init__(self, *args, queryset, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["candidates"].queryset = queryset
        self.fields["candidates"].label_from_instance = lambda c: f"{c.reference} — {c.full_name}"
        self._setup_helper()


class DecisionForm(Form):
    """One radio group and one motivation per competency, initialised from the computed proposal."""

    motivation_required_message = _("Motivation obligatoire lorsque le jury s'écarte de la proposition.")

    def __init__(self, *args, row, amend=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.row = row
        self.amend = amend
        self.rows = []
        for comp in row.competencies:
            proposal = row.proposals[comp.pk]
            decision = row.decisions.get(comp.pk)
            initial = decision.decided if decision else proposal.proposed
            decided = forms.ChoiceField(
                label=_("Décision — compétence %(n)s") % {"n": comp.number},
                choices=[("acquired", _("Acquise")), ("not_acquired", _("Non acquise"))],
                widget=forms.RadioSelect,
                initial=initial,
                disabled=proposal.capitalised,
                required=not proposal.capitalised,
            )
            motivation = forms.CharField(
                label=_("Motivation — compétence %(n)s") % {"n": comp.number},
                max_length=COMMENT_MAX,
                widget=forms.Textarea(attrs={"rows": 2}),
                required=False,
                initial=decision.motivation if decision else "",
            )
            self.fields[f"decided_{comp.pk}"] = decided
            self.fields[f"motivation_{comp.pk}"] = motivation
            self.rows.append(
                {
                    "competency": comp,
                    "proposal": proposal,
                    "decided": self[f"decided_{comp.pk}"],
                    "motivation": self[f"motivation_{comp.pk}"],
                    "capitalised_text": capitalised_text(proposal.explanation)
                    if proposal.capitalised
                    else "",
                }
            )
        outcome = getattr(row, "outcome", None)
        self.fields["reason_for_candidate"] = forms.CharField(
            label=_("Message du jury au candidat (facultatif)"),
            help_text=_(
                "Imprimé dans la lettre de résultat. Les motivations ci-dessus restent internes au "
                "procès-verbal et ne sont jamais communiquées au candidat."
            ),
            widget=forms.Textarea(
                attrs={"rows": 3, "class": "form-control", "aria-describedby": "id_reason_for_candidate_help"}
            ),
            required=False,
            max_length=1500,
            initial=getattr(outcome, "reason_for_candidate", ""),
        )
        if amend:
            self.fields["amend_motivation"] = forms.CharField(
                label=_("Motif de la modification après clôture"),
                max_length=COMMENT_MAX,
                widget=forms.Textarea(attrs={"rows": 3}),
            )

    def choices(self):
        result = {}
        for comp in self.row.competencies:
            proposal = self.row.proposals[comp.pk]
            if proposal.capitalised:
                continue
            result[comp.pk] = (
                self.cleaned_data.get(f"decided_{comp.pk}"),
                self.cleaned_data.get(f"motivation_{comp.pk}", ""),
            )
        return result


class PriorDeliberationForm(_CrispyMixin, Form):
    """An earlier deliberation recorded explicitly: what a certifier needs to prove it (issue 22)."""

    centre_name = forms.CharField(label=_("Centre de certification qui a délibéré"), max_length=200)
    deliberation_date = forms.DateField(
        label=_("Date de la délibération"), widget=forms.DateInput(attrs={"type": "date"})
    )
    pv_number = forms.CharField(label=_("Numéro du PV"), max_length=60)
    scanned_pv = forms.FileField(
        label=_("PV numérisé"),
        help_text=_(
            "PDF, PNG ou JPEG ; le contenu du fichier est vérifié, son empreinte SHA-256 enregistrée."
        ),
    )
    competencies = forms.ModelMultipleChoiceField(
        label=_("Compétences validées par ce jury"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    blocks = forms.ModelMultipleChoiceField(
        label=_("Blocs validés par ce jury"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Seulement pour un CQPM inscrit au RNCP (blocs certifiables)."),
    )
    reason = forms.CharField(
        label=_("Motif de l'enregistrement"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Par exemple : candidat évalué et délibéré avant la mise en service de l'application."),
    )
    submit_label = _("Enregistrer la délibération antérieure")

    def __init__(self, *args, candidate, **kwargs):
        super().__init__(*args, **kwargs)
        certification = candidate.certification
        self.fields["competencies"].queryset = certification.competencies.order_by("number")
        self.fields["competencies"].label_from_instance = lambda c: f"C{c.number} — {c.title}"
        if certification.rncp_number:
            self.fields["blocks"].queryset = certification.blocks.order_by("number")
            self.fields["blocks"].label_from_instance = lambda b: f"Bloc {b.number} — {b.title}"
        else:
            del self.fields["blocks"]
        self.helper = FormHelper()
        self.helper.form_tag = True
        self.helper.attrs = {"enctype": "multipart/form-data"}
        self.helper.add_input(Submit("submit", self.submit_label))

    def service_kwargs(self):
        data = self.cleaned_data
        return {
            "centre_name": data["centre_name"],
            "deliberation_date": data["deliberation_date"],
            "pv_number": data["pv_number"],
            "scanned_pv": data["scanned_pv"],
            "reason": data["reason"],
            "competencies": list(data["competencies"]),
            "blocks": list(data.get("blocks") or []),
        }


class DocumentSettingsForm(_CrispyMixin, Form):
    """What a centre prints on its documents: signatory, scanned signature (PNG), how to contest."""

    signatory_name = forms.CharField(
        label=_("Nom du signataire habilité"),
        max_length=200,
        required=False,
        help_text=_("Imprimé sur les parchemins et les attestations de blocs, pour le certificateur."),
    )
    signatory_title = forms.CharField(
        label=_("Qualité du signataire"),
        max_length=200,
        required=False,
        help_text=_("Par exemple « Déléguée générale de l'UIMM Lorraine »."),
    )
    signature_image = forms.FileField(
        label=_("Signature numérisée (PNG, facultative)"),
        required=False,
        help_text=_("Image PNG sur fond blanc ou transparent, 1 Mo au plus, 2 000 × 1 000 pixels au plus."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/png"}),
    )
    remove_signature = forms.BooleanField(label=_("Retirer la signature numérisée"), required=False)
    contest_text = forms.CharField(
        label=_("Voies de recours (texte de la lettre de résultat)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "Vide : le texte par défaut (recours écrit auprès du centre, à l'attention du président du jury)."
        ),
    )
    contest_days = forms.IntegerField(
        label=_("Délai de recours (jours)"),
        min_value=1,
        max_value=365,
        help_text=_("Compté à partir de la réception de la lettre de résultat."),
    )


class AppealAnswerForm(Form):
    """The outcome of the jury's re-examination of an appeal, told to the candidate."""

    status = forms.ChoiceField(
        label=_("Issue du recours"),
        choices=[
            (AppealStatus.UPHELD, AppealStatus.UPHELD.label),
            (AppealStatus.REJECTED, AppealStatus.REJECTED.label),
        ],
        widget=forms.RadioSelect,
    )
    answer = forms.CharField(
        label=_("Réponse motivée au candidat"),
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Affichée dans l'espace du candidat."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
