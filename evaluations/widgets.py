"""The evaluations app's widgets on the home pages (registry: `core.widgets`): evaluation sessions
and late company opinions for staff, the candidates to score and the proposals to arbitrate for
evaluators, the opinions to give for tutors."""

from datetime import date

from django.db.models import Count, Min
from django.urls import reverse
from django.utils.translation import gettext as _

from candidates.selectors import candidates_visible_to
from core.models import Role
from core.widgets import Item, list_widget, register_widget

from .models import SheetStatus
from .notifications import scoring_deadline
from .selectors import opinions_todo_rows, proposals_to_arbitrate, session_list, to_score_rows

# --- staff ------------------------------------------------------------------------------------


@register_widget(key="upcoming_sessions", order=20, roles=[Role.STAFF])
def upcoming_evaluation_sessions(user, today):
    sessions = session_list(user).filter(date__gte=today).order_by("date", "pk")
    return list_widget(
        sessions,
        item=lambda s: Item(
            label=f"{s.date:%d/%m/%Y} — {s.commission.name}",
            url=reverse("evaluations:session_detail", args=[s.pk]),
            detail=_("%(n)s candidat(s) convoqué(s)") % {"n": s.candidate_count}
            + (" · " + _("à distance") if s.is_remote else (f" · {s.place}" if s.place else "")),
        ),
        key="upcoming_sessions",
        title=_("Prochaines sessions d'évaluation"),
        more_url=reverse("evaluations:session_list"),
        more_label=_("Toutes les sessions"),
        empty=_("Aucune session d'évaluation à venir : planifiez-en une depuis « Sessions d'évaluation »."),
    )


@register_widget(key="overdue_opinions", order=40, roles=[Role.STAFF])
def overdue_opinions(user, today):
    """Candidates whose company opinion is unsigned past its due date (one row per candidate)."""
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
    return list_widget(
        candidates,
        item=lambda c: Item(
            label=f"{c.reference} — {c.full_name}",
            url=reverse("evaluations:candidate_detail", args=[c.pk]),
            detail=_("%(n)s avis attendu(s) depuis le %(d)s")
            % {"n": c.missing, "d": f"{c.first_due:%d/%m/%Y}"}
            + (f" · {c.tutor}" if c.tutor_id else ""),
            due=c.first_due,
            late=True,
        ),
        key="overdue_opinions",
        title=_("Avis de l'entreprise en retard"),
        empty=_("Aucun avis de l'entreprise en retard."),
    )


# --- evaluator --------------------------------------------------------------------------------


@register_widget(key="to_score", order=10, roles=[Role.EVALUATOR])
def to_score(user, today):
    def item(row):
        session = row["session"]
        deadline = scoring_deadline(session.date) if session else None
        pending = [s for s in row["sheets"] if s.status != SheetStatus.SUBMITTED]
        target = pending[0] if pending else row["sheets"][0]
        return Item(
            label=f"{row['candidate'].reference} — {row['candidate'].full_name}",
            url=reverse("evaluations:score", args=[row["candidate"].pk, target.competency_id]),
            detail=_("%(done)s/%(total)s fiche(s) soumise(s)")
            % {"done": row["submitted_count"], "total": len(row["sheets"])}
            + (f" · {_('évaluation le')} {session.date:%d/%m/%Y}" if session else ""),
            due=deadline,
            late=bool(deadline and deadline < today),
        )

    rows = sorted(
        to_score_rows(user),
        key=lambda r: (r["session"].date if r["session"] else date.max, r["candidate"].pk),
    )
    return list_widget(
        rows,
        item=item,
        key="to_score",
        title=_("Candidats à évaluer"),
        more_url=reverse("evaluations:to_score"),
        more_label=_("Toute ma liste"),
        empty=_("Aucune fiche d'évaluation en attente. Vos prochaines affectations apparaîtront ici."),
    )


@register_widget(key="to_arbitrate", order=20, roles=[Role.EVALUATOR])
def to_arbitrate(user, today):
    """Shown only to a president with proposals to arbitrate."""
    arbitrations = proposals_to_arbitrate(user)
    if not arbitrations:
        return None
    return list_widget(
        list(arbitrations),
        item=lambda a: Item(
            label=f"{a['candidate'].reference} — C{a['competency'].number}",
            url=reverse("evaluations:proposal", args=[a["candidate"].pk, a["competency"].pk]),
            detail=a["competency"].title,
        ),
        key="to_arbitrate",
        title=_("Propositions à arbitrer (présidence)"),
    )


# --- tutor ------------------------------------------------------------------------------------


@register_widget(key="opinions_todo", order=10, roles=[Role.TUTOR])
def opinions_todo(user, today):
    return list_widget(
        [r for r in opinions_todo_rows(user) if not r["signed"]],
        item=lambda r: Item(
            label=f"{r['candidate'].full_name} — {r['candidate'].certification.code}",
            url=reverse("evaluations:opinion", args=[r["candidate"].pk]),
            detail=_("%(given)s/%(total)s avis donné(s)") % {"given": r["given"], "total": r["total"]},
            due=r["due_date"],
            late=bool(r["due_date"] and r["due_date"] < today),
        ),
        key="opinions_todo",
        title=_("Avis à donner"),
        more_url=reverse("evaluations:opinions_todo"),
        more_label=_("Tous mes avis"),
        empty=_("Aucun avis à donner pour le moment. Le centre vous écrira quand un avis sera attendu."),
    )
