"""Commissions, members, conflicts of interest, sessions, convocations and assignments."""

import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from candidates.models import Candidate, CandidateStatus
from candidates.services import start_evaluation
from core import dates
from core.dates import long_date, today
from core.exceptions import BusinessRuleError
from core.models import Role
from core.services import audit, safe_delay

from .. import tasks  # a module import: evaluations.tasks imports these services
from ..models import (
    College,
    Commission,
    CommissionMember,
    ConflictOfInterest,
    Convocation,
    ConvocationEvaluator,
    EvaluationSession,
    ScoringSheet,
    SheetStatus,
)
from ..notifications import notify_evaluator_assignment
from ..selectors import conflict_map, conflicts_between, scored_competencies
from .common import check_staff_of, required_text
from .scoring import refresh_proposal

CONVENABLE_STATUSES = (CandidateStatus.DOSSIER_VALIDATED, CandidateStatus.IN_EVALUATION)


# --- commissions ----------------------------------------------------------------------------


@transaction.atomic
def create_commission(*, centre, name, by):
    check_staff_of(by, centre.pk)
    name = required_text(name, _("Indiquez le nom de la commission."))
    if Commission.objects.filter(centre=centre, name__iexact=name).exists():
        raise BusinessRuleError(_("Une commission porte déjà ce nom dans ce centre."), code="duplicate")
    commission = Commission.objects.create(centre=centre, name=name)
    audit(
        actor=by,
        action="evaluations.commission_created",
        target=commission,
        message=f"commission {commission.pk}",
    )
    return commission


@transaction.atomic
def add_member(*, commission, user, qualification, by, college="", is_president=False):
    check_staff_of(by, commission.centre_id)
    qualification = required_text(qualification, _("Indiquez la qualification ou le domaine du membre."))
    if college not in ("", *College.values):
        raise BusinessRuleError(_("Collège inconnu."), code="invalid")
    if user.role != Role.EVALUATOR or not user.is_active:
        raise BusinessRuleError(_("Seul un compte évaluateur actif peut siéger en commission."), code="role")
    if not user.centres.filter(pk=commission.centre_id).exists():
        raise BusinessRuleError(
            _("Cet évaluateur n'est pas rattaché au centre de la commission."), code="centre"
        )
    if CommissionMember.objects.filter(commission=commission, user=user).exists():
        raise BusinessRuleError(_("Cet évaluateur est déjà membre de la commission."), code="duplicate")
    if is_president:
        CommissionMember.objects.filter(commission=commission, is_president=True).update(is_president=False)
    member = CommissionMember.objects.create(
        commission=commission,
        user=user,
        qualification=qualification,
        college=college,
        is_president=is_president,
    )
    audit(
        actor=by,
        action="evaluations.member_added",
        target=commission,
        message=f"commission {commission.pk} : membre {user.pk}",
        user_id=user.pk,
        is_president=is_president,
    )
    return member


@transaction.atomic
def set_president(*, member, by):
    commission = member.commission
    check_staff_of(by, commission.centre_id)
    CommissionMember.objects.filter(commission=commission, is_president=True).exclude(pk=member.pk).update(
        is_president=False
    )
    member.is_president = True
    member.save(update_fields=["is_president"])
    audit(
        actor=by,
        action="evaluations.president_set",
        target=commission,
        message=f"commission {commission.pk} : président {member.user_id}",
        user_id=member.user_id,
    )
    return member


@transaction.atomic
def remove_member(*, member, by):
    commission = member.commission
    check_staff_of(by, commission.centre_id)
    if ConvocationEvaluator.objects.filter(
        evaluator_id=member.user_id, convocation__session__commission=commission
    ).exists():
        raise BusinessRuleError(
            _(
                "Ce membre est affecté à des candidats de cette commission : retirez d'abord ses affectations."
            ),
            code="assigned",
        )
    user_id = member.user_id
    member.delete()
    audit(
        actor=by,
        action="evaluations.member_removed",
        target=commission,
        message=f"commission {commission.pk} : membre {user_id} retiré",
        user_id=user_id,
    )


# --- conflicts of interest ------------------------------------------------------------------


