"""The home page of each role: what needs doing, each item linking to the page where it is done.

Every figure comes through the role's selectors (`candidates_visible_to`, the evaluations and
deliberations selectors), so a dashboard never counts what its user may not open. Each widget runs
a fixed number of queries whatever the volume (tested at 5 and 50 rows).
"""

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.db.models import Count, Exists, Min, OuterRef, Q, Window
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Notification, Role
from .notifications import kind_label

ITEM_LIMIT = 8


@dataclass
class Item:
    label: str
    url: str
    detail: str = ""
    due: date | None = None
    late: bool = False


@dataclass
class Widget:
    key: str
    title: str
    count: int
    items: list = field(default_factory=list)
    more_url: str = ""
    more_label: str = ""
    empty: str = ""
    counts: list = field(default_factory=list)  # [(label, number, url)] for a "by state" widget

    @property
    def hidden_count(self):
        """Items not listed (a "by state" widget lists no item: nothing is hidden)."""
        return 0 if self.counts else max(0, self.count - len(self.items))


def scoring_deadline(session_date):
    """Sheets are submitted within settings.CQPM["SCORING_DEADLINE_DAYS"] days after the evaluation."""
    return session_date + timedelta(days=settings.CQPM.get("SCORING_DEADLINE_DAYS", 7))


def dashboard_for(user, today=None):
    today = today or timezone.localdate()
    role = Role.STAFF if user.is_superuser else user.role
    builders = {
        Role.STAFF: staff_widgets,
        Role.EVALUATOR: evaluator_widgets,
        Role.TUTOR: tutor_widgets,
        Role.JURY: jury_widgets,
    }
    widgets = builders[role](user, today) if user.is_active and role in builders else []
    if user.is_active:
        messages = new_messages(user)
        if messages.count:  # shown only when there is something new to read
            widgets.append(messages)
    return {"role": role, "widgets": widgets, "today": today}


def new_messages(user):
    """The messages the user has not seen on « Mes messages » yet, newest first (one query: the
    total comes with the rows, counted before the limit)."""
    rows = list(
        Notification.objects.filter(recipient=user, read_at__isnull=True)
        .annotate(total=Window(Count("id")))
        .order_by("-created_at", "-id")
        .values_list("subject", "kind", "created_at", "total")[:ITEM_LIMIT]
    )
    url = reverse("core:notifications")
    return Widget(
        key="new_messages",
        title=_("Nouveaux messages"),
        count=rows[0][3] if rows else 0,
        items=[
            Item(
                label=subject,
                url=url,
                detail=f"{kind_label(kind)} · {timezone.localtime(created_at):%d/%m/%Y %H:%M}",
            )
            for subject, kind, created_at, _total in rows
        ],
        more_url=url,
        more_label=_("Lire mes messages"),
    )


# --- staff ------------------------------------------------------------------------------------


def staff_widgets(user, today):
    return [
        candidates_by_status(user),
        upcoming_evaluation_sessions(user, today),
        late_reports(user, today),
        overdue_opinions(user, today),
        overdue_access_requests(user, today),
        open_appeals(user, today),
        deliberation_sessions_ready(user, today),
    ]


def candidates_by_status(user):
    from candidates.models import CandidateStatus
    from candidates.selectors import candidates_visible_to

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


def upcoming_evaluation_sessions(user, today):
    from evaluations.selectors import session_list

    sessions = session_list(user).filter(date__gte=today).order_by("date", "pk")
    count = sessions.count()
    items = [
        Item(
            label=f"{s.date:%d/%m/%Y} — {s.commission.name}",
            url=reverse("evaluations:session_detail", args=[s.pk]),
            detail=_("%(n)s candidat(s) convoqué(s)") % {"n": s.candidate_count}
            + (" · " + _("à distance") if s.is_remote else (f" · {s.place}" if s.place else "")),
        )
        for s in sessions[:ITEM_LIMIT]
    ]
    return Widget(
        key="upcoming_sessions",
        title=_("Prochaines sessions d'évaluation"),
        count=count,
        items=items,
        more_url=reverse("evaluations:session_list"),
        more_label=_("Toutes les sessions"),
        empty=_("Aucune session d'évaluation à venir : planifiez-en une depuis « Sessions d'évaluation »."),
    )


