"""Demo data of the evaluations app (centre A), built through the services as staff, evaluators and
tutors would do it. Idempotent: everything is looked up by a stable key before being created, and a
sheet is only filled while it is untouched.

- Commission 1 « Commission RH — Nancy 1 »: evaluator-a (president) and evaluateur-a2;
  commission 2 « Commission RH — Nancy 2 »: evaluator-b (president) and evaluateur-b2.
- Past session of commission 1: a01 and a02 fully scored, unanimous → proposals computed, company
  opinions given and signed by tutor-a → « en attente de délibération »; a06 partly scored (to score).
- Past session of commission 2: a03 scored, the members disagree on one competency → proposal recorded
  by the president with a reason → « en attente de délibération »; a04 in draft (to score).
- Upcoming sessions: a07 and a05 (VAE) before commission 1, a12 before commission 2 (to score).
- tutor-b is invited for a03, a04 and a12 (opinions to give, due soon: reminders).

Puts in ctx: ctx["commissions"], ctx["evaluation_sessions"], ctx["evaluated_candidates"] (the
candidates whose every competency has a commission proposal, for the deliberations demo).
"""

import datetime

from django.utils import timezone

from candidates.models import CandidateStatus
from core.demo import DEMO_PASSWORD
from core.models import Role, User

from . import services
from .models import (
    Commission,
    CommissionMember,
    CompanyOpinion,
    Convocation,
    EvaluationSession,
    Judgement,
    Opinion,
    ScoringSheet,
    SheetStatus,
)
from .selectors import scored_competencies

EXTRA_EVALUATORS = [
    # username, first name, last name
    ("evaluateur-a2", "Paul", "Henry"),
    ("evaluateur-b2", "Sandrine", "Vidal"),
]

COMMISSIONS = [
    # key, name, [(username, qualification, college, president)]
    (
        "c1",
        "Commission RH — Nancy 1",
        [
            ("evaluator-a", "Responsable ressources humaines (industrie)", "employers", True),
            ("evaluateur-a2", "Gestion de la paie et administration du personnel", "employees", False),
        ],
    ),
    (
        "c2",
        "Commission RH — Nancy 2",
        [
            ("evaluator-b", "Recrutement et développement des compétences", "employers", True),
            ("evaluateur-b2", "Relations sociales et instances représentatives", "employees", False),
        ],
    ),
]

SESSIONS = [
    # key, commission, days from today, place (or "" for remote), remote details
    ("s1", "c1", -7, "UIMM Lorraine — salle Bessemer, 12 rue de la Métallurgie, Nancy", ""),
    ("s2", "c1", 6, "", "Visioconférence : https://visio.demo.cqpm.local/commission-rh-1"),
    ("s3", "c2", -3, "UIMM Lorraine — salle Martin, 12 rue de la Métallurgie, Nancy", ""),
    ("s4", "c2", 9, "UIMM Lorraine — salle Martin, 12 rue de la Métallurgie, Nancy", ""),
]

CONVOCATIONS = [
    # session, candidate key, time slot, scoring scenario
    ("s1", "a01", datetime.time(9, 0), "unanimous"),
    ("s1", "a02", datetime.time(10, 30), "unanimous"),
    ("s1", "a06", datetime.time(14, 0), "partial"),
    ("s3", "a03", datetime.time(9, 0), "divergent"),
    ("s3", "a04", datetime.time(10, 30), "draft"),
    ("s2", "a07", datetime.time(9, 30), None),
    ("s2", "a05", datetime.time(11, 0), None),
    ("s4", "a12", datetime.time(14, 0), None),
]

SIGNED_OPINIONS = ("a01", "a02")  # given and signed by tutor-a
PENDING_OPINIONS = ("a03", "a04", "a12")  # tutor-b is invited, nothing signed yet


def _extra_evaluators(ctx):
    centre = ctx["centres"]["A"]
    for username, first, last in EXTRA_EVALUATORS:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "role": Role.EVALUATOR,
                "first_name": first,
                "last_name": last,
                "email": f"{username}@demo.cqpm.local",
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        user.centres.add(centre)
        ctx["users"][username] = user


