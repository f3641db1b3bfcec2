"""Read side of the evaluations app: the role-scoped querysets every view, export and task uses.

`candidates_for_evaluator(user)` is the single source of truth for "which candidates may this evaluator
see"; `candidates.selectors.candidates_visible_to` delegates its evaluator branch to it.
"""

from collections import defaultdict
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db.models import Count, FilteredRelation, IntegerField, Prefetch, Q, Value
from django.db.models.expressions import RawSQL
from django.utils import timezone

from candidates.models import Candidate, CandidateStatus, DossierCompetency, Tutor
from candidates.selectors import candidates_visible_to
from core.models import Role, User
from referential.models import Competency, Criterion, CriterionCategory, ExpectedResult, RealisationCondition

from .grading import consolidate
from .models import (
    Commission,
    CommissionMember,
    CommissionProposal,
    CompanyOpinion,
    ConflictOfInterest,
    Convocation,
    ConvocationEvaluator,
    EvaluationSession,
    ScoringSheet,
    SheetStatus,
)

# Addresses at these providers say nothing about the employer: never a conflict by email domain.
PUBLIC_EMAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "yahoo.fr",
        "yahoo.com",
        "hotmail.fr",
        "hotmail.com",
        "outlook.fr",
        "outlook.com",
        "live.fr",
        "live.com",
        "msn.com",
        "orange.fr",
        "wanadoo.fr",
        "free.fr",
        "sfr.fr",
        "neuf.fr",
        "laposte.net",
        "bbox.fr",
        "icloud.com",
        "me.com",
        "gmx.fr",
        "gmx.com",
        "protonmail.com",
        "proton.me",
        "aol.com",
    }
)

# The demo accounts (core.demo) all share one domain that is no employer's.
DEMO_EMAIL_DOMAIN = "demo.cqpm.local"

CATEGORY_ORDER = list(CriterionCategory.values)


def _ignored_domains():
    extra = settings.CQPM.get("CONFLICT_IGNORED_EMAIL_DOMAINS", ())
    return PUBLIC_EMAIL_DOMAINS | {DEMO_EMAIL_DOMAIN} | {d.lower() for d in extra}


def professional_domain(email):
    """The employer's domain of an address, or "" for webmail providers (and the demo domain,
    settings.CQPM["CONFLICT_IGNORED_EMAIL_DOMAINS"]) and malformed addresses."""
    if not email or "@" not in email:
        return ""
    domain = email.rsplit("@", 1)[1].strip().lower()
    return "" if domain in _ignored_domains() else domain


def _is_staff(user):
    return bool(user and user.is_authenticated and user.is_centre_staff)


def _is_evaluator(user):
    return bool(user and user.is_authenticated and user.is_evaluator)


# --- conflicts of interest ------------------------------------------------------------------


def _conflict_q(user):
    """Candidates `user` may not evaluate: declared conflicts (candidate or company), a company where
    he is a tutor, and — by his professional email domain — a company whose tutors, or a candidate
    whose address, share that domain."""
    return _conflict_q_for(user.pk, professional_domain(user.email))


def _conflict_q_for(user_id, domain):
    """`_conflict_q` from its only inputs: the user's id and professional domain ("" for none)."""
    declared = ConflictOfInterest.objects.filter(user_id=user_id)
    q = Q(pk__in=declared.filter(candidate__isnull=False).values("candidate_id"))
    q |= Q(company_id__in=declared.filter(company__isnull=False).values("company_id"))
    q |= Q(company_id__in=Tutor.objects.filter(user_id=user_id).values("company_id"))
    if domain:
        # email_domain (indexed) finds the candidates, the suffix match keeps the rule exact
        domain_tutors = Tutor.objects.filter(email_domain=domain, email__iendswith=f"@{domain}")
        q |= Q(company_id__in=domain_tutors.values("company_id"))
        q |= Q(email__iendswith=f"@{domain}")
    return q


