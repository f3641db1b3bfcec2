"""Read side of the deliberations: what each role may see, and the data of the session board.

Every view, export and task gets its sessions through `sessions_visible_to(user)`: staff see their
centres' sessions, a jury member the sessions of the juries they sit on, nobody else anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.apps import apps
from django.db.models import Prefetch, Q
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from . import awards
from .models import (
    Attendance,
    CandidateOutcome,
    CapitalisedBlock,
    CapitalisedCompetency,
    College,
    CompetencyDecision,
    DeliberationSession,
    DocumentStatus,
    GeneratedDocument,
    JuryMember,
    SessionCandidate,
    SessionStatus,
)

# ---------------------------------------------------------------------------------------------
# Scope
# ---------------------------------------------------------------------------------------------


def sessions_visible_to(user):
    qs = DeliberationSession.objects.select_related("centre", "certification", "jury")
    if not user.is_authenticated or not user.is_active:
        return qs.none()
    if user.is_superuser:
        return qs
    if user.is_centre_staff:
        return qs.filter(centre_id__in=user.centre_ids())
    if user.is_jury_member:
        return qs.filter(jury__members__user=user).distinct()
    return qs.none()


def session_for(user, pk):
    """The session `pk` if the user may see it, else 404."""
    return get_object_or_404(sessions_visible_to(user), pk=pk)


def juries_visible_to(user):
    from .models import Jury

    qs = Jury.objects.select_related("centre")
    if user.is_superuser:
        return qs
    if user.is_centre_staff:
        return qs.filter(centre_id__in=user.centre_ids())
    return qs.none()


def documents_visible_to(user):
    return GeneratedDocument.objects.filter(
        session__in=sessions_visible_to(user).values("pk")
    ).select_related("session", "candidate")


def session_list(user):
    from django.db.models import Count

    return sessions_visible_to(user).annotate(
        candidate_count=Count("entries", distinct=True), decided_count=Count("outcomes", distinct=True)
    )


def is_candidate_locked(candidate_id):
    """Once the jury has recorded its decisions, the candidate's scores, proposals and opinions are frozen."""
    return CandidateOutcome.objects.filter(candidate_id=candidate_id).exists()


# ---------------------------------------------------------------------------------------------
# Capitalisation
# ---------------------------------------------------------------------------------------------


@dataclass
class Capitalised:
    """What a candidate keeps from earlier deliberations, keyed by the ids of *its* referential."""

    competencies: dict = field(default_factory=dict)  # competency id → valid_until
    blocks: dict = field(default_factory=dict)  # block id → valid_until
    # id → date of the deliberation that validated it (the record kept in `competencies` / `blocks`)
    competencies_acquired_on: dict = field(default_factory=dict)
    blocks_acquired_on: dict = field(default_factory=dict)


def _attempt_ids(candidate):
    """The candidate and its earlier attempts (previous_attempt chain)."""
    Candidate = apps.get_model("candidates", "Candidate")
    ids, current, seen = [candidate.pk], candidate.previous_attempt_id, set()
    while current and current not in seen:
        seen.add(current)
        ids.append(current)
        current = Candidate.objects.filter(pk=current).values_list("previous_attempt_id", flat=True).first()
    return ids


def capitalised_for(candidate, on: date | None = None) -> Capitalised:
    """Competencies and blocs acquired by this person for the same CQPM and still valid on `on`.

    The candidates app calls it at registration (a new attempt starts with them acquired); the jury's
    award rules call it too. Records of an earlier version of the referential carry over to the
    candidate's version when the competency (bloc) has the same number and title.
    """
    on = on or timezone.localdate()
    attempt_ids = _attempt_ids(candidate)
    Competency = apps.get_model("referential", "Competency")
    Block = apps.get_model("referential", "Block")
    own_competencies = {
        (c.number, c.title): c.pk
        for c in Competency.objects.filter(certification_id=candidate.certification_id)
    }
    own_blocks = {
        (b.number, b.title): b.pk for b in Block.objects.filter(certification_id=candidate.certification_id)
    }
    code = candidate.certification.code
    result = Capitalised()
    comp_rows = CapitalisedCompetency.objects.filter(
        candidate_id__in=attempt_ids, valid_until__gte=on, competency__certification__code=code
    ).select_related("competency")
    for row in comp_rows:
        target = own_competencies.get((row.competency.number, row.competency.title))
        if target and row.valid_until > result.competencies.get(target, date.min):
            result.competencies[target] = row.valid_until
            result.competencies_acquired_on[target] = row.acquired_on
    block_rows = CapitalisedBlock.objects.filter(
        candidate_id__in=attempt_ids, valid_until__gte=on, block__certification__code=code
    ).select_related("block")
    for row in block_rows:
        target = own_blocks.get((row.block.number, row.block.title))
        if target and row.valid_until > result.blocks.get(target, date.min):
            result.blocks[target] = row.valid_until
            result.blocks_acquired_on[target] = row.acquired_on
    return result