def _commissions(ctx, staff):
    centre = ctx["centres"]["A"]
    commissions = {}
    for key, name, members in COMMISSIONS:
        commission = Commission.objects.filter(
            centre=centre, name=name
        ).first() or services.create_commission(centre=centre, name=name, by=staff)
        for username, qualification, college, president in members:
            user = ctx["users"][username]
            if not CommissionMember.objects.filter(commission=commission, user=user).exists():
                services.add_member(
                    commission=commission,
                    user=user,
                    qualification=qualification,
                    college=college,
                    is_president=president,
                    by=staff,
                )
        commissions[key] = commission
    return commissions


# The demo's past sessions are entered after the fact, as a centre starting with the product would do.
DEMO_LATE_ENTRY = "Données de démonstration : session passée saisie après coup."


def _sessions(ctx, staff, commissions):
    centre = ctx["centres"]["A"]
    today = timezone.localdate()
    sessions = {}
    for key, commission_key, days, place, remote in SESSIONS:
        commission = commissions[commission_key]
        # A demo session is known by its commission, place and side of today (past or upcoming).
        existing = EvaluationSession.objects.filter(commission=commission, place=place, remote_details=remote)
        existing = (existing.filter(date__lt=today) if days < 0 else existing.filter(date__gte=today)).first()
        sessions[key] = existing or services.create_session(
            centre=centre,
            commission=commission,
            date=today + datetime.timedelta(days=days),
            place=place,
            is_remote=not place,
            remote_details=remote,
            by=staff,
            late_entry_reason=DEMO_LATE_ENTRY if days < 0 else "",
        )
    return sessions


def _fill(sheet, evaluator, *, value, conclusion, justification="", submit=True):
    if sheet.status != SheetStatus.DRAFT or sheet.version != 1:
        return  # already worked on (idempotence): never overwrite
    criteria = list(sheet.competency.criteria.all())
    judgements = {}
    for index, criterion in enumerate(criteria):
        judgement = value(index) if callable(value) else value
        comment = "Observé lors de la mise en situation." if index == 0 else ""
        judgements[criterion.pk] = (judgement, comment)
    services.save_sheet(
        sheet=sheet,
        by=evaluator,
        expected_version=1,
        judgements=judgements,
        conclusion=conclusion,
        justification=justification,
        submit=submit,
    )


def _score(candidate, scenario, members):
    president, member = members
    competencies = list(scored_competencies(candidate))
    sheets = {
        (s.evaluator_id, s.competency_id): s
        for s in ScoringSheet.objects.filter(candidate=candidate).select_related("candidate", "competency")
    }

    def sheet(user, competency):
        return sheets.get((user.pk, competency.pk))

    for number, competency in enumerate(competencies, start=1):
        p_sheet, m_sheet = sheet(president, competency), sheet(member, competency)
        if p_sheet is None or m_sheet is None:
            continue
        if scenario == "unanimous":
            _fill(p_sheet, president, value=Judgement.ACQUIRED, conclusion="acquired")
            # one criterion not observed by the member: flagged as a divergence, conclusions agree
            _fill(
                m_sheet,
                member,
                value=lambda i: Judgement.NOT_OBSERVED if i == 1 else Judgement.ACQUIRED,
                conclusion="acquired",
            )
        elif scenario == "divergent":
            if number == 2:
                _fill(
                    p_sheet,
                    president,
                    value=lambda i: Judgement.ACQUIRED if i % 3 else Judgement.NOT_ACQUIRED,
                    conclusion="acquired",
                )
                _fill(
                    m_sheet,
                    member,
                    value=lambda i: Judgement.NOT_ACQUIRED if i % 2 else Judgement.ACQUIRED,
                    conclusion="not_acquired",
                    justification="Bulletins de paie : deux erreurs de cotisations non détectées.",
                )
                candidate.refresh_from_db()
                if not candidate.commission_proposals.filter(competency=competency).exists():
                    services.record_proposal(
                        candidate=candidate,
                        competency=competency,
                        conclusion="not_acquired",
                        reason="Les erreurs de calcul relevées sur la paie ne permettent pas de conclure à la maîtrise.",
                        by=president,
                    )
            else:
                _fill(p_sheet, president, value=Judgement.ACQUIRED, conclusion="acquired")
                _fill(m_sheet, member, value=Judgement.ACQUIRED, conclusion="acquired")
        elif scenario == "partial" and number == 1:
            _fill(p_sheet, president, value=Judgement.ACQUIRED, conclusion="acquired")
            _fill(m_sheet, member, value=Judgement.ACQUIRED, conclusion="", submit=False)
        elif scenario == "draft" and number <= 2:
            _fill(
                p_sheet,
                president,
                value=lambda i: Judgement.ACQUIRED if i < 3 else "",
                conclusion="",
                submit=False,
            )