def conflict_map(users, candidates):
    """{(user_id, candidate_id): [French reasons]} for every pair in conflict, in 3 queries."""
    users = list(users)
    candidates = list(candidates)
    if not users or not candidates:
        return {}
    user_ids = {user.pk for user in users}
    candidate_ids = {candidate.pk for candidate in candidates}
    company_ids = {candidate.company_id for candidate in candidates if candidate.company_id}
    result = defaultdict(list)
    declared = ConflictOfInterest.objects.filter(user_id__in=user_ids).filter(
        Q(candidate_id__in=candidate_ids) | Q(company_id__in=company_ids)
    )
    for conflict in declared:
        for candidate in candidates:
            if conflict.candidate_id == candidate.pk:
                result[(conflict.user_id, candidate.pk)].append("conflit déclaré avec ce candidat")
            elif conflict.company_id and conflict.company_id == candidate.company_id:
                result[(conflict.user_id, candidate.pk)].append("conflit déclaré avec son entreprise")
    tutors = list(Tutor.objects.filter(company_id__in=company_ids).only("company_id", "user_id", "email"))
    company_domains = defaultdict(set)
    for tutor in tutors:
        if tutor.user_id in user_ids:
            for candidate in candidates:
                if candidate.company_id == tutor.company_id:
                    result[(tutor.user_id, candidate.pk)].append("tuteur ou contact de son entreprise")
        domain = professional_domain(tutor.email)
        if domain:
            company_domains[tutor.company_id].add(domain)
    for user in users:
        domain = professional_domain(user.email)
        if not domain:
            continue
        for candidate in candidates:
            if domain in company_domains.get(candidate.company_id, ()) or (
                professional_domain(candidate.email) == domain
            ):
                result[(user.pk, candidate.pk)].append("appartient à son entreprise (adresse électronique)")
    return {key: sorted(set(reasons)) for key, reasons in result.items()}


def conflicts_between(user, candidate):
    return conflict_map([user], [candidate]).get((user.pk, candidate.pk), [])


# --- commissions and sessions (staff) -------------------------------------------------------


def commissions_visible_to(user):
    if _is_staff(user):
        return Commission.objects.filter(centre_id__in=user.centre_ids())
    if _is_evaluator(user):
        return Commission.objects.filter(members__user=user)
    return Commission.objects.none()


def commission_list(user):
    return (
        commissions_visible_to(user)
        .select_related("centre")
        .annotate(
            member_count=Count("members", distinct=True), session_count=Count("sessions", distinct=True)
        )
        .prefetch_related(Prefetch("members", queryset=CommissionMember.objects.select_related("user")))
    )


def commission_detail(user, pk):
    return (
        commissions_visible_to(user)
        .select_related("centre")
        .prefetch_related(Prefetch("members", queryset=CommissionMember.objects.select_related("user")))
        .get(pk=pk)
    )


def sessions_visible_to(user):
    if _is_staff(user):
        return EvaluationSession.objects.filter(centre_id__in=user.centre_ids())
    return EvaluationSession.objects.none()


def session_list(user):
    return (
        sessions_visible_to(user)
        .select_related("centre", "commission")
        .annotate(
            candidate_count=Count("convocations", distinct=True),
            convened_count=Count(
                "convocations", filter=Q(convocations__convened_at__isnull=False), distinct=True
            ),
        )
    )


def convocations_visible_to(user):
    if _is_staff(user):
        return Convocation.objects.filter(session__centre_id__in=user.centre_ids())
    return Convocation.objects.none()


def eligible_evaluators(commission):
    """Evaluator accounts of the commission's centre who are not yet members."""
    return (
        User.objects.filter(role=Role.EVALUATOR, is_active=True, centres=commission.centre)
        .exclude(commission_memberships__commission=commission)
        .order_by("last_name", "first_name")
    )


def convenable_candidates(session):
    """Candidates of the session's centre with a validated dossier, not yet convened to this session."""

    return (
        Candidate.objects.filter(
            centre_id=session.centre_id,
            anonymised_at__isnull=True,
            status__in=[CandidateStatus.DOSSIER_VALIDATED, CandidateStatus.IN_EVALUATION],
            dossier__validated_at__isnull=False,
        )
        .exclude(convocations__session=session)
        # already convened to a session still to come (issue 16: the list shows who is left to convene)
        .exclude(convocations__session__date__gte=timezone.localdate())
        .select_related("company")
        .order_by("birth_name", "first_names", "pk")
    )


# --- evaluators -----------------------------------------------------------------------------


def convocations_for_evaluator(user):
    """Convocations an evaluator works on: those he is assigned to in a commission he sits on, and —
    as president — every convocation of his commission's sessions."""
    if not _is_evaluator(user):
        return Convocation.objects.none()
    return _evaluator_convocations(user.pk, user.centre_ids())