@transaction.atomic
def declare_conflict(*, user, by, reason, company=None, candidate=None):
    """Record a conflict; the member is withdrawn at once from the convocations it concerns (his
    draft sheets there are deleted, submitted ones are kept but no longer count)."""
    if company is None and candidate is None:
        raise BusinessRuleError(_("Indiquez l'entreprise ou le candidat concerné."), code="required")
    centre = (candidate or company).centre
    check_staff_of(by, centre.pk)
    if company is not None and candidate is not None and candidate.company_id != company.pk:
        raise BusinessRuleError(_("Le candidat n'est pas salarié de cette entreprise."), code="invalid")
    reason = required_text(reason, _("Indiquez le motif du conflit d'intérêts."))
    if user.role != Role.EVALUATOR:
        raise BusinessRuleError(_("Un conflit d'intérêts se déclare pour un évaluateur."), code="role")
    conflict = ConflictOfInterest.objects.create(
        user=user,
        company=company if candidate is None else None,
        candidate=candidate,
        reason=reason,
        declared_by=by,
    )
    affected = Convocation.objects.filter(assignments__evaluator=user)
    affected = (
        affected.filter(candidate=candidate)
        if candidate is not None
        else affected.filter(candidate__company=company)
    )
    affected_ids = list(affected.values_list("pk", flat=True))
    candidate_ids = list(affected.values_list("candidate_id", flat=True))
    ConvocationEvaluator.objects.filter(convocation_id__in=affected_ids, evaluator=user).delete()
    ScoringSheet.objects.filter(
        evaluator=user, candidate_id__in=candidate_ids, status=SheetStatus.DRAFT
    ).delete()
    audit(
        actor=by,
        action="evaluations.conflict_declared",
        target=conflict,
        centre=centre,
        message=f"conflit {conflict.pk} : évaluateur {user.pk}",
        user_id=user.pk,
        candidate_id=candidate.pk if candidate else None,
        company_id=company.pk if company else None,
        withdrawn_from=affected_ids,
    )

    for candidate_obj in Candidate.objects.filter(pk__in=candidate_ids):
        for competency in scored_competencies(candidate_obj):
            refresh_proposal(candidate=candidate_obj, competency=competency)
    conflict.withdrawn_count = len(affected_ids)
    return conflict


@transaction.atomic
def remove_conflict(*, conflict, by):
    centre_id = (conflict.candidate or conflict.company).centre_id
    check_staff_of(by, centre_id)
    pk = conflict.pk
    conflict.delete()
    audit(actor=by, action="evaluations.conflict_removed", message=f"conflit {pk} supprimé", conflict_id=pk)


# --- sessions -------------------------------------------------------------------------------


def _check_session_fields(*, commission, centre, date, place, is_remote):
    if commission.centre_id != centre.pk:
        raise BusinessRuleError(_("La commission n'appartient pas à ce centre."), code="centre")
    if not isinstance(date, datetime.date):
        raise BusinessRuleError(_("Indiquez la date de la session."), code="required")
    if not is_remote and not (place or "").strip():
        raise BusinessRuleError(
            _("Indiquez le lieu de la session, ou cochez « à distance »."), code="required"
        )
    members = list(commission.members.all())
    if not members:
        raise BusinessRuleError(
            _("La commission n'a aucun membre : ajoutez-en avant de planifier."), code="members"
        )
    if not any(member.is_president for member in members):
        raise BusinessRuleError(
            _("Désignez le président de la commission avant de planifier."), code="president"
        )


def _record_late_entry(session, *, by, reason):
    """A session dated in the past (« saisie a posteriori »): keep who, when and why; audit it."""
    session.late_entry_reason = reason
    session.late_entry_at = timezone.now()
    session.late_entry_by = by if getattr(by, "is_authenticated", False) else None
    session.save(update_fields=["late_entry_reason", "late_entry_at", "late_entry_by"])
    audit(
        actor=by,
        action="evaluations.session_late_entry",
        target=session,
        message=f"session {session.pk} saisie a posteriori",
        date=session.date.isoformat(),
    )


