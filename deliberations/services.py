"""State changes of the deliberations: the only place where juries, sessions, decisions and
generated documents change. Plain functions, keyword-only arguments, one transaction each; a broken
rule raises BusinessRuleError with a French message; every change is audited (ids only)."""

from __future__ import annotations

import io
import logging
from datetime import date, timedelta

from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from candidates import services as candidate_services
from candidates.models import CandidateStatus
from candidates.models import DocumentKind as CandidateDocumentKind
from core import dates
from core.dates import long_date, today
from core.exceptions import BusinessRuleError
from core.files import validate_upload
from core.services import audit, queue_email, safe_delay
from core.text import REASON_MAX, check_length
from evaluations.models import Convocation

from . import awards, board_version, selectors
from .capitalisation import apply_capitalisation
from .models import (
    Appeal,
    AppealStatus,
    Attendance,
    CandidateOutcome,
    CapitalisedBlock,
    CapitalisedCompetency,
    CentreDocumentSettings,
    College,
    CompetencyDecision,
    DeliberationSession,
    DocumentKind,
    DocumentStatus,
    GeneratedDocument,
    Jury,
    JuryMember,
    OutcomeAmendment,
    PriorDeliberation,
    Result,
    SessionCandidate,
    SessionStatus,
)
from .models.documents import CANDIDATE_KINDS, DEFAULT_CONTEST_DAYS, new_document_number
from .tasks import render_document, render_documents

logger = logging.getLogger(__name__)

QUEUE_UNAVAILABLE = (
    "La file d'attente des tâches est indisponible ; le document n'a pas pu être lancé. Réessayez."
)


# ---------------------------------------------------------------------------------------------
# Juries
# ---------------------------------------------------------------------------------------------


@transaction.atomic
def create_jury(*, actor, centre, name):
    name = (name or "").strip()
    if not name:
        raise BusinessRuleError(_("Donnez un nom au jury."))
    if Jury.objects.filter(centre=centre, name=name).exists():
        raise BusinessRuleError(_("Un jury porte déjà ce nom dans ce centre."))
    jury = Jury.objects.create(centre=centre, name=name)
    audit(actor=actor, action="deliberations.jury_created", target=jury, centre=centre)
    return jury


@transaction.atomic
def add_jury_member(*, actor, jury, full_name, college, union="", is_president=False, user=None, email=""):
    """Employees' side: one member per representative union; the president comes from the employers."""
    full_name, union = (full_name or "").strip(), (union or "").strip()
    if not full_name:
        raise BusinessRuleError(_("Indiquez le nom du membre."))
    if college not in College.values:
        raise BusinessRuleError(_("Choisissez le collège du membre."))
    if college == College.EMPLOYEES:
        if not union:
            raise BusinessRuleError(
                _("Un membre du collège salariés représente une organisation syndicale : indiquez-la.")
            )
        if jury.members.filter(college=College.EMPLOYEES, union__iexact=union).exists():
            raise BusinessRuleError(
                _("Cette organisation syndicale a déjà son membre dans ce jury (un membre par syndicat).")
            )
    else:
        union = ""
    if is_president:
        if college != College.EMPLOYERS:
            raise BusinessRuleError(_("Le président du jury est issu du collège employeurs."))
        if jury.members.filter(is_president=True).exists():
            raise BusinessRuleError(_("Ce jury a déjà un président."))
    if user is not None:
        if not user.is_jury_member:
            raise BusinessRuleError(_("Le compte lié doit avoir le rôle « membre de jury »."))
        if jury.members.filter(user=user).exists():
            raise BusinessRuleError(_("Ce compte siège déjà dans ce jury."))
        user.centres.add(jury.centre)
    member = JuryMember.objects.create(
        jury=jury,
        full_name=full_name,
        college=college,
        union=union,
        is_president=is_president,
        user=user,
        email=email or (user.email if user else ""),
    )
    audit(
        actor=actor,
        action="deliberations.jury_member_added",
        target=jury,
        member_id=member.pk,
        college=college,
    )
    return member


@transaction.atomic
def remove_jury_member(*, actor, member):
    if member.attendances.exists():
        raise BusinessRuleError(
            _("Ce membre figure sur une feuille de présence : il ne peut plus être retiré.")
        )
    jury = member.jury
    member_id = member.pk
    member.delete()
    audit(actor=actor, action="deliberations.jury_member_removed", target=jury, member_id=member_id)


# ---------------------------------------------------------------------------------------------
# Sessions, convocations, candidates, attendance
# ---------------------------------------------------------------------------------------------


@transaction.atomic
def create_session(*, actor, centre, certification, jury, date, place, late_entry_reason=""):
    """Plan a deliberation. Dated before today, it is a « saisie a posteriori » (reason required)."""
    if jury.centre_id != centre.pk:
        raise BusinessRuleError(_("Le jury choisi n'appartient pas à ce centre."))
    if not (place or "").strip():
        raise BusinessRuleError(_("Indiquez le lieu de la délibération."))
    late_reason = dates.late_entry_reason(date=date, reason=late_entry_reason)
    session = DeliberationSession.objects.create(
        centre=centre, certification=certification, jury=jury, date=date, place=place.strip()
    )
    audit(actor=actor, action="deliberations.session_created", target=session)
    if late_reason:
        _store_late_entry(session, actor=actor, reason=late_reason)
    return session


def _store_late_entry(session, *, actor, reason):
    session.late_entry_reason = reason
    session.late_entry_at = timezone.now()
    session.late_entry_by = actor if getattr(actor, "is_authenticated", False) else None
    session.save(update_fields=["date", "late_entry_reason", "late_entry_at", "late_entry_by"])
    audit(
        actor=actor,
        action="deliberations.session_late_entry",
        target=session,
        date=session.date.isoformat(),
    )


