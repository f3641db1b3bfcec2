"""The pre-deliberation checks and the session board: what the jury sees of each candidate, in a
constant number of queries; the documents of a session."""

from __future__ import annotations

import hashlib
from collections import namedtuple
from dataclasses import dataclass
from datetime import date

from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Prefetch, Q, Subquery
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from candidates.models import Candidate, CandidateDocument, CandidateStatus, DossierCompetency, Pathway
from candidates.models import DocumentKind as CandidateDocumentKind
from core.dates import long_date
from evaluations.models import (
    CommissionProposal,
    CompanyOpinion,
    ConflictOfInterest,
    CriterionJudgement,
    ScoringSheet,
    SheetStatus,
)
from referential.models import Block, Competency

from .. import awards, capitalisation
from ..models import (
    Attendance,
    CandidateOutcome,
    CompetencyDecision,
    DocumentStatus,
    GeneratedDocument,
    JuryMember,
    Result,
    SessionCandidate,
)

#
# The checks and the award rules read plain values (values_list rows, tuples, small dicts): a board
# of 300 candidates must not build thousands of model instances per request (docs/performance.md).
# `board()` / `board_row()` add the model instances the decision page and the services need, for the
# candidates asked only; `board_page()` is the jury board: one page of light rows and the counts of
# the whole session.

VAE_PATHWAY = Pathway.VAE  # no company opinion for a VAE candidate


def company_opinion_required(pathway, company_id):
    """The company's opinion counts except in VAE and for a pathway without a company (seed §3.2;
    issue 22): the dossier cannot waive it otherwise (candidates.services refuses it too)."""
    return pathway != VAE_PATHWAY and company_id is not None


BOARD_PAGE_SIZE = 25
BOARD_TO_DECIDE, BOARD_DECIDED, BOARD_REVIEW = "todo", "decided", "review"
BOARD_STATES = ("", BOARD_TO_DECIDE, BOARD_DECIDED, BOARD_REVIEW)  # "" = every candidate


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


_Competency = namedtuple("_Competency", "id number title block_id")
_Block = namedtuple("_Block", "id number title")


@dataclass(frozen=True)
class _Referential:
    """The session's CQPM version as plain tuples, competencies and blocs ordered by number."""

    competencies: tuple
    blocks: tuple


def _referential(session, competencies=None, blocks=None):
    """From the model instances when the caller has them (every bloc, for the award rules), else in
    one values_list query: the competencies and the blocs they belong to (what the proposals read)."""
    if competencies is not None:
        return _Referential(
            competencies=tuple(_Competency(c.pk, c.number, c.title, c.block_id) for c in competencies),
            blocks=tuple(_Block(b.pk, b.number, b.title) for b in blocks),
        )
    rows = list(
        Competency.objects.filter(certification_id=session.certification_id)
        .order_by("number")
        .values_list("id", "number", "title", "block_id", "block__number", "block__title")
    )
    blocks = {row[3]: _Block(row[3], row[4], row[5]) for row in rows if row[3] is not None}
    return _Referential(
        competencies=tuple(_Competency(*row[:4]) for row in rows),
        blocks=tuple(sorted(blocks.values(), key=lambda b: b.number)),
    )


# The candidate columns the checks read; `dossier__*` are None when the candidate has no dossier.
_CANDIDATE_FIELDS = (
    "id",
    "reference",
    "first_names",
    "birth_name",
    "usage_name",
    "anonymised_at",
    "pathway",
    "status",
    "company_id",
    "previous_attempt_id",
    "dossier__id",
    "dossier__validated_at",
    "dossier__company_opinion_applies",
)


def _candidate_values(candidate):
    """_CANDIDATE_FIELDS of a model instance (the decision page already holds it)."""
    dossier = getattr(candidate, "dossier", None)
    values = {name: getattr(candidate, name) for name in _CANDIDATE_FIELDS if "__" not in name}
    values["dossier__id"] = dossier.pk if dossier else None
    values["dossier__validated_at"] = dossier.validated_at if dossier else None
    values["dossier__company_opinion_applies"] = dossier.company_opinion_applies if dossier else None
    return values


