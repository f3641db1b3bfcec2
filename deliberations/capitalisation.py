"""Capitalisation: what a person keeps acquired from deliberations — its one owner and one lookup.

A competency or a bloc is acquired only by a deliberation (issue 22): either one of ours (its
outcome, closed, writes `CapitalisedCompetency` / `CapitalisedBlock` rows pointing at the session) or
an earlier one recorded explicitly by staff (`PriorDeliberation`: centre, date, PV number, the
scanned PV; its rows point at it). Nothing else — in particular no date typed in a dossier — makes
a competency acquired.

The rules, with their sources (docs/deliberations.md):
- a competency stays acquired `CQPM["COMPETENCY_VALIDITY_MONTHS"]` (24) months from the deliberation,
  a bloc `CQPM["BLOCK_VALIDITY_YEARS"]` (5) years (domain.md « Decision rules »; branch agreement
  art. 55.3); the date is computed from the deliberation's date, never typed;
- a record counts on a day when it was acquired on or before that day and is still valid that day;
- records follow the person: the candidate and its earlier attempts (`previous_attempt` chain),
  mapped on the candidate's referential version by (number, title);
- when several records hold the same item, the one valid the longest holds it.

`capitalised_bulk` is THE implementation (a constant number of queries per level of the attempt
chains); `capitalised_for` is the same lookup for one candidate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from candidates.models import Candidate, DossierCompetency
from core.services import audit
from referential.models import Block, Competency

from .models import CandidateOutcome, CapitalisedBlock, CapitalisedCompetency, SessionStatus


@dataclass(frozen=True)
class Holding:
    """The record that holds an item: until when, since when, and which deliberation wrote it."""

    valid_until: date
    acquired_on: date
    session_id: int | None = None
    prior_id: int | None = None
    pv_number: str = ""  # the prior deliberation's PV number (our own PVs are numbered documents)
    centre_name: str = ""  # the prior deliberation's centre

    @property
    def key(self):
        return (self.valid_until, self.acquired_on, self.session_id or 0, self.prior_id or 0)

    def label(self):
        """« délibération du 03/04/2025 (PV n° 12) » — what the board shows the jury."""
        text = _("délibération du %(d)s") % {"d": self.acquired_on.strftime("%d/%m/%Y")}
        if self.prior_id:
            text += " " + _("(PV n° %(n)s, %(c)s)") % {"n": self.pv_number, "c": self.centre_name}
        return text


@dataclass
class Capitalised:
    """What a candidate keeps from earlier deliberations, keyed by the ids of *its* referential."""

    competency_holdings: dict = field(default_factory=dict)  # competency id → Holding
    block_holdings: dict = field(default_factory=dict)  # block id → Holding

    @property
    def competencies(self):  # competency id → valid_until
        return {pk: h.valid_until for pk, h in self.competency_holdings.items()}

    @property
    def blocks(self):  # block id → valid_until
        return {pk: h.valid_until for pk, h in self.block_holdings.items()}

    @property
    def competencies_acquired_on(self):
        return {pk: h.acquired_on for pk, h in self.competency_holdings.items()}

    @property
    def blocks_acquired_on(self):
        return {pk: h.acquired_on for pk, h in self.block_holdings.items()}


def _attempt_chains(previous):
    """{candidate id: [itself, previous attempt, its previous attempt, …]}: one query per level."""
    parent_of = {}
    pending = {pid for pid in previous.values() if pid}
    while pending:
        rows = Candidate.objects.filter(pk__in=pending).values_list("pk", "previous_attempt_id")
        found = set()
        for pk, parent in rows:
            parent_of[pk] = parent
            if parent and parent not in parent_of:
                found.add(parent)
        pending = found - set(parent_of)
    chains = {}
    for candidate_id, current in previous.items():
        chain = [candidate_id]
        while current and current not in chain:
            chain.append(current)
            current = parent_of.get(current)
        chains[candidate_id] = chain
    return chains


def capitalised_bulk(previous, *, certification, on, exclude_session_id=None, referential=None):
    """Capitalised of many candidates ({candidate id: previous_attempt_id}) of `certification`
    (their referential version) on the day `on`, in a constant number of queries (plus one per
    level of the longest attempt chain). `exclude_session_id`: ignore what that deliberation wrote
    (the board of a session never counts the session's own records). `referential`: the version's
    competencies and blocs as (id, number, title) tuples when the caller holds them."""
    if not previous:
        return {}
    chains = _attempt_chains(previous)
    all_ids = {pk for chain in chains.values() for pk in chain}
    if referential is not None:  # the board has the version's competencies and blocs already
        competencies = [(c.id, c.number, c.title) for c in referential.competencies]
        blocks = [(b.id, b.number, b.title) for b in referential.blocks]
    else:
        competencies = Competency.objects.filter(certification_id=certification.pk).values_list(
            "pk", "number", "title"
        )
        blocks = Block.objects.filter(certification_id=certification.pk).values_list("pk", "number", "title")
    own_comp = {(number, title): pk for pk, number, title in competencies}
    own_block = {(number, title): pk for pk, number, title in blocks}
    held = {}
    for model, item, own, kind in (
        (CapitalisedCompetency, "competency", own_comp, "c"),
        (CapitalisedBlock, "block", own_block, "b"),
    ):
        rows = model.objects.filter(
            candidate_id__in=all_ids,
            valid_until__gte=on,
            acquired_on__lte=on,
            **{f"{item}__certification__code": certification.code},
        )
        if exclude_session_id is not None:
            rows = rows.exclude(session_id=exclude_session_id)
        for (
            holder,
            number,
            title,
            until,
            since,
            session_id,
            prior_id,
            pv_number,
            centre_name,
        ) in rows.order_by().values_list(
            "candidate_id",
            f"{item}__number",
            f"{item}__title",
            "valid_until",
            "acquired_on",
            "session_id",
            "prior_id",
            "prior__pv_number",
            "prior__centre_name",
        ):
            target = own.get((number, title))
            if target:
                holding = Holding(until, since, session_id, prior_id, pv_number or "", centre_name or "")
                held.setdefault((holder, kind), []).append((target, holding))
    result = {}
    for candidate_id, chain in chains.items():
        cap = Capitalised()
        for holder in chain:
            for kind, into in (("c", cap.competency_holdings), ("b", cap.block_holdings)):
                for target, holding in held.get((holder, kind), ()):
                    if target not in into or holding.key > into[target].key:
                        into[target] = holding
        result[candidate_id] = cap
    return result


def capitalised_for(candidate, on: date | None = None, exclude_session_id=None) -> Capitalised:
    """Competencies and blocs acquired by this person for the same CQPM and still valid on `on`
    (default: today, Paris): `capitalised_bulk` for one candidate."""
    on = on or timezone.localdate()
    return capitalised_bulk(
        {candidate.pk: candidate.previous_attempt_id},
        certification=candidate.certification,
        on=on,
        exclude_session_id=exclude_session_id,
    )[candidate.pk]


def competency_holding(cap: Capitalised, competency_id, block_id):
    """(holding, through_block) of a competency: its own record or its bloc's, the longest valid;
    through_block True when the bloc holds it (« au titre du bloc N »)."""
    own = cap.competency_holdings.get(competency_id)
    block = cap.block_holdings.get(block_id)
    if block is not None and (own is None or block.valid_until > own.valid_until):
        return block, True
    return own, False


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


@transaction.atomic
def apply_capitalisation(*, candidate, actor=None):
    """Mirror the capitalisation records on the dossier items of `candidate`: an item is « déjà
    acquise » (not evaluated) exactly when a record holds it today, directly or through its bloc,
    with the dates of that record. Returns the number of items changed. Safe to call again."""
    dossier = getattr(candidate, "dossier", None)
    if dossier is None:
        return 0
    capitalised = capitalised_for(candidate)
    block_of = {
        pk: (block_id, number)
        for pk, block_id, number in Competency.objects.filter(
            certification_id=candidate.certification_id
        ).values_list("pk", "block_id", "block__number")
    }
    changed = 0
    for item in DossierCompetency.objects.filter(dossier=dossier).select_for_update():
        block_id, block_number = block_of.get(item.competency_id, (None, None))
        holding, through_block = competency_holding(capitalised, item.competency_id, block_id)
        wanted = (
            (True, holding.acquired_on, holding.valid_until, block_number if through_block else None)
            if holding is not None
            else (False, None, None, None)
        )
        current = (item.already_acquired, item.acquired_on, item.acquired_until, item.acquired_through_block)
        if current == wanted:
            continue
        item.already_acquired, item.acquired_on, item.acquired_until, item.acquired_through_block = wanted
        item.save(
            update_fields=["already_acquired", "acquired_until", "acquired_on", "acquired_through_block"]
        )
        changed += 1
    if changed:
        audit(actor=actor, action="deliberations.capitalisation_applied", target=candidate, items=changed)
    return changed