@transaction.atomic
def record_late_entry(*, actor, session, date, reason):
    """« Saisie a posteriori »: the jury met on `date` (today or earlier), not on the planned day; staff
    of the centre record the real date with a reason (kept on the session, audited). The attendance,
    decisions and closing can then be recorded. Refused when the session is closed, when the date is
    in the future, or when a candidate already put before the jury is evaluated after that date."""
    if actor is not None and not (
        getattr(actor, "is_centre_staff", False) and session.centre_id in actor.centre_ids()
    ):
        raise BusinessRuleError(_("Seul le personnel du centre peut enregistrer une saisie a posteriori."))
    session = DeliberationSession.objects.select_for_update().get(pk=session.pk)
    _ensure_not_closed(session)
    if date is None:
        raise BusinessRuleError(_("Indiquez la date à laquelle le jury s'est réuni."))
    if date > today():
        raise BusinessRuleError(
            _(
                "La saisie a posteriori enregistre une délibération déjà tenue : le %(date)s est à venir. "
                "Attendez ce jour pour enregistrer les présences et les décisions."
            )
            % {"date": long_date(date)}
        )
    reason = (reason or "").strip()
    if not reason:
        raise BusinessRuleError(_("Indiquez le motif de la saisie a posteriori."))
    session.date = date
    for entry in session.entries.select_related("candidate"):
        problem = evaluated_after_reason(session, entry.candidate)
        if problem:
            raise BusinessRuleError(problem, code="evaluations_not_over")
    _store_late_entry(session, actor=actor, reason=reason)
    return session


def _ensure_not_closed(session):
    if session.status == SessionStatus.CLOSED:
        raise BusinessRuleError(
            _("La session est close : elle ne peut plus être modifiée (passez par une modification motivée).")
        )


# Date rules (issue 16): the jury acts on the day of its deliberation or later, and a candidate is put
# before it only once his evaluations are over. Kept as named guards so pages can ask first.


def deliberation_not_reached_reason(session, *, on=None):
    """Why attendance, decisions and closing cannot be recorded yet for `session`, or ""."""
    if session.date <= (on or today()):
        return ""
    return _(
        "La délibération est fixée au %(date)s : les présences, les décisions et la clôture "
        "s'enregistrent à partir de ce jour. Si le jury s'est déjà réuni, enregistrez-le par une "
        "« saisie a posteriori »."
    ) % {"date": long_date(session.date)}


def check_deliberation_date_reached(session, *, on=None):
    reason = deliberation_not_reached_reason(session, on=on)
    if reason:
        raise BusinessRuleError(reason, code="before_deliberation")


def evaluations_not_over_reason(session, candidate):
    """Why `candidate` cannot be put before `session` yet, or "": his evaluations are over when the
    commission made a proposal on every competency (« en attente de délibération ») and none of his
    evaluation sessions is dated after the deliberation."""

    if candidate.status in (
        CandidateStatus.REGISTERED,
        CandidateStatus.DOSSIER_VALIDATED,
        CandidateStatus.IN_EVALUATION,
    ):
        return _(
            "Les évaluations du candidat %(ref)s ne sont pas terminées (statut « %(status)s ») : il sera "
            "présenté au jury quand la commission aura fait une proposition pour chaque compétence."
        ) % {"ref": candidate.reference, "status": candidate.get_status_display()}
    if candidate.status != CandidateStatus.AWAITING_DELIBERATION:
        return _("Le candidat %(ref)s n'est pas en attente de délibération (statut « %(status)s »).") % {
            "ref": candidate.reference,
            "status": candidate.get_status_display(),
        }
    return evaluated_after_reason(session, candidate)


def evaluated_after_reason(session, candidate):
    """Why the deliberation's date precedes one of `candidate`'s evaluation sessions, or ""."""
    later = (
        Convocation.objects.filter(candidate=candidate, session__date__gt=session.date)
        .order_by("-session__date")
        .values_list("session__date", flat=True)
        .first()
    )
    if later is None:
        return ""
    return _(
        "Le candidat %(ref)s est évalué le %(evaluated)s, après la délibération du %(date)s : "
        "présentez-le à une délibération postérieure."
    ) % {"ref": candidate.reference, "evaluated": long_date(later), "date": long_date(session.date)}


def check_evaluations_over(session, candidate):
    reason = evaluations_not_over_reason(session, candidate)
    if reason:
        raise BusinessRuleError(reason, code="evaluations_not_over")


@transaction.atomic
def record_convocations(*, actor, session, unions_asked_on=None, members_notified_on=None, notify=True):
    """Record when unions were asked and employee members notified; email the employee members.

    Returns the warnings (late convocations) so the view can show them; being late is allowed, printed
    on the PV, and the session closes only with quorum, parity and its president (domain.md: unions
    ≥ 15 days before, employee members ≥ 8 days before; docs/deliberations.md). A convocation is
    never dated after the deliberation.
    """
    _ensure_not_closed(session)
    for value in (unions_asked_on, members_notified_on):
        if value is not None and value > session.date:
            raise BusinessRuleError(
                _("Une convocation ne peut pas être datée après la délibération (%(d)s).")
                % {"d": long_date(session.date)}
            )
    fields = []
    if unions_asked_on is not None:
        session.unions_asked_on = unions_asked_on
        fields.append("unions_asked_on")
    if members_notified_on is not None:
        session.members_notified_on = members_notified_on
        fields.append("members_notified_on")
    if fields:
        session.save(update_fields=fields)
    if notify and members_notified_on is not None:
        for member in session.jury.members.filter(college=College.EMPLOYEES).exclude(email=""):
            queue_email(
                to_email=member.email,
                recipient=member.user,
                subject=_("Convocation au jury paritaire de délibération du %(d)s")
                % {"d": long_date(session.date)},
                template="deliberations_convocation",
                context={
                    "session": session,
                    "member": member,
                    "certification": session.certification,
                    "centre_name": session.centre.name,
                    "recipient_name": member.full_name,
                },
                kind="deliberations.convocation",
                dedup_key=f"deliberations.convocation:{session.pk}:{member.pk}:{session.date.isoformat()}",
            )
    warnings = selectors.convocation_warnings(session)
    audit(actor=actor, action="deliberations.convocations_recorded", target=session, late=bool(warnings))
    return warnings


@transaction.atomic
def add_candidates(*, actor, session, candidates):
    _ensure_not_closed(session)
    added = []
    for candidate in candidates:
        if candidate.centre_id != session.centre_id:
            raise BusinessRuleError(
                _("Le candidat %(ref)s n'appartient pas au centre de la session.")
                % {"ref": candidate.reference}
            )
        if candidate.certification_id != session.certification_id:
            raise BusinessRuleError(
                _("Le candidat %(ref)s n'est pas inscrit sur ce CQPM (même version).")
                % {"ref": candidate.reference}
            )
        if not candidate.is_open:
            raise BusinessRuleError(
                _("Le dossier du candidat %(ref)s est clos.") % {"ref": candidate.reference}
            )
        check_evaluations_over(session, candidate)
        other = SessionCandidate.objects.filter(candidate=candidate).exclude(
            session__status=SessionStatus.CLOSED
        )
        if other.exclude(session=session).exists():
            raise BusinessRuleError(
                _("Le candidat %(ref)s est déjà présenté à une autre session de délibération.")
                % {"ref": candidate.reference}
            )
        entry, created = SessionCandidate.objects.get_or_create(session=session, candidate=candidate)
        if created:
            added.append(entry)
    audit(
        actor=actor,
        action="deliberations.candidates_added",
        target=session,
        candidate_ids=[e.candidate_id for e in added],
    )
    return added