def _evaluator_convocations(user_id, centre_ids):
    memberships = CommissionMember.objects.filter(user_id=user_id)
    assigned = ConvocationEvaluator.objects.filter(evaluator_id=user_id).values("convocation_id")
    return Convocation.objects.filter(
        Q(session__commission_id__in=memberships.values("commission_id"), pk__in=assigned)
        | Q(session__commission_id__in=memberships.filter(is_president=True).values("commission_id")),
        session__centre_id__in=centre_ids,
    )


def candidates_for_evaluator(user):
    """THE candidates an evaluator may see: convened before a commission he belongs to (assigned, or
    as its president), never a candidate he has a conflict of interest with."""
    if not _is_evaluator(user):
        return Candidate.objects.none()
    return _evaluator_candidates(user.pk, user.centre_ids(), professional_domain(user.email))


def _evaluator_candidates(user_id, centre_ids, domain):
    """`candidates_for_evaluator` from its only inputs (the user's id, centres and professional
    domain). Keep it a function of its arguments alone: `_evaluator_scope_sql` caches its SQL by them."""
    return Candidate.objects.filter(
        pk__in=_evaluator_convocations(user_id, centre_ids).values("candidate_id"), anonymised_at__isnull=True
    ).exclude(_conflict_q_for(user_id, domain))


@lru_cache(maxsize=1024)
def _evaluator_scope_sql(alias, user_id, centre_ids, domain):
    """The SQL (and parameters) selecting the ids of `_evaluator_candidates(user_id, centre_ids, domain)`.

    Composing that queryset (nine subqueries) costs the ORM ~8 ms of CPU, more than the rest of the
    scoring grid, which an evaluator loads and autosaves on every click. Its SQL depends on nothing but
    these arguments (and the database: `alias`), so it is composed once per process and key; the rows
    it selects are read from the database at each request, as with the queryset.
    None when the scope is empty whatever the data (no centre).
    The invariant (composing reads no row, the cached SQL selects what the queryset selects after the
    data changes) is held by tests/evaluations/test_scope_sql_cache.py.
    """
    query = _evaluator_candidates(user_id, list(centre_ids), domain).order_by().values("pk").query
    try:
        sql, params = query.get_compiler(alias).as_sql()
    except EmptyResultSet:
        return None
    return sql, tuple(params)


def sheets_for_evaluator(user):
    """The evaluator's own sheets, for candidates still in his scope."""
    if not _is_evaluator(user):
        return ScoringSheet.objects.none()
    return ScoringSheet.objects.filter(evaluator=user, candidate__in=candidates_for_evaluator(user))


def to_score_rows(user, *, show_all=False):
    """The "to score" list: one row per convened candidate with the evaluator's sheets (constant queries).

    Each row: {"candidate", "convocation", "session", "sheets": [...], "done": bool}.
    Rows where every sheet is submitted are hidden unless `show_all`.
    """
    sheets = (
        sheets_for_evaluator(user)
        .select_related("candidate", "competency", "convocation__session__commission")
        .order_by(
            "convocation__session__date", "convocation__time_slot", "candidate_id", "competency__number"
        )
    )
    rows = {}
    for sheet in sheets:
        row = rows.setdefault(
            sheet.candidate_id,
            {
                "candidate": sheet.candidate,
                "convocation": sheet.convocation,
                "session": sheet.convocation.session if sheet.convocation else None,
                "sheets": [],
            },
        )
        row["sheets"].append(sheet)
    result = []
    for row in rows.values():
        row["done"] = all(sheet.status == SheetStatus.SUBMITTED for sheet in row["sheets"])
        row["submitted_count"] = sum(1 for sheet in row["sheets"] if sheet.status == SheetStatus.SUBMITTED)
        if show_all or not row["done"]:
            result.append(row)
    return result