@dataclass
class _Evidence:
    """What the checks and the award rules read for some candidates of a session, as plain values."""

    candidates: dict  # candidate id → values of _CANDIDATE_FIELDS
    proposals: dict  # candidate id → {competency id: (conclusion, has_divergence)}
    opinions: dict  # candidate id → {competency id: (opinion, signed)}
    conflicted: dict  # candidate id → evaluators of its submitted sheets in conflict of interest
    items: dict  # candidate id → {competency id: (already_acquired, acquired_until, modalities)}
    reports: dict  # candidate id → [is_late of each report]
    capitalised: dict  # candidate id → Capitalised


def _evidence(session, referential, candidates, capitalised=None):
    """Everything the checks read about `candidates` ({id: values}), in a constant number of queries."""
    ids = list(candidates)
    evidence = _Evidence(candidates, {}, {}, {}, {}, {}, {})
    if not ids:
        return evidence
    rows = (
        CommissionProposal.objects.filter(candidate_id__in=ids)
        .order_by()
        .values_list("candidate_id", "competency_id", "conclusion", "has_divergence")
    )
    for candidate_id, competency_id, conclusion, divergence in rows:
        evidence.proposals.setdefault(candidate_id, {})[competency_id] = (conclusion, divergence)
    rows = (
        CompanyOpinion.objects.filter(candidate_id__in=ids)
        .order_by()
        .values_list("candidate_id", "competency_id", "opinion", "signed_at")
    )
    for candidate_id, competency_id, opinion, signed_at in rows:
        evidence.opinions.setdefault(candidate_id, {})[competency_id] = (opinion, signed_at is not None)
    # The evaluators who scored the candidate (submitted sheet) and declared a conflict of
    # interest with the candidate or its company.
    conflict = ConflictOfInterest.objects.filter(user_id=OuterRef("evaluator_id")).filter(
        Q(candidate_id=OuterRef("candidate_id")) | Q(company_id=OuterRef("candidate__company_id"))
    )
    rows = (
        ScoringSheet.objects.filter(candidate_id__in=ids, status=SheetStatus.SUBMITTED)
        .filter(Exists(conflict))
        .order_by()
        .values_list("candidate_id", "evaluator_id")
    )
    for candidate_id, evaluator_id in rows:
        evidence.conflicted.setdefault(candidate_id, set()).add(evaluator_id)
    rows = (
        DossierCompetency.objects.filter(dossier__candidate_id__in=ids)
        .order_by()
        .values_list(
            "dossier__candidate_id", "competency_id", "already_acquired", "acquired_until", "modalities"
        )
    )
    for candidate_id, competency_id, already_acquired, acquired_until, modalities in rows:
        evidence.items.setdefault(candidate_id, {})[competency_id] = (
            already_acquired,
            acquired_until,
            modalities,
        )
    rows = (
        CandidateDocument.objects.filter(candidate_id__in=ids, kind=CandidateDocumentKind.REPORT)
        .order_by()
        .values_list("candidate_id", "is_late")
    )
    for candidate_id, is_late in rows:
        evidence.reports.setdefault(candidate_id, []).append(is_late)
    if capitalised is None:
        capitalised = _capitalised_bulk(
            session, {pk: c["previous_attempt_id"] for pk, c in candidates.items()}, referential
        )
    evidence.capitalised = capitalised
    return evidence


_NOTHING_CAPITALISED = capitalisation.Capitalised()


def _anomaly_texts():
    """The checks' messages, translated once per board (not once per candidate)."""
    return {
        "not_awaiting": _("Le candidat n'est plus en attente de délibération (évaluation rouverte)."),
        "dossier_not_validated": _("Le dossier d'évaluation n'est pas validé."),
        "missing_proposal": _("Compétence(s) sans proposition de la commission : %(n)s."),
        "missing_opinion": _("Avis de l'entreprise manquant ou non signé : compétence(s) %(n)s."),
        "evaluator_conflict": _(
            "%(n)s évaluateur(s) ayant noté ce candidat ont déclaré un conflit d'intérêts."
        ),
        "missing_report": _("Le rapport du candidat (présentation de projet) manque."),
        "late_report": _("Le rapport a été remis après la date limite."),
        "evaluator_divergence": _("Les évaluateurs ont divergé sur la/les compétence(s) %(n)s."),
        "needs_review": _(
            "Commission et entreprise divergent : compétence(s) %(n)s à réexaminer (motivation requise)."
        ),
    }