@transaction.atomic
def remove_candidate(*, actor, session, candidate):
    _ensure_not_closed(session)
    if CandidateOutcome.objects.filter(session=session, candidate=candidate).exists():
        raise BusinessRuleError(_("Le jury a déjà décidé pour ce candidat : il ne peut plus être retiré."))
    SessionCandidate.objects.filter(session=session, candidate=candidate).delete()
    audit(actor=actor, action="deliberations.candidate_removed", target=session, candidate_id=candidate.pk)


@transaction.atomic
def record_attendance(*, actor, session, present_member_ids):
    """The attendance (émargement) of the jury members: every member is recorded present or absent."""
    _ensure_not_closed(session)
    check_deliberation_date_reached(session)
    present_member_ids = {int(i) for i in present_member_ids}
    members = list(session.jury.members.all())
    unknown = present_member_ids - {m.pk for m in members}
    if unknown:
        raise BusinessRuleError(_("Un membre indiqué présent ne siège pas dans ce jury."))
    for member in members:
        Attendance.objects.update_or_create(
            session=session, member=member, defaults={"present": member.pk in present_member_ids}
        )
    problems = selectors.attendance_problems(session)
    audit(
        actor=actor,
        action="deliberations.attendance_recorded",
        target=session,
        present=len(present_member_ids),
        members=len(members),
    )
    return problems


# ---------------------------------------------------------------------------------------------
# Decisions
# ---------------------------------------------------------------------------------------------


def _decide_all(row, choices):
    """Apply the award rules to the jury's choices {competency id: (decided or None, motivation)}."""
    try:
        decisions = {
            cid: awards.decide(proposal, *choices.get(cid, (None, "")))
            for cid, proposal in row.proposals.items()
        }
        outcome = awards.award(
            row.facts, decisions, awards.Policy.from_settings(), recorded_on=timezone.localdate()
        )
    except awards.AwardRuleError as exc:
        raise BusinessRuleError(str(exc)) from exc
    return decisions, outcome


def _clean_reason(reason_for_candidate):
    """The jury's message to the candidate (printed in the letter), or None to keep the recorded one."""
    if reason_for_candidate is None:
        return None
    reason = reason_for_candidate.strip()
    if len(reason) > REASON_FOR_CANDIDATE_MAX:
        raise BusinessRuleError(
            _("Le message au candidat ne peut dépasser %(n)s caractères.") % {"n": REASON_FOR_CANDIDATE_MAX}
        )
    return reason


REASON_FOR_CANDIDATE_MAX = 1500


def _store_outcome(*, actor, session, row, decisions, outcome, now, reason_for_candidate=None):
    candidate = row.candidate
    for cid, decision in decisions.items():
        CompetencyDecision.objects.update_or_create(
            session=session,
            candidate=candidate,
            competency_id=cid,
            defaults={
                "proposed": decision.proposed,
                "needs_review": row.proposals[cid].needs_review,
                "decided": decision.decided,
                "motivation": decision.motivation,
                "explanation": decision.explanation,
                "decided_by": actor,
                "decided_at": now,
            },
        )
    explanation = {
        **outcome.explanation,
        "capitalise": {
            "competencies": {str(k): v.isoformat() for k, v in outcome.new_capitalised_competencies.items()},
            "blocks": {str(k): v.isoformat() for k, v in outcome.new_capitalised_blocks.items()},
        },
    }
    defaults = {
        "result": outcome.result,
        "explanation": explanation,
        "decided_by": actor,
        "decided_at": now,
    }
    if reason_for_candidate is not None:
        defaults["reason_for_candidate"] = reason_for_candidate
    record, _created = CandidateOutcome.objects.update_or_create(
        session=session, candidate=candidate, defaults=defaults
    )
    record.blocks_acquired.set(sorted(outcome.acquired_block_ids))
    return record


@transaction.atomic
def record_decisions(*, actor, session, candidate, choices, reason_for_candidate=None):
    """Record the jury's decision on every competency of one candidate, starting from the proposals.

    Only complete candidates (no blocking anomaly) can be decided. From then on the candidate's
    scores, proposals and opinions are locked (see deliberations.signals). `reason_for_candidate`
    is the jury's message printed in the result letter (None keeps the recorded one); the
    motivations in `choices` stay in the PV.
    """
    reason_for_candidate = _clean_reason(reason_for_candidate)
    session = DeliberationSession.objects.select_for_update().get(pk=session.pk)
    _ensure_not_closed(session)
    check_deliberation_date_reached(session)
    row = selectors.board_row(session, candidate.pk)
    if row is None:
        raise BusinessRuleError(_("Ce candidat n'est pas présenté à cette session."))
    if not row.is_complete:
        raise BusinessRuleError(
            _("Le dossier du candidat est incomplet : %(p)s")
            % {"p": " ".join(a.message for a in row.blocking)}
        )
    decisions, outcome = _decide_all(row, choices)
    now = timezone.now()
    record = _store_outcome(
        actor=actor,
        session=session,
        row=row,
        decisions=decisions,
        outcome=outcome,
        now=now,
        reason_for_candidate=reason_for_candidate,
    )
    updates = {"decisions_recorded_at": now}
    if session.status == SessionStatus.PLANNED:
        updates["status"] = SessionStatus.OPEN
    DeliberationSession.objects.filter(pk=session.pk).update(**updates)
    audit(
        actor=actor,
        action="deliberations.decisions_recorded",
        target=session,
        candidate_id=candidate.pk,
        result=outcome.result,
        overridden=outcome.explanation["overridden"],
    )
    return record