def proposals_to_arbitrate(user):
    """For a commission president, or the member acting as president for a candidate: the (candidate,
    competency) pairs whose members disagree and that have no proposal yet. Constant number of queries."""
    if not _is_evaluator(user):
        return []
    president_of = CommissionMember.objects.filter(user=user, is_president=True).values("commission_id")
    convocations = (
        convocations_for_evaluator(user)
        .filter(Q(session__commission_id__in=president_of) | Q(acting_president_id=user.pk))
        .exclude(candidate__in=Candidate.objects.filter(_conflict_q(user)))
    )
    candidate_ids = set(convocations.values_list("candidate_id", flat=True))
    if not candidate_ids:
        return []
    expected = assigned_evaluator_ids(candidate_ids)
    sheets = ScoringSheet.objects.filter(
        candidate_id__in=candidate_ids, status=SheetStatus.SUBMITTED
    ).select_related("candidate", "competency")
    recorded = set(
        CommissionProposal.objects.filter(candidate_id__in=candidate_ids).values_list(
            "candidate_id", "competency_id"
        )
    )
    groups = defaultdict(list)
    for sheet in sheets:
        if sheet.evaluator_id in expected.get(sheet.candidate_id, set()):
            groups[(sheet.candidate_id, sheet.competency_id)].append(sheet)
    result = []
    for key, group in sorted(groups.items()):
        if key in recorded:
            continue
        if len(group) >= len(expected.get(key[0], ())) and len({s.conclusion for s in group}) > 1:
            result.append({"candidate": group[0].candidate, "competency": group[0].competency})
    return result


def assigned_evaluator_ids(candidate_ids):
    """{candidate_id: {evaluator ids assigned to any of his convocations}} in one query."""
    result = defaultdict(set)
    for candidate_id, evaluator_id in ConvocationEvaluator.objects.filter(
        convocation__candidate_id__in=candidate_ids
    ).values_list("convocation__candidate_id", "evaluator_id"):
        result[candidate_id].add(evaluator_id)
    return result


def scored_competencies(candidate):
    """The competencies of the candidate's dossier the commission evaluates (not already capitalised)."""
    return Competency.objects.filter(
        pk__in=candidate.dossier.items.filter(already_acquired=False).values("competency_id")
    ).order_by("number")


def grouped_criteria(competency, judgements_by_criterion=None):
    """[(category value, label, [(criterion, judgement or None)])] in the referential's category order."""
    judgements_by_criterion = judgements_by_criterion or {}
    criteria = sorted(
        competency.criteria.all(), key=lambda c: (CATEGORY_ORDER.index(c.category), c.order, c.pk)
    )
    groups = []
    for category in CATEGORY_ORDER:
        items = [(c, judgements_by_criterion.get(c.pk)) for c in criteria if c.category == category]
        if items:
            groups.append((category, CriterionCategory(category).label, items))
    return groups


def sheets_for_scoring(user):
    """The evaluator's own sheets for the scoring page and its autosave (none out of scope):
    `sheets_for_evaluator(user)`, with the scope's SQL composed once (`_evaluator_scope_sql`).

    One query, no prefetch: the grid itself comes from `scoring_grid_rows` (plain tuples), the
    referential texts from `competency_texts`, the other competencies from `sibling_sheets`.
    """
    if not _is_evaluator(user):
        return ScoringSheet.objects.none()
    scope = _evaluator_scope_sql(
        ScoringSheet.objects.db, user.pk, tuple(user.centre_ids()), professional_domain(user.email)
    )
    if scope is None:
        return ScoringSheet.objects.none()
    # The SQL is Django's own compilation of the queryset, its values passed as parameters.
    in_scope = RawSQL(*scope)  # noqa: S611
    return ScoringSheet.objects.filter(evaluator=user, candidate_id__in=in_scope).select_related(
        "candidate", "competency", "convocation__session"
    )


def sheet_for_scoring(user, candidate_pk, competency_pk):
    """One sheet of `sheets_for_scoring(user)` (raises ScoringSheet.DoesNotExist out of scope)."""
    return sheets_for_scoring(user).get(candidate_id=candidate_pk, competency_id=competency_pk)


def scoring_grid_rows(sheet):
    """The sheet's grid as plain tuples, in one query: every criterion of the competency with the
    sheet's own judgement and comment ("" when not judged yet), in the referential's order.

    [(criterion id, category, text, judgement, comment)]
    """
    rows = (
        Criterion.objects.filter(competency_id=sheet.competency_id)
        .annotate(own=FilteredRelation("judgements", condition=Q(judgements__sheet_id=sheet.pk)))
        .order_by("order", "pk")
        .values_list("pk", "category", "text", "own__judgement", "own__comment")
    )
    return [(pk, category, text, value or "", comment or "") for pk, category, text, value, comment in rows]