def _assess(session, referential, evidence, candidate_id, texts):
    """The award rules' facts and proposals, and the checks, for one candidate of the evidence."""
    candidate = evidence.candidates[candidate_id]
    cap = evidence.capitalised.get(candidate_id, _NOTHING_CAPITALISED)
    items = evidence.items.get(candidate_id, {})
    opinion_required = company_opinion_required(candidate["pathway"], candidate["company_id"])
    commission_proposals = evidence.proposals.get(candidate_id, {})
    opinions = evidence.opinions.get(candidate_id, {})
    comp_facts = []
    for comp in referential.competencies:
        # Only the capitalisation records count (never a date typed in the dossier): issue 22.
        holding = cap.competency_holdings.get(comp.id)
        proposal = commission_proposals.get(comp.id)
        opinion = opinions.get(comp.id)
        comp_facts.append(
            awards.CompetencyFacts(
                competency_id=comp.id,
                number=comp.number,
                block_id=comp.block_id,
                # a proposal row is the commission's submitted conclusion
                commission=(proposal[0] or None) if proposal is not None else None,
                company_opinion=(opinion[0] or None) if opinion is not None and opinion[1] else None,
                capitalised_until=holding.valid_until if holding else None,
                capitalised_by=holding.label() if holding else "",
            )
        )
    facts = awards.CandidateFacts(
        is_vae=candidate["pathway"] == VAE_PATHWAY,
        opinion_waived=not opinion_required,
        pathway=candidate["pathway"],
        deliberation_date=session.date,
        competencies=tuple(comp_facts),
        blocks=tuple(
            awards.BlockFacts(
                block_id=b.id,
                number=b.number,
                capitalised_until=cap.block_holdings[b.id].valid_until
                if b.id in cap.block_holdings
                else None,
                capitalised_by=cap.block_holdings[b.id].label() if b.id in cap.block_holdings else "",
            )
            for b in referential.blocks
        ),
        rncp_registered=bool(session.certification.rncp_number),
    )
    proposals = awards.propose(facts)
    anomalies = _anomalies(
        texts=texts,
        candidate=candidate,
        competencies=referential.competencies,
        proposals=proposals,
        commission_proposals=commission_proposals,
        opinions=opinions,
        opinion_required=opinion_required,
        conflicted=evidence.conflicted.get(candidate_id, ()),
        items=items,
        reports=evidence.reports.get(candidate_id, []),
    )
    return facts, proposals, anomalies, opinion_required


def board(session, candidate_ids=None):
    """The board's rows with model instances (candidate, outcome, decisions, competencies) for the
    decision page and the services: every candidate of the session, or those of `candidate_ids`.
    A constant number of queries whatever the size."""
    entries = SessionCandidate.objects.filter(session=session)
    if candidate_ids is not None:
        entries = entries.filter(candidate_id__in=list(candidate_ids))
    entries = list(
        entries.select_related("candidate__dossier", "candidate__company").order_by("candidate__reference")
    )
    competencies = list(
        Competency.objects.filter(certification_id=session.certification_id).order_by("number")
    )
    blocks = list(Block.objects.filter(certification_id=session.certification_id).order_by("number"))
    referential = _referential(session, competencies, blocks)
    evidence = _evidence(
        session, referential, {e.candidate_id: _candidate_values(e.candidate) for e in entries}
    )
    ids = [e.candidate_id for e in entries]
    decisions = {}
    for decision in CompetencyDecision.objects.filter(session=session, candidate_id__in=ids):
        decisions.setdefault(decision.candidate_id, {})[decision.competency_id] = decision
    outcomes = {
        o.candidate_id: o
        for o in CandidateOutcome.objects.filter(session=session, candidate_id__in=ids).prefetch_related(
            Prefetch("blocks_acquired", queryset=Block.objects.order_by("number"))
        )
    }
    texts = _anomaly_texts()
    rows = []
    for entry in entries:
        facts, proposals, anomalies, opinion_required = _assess(
            session, referential, evidence, entry.candidate_id, texts
        )
        rows.append(
            CandidateRow(
                entry=entry,
                candidate=entry.candidate,
                facts=facts,
                proposals=proposals,
                anomalies=anomalies,
                decisions=decisions.get(entry.candidate_id, {}),
                outcome=outcomes.get(entry.candidate_id),
                competencies=competencies,
                opinion_required=opinion_required,
            )
        )
    return rows