def deliberated_attempts(candidate_ids, certification_code):
    """Among `candidate_ids`, those deliberated on the CQPM `certification_code` (any version) by a
    closed deliberation session, the most recent deliberation first. Used at registration to link a
    new attempt of the same person to the previous one."""
    rows = (
        CandidateOutcome.objects.filter(
            candidate_id__in=list(candidate_ids),
            session__status=SessionStatus.CLOSED,
            session__certification__code=certification_code,
        )
        .order_by("-session__date", "-session_id", "-candidate_id")
        .values_list("candidate_id", flat=True)
    )
    return list(dict.fromkeys(rows))


# ---------------------------------------------------------------------------------------------
# Convocations and attendance
# ---------------------------------------------------------------------------------------------


def convocation_warnings(session, today: date | None = None):
    """Late or missing convocations (domain.md: unions ≥ 15 days, employee members ≥ 8 days)."""
    today = today or timezone.localdate()
    warnings = []
    if session.is_closed:
        return warnings
    if session.unions_asked_on is None:
        if today > session.union_deadline:
            warnings.append(
                _(
                    "Les organisations syndicales n'ont pas été sollicitées et la date limite (%(d)s) est passée."
                )
                % {"d": session.union_deadline.strftime("%d/%m/%Y")}
            )
    elif session.unions_asked_on > session.union_deadline:
        warnings.append(
            _(
                "Les organisations syndicales ont été sollicitées tardivement (le %(on)s, au plus tard le %(d)s)."
            )
            % {
                "on": session.unions_asked_on.strftime("%d/%m/%Y"),
                "d": session.union_deadline.strftime("%d/%m/%Y"),
            }
        )
    if session.members_notified_on is None:
        if today > session.notification_deadline:
            warnings.append(
                _("Les membres salariés n'ont pas été convoqués et la date limite (%(d)s) est passée.")
                % {"d": session.notification_deadline.strftime("%d/%m/%Y")}
            )
    elif session.members_notified_on > session.notification_deadline:
        warnings.append(
            _("Les membres salariés ont été convoqués tardivement (le %(on)s, au plus tard le %(d)s).")
            % {
                "on": session.members_notified_on.strftime("%d/%m/%Y"),
                "d": session.notification_deadline.strftime("%d/%m/%Y"),
            }
        )
    return warnings


def composition_problems(members):
    """Why a jury's composition breaks the branch's rules (empty list when it is fine)."""
    problems = []
    employees = [m for m in members if m.college == College.EMPLOYEES]
    employers = [m for m in members if m.college == College.EMPLOYERS]
    if not employees or not employers:
        problems.append(_("Le jury doit compter des membres des deux collèges."))
    elif len(employees) != len(employers):
        problems.append(
            _("Le jury n'est pas paritaire : %(e)s membre(s) salarié(s) pour %(m)s membre(s) employeur(s).")
            % {"e": len(employees), "m": len(employers)}
        )
    if not any(m.is_president for m in members):
        problems.append(_("Le jury n'a pas de président (collège employeurs)."))
    return problems


def attendance_problems(session, attendances=None):
    """Why the attendance prevents the session from closing: parity, quorum, president."""
    from django.conf import settings

    if attendances is None:
        attendances = list(session.attendances.select_related("member"))
    present = [a.member for a in attendances if a.present]
    if not attendances:
        return [_("Les présences des membres du jury n'ont pas été enregistrées.")]
    problems = []
    quorum = settings.CQPM["JURY_QUORUM_MIN_PRESENT"]
    if len(present) < quorum:
        problems.append(
            _("Quorum non atteint : %(n)s membre(s) présent(s), %(q)s au minimum.")
            % {"n": len(present), "q": quorum}
        )
    employees = sum(1 for m in present if m.college == College.EMPLOYEES)
    employers = sum(1 for m in present if m.college == College.EMPLOYERS)
    if employees != employers:
        problems.append(
            _(
                "Parité non respectée : %(e)s membre(s) salarié(s) présent(s) pour %(m)s membre(s) employeur(s)."
            )
            % {"e": employees, "m": employers}
        )
    if not any(m.is_president for m in present):
        problems.append(_("Le président du jury (voix prépondérante) est absent."))
    return problems


