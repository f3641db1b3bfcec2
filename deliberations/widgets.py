"""The deliberations app's widgets on the home pages (registry: `core.widgets`): the sessions ready
to deliberate for staff, the next deliberations for jury members."""

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from candidates.models import CandidateStatus
from core.models import Role
from core.widgets import Item, list_widget, register_widget

from .models import SessionStatus
from .selectors import open_appeals as appeals
from .selectors import sessions_visible_to

NOT_EVALUATED = (CandidateStatus.REGISTERED, CandidateStatus.DOSSIER_VALIDATED, CandidateStatus.IN_EVALUATION)


@register_widget(key="sessions_ready", order=60, roles=[Role.STAFF])
def deliberation_sessions_ready(user, today):
    """Sessions not closed whose candidates have all finished their evaluation (awaiting deliberation)."""
    sessions = (
        sessions_visible_to(user)
        .filter(status__in=[SessionStatus.PLANNED, SessionStatus.OPEN])
        .annotate(
            candidate_count=Count("entries", distinct=True),
            pending_count=Count(
                "entries", filter=Q(entries__candidate__status__in=NOT_EVALUATED), distinct=True
            ),
        )
        .filter(candidate_count__gt=0, pending_count=0)
        .order_by("date", "pk")
    )
    return list_widget(
        sessions,
        item=lambda s: Item(
            label=f"{s.date:%d/%m/%Y} — {s.certification.code}",
            url=reverse("deliberations:session_detail", args=[s.pk]),
            detail=_("%(n)s candidat(s) · %(status)s")
            % {"n": s.candidate_count, "status": s.get_status_display()},
        ),
        key="sessions_ready",
        title=_("Sessions prêtes pour la délibération"),
        more_url=reverse("deliberations:session_list"),
        more_label=_("Toutes les délibérations"),
        empty=_("Aucune session prête : ajoutez des candidats dont l'évaluation est terminée à une session."),
    )


@register_widget(key="open_appeals", order=55, roles=[Role.STAFF])
def open_appeals(user, today):
    """Candidates' appeals (recours) waiting for the jury's re-examination."""
    return list_widget(
        appeals(user),
        item=lambda a: Item(
            label=f"{a.candidate.reference} — {a.session.date:%d/%m/%Y}",
            url=reverse("deliberations:appeal_detail", args=[a.pk]),
            detail=_("Déposé le %(d)s") % {"d": f"{timezone.localtime(a.filed_at):%d/%m/%Y}"},
        ),
        key="open_appeals",
        title=_("Recours à examiner"),
        more_url=reverse("deliberations:appeal_list"),
        more_label=_("Tous les recours"),
        empty=_("Aucun recours en cours."),
    )


@register_widget(key="next_deliberations", order=10, roles=[Role.JURY])
def next_deliberations(user, today):
    sessions = (
        sessions_visible_to(user)
        .filter(Q(status=SessionStatus.OPEN) | Q(status=SessionStatus.PLANNED, date__gte=today))
        .annotate(candidate_count=Count("entries", distinct=True))
        .order_by("date", "pk")
    )
    return list_widget(
        sessions,
        item=lambda s: Item(
            label=f"{s.date:%d/%m/%Y} — {s.certification.code}",
            url=reverse("deliberations:session_detail", args=[s.pk]),
            detail=f"{s.place} · "
            + _("%(n)s candidat(s)") % {"n": s.candidate_count}
            + f" · {s.get_status_display()}",
        ),
        key="next_deliberations",
        title=_("Prochaines délibérations"),
        more_url=reverse("deliberations:session_list"),
        more_label=_("Toutes mes délibérations"),
        empty=_("Aucune délibération prévue. Le centre vous convoquera à la prochaine session."),
    )