def board_row(session, candidate_id):
    """One candidate's row (None when the candidate is not presented to the session)."""
    rows = board(session, candidate_ids=[candidate_id])
    return rows[0] if rows else None


# --- The jury board: one page of light rows, the counts of the whole session -------------------


@dataclass
class BoardLine:
    """One candidate on the jury board, with its cells already worded."""

    candidate_id: int
    reference: str
    full_name: str
    pathway: str
    anomalies: list
    proposals: str  # one line per competency, e.g. « C3 : acquise ⚠ »
    is_complete: bool
    decided: bool
    result: str  # the outcome's label, "" while undecided
    blocks: str  # numbers of the blocs acquired, e.g. « 1, 3 »


@dataclass
class Board:
    lines: list
    page: object  # django.core.paginator.Page of candidate ids
    counts: dict  # "all", BOARD_TO_DECIDE, BOARD_DECIDED, BOARD_REVIEW → number of candidates (whole session)
    state: str
    search: str
    key: str = ""  # its cache key: what is derived from the board (its rendered rows) is cached by it

    # Cached without its Paginator: Django's keeps lazily translated error messages, whose unpickling
    # rebuilds their lazy classes (0.45 ms of CPU per request for the 25-row page, more than the rest
    # of the board's pickle). The page is rebuilt from the ids of the state and its number instead.
    def __getstate__(self):
        state = dict(self.__dict__)
        page = state.pop("page")
        state["page_ids"] = (list(page.paginator.object_list), page.paginator.per_page, page.number)
        return state

    def __setstate__(self, state):
        object_list, per_page, number = state.pop("page_ids")
        self.__dict__.update(state, page=Paginator(object_list, per_page).page(number))


def _review_pairs(session, candidate_ids):
    """(candidate, competency, bloc) where the commission and the signed company opinion disagree,
    among `candidate_ids` (the session's candidates that need an opinion: not VAE, with a company):
    awards.propose's `needs_review` cases but capitalisation by deliberations, which
    `_review_candidates` checks. One query, whatever the size of the session. The query reads the session's entries (a
    semi-join on its index) and the caller's choice is applied to the rows in Python: joining the
    candidate table to choose in SQL made the planner scan every candidate (9 of 23 ms at 20 000
    candidates), and a list of 300 literal ids cost more to build and plan than the rows it saves."""
    if not candidate_ids:
        return []
    signed = CompanyOpinion.objects.filter(
        candidate_id=OuterRef("candidate_id"),
        competency_id=OuterRef("competency_id"),
        signed_at__isnull=False,
    )
    # The signed opinion as a scalar subquery per proposal (an index lookup each): written as two
    # EXISTS the planner hashed the whole opinions table (90 ms at 20 000 candidates).
    rows = (
        CommissionProposal.objects.filter(
            candidate_id__in=SessionCandidate.objects.filter(session=session).values("candidate_id")
        )
        .annotate(signed_opinion=Subquery(signed.order_by().values("opinion")[:1]))
        .filter(
            Q(signed_opinion__in=[awards.RESERVED, awards.UNFAVOURABLE], conclusion=awards.ACQUIRED)
            | Q(signed_opinion=awards.FAVOURABLE, conclusion=awards.NOT_ACQUIRED)
        )
        .order_by()
        .values_list("candidate_id", "competency_id", "competency__block_id")
    )
    return [row for row in rows if row[0] in candidate_ids]


def _review_candidates(pairs, capitalised):
    """The candidates of `pairs` with a competency to re-examine: neither it nor its bloc capitalised."""
    found = set()
    for candidate_id, competency_id, block_id in pairs:
        cap = capitalised.get(candidate_id, _NOTHING_CAPITALISED)
        if competency_id not in cap.competency_holdings and block_id not in cap.block_holdings:
            found.add(candidate_id)
    return found


def _search_condition(search):
    condition = Q()
    for word in search.split()[:5]:  # several words must all match, as on the candidate list
        condition &= (
            Q(candidate__reference__icontains=word)
            | Q(candidate__birth_name__icontains=word)
            | Q(candidate__usage_name__icontains=word)
            | Q(candidate__first_names__icontains=word)
        )
    return condition


def _full_name(values, anonymised):
    """Candidate.full_name from plain values."""
    if values["anonymised_at"] is not None:
        return anonymised
    name = values["usage_name"] or values["birth_name"]
    return f"{name.upper()} {values['first_names']}".strip()