def competency_texts(competency_id):
    """(realisation conditions, expected results) of a competency: two lists of texts, one query."""
    conditions = (
        RealisationCondition.objects.filter(competency_id=competency_id)
        .order_by()
        .annotate(kind=Value(0, output_field=IntegerField()))
        .values_list("kind", "order", "pk", "text")
    )
    results = (
        ExpectedResult.objects.filter(competency_id=competency_id)
        .order_by()
        .annotate(kind=Value(1, output_field=IntegerField()))
        .values_list("kind", "order", "pk", "text")
    )
    texts = ([], [])
    for kind, _order, _pk, text in sorted(conditions.union(results, all=True)):
        texts[kind].append(text)
    return texts


def sibling_sheets(sheet):
    """The evaluator's sheets on the same candidate (the competency tabs of the scoring page).

    [(competency id, competency number, status)]. The scope is per candidate: once `sheet` came from
    `sheet_for_scoring`, every sheet of the same evaluator on the same candidate is in scope too.
    """
    return list(
        ScoringSheet.objects.filter(evaluator_id=sheet.evaluator_id, candidate_id=sheet.candidate_id)
        .order_by("competency__number", "pk")
        .values_list("competency_id", "competency__number", "status")
    )


def co_member_sheets(sheet):
    """Submitted sheets of the other assigned members on the same candidate and competency."""
    expected = assigned_evaluator_ids([sheet.candidate_id]).get(sheet.candidate_id, set())
    return list(
        ScoringSheet.objects.filter(
            candidate_id=sheet.candidate_id,
            competency_id=sheet.competency_id,
            status=SheetStatus.SUBMITTED,
            evaluator_id__in=expected - {sheet.evaluator_id},
        )
        .select_related("evaluator")
        .prefetch_related("judgements")
        .order_by("evaluator__last_name", "pk")
    )


def consolidation_for(candidate, competency):
    """(Consolidation, [submitted sheets of currently assigned members], proposal or None)."""

    expected = assigned_evaluator_ids([candidate.pk]).get(candidate.pk, set())
    sheets = list(
        ScoringSheet.objects.filter(
            candidate=candidate,
            competency=competency,
            status=SheetStatus.SUBMITTED,
            evaluator_id__in=expected,
        )
        .select_related("evaluator")
        .prefetch_related("judgements")
        .order_by("evaluator__last_name", "pk")
    )
    consolidation = consolidate(
        expected=len(expected),
        submitted_sheets=[
            (sheet.conclusion, {j.criterion_id: j.judgement for j in sheet.judgements.all()})
            for sheet in sheets
        ],
    )
    proposal = (
        CommissionProposal.objects.filter(candidate=candidate, competency=competency)
        .select_related("recorded_by")
        .first()
    )
    return consolidation, sheets, proposal


def is_president_for(user, candidate):
    """Is `user` the president of a commission before which `candidate` is convened, or the member
    designated to act as president for this candidate (the president being in conflict with him)?"""
    return (
        CommissionMember.objects.filter(
            user=user,
            is_president=True,
            commission__sessions__convocations__candidate=candidate,
        ).exists()
        or Convocation.objects.filter(candidate=candidate, acting_president=user).exists()
    )


# --- staff board ----------------------------------------------------------------------------