def session_members(session):
    """Jury members with their attendance for this session (one query each)."""
    attendance = {a.member_id: a for a in Attendance.objects.filter(session=session)}
    members = list(JuryMember.objects.filter(jury_id=session.jury_id).select_related("user"))
    for member in members:
        record = attendance.get(member.pk)
        member.present = bool(record and record.present)
        member.attendance_recorded = record is not None
    return members, list(attendance.values())


# ---------------------------------------------------------------------------------------------
# Pre-deliberation checks and the board
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Anomaly:
    code: str
    message: str
    blocking: bool


@dataclass
class CandidateRow:
    entry: SessionCandidate
    candidate: object
    facts: awards.CandidateFacts
    proposals: dict
    anomalies: list
    decisions: dict  # competency id → CompetencyDecision
    outcome: CandidateOutcome | None
    competencies: list
    opinion_required: bool

    @property
    def blocking(self):
        return [a for a in self.anomalies if a.blocking]

    @property
    def warnings(self):
        return [a for a in self.anomalies if not a.blocking]

    @property
    def is_complete(self):
        return not self.blocking

    @property
    def proposal_rows(self):
        """Per competency: the competency, its proposal and the decision (for templates)."""
        return [
            {
                "competency": comp,
                "proposal": self.proposals.get(comp.pk),
                "decision": self.decisions.get(comp.pk),
            }
            for comp in self.competencies
        ]


def _model(app_label, name):
    try:
        return apps.get_model(app_label, name)
    except LookupError:  # pragma: no cover - the evaluations app always ships these models
        return None


def board(session):
    """Everything the session board shows, in a constant number of queries whatever the size."""
    Competency = apps.get_model("referential", "Competency")
    Block = apps.get_model("referential", "Block")
    CommissionProposal = _model("evaluations", "CommissionProposal")
    CompanyOpinion = _model("evaluations", "CompanyOpinion")
    ScoringSheet = _model("evaluations", "ScoringSheet")
    ConflictOfInterest = _model("evaluations", "ConflictOfInterest")
    DossierCompetency = apps.get_model("candidates", "DossierCompetency")
    CandidateDocument = apps.get_model("candidates", "CandidateDocument")

    entries = list(
        SessionCandidate.objects.filter(session=session)
        .select_related("candidate__dossier", "candidate__company")
        .order_by("candidate__reference")
    )
    candidate_ids = [e.candidate_id for e in entries]
    competencies = list(
        Competency.objects.filter(certification_id=session.certification_id).order_by("number")
    )
    blocks = list(Block.objects.filter(certification_id=session.certification_id).order_by("number"))

    def by_candidate(rows, key="candidate_id"):
        grouped = {}
        for row in rows:
            grouped.setdefault(getattr(row, key), []).append(row)
        return grouped

    proposals = (
        by_candidate(CommissionProposal.objects.filter(candidate_id__in=candidate_ids))
        if CommissionProposal
        else {}
    )
    opinions = (
        by_candidate(CompanyOpinion.objects.filter(candidate_id__in=candidate_ids)) if CompanyOpinion else {}
    )
    sheets = (
        by_candidate(
            ScoringSheet.objects.filter(candidate_id__in=candidate_ids, status="submitted").only(
                "id", "candidate_id", "evaluator_id", "competency_id"
            )
        )
        if ScoringSheet
        else {}
    )
    company_ids = {e.candidate.company_id for e in entries if e.candidate.company_id}
    conflicts = (
        list(
            ConflictOfInterest.objects.filter(
                Q(candidate_id__in=candidate_ids) | Q(company_id__in=company_ids)
            ).only("user_id", "candidate_id", "company_id")
        )
        if ConflictOfInterest
        else []
    )
    dossier_items = {}
    for item in DossierCompetency.objects.filter(dossier__candidate_id__in=candidate_ids).select_related(
        "dossier"
    ):
        dossier_items.setdefault(item.dossier.candidate_id, []).append(item)
    documents = by_candidate(
        CandidateDocument.objects.filter(candidate_id__in=candidate_ids).only(
            "id", "candidate_id", "kind", "is_late"
        )
    )
    decisions = by_candidate(CompetencyDecision.objects.filter(session=session))
    outcomes = {
        o.candidate_id: o
        for o in CandidateOutcome.objects.filter(session=session).prefetch_related(
            Prefetch("blocks_acquired", queryset=Block.objects.order_by("number"))
        )
    }
    capitalised = _capitalised_bulk(session, entries)

    rows = []
    for entry in entries:
        candidate = entry.candidate
        cap = capitalised.get(candidate.pk, Capitalised())
        items = {i.competency_id: i for i in dossier_items.get(candidate.pk, [])}
        dossier = getattr(candidate, "dossier", None)  # None when the candidate has no dossier
        opinion_required = not candidate.is_vae and (dossier.company_opinion_applies if dossier else True)
        cand_proposals = {p.competency_id: p for p in proposals.get(candidate.pk, [])}
        cand_opinions = {o.competency_id: o for o in opinions.get(candidate.pk, [])}
        comp_facts = []
        for comp in competencies:
            item = items.get(comp.pk)
            until = cap.competencies.get(comp.pk)
            if item is not None and item.already_acquired and item.acquired_until:
                until = max(until or date.min, item.acquired_until)
            proposal = cand_proposals.get(comp.pk)
            opinion = cand_opinions.get(comp.pk)
            comp_facts.append(
                awards.CompetencyFacts(
                    competency_id=comp.pk,
                    number=comp.number,
                    block_id=comp.block_id,
                    commission=proposal.conclusion if proposal is not None and _submitted(proposal) else None,
                    company_opinion=(opinion.opinion or None)
                    if opinion is not None and opinion.signed_at
                    else None,
                    capitalised_until=until,
                )
            )
        facts = awards.CandidateFacts(
            is_vae=not opinion_required,
            deliberation_date=session.date,
            competencies=tuple(comp_facts),
            blocks=tuple(
                awards.BlockFacts(block_id=b.pk, number=b.number, capitalised_until=cap.blocks.get(b.pk))
                for b in blocks
            ),
            rncp_registered=bool(session.certification.rncp_number),
        )
        proposals_by_comp = awards.propose(facts)
        anomalies = _anomalies(
            candidate=candidate,
            dossier=dossier,
            competencies=competencies,
            proposals=proposals_by_comp,
            commission_proposals=cand_proposals,
            opinions=cand_opinions,
            opinion_required=opinion_required,
            sheets=sheets.get(candidate.pk, []),
            conflicts=conflicts,
            items=items,
            documents=documents.get(candidate.pk, []),
        )
        rows.append(
            CandidateRow(
                entry=entry,
                candidate=candidate,
                facts=facts,
                proposals=proposals_by_comp,
                anomalies=anomalies,
                decisions={d.competency_id: d for d in decisions.get(candidate.pk, [])},
                outcome=outcomes.get(candidate.pk),
                competencies=competencies,
                opinion_required=opinion_required,
            )
        )
    return rows


