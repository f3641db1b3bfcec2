"""The evaluations' part of the candidate's page (candidates.hub): convocations, progress per
competency with the sheets and the commission's proposal, the tutor's invitation and the company
opinion, their stages on the timeline and the next step. At most five queries whatever the candidate.

What the section only displays (convocations, competencies, sheets, proposals) is read as values
(dicts), not model instances: each query of the page costs ~1.5 ms of ORM CPU, a good part of it
hydrating models and their related users (issue 21); the choices' labels are translated once."""

from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from candidates.hub import HubSection, NextStep, Stage
from candidates.models import CandidateStatus
from core.dates import long_date
from core.models import pop_person_name

from .models import CommissionProposal, Conclusion, Convocation, ScoringSheet, SheetStatus, TutorInvitation
from .selectors import opinions_of


def _name(user):
    return (user.get_full_name() or user.username) if user is not None else ""


def _invitation_state(invitation, now):
    if invitation is None:
        return ""
    if invitation.used_at:
        return _("lien utilisé le %(d)s") % {"d": long_date(timezone.localtime(invitation.used_at))}
    if invitation.expires_at <= now:
        return _("lien expiré le %(d)s") % {"d": long_date(timezone.localtime(invitation.expires_at))}
    return _("lien valable jusqu'au %(d)s") % {"d": long_date(timezone.localtime(invitation.expires_at))}


def candidate_section(request, candidate):
    if not request.user.is_centre_staff or candidate.anonymised_at:
        return None
    convocations = list(
        Convocation.objects.filter(candidate=candidate)
        .order_by("session__date")
        .values(
            "session_id",
            "time_slot",
            date=F("session__date"),
            commission_name=F("session__commission__name"),
        )
    )
    if candidate.status in (CandidateStatus.REGISTERED,) and not convocations:
        return None
    # The competencies to evaluate: the dossier's but those already acquired, from the dossier's rows
    # the page has read (`candidates.hub`): no query of their own.
    competencies = [
        {"pk": row["competency_id"], "number": row["number"], "title": row["title"]}
        for row in candidate.dossier_rows
        if not row["already_acquired"]
    ]
    sheets = list(
        ScoringSheet.objects.filter(candidate=candidate)
        .order_by("evaluator__last_name", "evaluator__first_name")
        .values(
            "pk",
            "competency_id",
            "status",
            "submitted_at",
            "evaluator__first_name",
            "evaluator__last_name",
            "evaluator__username",
        )
    )
    for sheet in sheets:
        sheet["evaluator_name"] = pop_person_name(sheet, "evaluator")
    proposals = {
        p["competency_id"]: p
        for p in CommissionProposal.objects.filter(candidate=candidate).values(
            "competency_id", "conclusion", "reason"
        )
    }
    if proposals:
        conclusion_labels = {value: str(label) for value, label in Conclusion.choices}
        for proposal in proposals.values():
            proposal["conclusion_label"] = conclusion_labels.get(
                proposal["conclusion"], proposal["conclusion"]
            )
    opinion_applies = (
        bool(candidate.dossier_company_opinion_applies) and not candidate.is_vae and candidate.tutor_id
    )
    # The company's opinion and the tutor's invitation show only where the opinion applies (never in
    # VAE, nor without a company or tutor): no query for them otherwise.
    opinions = {o.competency_id: o for o in opinions_of(candidate)} if opinion_applies else {}
    invitation = (
        TutorInvitation.objects.filter(candidate=candidate)
        .select_related("created_by")
        .order_by("-created_at")
        .first()
        if opinion_applies
        else None
    )
    now = timezone.now()
    today = timezone.localdate()
    rows = [
        {
            "competency": competency,
            "sheets": [s for s in sheets if s["competency_id"] == competency["pk"]],
            "submitted": sum(
                1
                for s in sheets
                if s["competency_id"] == competency["pk"] and s["status"] == SheetStatus.SUBMITTED
            ),
            "proposal": proposals.get(competency["pk"]),
            "opinion": opinions.get(competency["pk"]),
        }
        for competency in competencies
    ]
    submitted = [s for s in sheets if s["status"] == SheetStatus.SUBMITTED]
    stages, next_steps = [], []

    if convocations:
        first = convocations[0]
        stages.append(
            Stage(
                30,
                _("Convocation à la session d'évaluation"),
                first["date"],
                first["commission_name"],
                done=first["date"] <= today,
                detail=_("à %(t)s") % {"t": first["time_slot"].strftime("%H:%M")},
            )
        )
    elif candidate.status == CandidateStatus.DOSSIER_VALIDATED:
        next_steps.append(NextStep(30, _("Convoquer à une session"), reverse("evaluations:session_list")))
    if competencies and convocations:
        evaluators = sorted({s["evaluator_name"] for s in sheets})
        last = max((s["submitted_at"] for s in submitted), default=None)
        stages.append(
            Stage(
                40,
                _("Évaluation par la commission"),
                last,
                ", ".join(evaluators),
                done=all(r["proposal"] for r in rows),
                detail=_("%(n)s / %(m)s fiches soumises ; %(p)s / %(c)s propositions de la commission")
                % {"n": len(submitted), "m": len(sheets), "p": len(proposals), "c": len(competencies)},
            )
        )
    if opinion_applies:
        signed = [o for o in opinions.values() if o.is_signed]
        if invitation is not None:
            stages.append(
                Stage(
                    45,
                    _("Invitation du tuteur"),
                    invitation.created_at,
                    _name(invitation.created_by),
                    detail=_invitation_state(invitation, now),
                )
            )
        if opinions:
            stages.append(
                Stage(
                    50,
                    _("Avis de l'entreprise"),
                    max((o.signed_at for o in signed), default=None),
                    _name(signed[0].signed_by) if signed else "",
                    done=len(signed) == len(opinions),
                    detail=_("%(n)s / %(m)s compétences signées") % {"n": len(signed), "m": len(opinions)},
                )
            )
        if invitation is None and candidate.status in (
            CandidateStatus.DOSSIER_VALIDATED,
            CandidateStatus.IN_EVALUATION,
        ):
            next_steps.append(
                NextStep(
                    35,
                    _("Inviter le tuteur"),
                    reverse("evaluations:candidate_detail", args=[candidate.pk]) + "#invitation",
                )
            )
    due = next((o.due_date for o in opinions.values() if o.due_date), None)
    return HubSection(
        order=30,
        template="evaluations/_candidate_hub.html",
        context={
            "convocations": convocations,
            "rows": rows,
            "invitation": invitation,
            "invitation_state": _invitation_state(invitation, now),
            "opinion_applies": opinion_applies,
            "opinions_signed": bool(opinions) and all(o.is_signed for o in opinions.values()),
            "resend_due": max(due or today, today),
            # « Copier le lien »: only the candidate's centre staff see this page's section (above).
            "can_copy_link": opinion_applies
            and not (opinions and all(o.is_signed for o in opinions.values()))
            and candidate.status in (CandidateStatus.DOSSIER_VALIDATED, CandidateStatus.IN_EVALUATION),
            "can_resend": opinion_applies
            and invitation is not None
            and not (opinions and all(o.is_signed for o in opinions.values()))
            and candidate.status in (CandidateStatus.DOSSIER_VALIDATED, CandidateStatus.IN_EVALUATION),
        },
        stages=stages,
        next_steps=next_steps,
    )