def _check_no_submitted_sheet_after(session, date):
    """Sheets already submitted for this session were scored on a day the session had started; it
    cannot be put off to a later day than today (the scoring would then precede the session)."""
    if (
        date > today()
        and ScoringSheet.objects.filter(convocation__session=session, status=SheetStatus.SUBMITTED).exists()
    ):
        raise BusinessRuleError(
            _(
                "Des fiches de cette session sont déjà soumises : elle ne peut pas être reportée au %(date)s, "
                "après la notation."
            )
            % {"date": long_date(date)},
            code="scored",
        )


@transaction.atomic
def create_session(
    *, centre, commission, date, by, place="", is_remote=False, remote_details="", late_entry_reason=""
):
    """Plan a session. Dated before today, it is a « saisie a posteriori »: `late_entry_reason` required."""
    check_staff_of(by, centre.pk)
    _check_session_fields(commission=commission, centre=centre, date=date, place=place, is_remote=is_remote)
    late_reason = dates.late_entry_reason(date=date, reason=late_entry_reason)
    session = EvaluationSession.objects.create(
        centre=centre,
        commission=commission,
        date=date,
        place=(place or "").strip(),
        is_remote=is_remote,
        remote_details=(remote_details or "").strip(),
        created_by=by,
    )
    audit(actor=by, action="evaluations.session_created", target=session, message=f"session {session.pk}")
    if late_reason:
        _record_late_entry(session, by=by, reason=late_reason)
    return session


@transaction.atomic
def update_session(*, session, by, date, place="", is_remote=False, remote_details="", late_entry_reason=""):
    """Change date or place; the candidates already convened receive an updated convocation. A new
    date before today is a « saisie a posteriori » (`late_entry_reason` required)."""
    check_staff_of(by, session.centre_id)
    _check_session_fields(
        commission=session.commission, centre=session.centre, date=date, place=place, is_remote=is_remote
    )
    late_reason = ""
    if date != session.date:
        late_reason = dates.late_entry_reason(date=date, reason=late_entry_reason)
        _check_no_submitted_sheet_after(session, date)
    changed = (session.date, session.place, session.is_remote, session.remote_details) != (
        date,
        (place or "").strip(),
        is_remote,
        (remote_details or "").strip(),
    )
    session.date = date
    session.place = (place or "").strip()
    session.is_remote = is_remote
    session.remote_details = (remote_details or "").strip()
    session.save()
    audit(actor=by, action="evaluations.session_updated", target=session, message=f"session {session.pk}")
    if late_reason:
        _record_late_entry(session, by=by, reason=late_reason)
    if changed:
        for convocation in session.convocations.filter(convened_at__isnull=False):
            _queue_convocation_email(convocation)
    return session


# --- convocations and assignments -----------------------------------------------------------


def _queue_convocation_email(convocation, nonce=""):
    transaction.on_commit(lambda: safe_delay(tasks.send_convocation_email, convocation.pk, nonce))


def _create_sheets(convocation, evaluator):
    competencies = list(scored_competencies(convocation.candidate))
    existing = set(
        ScoringSheet.objects.filter(candidate=convocation.candidate, evaluator=evaluator).values_list(
            "competency_id", flat=True
        )
    )
    for competency in competencies:
        if competency.pk in existing:
            continue
        ScoringSheet.objects.create(
            candidate=convocation.candidate,
            competency=competency,
            evaluator=evaluator,
            convocation=convocation,
        )


def _check_no_conflict(users, candidate):
    conflicts = conflict_map(users, [candidate])
    problems = [
        _("%(name)s (%(reasons)s)")
        % {"name": user.get_full_name() or user.username, "reasons": ", ".join(reasons)}
        for user in users
        if (reasons := conflicts.get((user.pk, candidate.pk)))
    ]
    if problems:
        raise BusinessRuleError(
            _(
                "Conflit d'intérêts : %(members)s ne peut pas évaluer ce candidat. Choisissez d'autres membres."
            )
            % {"members": " ; ".join(problems)},
            code="conflict_of_interest",
        )