def _capitalise(session, outcome):
    """Record what this deliberation validated (competencies 24 months, blocs 5 years; settings),
    anchored on the deliberation's date — never a date after the day it is recorded (issue 22)."""
    today = timezone.localdate()
    if session.date > today:
        raise BusinessRuleError(
            _(
                "La délibération est datée du %(d)s : la capitalisation ne peut pas être ancrée sur une "
                "date postérieure au jour de son enregistrement (%(t)s)."
            )
            % {"d": long_date(session.date), "t": long_date(today)}
        )
    CapitalisedCompetency.objects.filter(session=session, candidate_id=outcome.candidate_id).delete()
    CapitalisedBlock.objects.filter(session=session, candidate_id=outcome.candidate_id).delete()
    plan = outcome.explanation.get("capitalise", {})
    CapitalisedCompetency.objects.bulk_create(
        CapitalisedCompetency(
            candidate_id=outcome.candidate_id,
            competency_id=int(cid),
            session=session,
            acquired_on=session.date,
            valid_until=date.fromisoformat(until),
        )
        for cid, until in plan.get("competencies", {}).items()
    )
    CapitalisedBlock.objects.bulk_create(
        CapitalisedBlock(
            candidate_id=outcome.candidate_id,
            block_id=int(bid),
            session=session,
            acquired_on=session.date,
            valid_until=date.fromisoformat(until),
        )
        for bid, until in plan.get("blocks", {}).items()
    )
    board_version.bump_attempts([outcome.candidate_id])  # bulk_create sends no signal


def _mark_deliberated(candidate, actor):
    if candidate.status == CandidateStatus.DELIBERATED:
        return
    candidate_services.mark_deliberated(
        candidate=candidate,
        by=actor if getattr(actor, "is_authenticated", False) else None,
        reason=str(_("Délibération du jury paritaire")),
    )


@transaction.atomic
def close_session(*, actor, session):
    """Close the deliberation: attendance must respect parity and quorum, every candidate decided.

    Records the capitalisation, marks the candidates deliberated and queues the PV, the attendance
    sheet and the candidates' documents.
    """
    session = DeliberationSession.objects.select_for_update().get(pk=session.pk)
    _ensure_not_closed(session)
    check_deliberation_date_reached(session)
    problems = selectors.attendance_problems(session)
    if problems:
        raise BusinessRuleError(_("La session ne peut pas être close : %(p)s") % {"p": " ".join(problems)})
    blockers = selectors.convocation_blockers(session)
    if blockers:
        raise BusinessRuleError(
            _("La session ne peut pas être close : %(p)s (collège salariés non convoqué).")
            % {"p": " ; ".join(str(b) for b in blockers)}
        )
    entries = list(session.entries.select_related("candidate"))
    if not entries:
        raise BusinessRuleError(
            _("La session ne peut pas être close : aucun candidat n'a été présenté au jury.")
        )
    outcomes = {o.candidate_id: o for o in session.outcomes.all()}
    undecided = [e.candidate.reference for e in entries if e.candidate_id not in outcomes]
    if undecided:
        raise BusinessRuleError(
            _(
                "La session ne peut pas être close : pas de décision pour %(refs)s. Décidez ou retirez ces candidats."
            )
            % {"refs": ", ".join(undecided)}
        )
    not_ready = [
        e.candidate.reference
        for e in entries
        if e.candidate.status not in (CandidateStatus.AWAITING_DELIBERATION, CandidateStatus.DELIBERATED)
    ]
    if not_ready:
        raise BusinessRuleError(
            _("La session ne peut pas être close : %(refs)s n'est plus en attente de délibération.")
            % {"refs": ", ".join(not_ready)}
        )
    for entry in entries:
        _capitalise(session, outcomes[entry.candidate_id])
        _mark_deliberated(entry.candidate, actor)
    session.status = SessionStatus.CLOSED
    session.closed_at = timezone.now()
    session.closed_by = actor if getattr(actor, "is_authenticated", False) else None
    session.pv_version = 1
    session.save(update_fields=["status", "closed_at", "closed_by", "pv_version"])
    audit(actor=actor, action="deliberations.session_closed", target=session, candidates=len(entries))
    request_session_documents(actor=actor, session=session)
    return session


@transaction.atomic
def amend_outcome(*, actor, session, candidate, choices, motivation, reason_for_candidate=None):
    """Amend a closed deliberation (staff only, written motivation): the previous state is kept, a new
    PV version is produced, the candidate's documents are produced again."""
    if not getattr(actor, "is_centre_staff", False):
        raise BusinessRuleError(_("Seul le personnel du centre peut modifier une délibération close."))
    motivation = (motivation or "").strip()
    if not motivation:
        raise BusinessRuleError(_("Une modification après clôture doit être motivée par écrit."))
    session = DeliberationSession.objects.select_for_update().get(pk=session.pk)
    if session.status != SessionStatus.CLOSED:
        raise BusinessRuleError(_("La session n'est pas close : modifiez directement les décisions."))
    outcome = CandidateOutcome.objects.filter(session=session, candidate=candidate).first()
    row = selectors.board_row(session, candidate.pk)
    if outcome is None or row is None:
        raise BusinessRuleError(_("Ce candidat n'a pas été délibéré dans cette session."))
    previous_decisions = [
        {"competency_id": d.competency_id, "decided": d.decided, "motivation": d.motivation}
        for d in CompetencyDecision.objects.filter(session=session, candidate=candidate)
    ]
    previous_result, previous_explanation = outcome.result, outcome.explanation
    decisions, computed = _decide_all(row, choices)
    session.pv_version += 1
    session.save(update_fields=["pv_version"])
    now = timezone.now()
    outcome = _store_outcome(
        actor=actor,
        session=session,
        row=row,
        decisions=decisions,
        outcome=computed,
        now=now,
        reason_for_candidate=_clean_reason(reason_for_candidate),
    )
    outcome.amended_at = now
    outcome.save(update_fields=["amended_at"])
    OutcomeAmendment.objects.create(
        outcome=outcome,
        motivation=motivation,
        previous_result=previous_result,
        previous_explanation=previous_explanation,
        previous_decisions=previous_decisions,
        pv_version=session.pv_version,
        by=actor,
    )
    _capitalise(session, outcome)
    # Documents that no longer apply to the new result are withdrawn (the verification page says so).
    still_valid = set(_candidate_kinds(outcome))
    GeneratedDocument.objects.filter(session=session, candidate=candidate, is_current=True).exclude(
        kind__in=still_valid
    ).update(is_current=False)
    audit(
        actor=actor,
        action="deliberations.outcome_amended",
        target=session,
        candidate_id=candidate.pk,
        previous_result=previous_result,
        result=outcome.result,
        pv_version=session.pv_version,
    )
    request_document(actor=actor, session=session, kind=DocumentKind.PV)
    for kind in still_valid:
        request_document(actor=actor, session=session, kind=kind, candidate=candidate)
    return outcome