def _opinions(ctx, staff, candidates):
    today = timezone.localdate()
    for key in SIGNED_OPINIONS + PENDING_OPINIONS:
        candidate = candidates[key]
        candidate.refresh_from_db()
        if candidate.tutor is None or candidate.is_vae:
            continue
        if not CompanyOpinion.objects.filter(candidate=candidate).exists():
            if candidate.status not in (CandidateStatus.DOSSIER_VALIDATED, CandidateStatus.IN_EVALUATION):
                continue
            services.invite_tutor(candidate=candidate, by=staff, due_date=today + datetime.timedelta(days=2))
        if key in SIGNED_OPINIONS and not CompanyOpinion.objects.filter(
            candidate=candidate, signed_at__isnull=False
        ):
            tutor_user = candidate.tutor.user
            opinions = CompanyOpinion.objects.filter(candidate=candidate).order_by("competency__number")
            values = {
                o.competency_id: (
                    Opinion.RESERVED if index == 2 else Opinion.FAVOURABLE,
                    "Autonomie encore en progrès sur ce point." if index == 2 else "",
                )
                for index, o in enumerate(opinions)
            }
            services.save_opinions(candidate=candidate, by=tutor_user, values=values)
            services.sign_opinions(candidate=candidate, by=tutor_user)


def seed(ctx):
    staff = ctx["users"]["staff-a"]
    candidates = ctx["candidates"]
    _extra_evaluators(ctx)
    commissions = _commissions(ctx, staff)
    sessions = _sessions(ctx, staff, commissions)
    members = {
        "c1": (ctx["users"]["evaluator-a"], ctx["users"]["evaluateur-a2"]),
        "c2": (ctx["users"]["evaluator-b"], ctx["users"]["evaluateur-b2"]),
    }
    for session_key, candidate_key, slot, _scenario in CONVOCATIONS:
        session = sessions[session_key]
        candidate = candidates[candidate_key]
        candidate.refresh_from_db()
        if Convocation.objects.filter(session=session, candidate=candidate).exists():
            continue
        if candidate.status not in (CandidateStatus.DOSSIER_VALIDATED, CandidateStatus.IN_EVALUATION):
            continue
        services.convene_candidate(session=session, candidate=candidate, time_slot=slot, by=staff)
    # Before scoring: a tutor is invited while the candidate is still in evaluation.
    _opinions(ctx, staff, candidates)
    for session_key, candidate_key, _slot, scenario in CONVOCATIONS:
        if scenario is None:
            continue
        commission_key = "c1" if session_key in ("s1", "s2") else "c2"
        candidate = candidates[candidate_key]
        candidate.refresh_from_db()
        if candidate.status != CandidateStatus.IN_EVALUATION:
            continue
        _score(candidate, scenario, members[commission_key])
    for candidate in candidates.values():
        candidate.refresh_from_db()
    ctx["commissions"] = commissions
    ctx["evaluation_sessions"] = sessions
    ctx["evaluated_candidates"] = [
        candidates[key]
        for key in ("a01", "a02", "a03")
        if candidates[key].status == CandidateStatus.AWAITING_DELIBERATION
    ]
    if "stdout" in ctx:
        ctx["stdout"].write(
            f"Évaluations : {len(commissions)} commissions, {len(sessions)} sessions, "
            f"{len(ctx['evaluated_candidates'])} candidats en attente de délibération."
        )