@transaction.atomic
def convene_candidate(*, session, candidate, time_slot, by, evaluators=None):
    """Convene `candidate` to `session` at `time_slot`, assign evaluators (default: every member without
    a conflict of interest), create their scoring sheets and send the convocation email (task)."""
    check_staff_of(by, session.centre_id)
    candidate = (
        Candidate.objects.select_for_update(of=("self",))
        .select_related("dossier", "company")
        .get(pk=candidate.pk)
    )
    if candidate.centre_id != session.centre_id:
        raise BusinessRuleError(
            _("Ce candidat n'est pas inscrit dans le centre de la session."), code="centre"
        )
    if candidate.is_anonymised or candidate.status not in CONVENABLE_STATUSES:
        raise BusinessRuleError(
            _("Seul un candidat au dossier validé, ou déjà en évaluation, peut être convoqué."), code="status"
        )
    dossier = getattr(candidate, "dossier", None)
    if dossier is None or not dossier.is_frozen:
        raise BusinessRuleError(
            _("Le dossier d'évaluation du candidat doit d'abord être validé."), code="dossier"
        )
    if not isinstance(time_slot, datetime.time):
        raise BusinessRuleError(_("Indiquez l'horaire de passage du candidat."), code="required")
    if Convocation.objects.filter(session=session, candidate=candidate).exists():
        raise BusinessRuleError(_("Ce candidat est déjà convoqué à cette session."), code="duplicate")
    if Convocation.objects.filter(session=session, time_slot=time_slot).exists():
        raise BusinessRuleError(
            _("Cet horaire est déjà attribué à un autre candidat de la session."), code="slot"
        )
    members = {m.user_id: m.user for m in session.commission.members.select_related("user")}
    if evaluators is None:
        conflicts = conflict_map(members.values(), [candidate])
        chosen = [user for user in members.values() if (user.pk, candidate.pk) not in conflicts]
    else:
        chosen = list(evaluators)
        strangers = [user for user in chosen if user.pk not in members]
        if strangers:
            raise BusinessRuleError(
                _("Seuls les membres de la commission peuvent être affectés."), code="member"
            )
        _check_no_conflict(chosen, candidate)
    if not chosen:
        raise BusinessRuleError(
            _("Aucun membre de la commission ne peut évaluer ce candidat (conflits d'intérêts)."),
            code="conflict_of_interest",
        )
    try:
        with transaction.atomic():
            convocation = Convocation.objects.create(
                session=session, candidate=candidate, time_slot=time_slot
            )
    except IntegrityError as exc:
        raise BusinessRuleError(
            _("Ce candidat est déjà convoqué à cette session."), code="duplicate"
        ) from exc
    for user in chosen:
        assignment = ConvocationEvaluator.objects.create(
            convocation=convocation, evaluator=user, assigned_by=by
        )
        _create_sheets(convocation, user)
        notify_evaluator_assignment(assignment)
    if candidate.status == CandidateStatus.DOSSIER_VALIDATED:
        start_evaluation(candidate=candidate, by=by, reason=_("Convocation à une session d'évaluation"))
    audit(
        actor=by,
        action="evaluations.candidate_convened",
        target=convocation,
        centre=session.centre,
        message=f"convocation {convocation.pk} : candidat {candidate.pk}, session {session.pk}",
        evaluators=[user.pk for user in chosen],
    )
    _queue_convocation_email(convocation)
    return convocation


@transaction.atomic
def resend_convocation(*, convocation, by, time_slot=None):
    """Change the time slot (optional) and send the convocation again."""
    check_staff_of(by, convocation.session.centre_id)
    if time_slot is not None and time_slot != convocation.time_slot:
        if (
            Convocation.objects.filter(session=convocation.session, time_slot=time_slot)
            .exclude(pk=convocation.pk)
            .exists()
        ):
            raise BusinessRuleError(
                _("Cet horaire est déjà attribué à un autre candidat de la session."), code="slot"
            )
        convocation.time_slot = time_slot
        convocation.save(update_fields=["time_slot"])
    audit(
        actor=by,
        action="evaluations.convocation_resent",
        target=convocation,
        centre=convocation.session.centre,
        message=f"convocation {convocation.pk}",
    )
    _queue_convocation_email(convocation, nonce=timezone.now().isoformat())
    return convocation