# ---------------------------------------------------------------------------------------------
# Generated documents
# ---------------------------------------------------------------------------------------------


def _candidate_kinds(outcome):
    kinds = [DocumentKind.LETTER]
    if outcome.result == Result.CERTIFIED:
        kinds.append(DocumentKind.CERTIFICATE)
    elif outcome.result == Result.PARTIAL and outcome.blocks_acquired.exists():
        kinds.append(DocumentKind.BLOCK_ATTESTATION)
    return kinds


def enqueue(document_id):
    """Queue the rendering task; if the broker is down, the record says so (the page offers a retry)."""

    if safe_delay(render_document, str(document_id)) is None:
        GeneratedDocument.objects.filter(pk=document_id, status=DocumentStatus.QUEUED).update(
            status=DocumentStatus.FAILED, error=QUEUE_UNAVAILABLE
        )


# Candidate documents of one kind are rendered by batches of this size: big enough to spread
# WeasyPrint's start and the queries over many documents, small enough for several workers to share
# a session (a 300-candidate session: about 24 batches) and for a retry to redo little.
DOCUMENT_BATCH_SIZE = 25


def document_batches(documents, size=None):
    """The order of production: each session document alone (the PV first), then the candidate
    documents by kind, in batches of `size`."""
    size = size or DOCUMENT_BATCH_SIZE
    batches, by_kind = [], {}
    for document in documents:
        if document.kind in CANDIDATE_KINDS:
            by_kind.setdefault(document.kind, []).append(document)
        else:
            batches.append([document])
    batches.sort(key=lambda batch: batch[0].kind != DocumentKind.PV)
    for kind_documents in by_kind.values():
        batches += [kind_documents[i : i + size] for i in range(0, len(kind_documents), size)]
    return batches


def enqueue_batches(documents):
    """Queue the production of `documents` (one task per batch); unreachable broker → failed records."""

    for batch in document_batches(documents):
        ids = [str(d.pk) for d in batch]
        queued = safe_delay(render_document, ids[0]) if len(ids) == 1 else safe_delay(render_documents, ids)
        if queued is None:
            GeneratedDocument.objects.filter(pk__in=ids, status=DocumentStatus.QUEUED).update(
                status=DocumentStatus.FAILED, error=QUEUE_UNAVAILABLE
            )


@transaction.atomic
def request_document(*, actor, session, kind, candidate=None, queue=True):
    """Create the record of a document to produce and queue its task once committed.

    Idempotent: while a rendering of the same document is pending, the same record is returned.
    """
    document, created = _request_document(actor=actor, session=session, kind=kind, candidate=candidate)
    if queue and created:
        transaction.on_commit(lambda: enqueue(document.pk))
    return document


def _request_document(*, actor, session, kind, candidate=None):
    """(record, created): the pending record of this document, or a new one (not queued)."""
    if kind not in DocumentKind.values:
        raise BusinessRuleError(_("Type de document inconnu."))
    if (kind in CANDIDATE_KINDS) != (candidate is not None):
        raise BusinessRuleError(
            _("Ce document concerne un candidat : précisez lequel.")
            if kind in CANDIDATE_KINDS
            else _("Ce document concerne toute la session.")
        )
    if kind not in (DocumentKind.ATTENDANCE,) and session.status != SessionStatus.CLOSED:
        raise BusinessRuleError(_("Ce document est produit après la clôture de la délibération."))
    if candidate is not None:
        outcome = CandidateOutcome.objects.filter(session=session, candidate=candidate).first()
        if outcome is None:
            raise BusinessRuleError(_("Ce candidat n'a pas été délibéré dans cette session."))
        if kind not in _candidate_kinds(outcome):
            raise BusinessRuleError(_("Ce document ne correspond pas au résultat du candidat."))
    # Serialise requests for the same session so that two clicks never create two records.
    DeliberationSession.objects.select_for_update().filter(pk=session.pk).first()
    same = GeneratedDocument.objects.filter(session=session, kind=kind, candidate=candidate)
    pending = same.filter(status__in=[DocumentStatus.QUEUED, DocumentStatus.RENDERING]).first()
    if pending is not None:
        return pending, False
    version = (same.aggregate(v=Max("version"))["v"] or 0) + 1
    for _attempt in range(5):
        try:
            with transaction.atomic():
                document = GeneratedDocument.objects.create(
                    session=session,
                    candidate=candidate,
                    kind=kind,
                    version=version,
                    number=new_document_number(kind, session.centre.code, session.date.year),
                    requested_by=actor if getattr(actor, "is_authenticated", False) else None,
                )
            break
        except IntegrityError:  # number collision (1 in 32^10): draw again
            continue
    else:  # pragma: no cover
        raise BusinessRuleError(_("Impossible d'attribuer un numéro unique au document ; réessayez."))
    audit(
        actor=actor,
        action="deliberations.document_requested",
        target=session,
        document_id=str(document.pk),
        kind=kind,
        candidate_id=candidate.pk if candidate else None,
    )
    return document, True