@dataclass(frozen=True)
class BoardSummary:
    """What the board reads of the whole session (issue 21), cached by (session, board version):
    the candidates by reference, those decided, those with a competency to re-examine, the counts."""

    ordered: tuple  # candidate ids by reference
    decided: frozenset
    review: frozenset
    counts: dict  # "all", BOARD_TO_DECIDE, BOARD_DECIDED, BOARD_REVIEW → number of candidates


BOARD_CACHE_SECONDS = 24 * 3600  # the version makes a stale entry unreachable; this only frees memory
BOARD_CACHE_FORMAT = 2  # bump when BoardSummary, Board or BoardLine change shape (cached pickles)


def _board_key(session, *parts):
    """The cache key of a session's board at its current version: a write the board reads bumps
    session.board_version (deliberations.board_version), so the next request misses. The session's
    date (capitalisation is read on that day) and creation time (a database seeded again) are part
    of it as well."""
    created = session.created_at.timestamp() if session.created_at else ""
    return ":".join(
        str(part)
        for part in (
            f"deliberations:board{BOARD_CACHE_FORMAT}",
            session.pk,
            session.board_version,
            session.date,
            created,
            *parts,
        )
    )


def board_members(session):
    """selectors.session_members for the board, cached by (session, board version): attendance and
    jury seats bump the version (deliberations.board_version). The members come without their
    account (the board does not show it, and the cache keeps no password hash)."""
    key = _board_key(session, "members")
    found = cache.get(key)
    if found is None:
        attendance = {
            a.member_id: a for a in Attendance.objects.filter(session=session).select_related("member")
        }
        members = list(JuryMember.objects.filter(jury_id=session.jury_id))
        for member in members:
            record = attendance.get(member.pk)
            member.present = bool(record and record.present)
            member.attendance_recorded = record is not None
        found = (members, list(attendance.values()))
        cache.set(key, found, BOARD_CACHE_SECONDS)
    return found


def board_summary(session, referential=None):
    """The session-wide part of the board (BoardSummary), from the cache when the session's board
    version has not moved since it was computed; else three to four queries."""
    key = _board_key(session, "summary")
    summary = cache.get(key)
    if summary is None:
        summary = _compute_board_summary(session, referential or _referential(session))
        cache.set(key, summary, BOARD_CACHE_SECONDS)
    return summary


def _compute_board_summary(session, referential):
    decided_flag = Exists(
        CandidateOutcome.objects.filter(session=session, candidate_id=OuterRef("candidate_id"))
    )
    entries = list(
        SessionCandidate.objects.filter(session=session)
        .order_by("candidate__reference")
        .values_list(
            "candidate_id",
            "candidate__previous_attempt_id",
            decided_flag,
            "candidate__pathway",
            "candidate__company_id",
        )
    )
    previous = {entry[0]: entry[1] for entry in entries}
    decided = frozenset(entry[0] for entry in entries if entry[2])
    # The candidates whose company opinion counts (not VAE, with a company).
    opinion_expected = {entry[0] for entry in entries if company_opinion_required(entry[3], entry[4])}
    pairs = _review_pairs(session, opinion_expected)
    capitalised = _capitalised_bulk(session, {pair[0]: previous[pair[0]] for pair in pairs}, referential)
    review = frozenset(_review_candidates(pairs, capitalised))
    return BoardSummary(
        ordered=tuple(entry[0] for entry in entries),
        decided=decided,
        review=review,
        counts={
            "all": len(entries),
            BOARD_TO_DECIDE: len(entries) - len(decided),
            BOARD_DECIDED: len(decided),
            BOARD_REVIEW: len(review),
        },
    )


def board_page(session, *, state="", search="", page=None, per_page=BOARD_PAGE_SIZE):
    """The jury board: the counts per state of the whole session and one page of candidates (by
    reference) in the state asked (BOARD_STATES) whose name or reference match `search`.

    Cached by (session, board version, language, state, search, page): a write the board reads
    bumps the version in its own transaction (deliberations.board_version), so the next request
    computes it again. Computing it takes a constant number of queries whatever the size of the
    session; only the page's candidates are checked in full, the session-wide counts and divergence
    set come from board_summary (cached by version too)."""
    state = state if state in BOARD_STATES else ""
    search = (search or "").strip()
    page_key = str(page)[:12] if page is not None else ""
    key = _board_key(
        session,
        get_language() or "",
        per_page,
        state,
        hashlib.sha256(search.encode()).hexdigest()[:16],
        page_key,
    )
    board_obj = cache.get(key)
    if board_obj is None:
        board_obj = _compute_board_page(session, state=state, search=search, page=page, per_page=per_page)
        cache.set(key, board_obj, BOARD_CACHE_SECONDS)
    board_obj.key = key
    return board_obj