def board_row(session, candidate_id):
    for row in board(session):
        if row.candidate.pk == candidate_id:
            return row
    return None


def _submitted(proposal):
    # A proposal row is the commission's submitted conclusion; drafts (if the model has them) do not count.
    status = getattr(proposal, "status", "submitted")
    return status in ("submitted", "") and bool(proposal.conclusion)


def _capitalised_bulk(session, entries):
    """capitalised_for() for every candidate of the board in a constant number of queries.

    Every candidate of a session is registered on the session's CQPM version (services enforce it).
    """
    Candidate = apps.get_model("candidates", "Candidate")
    Competency = apps.get_model("referential", "Competency")
    Block = apps.get_model("referential", "Block")
    previous = {e.candidate_id: e.candidate.previous_attempt_id for e in entries}
    parent_of = {}
    pending = {pid for pid in previous.values() if pid}
    for _round in range(5):  # chains of earlier attempts are short; bounded to keep queries constant
        pending -= set(parent_of)
        if not pending:
            break
        new = set()
        for pk, parent in Candidate.objects.filter(pk__in=pending).values_list("pk", "previous_attempt_id"):
            parent_of[pk] = parent
            if parent:
                new.add(parent)
        pending = new
    chains = {}
    for entry in entries:
        chain, current = [entry.candidate_id], previous[entry.candidate_id]
        while current and current not in chain:
            chain.append(current)
            current = parent_of.get(current)
        chains[entry.candidate_id] = set(chain)
    if not chains:
        return {}
    all_ids = set().union(*chains.values())
    code = session.certification.code
    own_comp = {
        (c.number, c.title): c.pk
        for c in Competency.objects.filter(certification_id=session.certification_id)
    }
    own_block = {
        (b.number, b.title): b.pk for b in Block.objects.filter(certification_id=session.certification_id)
    }
    comp_rows = list(
        CapitalisedCompetency.objects.filter(
            candidate_id__in=all_ids,
            valid_until__gte=session.date,
            acquired_on__lt=session.date,  # only earlier deliberations, never this one
            competency__certification__code=code,
        ).select_related("competency")
    )
    block_rows = list(
        CapitalisedBlock.objects.filter(
            candidate_id__in=all_ids,
            valid_until__gte=session.date,
            acquired_on__lt=session.date,
            block__certification__code=code,
        ).select_related("block")
    )
    result = {}
    for candidate_id, chain in chains.items():
        cap = Capitalised()
        for row in comp_rows:
            target = own_comp.get((row.competency.number, row.competency.title))
            if (
                row.candidate_id in chain
                and target
                and row.valid_until > cap.competencies.get(target, date.min)
            ):
                cap.competencies[target] = row.valid_until
        for row in block_rows:
            target = own_block.get((row.block.number, row.block.title))
            if row.candidate_id in chain and target and row.valid_until > cap.blocks.get(target, date.min):
                cap.blocks[target] = row.valid_until
        result[candidate_id] = cap
    return result