@transaction.atomic
def request_session_documents(*, actor, session, queue=True):
    """The PV, the attendance sheet and every candidate's documents of a closed session.

    Records already pending are returned as they are (their task is on its way); the others are
    created in one insert (a 300-candidate session has 600 documents) and audited in one event.
    Queued once committed: the PV and the attendance sheet alone, the candidate documents by batches
    of one kind (`document_batches`), so that several workers share the session."""
    session = DeliberationSession.objects.select_for_update().select_related("centre").get(pk=session.pk)
    if session.status != SessionStatus.CLOSED:
        raise BusinessRuleError(_("Ce document est produit après la clôture de la délibération."))
    requests = [(DocumentKind.PV, None), (DocumentKind.ATTENDANCE, None)]
    outcomes = (
        session.outcomes.select_related("candidate")
        .prefetch_related("blocks_acquired")
        .order_by("candidate__reference")
    )
    for outcome in outcomes:
        requests += [(kind, outcome.candidate) for kind in _candidate_kinds(outcome)]
    pending, versions = {}, {}
    for document in GeneratedDocument.objects.filter(session=session).only(
        "id", "kind", "candidate_id", "status", "version"
    ):
        key = (document.kind, document.candidate_id)
        versions[key] = max(versions.get(key, 0), document.version)
        if document.status in (DocumentStatus.QUEUED, DocumentStatus.RENDERING):
            pending[key] = document.pk
    requested_by = actor if getattr(actor, "is_authenticated", False) else None
    new = [
        GeneratedDocument(
            session=session,
            candidate=candidate,
            kind=kind,
            version=versions.get((kind, candidate.pk if candidate else None), 0) + 1,
            number=new_document_number(kind, session.centre.code, session.date.year),
            requested_by=requested_by,
        )
        for kind, candidate in requests
        if (kind, candidate.pk if candidate else None) not in pending
    ]
    for _attempt in range(5):
        try:
            with transaction.atomic():
                GeneratedDocument.objects.bulk_create(new)
            break
        except IntegrityError:  # a number collision (1 in 32^10 per pair): draw them all again
            for document in new:
                document.number = new_document_number(document.kind, session.centre.code, session.date.year)
    else:  # pragma: no cover
        raise BusinessRuleError(_("Impossible d'attribuer un numéro unique au document ; réessayez."))
    if new:
        audit(
            actor=actor,
            action="deliberations.documents_requested",
            target=session,
            document_ids=[str(d.pk) for d in new],
            kinds={kind: sum(1 for d in new if d.kind == kind) for kind in {d.kind for d in new}},
        )
    existing = GeneratedDocument.objects.in_bulk(list(pending.values()))
    by_key = {(d.kind, d.candidate_id): d for d in new}
    documents = []
    for kind, candidate in requests:
        key = (kind, candidate.pk if candidate else None)
        documents.append(by_key[key] if key in by_key else existing[pending[key]])
    if queue and new:
        transaction.on_commit(lambda: enqueue_batches(new))
    return documents


@transaction.atomic
def retry_document(*, actor, document):
    document = GeneratedDocument.objects.select_for_update().get(pk=document.pk)
    if not document.can_retry:
        raise BusinessRuleError(_("Seule une production en échec peut être relancée."))
    document.status = DocumentStatus.QUEUED
    document.error = ""
    document.save(update_fields=["status", "error"])
    audit(
        actor=actor,
        action="deliberations.document_retried",
        target=document.session,
        document_id=str(document.pk),
    )
    transaction.on_commit(lambda: enqueue(document.pk))
    return document


# ---------------------------------------------------------------------------------------------
# Anonymisation of a candidate (candidates.signals.candidate_anonymised)
# ---------------------------------------------------------------------------------------------

ANONYMISED_APPEAL_TEXT = "[motifs effacés : candidat anonymisé]"


@transaction.atomic
def erase_candidate_files(*, candidate, actor=None):
    """Erase what the deliberations app holds about an anonymised candidate beyond the legal record.

    Deleted from the storage (after commit): the candidate's result letters, parchemins and bloc
    attestations, and the session packs (ZIP) that bundle them. Their records stay, marked
    `erased_at`, with number and SHA-256: a parchemin remains verifiable on the public page. Kept
    on purpose (legal record of the jury): the PV and attendance files, the branch file, outcomes,
    decisions and their motivations (printed in the PV). Returns the number of records erased;
    safe to call again."""

    # The candidate's own words in his appeals are personal data: replaced (the outcome stays).
    Appeal.objects.filter(candidate=candidate).update(reason=ANONYMISED_APPEAL_TEXT)
    session_ids = SessionCandidate.objects.filter(candidate=candidate).values("session_id")
    documents = list(
        GeneratedDocument.objects.select_for_update(of=("self",))
        .filter(erased_at__isnull=True)
        .filter(
            Q(candidate=candidate, kind__in=CANDIDATE_KINDS)
            | Q(session_id__in=session_ids, kind=DocumentKind.PACK)
        )
        .order_by("pk")
    )
    if not documents:
        return 0
    names = [document.file.name for document in documents if document.file]
    GeneratedDocument.objects.filter(pk__in=[document.pk for document in documents]).update(
        file="", error="", erased_at=timezone.now()
    )
    audit(
        actor=actor,
        action="deliberations.candidate_files_erased",
        target=candidate,
        documents=len(documents),
        document_ids=[str(document.pk) for document in documents],
    )

    def delete_files():
        for name in names:
            try:
                default_storage.delete(name)
            except OSError:  # already gone: nothing personal left to remove
                logger.warning("deliberations: stored file of document could not be deleted")

    transaction.on_commit(delete_files)
    return len(documents)


# ---------------------------------------------------------------------------------------------
# An earlier deliberation recorded explicitly (issue 22, point 1)
# ---------------------------------------------------------------------------------------------


def _prior_validity(deliberation_date):
    """(competencies valid until, blocs valid until): computed from the deliberation's date by the
    rules (24 months / 5 years, settings), never typed."""
    policy = awards.Policy.from_settings()
    return (
        awards.add_months(deliberation_date, policy.competency_validity_months),
        awards.add_years(deliberation_date, policy.block_validity_years),
    )