def late_reports(user, today):
    """Candidates still in evaluation whose report is due and not uploaded."""
    from candidates.models import CandidateDocument, CandidateStatus, DocumentKind
    from candidates.selectors import candidates_visible_to

    report = CandidateDocument.objects.filter(candidate=OuterRef("pk"), kind=DocumentKind.REPORT)
    late = (
        candidates_visible_to(user)
        .filter(
            anonymised_at__isnull=True,
            status__in=[CandidateStatus.DOSSIER_VALIDATED, CandidateStatus.IN_EVALUATION],
            dossier__report_due_date__lt=today,
            dossier__items__modalities__icontains="project_presentation",
        )
        .exclude(Exists(report))
        .distinct()
        .select_related("dossier")
        .order_by("dossier__report_due_date", "reference")
    )
    count = late.count()
    items = [
        Item(
            label=f"{c.reference} — {c.full_name}",
            url=reverse("candidates:detail", args=[c.pk]),
            detail=_("Rapport attendu le %(d)s") % {"d": f"{c.dossier.report_due_date:%d/%m/%Y}"},
            due=c.dossier.report_due_date,
            late=True,
        )
        for c in late[:ITEM_LIMIT]
    ]
    return Widget(
        key="late_reports",
        title=_("Rapports en retard"),
        count=count,
        items=items,
        empty=_("Aucun rapport en retard."),
    )


def overdue_opinions(user, today):
    """Candidates whose company opinion is unsigned past its due date (one row per candidate)."""
    from candidates.selectors import candidates_visible_to

    candidates = (
        candidates_visible_to(user)
        .filter(
            anonymised_at__isnull=True,
            company_opinions__signed_at__isnull=True,
            company_opinions__due_date__lt=today,
        )
        .annotate(first_due=Min("company_opinions__due_date"), missing=Count("company_opinions"))
        .select_related("tutor")
        .order_by("first_due", "reference")
    )
    count = candidates.count()
    items = [
        Item(
            label=f"{c.reference} — {c.full_name}",
            url=reverse("evaluations:candidate_detail", args=[c.pk]),
            detail=_("%(n)s avis attendu(s) depuis le %(d)s")
            % {"n": c.missing, "d": f"{c.first_due:%d/%m/%Y}"}
            + (f" · {c.tutor}" if c.tutor_id else ""),
            due=c.first_due,
            late=True,
        )
        for c in candidates[:ITEM_LIMIT]
    ]
    return Widget(
        key="overdue_opinions",
        title=_("Avis de l'entreprise en retard"),
        count=count,
        items=items,
        empty=_("Aucun avis de l'entreprise en retard."),
    )


def overdue_access_requests(user, today):
    """Requests of access to personal data not answered within one month (RGPD art. 12.3; issue 22).
    One query (a second one only when more than ITEM_LIMIT are late)."""
    from candidates.selectors import overdue_access_requests as overdue

    rows = list(overdue(user, today)[: ITEM_LIMIT + 1])
    count = len(rows) if len(rows) <= ITEM_LIMIT else overdue(user, today).count()
    items = [
        Item(
            label=f"{r.candidate.reference} — {r.received_on:%d/%m/%Y}",
            url=reverse("candidates:access_request_detail", args=[r.pk]),
            detail=_("Réponse due le %(d)s") % {"d": f"{r.due_on:%d/%m/%Y}"},
            due=r.due_on,
            late=True,
        )
        for r in rows[:ITEM_LIMIT]
    ]
    return Widget(
        key="overdue_access_requests",
        title=_("Demandes d'accès aux données en retard (RGPD)"),
        count=count,
        items=items,
        more_url=reverse("candidates:access_request_list"),
        more_label=_("Registre des demandes d'accès"),
        empty=_("Aucune demande d'accès en retard."),
    )


def open_appeals(user, today):
    """Candidates' appeals (recours) waiting for the jury's re-examination (issue 23). One query (a
    second one only when more than ITEM_LIMIT are open)."""
    from deliberations.selectors import open_appeals as appeals

    rows = list(appeals(user)[: ITEM_LIMIT + 1])
    count = len(rows) if len(rows) <= ITEM_LIMIT else appeals(user).count()
    items = [
        Item(
            label=f"{a.candidate.reference} — {a.session.date:%d/%m/%Y}",
            url=reverse("deliberations:appeal_detail", args=[a.pk]),
            detail=_("Déposé le %(d)s") % {"d": f"{timezone.localtime(a.filed_at):%d/%m/%Y}"},
        )
        for a in rows[:ITEM_LIMIT]
    ]
    return Widget(
        key="open_appeals",
        title=_("Recours à examiner"),
        count=count,
        items=items,
        more_url=reverse("deliberations:appeal_list"),
        more_label=_("Tous les recours"),
        empty=_("Aucun recours en cours."),
    )


NOT_EVALUATED = ("registered", "dossier_validated", "in_evaluation")


def deliberation_sessions_ready(user, today):
    """Sessions not closed whose candidates have all finished their evaluation (awaiting deliberation)."""
    from deliberations.models import SessionStatus
    from deliberations.selectors import sessions_visible_to

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
    count = sessions.count()
    items = [
        Item(
            label=f"{s.date:%d/%m/%Y} — {s.certification.code}",
            url=reverse("deliberations:session_detail", args=[s.pk]),
            detail=_("%(n)s candidat(s) · %(status)s")
            % {"n": s.candidate_count, "status": s.get_status_display()},
        )
        for s in sessions[:ITEM_LIMIT]
    ]
    return Widget(
        key="sessions_ready",
        title=_("Sessions prêtes pour la délibération"),
        count=count,
        items=items,
        more_url=reverse("deliberations:session_list"),
        more_label=_("Toutes les délibérations"),
        empty=_("Aucune session prête : ajoutez des candidats dont l'évaluation est terminée à une session."),
    )