@transaction.atomic
def assign_evaluator(*, convocation, user, by):
    session = convocation.session
    check_staff_of(by, session.centre_id)
    if not CommissionMember.objects.filter(commission_id=session.commission_id, user=user).exists():
        raise BusinessRuleError(_("Seuls les membres de la commission peuvent être affectés."), code="member")
    if ConvocationEvaluator.objects.filter(convocation=convocation, evaluator=user).exists():
        raise BusinessRuleError(_("Ce membre est déjà affecté à ce candidat."), code="duplicate")
    _check_no_conflict([user], convocation.candidate)
    assignment = ConvocationEvaluator.objects.create(convocation=convocation, evaluator=user, assigned_by=by)
    _create_sheets(convocation, user)
    notify_evaluator_assignment(assignment)
    audit(
        actor=by,
        action="evaluations.evaluator_assigned",
        target=convocation,
        centre=session.centre,
        message=f"convocation {convocation.pk} : évaluateur {user.pk}",
        user_id=user.pk,
    )


@transaction.atomic
def unassign_evaluator(*, convocation, user, by):
    """Withdraw a member from a candidate. His draft sheets are deleted; a submitted sheet is kept for
    the record but no longer counts in the commission's consolidation."""
    session = convocation.session
    check_staff_of(by, session.centre_id)
    deleted, _ignored = ConvocationEvaluator.objects.filter(convocation=convocation, evaluator=user).delete()
    if not deleted:
        raise BusinessRuleError(_("Ce membre n'est pas affecté à ce candidat."), code="not_assigned")
    if not ConvocationEvaluator.objects.filter(
        convocation__candidate=convocation.candidate, evaluator=user
    ).exists():
        ScoringSheet.objects.filter(
            candidate=convocation.candidate, evaluator=user, status=SheetStatus.DRAFT
        ).delete()
    # No longer evaluating this candidate, he no longer records its proposals either.
    Convocation.objects.filter(pk=convocation.pk, acting_president=user).update(acting_president=None)
    audit(
        actor=by,
        action="evaluations.evaluator_unassigned",
        target=convocation,
        centre=session.centre,
        message=f"convocation {convocation.pk} : évaluateur {user.pk} retiré",
        user_id=user.pk,
    )

    for competency in scored_competencies(convocation.candidate):
        refresh_proposal(candidate=convocation.candidate, competency=competency)


def mark_convened(convocation_id):
    """Called by the task once the email is queued."""
    Convocation.objects.filter(pk=convocation_id).update(convened_at=timezone.now())


@transaction.atomic
def designate_acting_president(*, convocation, user, by):
    """The commission's president has a conflict of interest with the candidate: staff designate one of
    the members assigned to the candidate (without conflict) to record the commission's proposals in
    his place, so that a disagreement between members does not leave the candidate stuck."""
    check_staff_of(by, convocation.session.centre_id)
    convocation = (
        Convocation.objects.select_for_update(of=("self",))
        .select_related("session__commission", "candidate__company")
        .get(pk=convocation.pk)
    )
    candidate = convocation.candidate
    if candidate.status != CandidateStatus.IN_EVALUATION:
        raise BusinessRuleError(_("Le candidat n'est plus en évaluation."), code="status")
    president = (
        CommissionMember.objects.filter(commission=convocation.session.commission, is_president=True)
        .select_related("user")
        .first()
    )
    if president is None or not conflicts_between(president.user, candidate):
        raise BusinessRuleError(
            _(
                "Le président de la commission n'a pas de conflit d'intérêts avec ce candidat : "
                "c'est à lui d'enregistrer les propositions."
            ),
            code="president_available",
        )
    if (
        user is None
        or not ConvocationEvaluator.objects.filter(convocation=convocation, evaluator=user).exists()
    ):
        raise BusinessRuleError(_("Choisissez un membre affecté à ce candidat."), code="not_assigned")
    _check_no_conflict([user], candidate)
    convocation.acting_president = user
    convocation.save(update_fields=["acting_president"])
    audit(
        actor=by,
        action="evaluations.acting_president_designated",
        target=convocation,
        centre=convocation.session.centre,
        message=f"convocation {convocation.pk} : président(e) de séance {user.pk}",
        user_id=user.pk,
    )
    return convocation