def session_board(session):
    """Everything the staff session board shows, in a constant number of queries.

    Returns {"convocations": [{"convocation", "candidate", "evaluators": [...], "competencies": [...],
    "cells": {(evaluator_id, competency_id): sheet}, "proposals": {competency_id: proposal},
    "conflicts": {evaluator_id: [reasons]}}], "members": [...]}.
    """
    members = list(session.commission.members.select_related("user"))
    convocations = list(
        session.convocations.select_related("candidate__company", "candidate__dossier", "candidate__tutor")
        .prefetch_related(
            Prefetch("assignments", queryset=ConvocationEvaluator.objects.select_related("evaluator"))
        )
        .order_by("time_slot", "pk")
    )
    candidates = [c.candidate for c in convocations]
    candidate_ids = [c.pk for c in candidates]
    items = defaultdict(list)

    for item in (
        DossierCompetency.objects.filter(dossier__candidate_id__in=candidate_ids, already_acquired=False)
        .select_related("competency", "dossier")
        .order_by("competency__number")
    ):
        items[item.dossier.candidate_id].append(item.competency)
    sheets = {}
    for sheet in ScoringSheet.objects.filter(candidate_id__in=candidate_ids):
        sheets[(sheet.candidate_id, sheet.evaluator_id, sheet.competency_id)] = sheet
    proposals = defaultdict(dict)
    for proposal in CommissionProposal.objects.filter(candidate_id__in=candidate_ids):
        proposals[proposal.candidate_id][proposal.competency_id] = proposal
    opinions = defaultdict(list)
    for opinion in CompanyOpinion.objects.filter(candidate_id__in=candidate_ids):
        opinions[opinion.candidate_id].append(opinion)
    users = {m.user.pk: m.user for m in members}
    for convocation in convocations:
        for assignment in convocation.assignments.all():
            users[assignment.evaluator_id] = assignment.evaluator
    conflicts = conflict_map(users.values(), candidates)
    rows = []
    for convocation in convocations:
        candidate = convocation.candidate
        evaluators = [a.evaluator for a in convocation.assignments.all()]
        competencies = items.get(candidate.pk, [])
        rows.append(
            {
                "convocation": convocation,
                "candidate": candidate,
                "evaluators": evaluators,
                "competencies": competencies,
                "lines": [
                    {
                        "evaluator": evaluator,
                        "conflicts": conflicts.get((evaluator.pk, candidate.pk), []),
                        "sheets": [
                            sheets.get((candidate.pk, evaluator.pk, comp.pk)) for comp in competencies
                        ],
                    }
                    for evaluator in evaluators
                ],
                "proposals": [proposals[candidate.pk].get(comp.pk) for comp in competencies],
                "opinions": opinions.get(candidate.pk, []),
                "member_conflicts": {
                    m.user.pk: conflicts.get((m.user.pk, candidate.pk), []) for m in members
                },
            }
        )
    return {"members": members, "rows": rows}


# --- tutors ---------------------------------------------------------------------------------


def tutor_candidates(user):
    """The tutor's own candidates (delegates to the candidates app's single selector)."""

    if not (user and user.is_authenticated and user.is_tutor):
        return Candidate.objects.none()
    return candidates_visible_to(user)


def opinions_todo_rows(user):
    """The tutor's "opinions to give": one row per candidate with opinion counts (constant queries)."""
    candidates = (
        tutor_candidates(user)
        .filter(company_opinions__isnull=False)
        .distinct()
        .select_related("certification", "company")
        .annotate(
            opinion_total=Count("company_opinions", distinct=True),
            opinion_given=Count("company_opinions", filter=~Q(company_opinions__opinion=""), distinct=True),
            opinion_signed=Count(
                "company_opinions", filter=Q(company_opinions__signed_at__isnull=False), distinct=True
            ),
        )
        .order_by("pk")
    )
    due = defaultdict(lambda: None)
    for candidate_id, due_date in CompanyOpinion.objects.filter(
        candidate__in=tutor_candidates(user), signed_at__isnull=True, due_date__isnull=False
    ).values_list("candidate_id", "due_date"):
        if due[candidate_id] is None or due_date < due[candidate_id]:
            due[candidate_id] = due_date
    rows = []
    for candidate in candidates:
        rows.append(
            {
                "candidate": candidate,
                "total": candidate.opinion_total,
                "given": candidate.opinion_given,
                "signed": candidate.opinion_signed == candidate.opinion_total,
                "due_date": due[candidate.pk],
            }
        )
    rows.sort(key=lambda r: (r["signed"], r["due_date"] is None, r["due_date"] or 0, r["candidate"].pk))
    return rows


def opinions_of(candidate):
    return list(
        CompanyOpinion.objects.filter(candidate=candidate)
        .select_related("competency", "tutor", "signed_by")
        .order_by("competency__number")
    )


def first_evaluation_date(candidate):
    """The date of the first evaluation session `candidate` is convened to, or None
    (`candidates.services.register_first_evaluation_date`: when his own uploads close)."""
    return (
        Convocation.objects.filter(candidate=candidate, convened_at__isnull=False)
        .order_by("session__date")
        .values_list("session__date", flat=True)
        .first()
    )