# --- evaluator --------------------------------------------------------------------------------


def evaluator_widgets(user, today):
    from evaluations.models import SheetStatus
    from evaluations.selectors import proposals_to_arbitrate, to_score_rows

    rows = to_score_rows(user)
    items = []
    for row in sorted(
        rows, key=lambda r: (r["session"].date if r["session"] else date.max, r["candidate"].pk)
    ):
        session = row["session"]
        deadline = scoring_deadline(session.date) if session else None
        pending = [s for s in row["sheets"] if s.status != SheetStatus.SUBMITTED]
        target = pending[0] if pending else row["sheets"][0]
        items.append(
            Item(
                label=f"{row['candidate'].reference} — {row['candidate'].full_name}",
                url=reverse("evaluations:score", args=[row["candidate"].pk, target.competency_id]),
                detail=_("%(done)s/%(total)s fiche(s) soumise(s)")
                % {"done": row["submitted_count"], "total": len(row["sheets"])}
                + (f" · {_('évaluation le')} {session.date:%d/%m/%Y}" if session else ""),
                due=deadline,
                late=bool(deadline and deadline < today),
            )
        )
    widgets = [
        Widget(
            key="to_score",
            title=_("Candidats à évaluer"),
            count=len(items),
            items=items[:ITEM_LIMIT],
            more_url=reverse("evaluations:to_score"),
            more_label=_("Toute ma liste"),
            empty=_("Aucune fiche d'évaluation en attente. Vos prochaines affectations apparaîtront ici."),
        )
    ]
    arbitrations = proposals_to_arbitrate(user)
    if arbitrations:
        widgets.append(
            Widget(
                key="to_arbitrate",
                title=_("Propositions à arbitrer (présidence)"),
                count=len(arbitrations),
                items=[
                    Item(
                        label=f"{a['candidate'].reference} — C{a['competency'].number}",
                        url=reverse("evaluations:proposal", args=[a["candidate"].pk, a["competency"].pk]),
                        detail=a["competency"].title,
                    )
                    for a in arbitrations[:ITEM_LIMIT]
                ],
            )
        )
    return widgets


# --- tutor ------------------------------------------------------------------------------------


def tutor_widgets(user, today):
    from evaluations.selectors import opinions_todo_rows

    rows = [r for r in opinions_todo_rows(user) if not r["signed"]]
    items = [
        Item(
            label=f"{r['candidate'].full_name} — {r['candidate'].certification.code}",
            url=reverse("evaluations:opinion", args=[r["candidate"].pk]),
            detail=_("%(given)s/%(total)s avis donné(s)") % {"given": r["given"], "total": r["total"]},
            due=r["due_date"],
            late=bool(r["due_date"] and r["due_date"] < today),
        )
        for r in rows
    ]
    return [
        Widget(
            key="opinions_todo",
            title=_("Avis à donner"),
            count=len(items),
            items=items[:ITEM_LIMIT],
            more_url=reverse("evaluations:opinions_todo"),
            more_label=_("Tous mes avis"),
            empty=_("Aucun avis à donner pour le moment. Le centre vous écrira quand un avis sera attendu."),
        )
    ]


# --- jury member ------------------------------------------------------------------------------


def jury_widgets(user, today):
    from deliberations.models import SessionStatus
    from deliberations.selectors import sessions_visible_to

    sessions = (
        sessions_visible_to(user)
        .filter(Q(status=SessionStatus.OPEN) | Q(status=SessionStatus.PLANNED, date__gte=today))
        .annotate(candidate_count=Count("entries", distinct=True))
        .order_by("date", "pk")
    )
    count = sessions.count()
    items = [
        Item(
            label=f"{s.date:%d/%m/%Y} — {s.certification.code}",
            url=reverse("deliberations:session_detail", args=[s.pk]),
            detail=f"{s.place} · "
            + _("%(n)s candidat(s)") % {"n": s.candidate_count}
            + f" · {s.get_status_display()}",
        )
        for s in sessions[:ITEM_LIMIT]
    ]
    return [
        Widget(
            key="next_deliberations",
            title=_("Prochaines délibérations"),
            count=count,
            items=items,
            more_url=reverse("deliberations:session_list"),
            more_label=_("Toutes mes délibérations"),
            empty=_("Aucune délibération prévue. Le centre vous convoquera à la prochaine session."),
        )
    ]