def _anomalies(
    *,
    candidate,
    dossier,
    competencies,
    proposals,
    commission_proposals,
    opinions,
    opinion_required,
    sheets,
    conflicts,
    items,
    documents,
):
    found = []
    if candidate.status not in ("awaiting_deliberation", "deliberated"):
        found.append(
            Anomaly(
                "not_awaiting",
                _("Le candidat n'est plus en attente de délibération (évaluation rouverte)."),
                True,
            )
        )
    if dossier is None or dossier.validated_at is None:
        found.append(Anomaly("dossier_not_validated", _("Le dossier d'évaluation n'est pas validé."), True))
    missing_proposal = [
        c.number for c in competencies if not proposals[c.pk].capitalised and c.pk not in commission_proposals
    ]
    if missing_proposal:
        found.append(
            Anomaly(
                "missing_proposal",
                _("Compétence(s) sans proposition de la commission : %(n)s.")
                % {"n": ", ".join(map(str, missing_proposal))},
                True,
            )
        )
    if opinion_required:
        missing_opinion = [
            c.number
            for c in competencies
            if not proposals[c.pk].capitalised and (c.pk not in opinions or not opinions[c.pk].signed_at)
        ]
        if missing_opinion:
            found.append(
                Anomaly(
                    "missing_opinion",
                    _("Avis de l'entreprise manquant ou non signé : compétence(s) %(n)s.")
                    % {"n": ", ".join(map(str, missing_opinion))},
                    True,
                )
            )
    evaluator_ids = {s.evaluator_id for s in sheets}
    conflicted = {
        c.user_id
        for c in conflicts
        if c.user_id in evaluator_ids
        and (c.candidate_id == candidate.pk or (c.company_id and c.company_id == candidate.company_id))
    }
    if conflicted:
        found.append(
            Anomaly(
                "evaluator_conflict",
                _("%(n)s évaluateur(s) ayant noté ce candidat ont déclaré un conflit d'intérêts.")
                % {"n": len(conflicted)},
                True,
            )
        )
    needs_report = any("project_presentation" in (item.modalities or []) for item in items.values())
    reports = [d for d in documents if d.kind == "report"]
    if needs_report and not reports:
        found.append(
            Anomaly("missing_report", _("Le rapport du candidat (présentation de projet) manque."), True)
        )
    if any(d.is_late for d in reports):
        found.append(Anomaly("late_report", _("Le rapport a été remis après la date limite."), False))
    divergent = [
        c.number for c in competencies if getattr(commission_proposals.get(c.pk), "has_divergence", False)
    ]
    if divergent:
        found.append(
            Anomaly(
                "evaluator_divergence",
                _("Les évaluateurs ont divergé sur la/les compétence(s) %(n)s.")
                % {"n": ", ".join(map(str, divergent))},
                False,
            )
        )
    review = [c.number for c in competencies if proposals[c.pk].needs_review]
    if review:
        found.append(
            Anomaly(
                "needs_review",
                _(
                    "Commission et entreprise divergent : compétence(s) %(n)s à réexaminer (motivation requise)."
                )
                % {"n": ", ".join(map(str, review))},
                False,
            )
        )
    return found


def pending_documents(session):
    return session.documents.filter(status__in=[DocumentStatus.QUEUED, DocumentStatus.RENDERING])


def current_documents(session):
    return (
        GeneratedDocument.objects.filter(session=session, is_current=True)
        .select_related("candidate")
        .order_by("kind", "candidate__reference")
    )
