"""The jury board's version (issue 21): every write the board reads bumps
`DeliberationSession.board_version` of the sessions it touches, in the same transaction, and the
board (`selectors.board.board_page`) is cached by (session, version).

What the board reads, and who bumps for it:
- the session's entries, its outcomes (and their blocs), its attendance: the session itself; a seat
  of its jury: every session of that jury;
- a candidate (status, names, pathway, company, previous attempt, anonymisation), its dossier and
  the dossier's competencies, its reports, its submitted sheets and their evaluators' conflicts of
  interest, its commission proposals and company opinions: every session the candidate is put before;
- a capitalised competency or bloc of a candidate: the sessions of its later attempts too (their
  board counts what the earlier attempts hold);
- the CQPM's competencies, blocs and RNCP registration: the CQPM's sessions.

Model signals cover save() and delete() (QuerySet.delete() sends them too) whoever writes: services,
admin, shell, tasks. The paths that bypass signals (bulk_create, QuerySet.update) call
`bump_candidates` / `bump_sessions` themselves; `tests/deliberations/test_board_version.py` checks
each write changes the next board.
"""

from __future__ import annotations

from django.db.models import F
from django.db.models.signals import m2m_changed, post_delete, post_save

from candidates.models import Candidate, CandidateDocument, Dossier, DossierCompetency
from evaluations.models import CommissionProposal, CompanyOpinion, ConflictOfInterest, ScoringSheet
from referential.models import Block, Certification, Competency

from .models import (
    Attendance,
    CandidateOutcome,
    CapitalisedBlock,
    CapitalisedCompetency,
    DeliberationSession,
    JuryMember,
    SessionCandidate,
)

_receivers = []


def _sessions():
    return DeliberationSession.objects


def bump_sessions(session_ids):
    """Bump the board of these sessions (ids, or a values_list(flat=True) queryset of ids).

    The ids are read first and the UPDATE runs only when there are some: most writes the board reads
    (a candidate, its dossier, a proposal…) concern a candidate before no session yet, and then cost
    one indexed SELECT instead of an UPDATE. The ids are read in the writer's transaction, like the
    UPDATE's subquery they replace; a candidate put before a session by another transaction bumps
    that session itself (`SessionCandidate`'s receiver)."""
    ids = {pk for pk in session_ids if pk is not None}
    if ids:
        _sessions().filter(pk__in=ids).update(board_version=F("board_version") + 1)


def bump_candidates(candidate_ids):
    """Bump the board of every session these candidates (ids, or a values_list(flat=True) queryset)
    are put before."""
    if isinstance(candidate_ids, (list, tuple, set)):
        candidate_ids = [pk for pk in candidate_ids if pk is not None]
        if not candidate_ids:
            return
    bump_sessions(
        SessionCandidate.objects.filter(candidate_id__in=candidate_ids).values_list("session_id", flat=True)
    )


def bump_attempts(candidate_ids):
    """Bump the boards of these candidates and of their later attempts (capitalisation)."""
    found = {pk for pk in candidate_ids if pk is not None}
    frontier = set(found)
    while frontier:  # one query per level of the attempt chains (a few at most)
        frontier = set(
            Candidate.objects.filter(previous_attempt_id__in=frontier).values_list("pk", flat=True)
        )
        frontier -= found
        found |= frontier
    bump_candidates(found)


def _connect(model, bump, *, m2m=None):
    def receiver(sender, instance, raw=False, **kwargs):
        if raw:  # fixtures: no board to refresh yet
            return
        bump(instance)

    _receivers.append(receiver)  # keep a strong reference
    name = f"{model._meta.label_lower}"
    post_save.connect(receiver, sender=model, weak=False, dispatch_uid=f"board-version-save-{name}")
    post_delete.connect(receiver, sender=model, weak=False, dispatch_uid=f"board-version-delete-{name}")
    if m2m is not None:

        def m2m_receiver(sender, instance, action, **kwargs):
            if action in ("post_add", "post_remove", "post_clear") and isinstance(instance, model):
                bump(instance)

        _receivers.append(m2m_receiver)
        m2m_changed.connect(m2m_receiver, sender=m2m, weak=False, dispatch_uid=f"board-version-m2m-{name}")


def connect():
    """Called from DeliberationsConfig.ready."""

    def by_session(instance):
        bump_sessions([instance.session_id])

    def by_candidate(instance):
        bump_candidates([instance.candidate_id])

    def by_dossier(instance):
        bump_candidates(Dossier.objects.filter(pk=instance.dossier_id).values_list("candidate_id", flat=True))

    def by_conflict(instance):
        ids = [instance.candidate_id] if instance.candidate_id else []
        if instance.company_id:
            bump_candidates(
                Candidate.objects.filter(company_id=instance.company_id).values_list("pk", flat=True)
            )
        bump_candidates(ids)

    def by_attempt(instance):
        bump_attempts([instance.candidate_id])

    def by_certification(certification_id):
        bump_sessions(_sessions().filter(certification_id=certification_id).values_list("pk", flat=True))

    _connect(Candidate, lambda instance: bump_candidates([instance.pk]))
    for model in (Dossier, CandidateDocument, ScoringSheet, CommissionProposal, CompanyOpinion):
        _connect(model, by_candidate)
    _connect(DossierCompetency, by_dossier)
    _connect(ConflictOfInterest, by_conflict)
    _connect(SessionCandidate, by_session)
    _connect(Attendance, by_session)
    _connect(
        JuryMember,
        lambda instance: bump_sessions(
            _sessions().filter(jury_id=instance.jury_id).values_list("pk", flat=True)
        ),
    )
    _connect(CandidateOutcome, by_session, m2m=CandidateOutcome.blocks_acquired.through)
    _connect(CapitalisedCompetency, by_attempt)
    _connect(CapitalisedBlock, by_attempt)
    _connect(Certification, lambda instance: by_certification(instance.pk))
    _connect(Competency, lambda instance: by_certification(instance.certification_id))
    _connect(Block, lambda instance: by_certification(instance.certification_id))