@transaction.atomic
def record_prior_deliberation(
    *, actor, candidate, centre_name, deliberation_date, pv_number, scanned_pv, reason, competencies, blocks
):
    """Record a deliberation held before the product (or in another centre) that validated
    `competencies` / `blocks` of the candidate's CQPM: centre, date, PV number, the scanned PV
    (checked by content like every upload), a reason; audited. Its validity is computed from its
    date; the candidate's dossier then shows them acquired and the jury sees « acquise par
    délibération du … (PV n° …) »."""

    if not getattr(actor, "is_centre_staff", False) or not (
        actor.is_superuser or candidate.centre_id in actor.centre_ids()
    ):
        raise BusinessRuleError(
            _("Seul le personnel du centre du candidat peut enregistrer une délibération.")
        )
    if candidate.is_anonymised or candidate.status in (
        CandidateStatus.DELIBERATED,
        CandidateStatus.WITHDRAWN,
    ):
        raise BusinessRuleError(_("Le parcours de ce candidat est clos : il ne peut plus être complété."))
    if selectors.is_candidate_locked(candidate.pk):
        raise BusinessRuleError(
            _("Le jury a déjà décidé pour ce candidat : sa capitalisation ne change plus.")
        )
    centre_name, pv_number, reason = (
        (centre_name or "").strip(),
        (pv_number or "").strip(),
        (reason or "").strip(),
    )
    if not centre_name or not pv_number or not reason:
        raise BusinessRuleError(_("Indiquez le centre, le numéro du PV et le motif de l'enregistrement."))
    if deliberation_date is None:
        raise BusinessRuleError(_("Indiquez la date de la délibération."))
    today = timezone.localdate()
    if deliberation_date > today:
        raise BusinessRuleError(
            _("La date de la délibération (%(d)s) ne peut pas être postérieure à aujourd'hui.")
            % {"d": long_date(deliberation_date)}
        )
    if scanned_pv is None:
        raise BusinessRuleError(_("Joignez le PV de la délibération numérisé."))
    competencies, blocks = list(competencies or []), list(blocks or [])
    if not competencies and not blocks:
        raise BusinessRuleError(_("Choisissez les compétences ou blocs que cette délibération a validés."))
    certification_id = candidate.certification_id
    if any(c.certification_id != certification_id for c in competencies) or any(
        b.certification_id != certification_id for b in blocks
    ):
        raise BusinessRuleError(_("Une compétence ou un bloc choisi n'appartient pas au CQPM du candidat."))
    if blocks and not candidate.certification.rncp_number:
        raise BusinessRuleError(
            _(
                "Ce CQPM n'est pas inscrit au RNCP : ses blocs ne se capitalisent pas seuls, choisissez les compétences."
            )
        )
    competency_until, block_until = _prior_validity(deliberation_date)
    if (not competencies or competency_until < today) and (not blocks or block_until < today):
        raise BusinessRuleError(
            _(
                "Cette délibération ne produit plus d'effet : compétences acquises jusqu'au %(c)s, blocs "
                "jusqu'au %(b)s."
            )
            % {"c": long_date(competency_until), "b": long_date(block_until)}
        )
    document = candidate_services.upload_document(
        candidate=candidate, kind=CandidateDocumentKind.PRIOR_PV, uploaded_file=scanned_pv, by=actor
    )
    record = PriorDeliberation.objects.create(
        candidate=candidate,
        centre_name=centre_name,
        deliberation_date=deliberation_date,
        pv_number=pv_number,
        document=document,
        document_sha256=document.sha256,
        reason=reason,
        recorded_by=actor,
    )
    CapitalisedCompetency.objects.bulk_create(
        CapitalisedCompetency(
            candidate=candidate,
            competency=c,
            prior=record,
            acquired_on=deliberation_date,
            valid_until=competency_until,
        )
        for c in competencies
    )
    CapitalisedBlock.objects.bulk_create(
        CapitalisedBlock(
            candidate=candidate, block=b, prior=record, acquired_on=deliberation_date, valid_until=block_until
        )
        for b in blocks
    )
    board_version.bump_attempts([candidate.pk])  # bulk_create sends no signal
    audit(
        actor=actor,
        action="deliberations.prior_deliberation_recorded",
        target=candidate,
        prior_id=record.pk,
        document_id=document.pk,
        deliberation_date=deliberation_date.isoformat(),
        competency_ids=sorted(c.pk for c in competencies),
        block_ids=sorted(b.pk for b in blocks),
    )
    apply_capitalisation(candidate=candidate, actor=actor)
    return record


# ---------------------------------------------------------------------------------------------
# What each centre prints on its documents
# ---------------------------------------------------------------------------------------------

SIGNATURE_MAX_BYTES = 1024 * 1024
SIGNATURE_MAX_PIXELS = (2000, 1000)


def _checked_signature_png(upload):
    """The uploaded scanned signature, checked: a real PNG (magic bytes, then decoded entirely), of a
    reasonable size. Returns (bytes, sha256)."""

    try:
        info = validate_upload(upload, allowed=("png",), max_size=SIGNATURE_MAX_BYTES)
    except ValidationError as exc:
        raise BusinessRuleError(" ".join(exc.messages)) from exc
    upload.seek(0)
    content = upload.read()
    try:
        with Image.open(io.BytesIO(content)) as image:
            if image.format != "PNG":
                raise BusinessRuleError(_("La signature doit être une image PNG."))
            width, height = image.size
            image.load()  # decodes every row: a truncated or forged file fails here
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise BusinessRuleError(_("Le fichier n'est pas une image PNG lisible.")) from exc
    max_width, max_height = SIGNATURE_MAX_PIXELS
    if width > max_width or height > max_height or width < 20 or height < 10:
        raise BusinessRuleError(
            _("La signature doit mesurer entre 20 × 10 et %(w)s × %(h)s pixels (reçu : %(x)s × %(y)s).")
            % {"w": max_width, "h": max_height, "x": width, "y": height}
        )
    return content, info.sha256


@transaction.atomic
def update_document_settings(
    *,
    actor,
    centre,
    signatory_name,
    signatory_title,
    contest_text,
    contest_days,
    signature_upload=None,
    remove_signature=False,
):
    """Record the signatory (name, title, optional scanned signature) and the contest text and
    deadline of a centre's documents. Only staff of the centre. Documents produced afterwards use them."""
    if not getattr(actor, "is_centre_staff", False) or not (
        actor.is_superuser or centre.pk in actor.centre_ids()
    ):
        raise BusinessRuleError(_("Seul le personnel du centre peut modifier ses documents."))
    if not 1 <= int(contest_days) <= 365:
        raise BusinessRuleError(_("Le délai de recours doit être compris entre 1 et 365 jours."))
    record, _created = CentreDocumentSettings.objects.select_for_update().get_or_create(centre=centre)
    new_image = _checked_signature_png(signature_upload) if signature_upload else None
    old_name = record.signature_image.name if record.signature_image else ""
    centre.certifier_signatory = (signatory_name or "").strip()
    centre.save(update_fields=["certifier_signatory"])
    record.signatory_title = (signatory_title or "").strip()
    record.contest_text = (contest_text or "").strip()
    record.contest_days = int(contest_days)
    if new_image is not None:
        content, digest = new_image
        record.signature_sha256 = digest
        record.signature_image.save(f"signature-{digest[:12]}.png", ContentFile(content), save=False)
    elif remove_signature:
        record.signature_image = ""
        record.signature_sha256 = ""
    record.save()
    new_name = record.signature_image.name if record.signature_image else ""
    if old_name and old_name != new_name:
        transaction.on_commit(lambda: default_storage.delete(old_name))
    audit(
        actor=actor,
        action="deliberations.document_settings_updated",
        centre=centre,
        message=f"Paramètres des documents du centre {centre.pk}",
        signature=("replaced" if new_image else "removed" if remove_signature and old_name else "unchanged"),
        contest_days=record.contest_days,
    )
    return record


# ---------------------------------------------------------------------------------------------
# Appeals (recours) of candidates against a closed deliberation (issue 23)
# ---------------------------------------------------------------------------------------------

APPEAL_MAX_ATTACHMENTS = 5