def _compute_board_page(session, *, state, search, page, per_page):
    referential = _referential(session)
    summary = board_summary(session, referential)
    matching = None
    if search:
        matching = set(
            SessionCandidate.objects.filter(session=session)
            .filter(_search_condition(search))
            .values_list("candidate_id", flat=True)
        )

    def listed(candidate_ids):
        return [pk for pk in candidate_ids if matching is None or pk in matching]

    decided = summary.decided
    if state == BOARD_TO_DECIDE:
        chosen = listed(pk for pk in summary.ordered if pk not in decided)
    elif state == BOARD_DECIDED:
        chosen = listed(pk for pk in summary.ordered if pk in decided)
    elif state == BOARD_REVIEW:
        chosen = listed(pk for pk in summary.ordered if pk in summary.review)
    else:
        chosen = listed(summary.ordered)
    page_obj = Paginator(chosen, per_page).get_page(page)
    page_ids = list(page_obj.object_list)
    candidates = {
        row["id"]: row for row in Candidate.objects.filter(pk__in=page_ids).values(*_CANDIDATE_FIELDS)
    }
    evidence = _evidence(session, referential, candidates)
    outcomes = {}
    if decided.intersection(page_ids):
        rows = (
            CandidateOutcome.objects.filter(session=session, candidate_id__in=page_ids)
            .order_by("blocks_acquired__number")
            .values_list("candidate_id", "result", "blocks_acquired__number")
        )
        for candidate_id, result, block_number in rows:
            outcome = outcomes.setdefault(candidate_id, [result, []])
            if block_number is not None:
                outcome[1].append(str(block_number))

    # Labels worded once for the page, not once per cell.
    texts = _anomaly_texts()
    proposed_labels = {awards.ACQUIRED: _("acquise"), awards.NOT_ACQUIRED: _("non acquise"), None: "—"}
    capitalised_word = _("capitalisée")
    capitalised_label = f" ({capitalised_word})"
    pathways = {value: str(label) for value, label in Pathway.choices}
    results = {value: str(label) for value, label in Result.choices}
    anonymised = str(_("Candidat anonymisé"))
    lines = []
    for candidate_id in page_ids:
        values = candidates[candidate_id]
        _facts, proposals, anomalies, _required = _assess(session, referential, evidence, candidate_id, texts)
        cells = []
        for comp in referential.competencies:
            proposal = proposals[comp.id]
            text = f"C{comp.number} : {proposed_labels[proposal.proposed]}"
            if proposal.needs_review:
                text += " ⚠"
            if proposal.capitalised:
                text += capitalised_text(proposal.explanation, capitalised_label)
            cells.append(text)
        outcome = outcomes.get(candidate_id)
        lines.append(
            BoardLine(
                candidate_id=candidate_id,
                reference=values["reference"],
                full_name=_full_name(values, anonymised),
                pathway=pathways.get(values["pathway"], values["pathway"]),
                anomalies=anomalies,
                proposals="\n".join(cells),
                is_complete=not any(a.blocking for a in anomalies),
                decided=outcome is not None,
                result=results.get(outcome[0], outcome[0]) if outcome else "",
                blocks=", ".join(outcome[1]) if outcome else "",
            )
        )
    return Board(lines=lines, page=page_obj, counts=dict(summary.counts), state=state, search=search)


def capitalised_text(explanation, default=""):
    """« acquise par délibération du 03/04/2025 (PV n° 12, UIMM …), au titre du bloc 1, jusqu'au
    03/04/2030 »: which record holds a capitalised competency (issue 22), from its proposal."""
    by = explanation.get("capitalised_by")
    if not by:
        return default
    text = " " + _("par %(by)s") % {"by": by}
    if explanation.get("capitalised_block"):
        text += ", " + _("au titre du bloc %(n)s") % {"n": explanation["capitalised_block"]}
    until = explanation.get("capitalised_until")
    if until:
        text += ", " + _("jusqu'au %(d)s") % {"d": long_date(date.fromisoformat(until))}
    return text


