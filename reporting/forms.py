from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import Form
from core.models import CertificationCentre
from deliberations.models import SessionStatus
from deliberations.selectors import sessions_visible_to
from evaluations.models import DeliveryMode

from .accrochage import MAX_REPORT_SIZE


class AccrochageExportForm(Form):
    centre = forms.ModelChoiceField(label=_("Centre"), queryset=CertificationCentre.objects.none())
    session = forms.ModelChoiceField(
        label=_("Session de délibération"),
        queryset=None,
        required=False,
        empty_label=_("— ou choisissez une période ci-dessous —"),
        help_text=_("Tous les titulaires de cette session close."),
    )
    date_from = forms.DateField(
        label=_("Délivrés à partir du"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("Délivrés jusqu'au (inclus)"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    unreported_only = forms.BooleanField(
        label=_("Seulement les titulaires à déclarer (jamais envoyés ou rejetés)"),
        required=False,
        initial=True,
        help_text=_(
            "Décoché : les titulaires envoyés sans réponse du portail sont renvoyés. Les acceptés ne le sont jamais."
        ),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        centres = CertificationCentre.objects.filter(pk__in=user.centre_ids())
        self.fields["centre"].queryset = centres
        if len(user.centre_ids()) == 1:
            self.fields["centre"].initial = next(iter(user.centre_ids()))
        # The label (`DeliberationSession.__str__`) needs the date and the CQPM's code; the centre
        # is checked by the export's scope: one select of the years of closed sessions, not their
        # centres', CQPMs' and juries' whole rows (issue 21).
        self.fields["session"].queryset = (
            sessions_visible_to(user)
            .filter(status=SessionStatus.CLOSED)
            .select_related(None)
            .select_related("certification")
            .only("pk", "date", "centre_id", "certification__code")
            .order_by("-date", "-id")
        )
        self.helper = FormHelper()
        self.helper.form_action = "reporting:accrochage_export"
        self.helper.attrs = {
            "data-confirm": _("Produire le fichier et enregistrer ces titulaires comme envoyés ?")
        }
        self.helper.add_input(Submit("submit", _("Vérifier et produire le fichier XML")))

    def clean(self):
        data = super().clean()
        if not data.get("session") and not (data.get("date_from") and data.get("date_to")):
            raise forms.ValidationError(
                _("Choisissez une session de délibération, ou une période (début et fin).")
            )
        return data


class ProcessingReportForm(Form):
    file = forms.FileField(
        label=_("Accusé de traitement du portail (CSV)"),
        help_text=_("Une ligne par titulaire : idTechnique;statut;motif (statut ACCEPTE ou REJETE)."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv,text/plain"}),
    )

    def clean_file(self):
        uploaded = self.cleaned_data["file"]
        if uploaded.size > MAX_REPORT_SIZE:
            raise forms.ValidationError(_("Le fichier dépasse 5 Mo : ce n'est pas un accusé de traitement."))
        if uploaded.size == 0:
            raise forms.ValidationError(_("Le fichier est vide."))
        return uploaded


class LegacyExaminationForm(Form):
    # ISO values: an <input type="date"> shows nothing from a localised « 03/12/2026 »
    first_date = forms.DateField(
        label=_("Date de début de l'évaluation"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    last_date = forms.DateField(
        label=_("Date de fin de l'évaluation"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("La même date que le début pour une évaluation sur une journée."),
    )
    delivery_mode = forms.ChoiceField(label=_("Modalité de passage"), choices=())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["delivery_mode"].choices = DeliveryMode.choices
        self.helper = FormHelper()
        self.helper.form_tag = False