def appeal_deadline(session, candidate):
    """The last day the candidate may appeal: the centre's delay (`CentreDocumentSettings.contest_days`,
    printed in the result letter « à compter de la réception de ce courrier ») counted from the day
    his first result letter was produced (the session's closing day when none was), or None when the
    session is not closed."""

    if session.status != SessionStatus.CLOSED or session.closed_at is None:
        return None
    days = (
        CentreDocumentSettings.objects.filter(centre_id=session.centre_id)
        .values_list("contest_days", flat=True)
        .first()
    ) or DEFAULT_CONTEST_DAYS
    letter_at = (
        GeneratedDocument.objects.filter(
            session=session, candidate=candidate, kind=DocumentKind.LETTER, finished_at__isnull=False
        )
        .order_by("finished_at")
        .values_list("finished_at", flat=True)
        .first()
    )
    start = timezone.localdate(letter_at or session.closed_at)
    return start + timedelta(days=days)


@transaction.atomic
def file_appeal(*, by, candidate, session, reason, attachments=()):
    """The candidate files a reasoned appeal against the closed deliberation of his result, within
    the centre's deadline, with attachments stored through the candidates' upload path."""

    if by is None or not by.is_candidate or getattr(by, "candidate_record", None) != candidate:
        raise BusinessRuleError(_("Vous ne pouvez agir que sur votre propre dossier."))
    session = DeliberationSession.objects.select_for_update().get(pk=session.pk)
    if not CandidateOutcome.objects.filter(session=session, candidate=candidate).exists():
        raise BusinessRuleError(_("Aucune décision du jury ne vous concerne dans cette session."))
    deadline = appeal_deadline(session, candidate)
    if deadline is None:
        raise BusinessRuleError(_("Le jury n'a pas encore clos sa délibération."))
    if today() > deadline:
        raise BusinessRuleError(
            _("Le délai de recours a expiré le %(date)s : le recours ne peut plus être déposé en ligne.")
            % {"date": long_date(deadline)}
        )
    previous = Appeal.objects.filter(session=session, candidate=candidate).values_list("status", flat=True)
    if AppealStatus.OPEN in previous:
        raise BusinessRuleError(_("Votre recours est déjà en cours d'examen par le jury."))
    if previous:  # one appeal per decision: the jury answered it (a further one goes to the court)
        raise BusinessRuleError(
            _("Vous avez déjà formé un recours contre cette décision et le jury y a répondu.")
        )
    reason = (reason or "").strip()
    if not reason:
        raise BusinessRuleError(_("Exposez les motifs de votre recours."))
    check_length(reason, REASON_MAX, _("Motifs du recours"))
    attachments = [upload for upload in attachments if upload]
    if len(attachments) > APPEAL_MAX_ATTACHMENTS:
        raise BusinessRuleError(
            _("Joignez au plus %(n)s fichiers à votre recours.") % {"n": APPEAL_MAX_ATTACHMENTS}
        )
    appeal = Appeal.objects.create(candidate=candidate, session=session, reason=reason, filed_by=by)
    documents = [
        candidate_services.store_appeal_attachment(candidate=candidate, uploaded_file=upload, by=by)
        for upload in attachments
    ]
    appeal.attachments.set(documents)
    audit(
        actor=by,
        action="deliberations.appeal_filed",
        target=session,
        candidate_id=candidate.pk,
        appeal_id=appeal.pk,
        attachments=len(documents),
    )
    if candidate.email:
        queue_email(
            to_email=candidate.email,
            recipient=by,
            subject=_("Accusé de réception de votre recours"),
            template="deliberations_appeal_filed",
            context={"appeal": appeal, "attachments": documents},
            kind="deliberations.appeal_filed",
            dedup_key=f"appeal-filed-{appeal.pk}",
        )
    return appeal


@transaction.atomic
def answer_appeal(*, actor, appeal, status, answer):
    """Record the outcome of the jury's re-examination. Upheld: the decision was amended through
    `amend_outcome` after the appeal was filed (that amendment is linked); rejected: the decision
    stands. The answer is told to the candidate (his space, and an e-mail inviting him to read it)."""

    appeal = Appeal.objects.select_for_update().select_related("session", "candidate").get(pk=appeal.pk)
    session = appeal.session
    if not getattr(actor, "is_centre_staff", False) or not (
        actor.is_superuser or session.centre_id in actor.centre_ids()
    ):
        raise BusinessRuleError(_("Seul le personnel du centre enregistre l'issue d'un recours."))
    if not appeal.is_open:
        raise BusinessRuleError(_("L'issue de ce recours est déjà enregistrée."))
    if status not in (AppealStatus.UPHELD, AppealStatus.REJECTED):
        raise BusinessRuleError(_("Indiquez si le recours est accueilli ou rejeté."))
    answer = (answer or "").strip()
    if not answer:
        raise BusinessRuleError(_("Rédigez la réponse motivée adressée au candidat."))
    check_length(answer, REASON_MAX, _("Réponse au candidat"))
    amendment = None
    if status == AppealStatus.UPHELD:
        amendment = (
            OutcomeAmendment.objects.filter(
                outcome__session=session, outcome__candidate=appeal.candidate, at__gte=appeal.filed_at
            )
            .order_by("-at")
            .first()
        )
        if amendment is None:
            raise BusinessRuleError(
                _(
                    "Un recours accueilli suppose une décision modifiée : modifiez d'abord la décision du "
                    "jury (« Modifier la décision », motivation obligatoire), puis enregistrez l'issue."
                )
            )
    appeal.status, appeal.answer, appeal.amendment = status, answer, amendment
    appeal.decided_at, appeal.decided_by = timezone.now(), actor
    appeal.save(update_fields=["status", "answer", "amendment", "decided_at", "decided_by"])
    audit(
        actor=actor,
        action="deliberations.appeal_answered",
        target=session,
        candidate_id=appeal.candidate_id,
        appeal_id=appeal.pk,
        status=status,
        amendment_id=amendment.pk if amendment else None,
    )
    candidate = appeal.candidate
    if candidate.email:
        queue_email(
            to_email=candidate.email,
            recipient=candidate.user,
            subject=_("Réponse à votre recours"),
            template="deliberations_appeal_answered",
            context={
                "appeal": appeal,
                "space_url": django_settings.SITE_URL + reverse("people:candidate_home"),
            },
            kind="deliberations.appeal_answered",
            dedup_key=f"appeal-answered-{appeal.pk}",
        )
    return appeal