def _capitalised_bulk(session, previous, referential):
    """capitalisation.capitalised_bulk on the session's day, without the session's own records."""
    return capitalisation.capitalised_bulk(
        previous,
        certification=session.certification,
        on=session.date,
        exclude_session_id=session.pk,
        referential=referential,
    )


def _anomalies(
    *,
    texts,
    candidate,
    competencies,
    proposals,
    commission_proposals,
    opinions,
    opinion_required,
    conflicted,
    items,
    reports,
):
    """The checks of one candidate, from plain values (see _Evidence)."""
    found = []
    if candidate["status"] not in (CandidateStatus.AWAITING_DELIBERATION, CandidateStatus.DELIBERATED):
        found.append(Anomaly("not_awaiting", texts["not_awaiting"], True))
    if candidate["dossier__validated_at"] is None:  # also None without a dossier
        found.append(Anomaly("dossier_not_validated", texts["dossier_not_validated"], True))
    missing_proposal = [
        c.number for c in competencies if not proposals[c.id].capitalised and c.id not in commission_proposals
    ]
    if missing_proposal:
        found.append(
            Anomaly(
                "missing_proposal",
                texts["missing_proposal"] % {"n": ", ".join(map(str, missing_proposal))},
                True,
            )
        )
    if opinion_required:
        missing_opinion = [
            c.number
            for c in competencies
            if not proposals[c.id].capitalised and (c.id not in opinions or not opinions[c.id][1])
        ]
        if missing_opinion:
            found.append(
                Anomaly(
                    "missing_opinion",
                    texts["missing_opinion"] % {"n": ", ".join(map(str, missing_opinion))},
                    True,
                )
            )
    if conflicted:
        found.append(
            Anomaly("evaluator_conflict", texts["evaluator_conflict"] % {"n": len(conflicted)}, True)
        )
    needs_report = any("project_presentation" in (item[2] or []) for item in items.values())
    if needs_report and not reports:
        found.append(Anomaly("missing_report", texts["missing_report"], True))
    if any(reports):
        found.append(Anomaly("late_report", texts["late_report"], False))
    divergent = [c.number for c in competencies if commission_proposals.get(c.id, (None, False))[1]]
    if divergent:
        found.append(
            Anomaly(
                "evaluator_divergence",
                texts["evaluator_divergence"] % {"n": ", ".join(map(str, divergent))},
                False,
            )
        )
    review = [c.number for c in competencies if proposals[c.id].needs_review]
    if review:
        found.append(
            Anomaly("needs_review", texts["needs_review"] % {"n": ", ".join(map(str, review))}, False)
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


# --- The evidence on the decision page (issue 16) -------------------------------------------------


def decision_evidence(session, candidate_id):
    """What the jury decides on, per competency id, for a candidate put before `session` (the caller
    has checked that scope): the commission's proposal and its reason, each submitted sheet's
    conclusion, justification and observations, and the tutor's opinion and comment. Four queries."""
    evidence = {}

    def entry(competency_id):
        return evidence.setdefault(competency_id, {"proposal": None, "sheets": [], "opinion": None})

    for proposal in CommissionProposal.objects.filter(candidate_id=candidate_id).select_related(
        "recorded_by"
    ):
        entry(proposal.competency_id)["proposal"] = proposal
    sheets = {
        sheet.pk: sheet
        for sheet in ScoringSheet.objects.filter(candidate_id=candidate_id, status=SheetStatus.SUBMITTED)
        .select_related("evaluator")
        .order_by("evaluator__last_name", "evaluator__first_name", "pk")
    }
    for sheet in sheets.values():
        sheet.observations = []
        entry(sheet.competency_id)["sheets"].append(sheet)
    observations = (
        CriterionJudgement.objects.filter(sheet_id__in=list(sheets), sheet__candidate_id=candidate_id)
        .exclude(comment="")
        .select_related("criterion")
        .order_by("criterion__order", "pk")
    )
    for judgement in observations:
        sheets[judgement.sheet_id].observations.append(judgement)
    for opinion in CompanyOpinion.objects.filter(candidate_id=candidate_id).select_related("tutor"):
        entry(opinion.competency_id)["opinion"] = opinion
    return evidence
