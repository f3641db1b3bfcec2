"""The candidates app's widgets on the staff home page (registry: `core.widgets`)."""

from django.db.models import Count, Exists, OuterRef
from django.urls import reverse
from django.utils.translation import gettext as _

from core.models import Role
from core.widgets import Item, Widget, list_widget, register_widget
from referential.models import ModalityCode

from .models import CandidateDocument, CandidateStatus, DocumentKind
from .selectors import candidates_visible_to
from .selectors import overdue_access_requests as overdue


@register_widget(key="candidates_by_status", order=10, roles=[Role.STAFF])
def candidates_by_status(user, today=None):
    counts = dict(
        candidates_visible_to(user)
        .filter(anonymised_at__isnull=True)
        .values("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
        .order_by()
    )
    base = reverse("candidates:list")
    rows = [
        (label, counts.get(value, 0), f"{base}?status={value}") for value, label in CandidateStatus.choices
    ]
    return Widget(
        key="candidates_by_status",
        title=_("Candidats par statut"),
        count=sum(counts.values()),
        counts=rows,
        more_url=base,
        more_label=_("Tous les candidats"),
        empty=_("Aucun candidat inscrit : commencez par inscrire un candidat."),
    )


@register_widget(key="late_reports", order=30, roles=[Role.STAFF])
def late_reports(user, today):
    """Candidates still in evaluation whose report is due and not uploaded."""
    report = CandidateDocument.objects.filter(candidate=OuterRef("pk"), kind=DocumentKind.REPORT)
    late = (
        candidates_visible_to(user)
        .filter(
            anonymised_at__isnull=True,
            status__in=[CandidateStatus.DOSSIER_VALIDATED, CandidateStatus.IN_EVALUATION],
            dossier__report_due_date__lt=today,
            dossier__items__modalities__icontains=ModalityCode.PROJECT_PRESENTATION,
        )
        .exclude(Exists(report))
        .distinct()
        .select_related("dossier")
        .order_by("dossier__report_due_date", "reference")
    )
    return list_widget(
        late,
        item=lambda c: Item(
            label=f"{c.reference} — {c.full_name}",
            url=reverse("candidates:detail", args=[c.pk]),
            detail=_("Rapport attendu le %(d)s") % {"d": f"{c.dossier.report_due_date:%d/%m/%Y}"},
            due=c.dossier.report_due_date,
            late=True,
        ),
        key="late_reports",
        title=_("Rapports en retard"),
        empty=_("Aucun rapport en retard."),
    )


@register_widget(key="overdue_access_requests", order=50, roles=[Role.STAFF])
def overdue_access_requests(user, today):
    """Requests of access to personal data not answered within one month (RGPD art. 12.3; issue 22)."""
    return list_widget(
        overdue(user, today),
        item=lambda r: Item(
            label=f"{r.candidate.reference} — {r.received_on:%d/%m/%Y}",
            url=reverse("candidates:access_request_detail", args=[r.pk]),
            detail=_("Réponse due le %(d)s") % {"d": f"{r.due_on:%d/%m/%Y}"},
            due=r.due_on,
            late=True,
        ),
        key="overdue_access_requests",
        title=_("Demandes d'accès aux données en retard (RGPD)"),
        more_url=reverse("candidates:access_request_list"),
        more_label=_("Registre des demandes d'accès"),
        empty=_("Aucune demande d'accès en retard."),
    )
