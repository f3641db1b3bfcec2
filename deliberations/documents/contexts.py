"""The template contexts of the deliberation documents: the jury, the candidates' results, the PV's
decisions table, the letters, parchemins and attestations, and the template of each kind.
"""

from __future__ import annotations

import base64
import logging
from datetime import date

from django.conf import settings
from django.core.files.storage import default_storage
from django.db.models.fields.json import KT
from django.utils.translation import gettext_lazy as _

from referential.models import Block, Competency

from .. import capitalisation, selectors
from ..awards import (
    RULE_BLOCK_ALL_ACQUIRED,
    RULE_CQPM_ALL_ACQUIRED,
    RULE_CQPM_NONE,
    RULE_CQPM_PARTIAL,
    RULE_DISAGREEMENT,
    RULE_JURY_OVERRIDE,
    RULE_JURY_REVIEW,
    RULE_LABELS,
)
from ..models import (
    CandidateOutcome,
    CentreDocumentSettings,
    College,
    CompetencyDecision,
    Decision,
    DocumentKind,
    OutcomeAmendment,
    Result,
)
from ..models.documents import DEFAULT_CONTEST_DAYS, SEALED_KINDS
from .common import (
    DocumentError,
    qr_png,
    verification_url,
)

logger = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------------
# Contexts
# ---------------------------------------------------------------------------------------------


def _jury_context(session):
    members, attendances = selectors.session_members(session)
    by_id = {m.pk: m for m in members}
    for attendance in attendances:  # the members are loaded already: no query per attendance
        if attendance.member_id in by_id:
            attendance.member = by_id[attendance.member_id]
    employers = [m for m in members if m.college == College.EMPLOYERS]
    employees = [m for m in members if m.college == College.EMPLOYEES]
    president = next((m for m in members if m.is_president), None)
    present = [m for m in members if m.present]
    # One signature space per member present: the president first, then each college.
    signatories = sorted(
        present, key=lambda m: (not m.is_president, m.college != College.EMPLOYERS, m.full_name)
    )
    return {
        "signatories": signatories,
        "members": members,
        "employers": employers,
        "employees": employees,
        "president": president,
        "present_count": len(present),
        "present_employers": sum(1 for m in present if m.college == College.EMPLOYERS),
        "present_employees": sum(1 for m in present if m.college == College.EMPLOYEES),
        "quorum": settings.CQPM["JURY_QUORUM_MIN_PRESENT"],
        "attendance_problems": selectors.attendance_problems(session, attendances),
    }


def civility(sex):
    """How a document addresses and describes a person, from the recorded sex; neutral when unknown."""
    if sex == "F":
        return {
            "salutation": _("Madame,"),
            "closing": _("Madame"),
            "title": _("Madame"),
            "born": _("née le"),
            "holder": _("la titulaire"),
            "Holder": _("La titulaire"),
            "evaluated": _("évaluée"),
            "known": True,
        }
    if sex == "M":
        return {
            "salutation": _("Monsieur,"),
            "closing": _("Monsieur"),
            "title": _("Monsieur"),
            "born": _("né le"),
            "holder": _("le titulaire"),
            "Holder": _("Le titulaire"),
            "evaluated": _("évalué"),
            "known": True,
        }
    return {
        "salutation": _("Madame, Monsieur,"),
        "closing": _("Madame, Monsieur"),
        "title": "",
        "born": _("date de naissance :"),
        "holder": _("titulaire"),
        "Holder": _("Titulaire"),
        "evaluated": _("évalué·e"),
        "known": False,
    }


DEFAULT_CONTEST_TEXT = _(
    "Vous pouvez contester cette décision par un recours écrit et motivé adressé au centre de "
    "certification, à l'attention du président du jury paritaire de délibération, en joignant une "
    "copie de ce courrier. Le jury réexamine votre dossier et vous fait connaître sa réponse par écrit."
)


def _png_data_uri(content):
    return "data:image/png;base64," + base64.b64encode(content).decode("ascii")


def document_settings(centre):
    """The centre's document settings with their defaults, and its scanned signature as a data URI."""
    record = CentreDocumentSettings.objects.filter(centre=centre).first()
    image = ""
    if record is not None and record.signature_image:
        try:
            with default_storage.open(record.signature_image.name, "rb") as handle:
                image = _png_data_uri(handle.read())
        except OSError:
            logger.warning("Signature numérisée du centre %s illisible", centre.pk)
    return {
        "signatory_name": centre.certifier_signatory,
        "signatory_title": record.signatory_title if record else "",
        "signature_image": image,
        "contest_text": (record.contest_text.strip() if record else "") or DEFAULT_CONTEST_TEXT,
        "contest_days": record.contest_days if record else DEFAULT_CONTEST_DAYS,
    }


def _base_context(document, *, qr=False, settings_of_centre=None):
    """What every document shows; the QR code only for the documents that print it."""
    session = document.session
    url = verification_url(document.number)
    centre = session.centre
    return {
        "document": document,
        "session": session,
        "certification": session.certification,
        "centre": centre,
        # « Fait à <lieu> »: the centre's city (the meeting place is printed in full in the PV's head).
        "done_at": centre.city or session.place,
        "certifier_legal_name": settings.CQPM["CERTIFIER_LEGAL_NAME"],
        "verification_url": url,
        # The URL may break before the number, never inside it (a reader types the number).
        "verification_url_prefix": url.removesuffix(f"{document.number}/"),
        "verification_url_tail": url[len(url.removesuffix(f"{document.number}/")) :],
        "qr_code": qr_png(url) if qr else "",
        "doc": settings_of_centre if settings_of_centre is not None else document_settings(centre),
        "archival": document.kind in SEALED_KINDS,
    }


def _validity(session, previous, competencies, blocks, referential):
    """What each candidate holds after this deliberation, from the capitalisation records themselves
    (issue 22, point 3): {candidate id: {"competencies": {competency id: (valid_until, bloc number
    when the bloc holds it, else None)}, "blocks": {block id: valid_until}}}.

    `previous`: {candidate id: previous_attempt_id}; `competencies`: (id, block_id) pairs;
    `blocks`: {block id: number}; `referential`: the version's competencies and blocs (no query).
    On the deliberation's day, its own records included."""
    held = capitalisation.capitalised_bulk(
        previous, certification=session.certification, on=session.date, referential=referential
    )
    result = {}
    for candidate_id, cap in held.items():
        per_competency = {}
        for competency_id, block_id in competencies:
            holding, through_block = capitalisation.competency_holding(cap, competency_id, block_id)
            if holding is not None:
                per_competency[competency_id] = (
                    holding.valid_until,
                    blocks[block_id] if through_block else None,
                )
        result[candidate_id] = {"competencies": per_competency, "blocks": cap.blocks}
    return result


def _candidate_results(session, candidate_ids=None):
    """Per candidate: outcome, decisions per competency grouped by bloc, capitalisation dates."""
    blocks = list(
        Block.objects.filter(certification_id=session.certification_id).prefetch_related("competencies")
    )
    outcomes = (
        CandidateOutcome.objects.filter(session=session)
        .select_related("candidate")
        .prefetch_related("blocks_acquired", "amendments")
    )
    decisions = CompetencyDecision.objects.filter(session=session).select_related("competency")
    if candidate_ids is not None:
        outcomes = outcomes.filter(candidate_id__in=candidate_ids)
        decisions = decisions.filter(candidate_id__in=candidate_ids)
    by_candidate = {}
    for decision in decisions:
        by_candidate.setdefault(decision.candidate_id, {})[decision.competency_id] = decision
    outcomes = list(outcomes.order_by("candidate__reference"))
    validity = _validity(
        session,
        {o.candidate_id: o.candidate.previous_attempt_id for o in outcomes},
        [(c.pk, c.block_id) for b in blocks for c in b.competencies.all()],
        {b.pk: b.number for b in blocks},
        selectors._referential(session, [c for b in blocks for c in b.competencies.all()], blocks),
    )
    results = []
    for outcome in outcomes:
        cand_decisions = by_candidate.get(outcome.candidate_id, {})
        block_explanations = {b["block"]: b for b in outcome.explanation.get("blocks", [])}
        acquired_ids = {b.pk for b in outcome.blocks_acquired.all()}
        competency_valid_until = _date(outcome.explanation.get("competency_valid_until"))
        held = validity.get(outcome.candidate_id, {"competencies": {}, "blocks": {}})
        block_rows = []
        for block in blocks:
            explanation = block_explanations.get(block.number, {})
            members = [held["competencies"].get(c.pk) for c in block.competencies.all()]
            block_rows.append(
                {
                    "block": block,
                    "acquired": block.pk in acquired_ids,
                    # The bloc's own record (RNCP CQPMs, 5 years); a bloc of a CQPM not on the RNCP
                    # has no validity of its own: it lasts as long as its competencies (domain.md).
                    "valid_until": held["blocks"].get(block.pk)
                    or (
                        min(m[0] for m in members)
                        if block.pk in acquired_ids and members and all(members)
                        else None
                    ),
                    "capitalised": explanation.get("capitalised", False),
                    "decisions": [
                        cand_decisions[c.pk] for c in block.competencies.all() if c.pk in cand_decisions
                    ],
                }
            )
        acquired_decisions = sorted(
            (d for d in cand_decisions.values() if d.decided == "acquired"), key=lambda d: d.competency.number
        )
        for decision in acquired_decisions:
            # Until when, and through which record (« au titre du bloc N »): issue 22, point 3.
            decision.valid_until, decision.through_block = held["competencies"].get(
                decision.competency_id, (None, None)
            )
        results.append(
            {
                "outcome": outcome,
                "candidate": outcome.candidate,
                "blocks": block_rows,
                "acquired_decisions": acquired_decisions,
                "not_acquired_decisions": sorted(
                    (d for d in cand_decisions.values() if d.decided != "acquired"),
                    key=lambda d: d.competency.number,
                ),
                "competency_valid_until": competency_valid_until,
                "capitalised_before": outcome.explanation.get("capitalised_before", []),
                "overridden": [d for d in cand_decisions.values() if d.is_override or d.motivation],
            }
        )
    return results


def _date(value):
    return date.fromisoformat(value) if value else None


# The PV's decisions table: one table row per candidate and three real cells (reference, name and
# pathway; the competencies' codes and the blocs acquired; the CQPM decision and its date). The codes
# share one cell, set in the document's proportional font on a grid of tab stops (`tab-size`), the
# same grid as the header's « C1 C2 … Blocs »: each code starts at its column, none can overlap the
# next (the longest, « NA*Rc », is narrower than a column). One cell per code would be 1 800 to
# 3 600 more cells for 300 candidates: WeasyPrint lays out about 1.5 ms of CPU per cell, and the
# PV would leave its 5 s budget (measured: 2.2 s → 5.8 s of CPU with 3 competencies).
CODE_SEPARATOR = "\t"
GRID_MM = 11  # the widest code, « NA*Rc », is 9 mm wide at 8 pt
PATHWAY_SHORT = {
    "employee": _("Salarié"),
    "apprentice": _("Alternant"),
    "job_seeker": _("Dem. emploi"),
    "vae": _("VAE"),
    "other": _("Autre"),
}
DECISION_SHORT = {Decision.ACQUIRED: "A", Decision.NOT_ACQUIRED: "NA"}
OPINION_SHORT = {"favourable": _("favorable"), "reserved": _("réservé"), "unfavourable": _("défavorable")}
CAPITALISED_RULES = frozenset({"capitalised_competency", "capitalised_block"})
# The rules recalled under the PV's table (the full explanation of each decision is stored with it).
PV_RULES = (
    RULE_CQPM_ALL_ACQUIRED,
    RULE_CQPM_PARTIAL,
    RULE_CQPM_NONE,
    RULE_BLOCK_ALL_ACQUIRED,
    RULE_DISAGREEMENT,
    RULE_JURY_REVIEW,
    RULE_JURY_OVERRIDE,
)


def _competency_code(decision):
    """« A » / « NA », then * when the jury departed from the proposal, R when it re-examined the
    competency (commission and company disagreed), c when capitalised from an earlier jury."""
    if decision is None:
        return "—"
    code = DECISION_SHORT[decision["decided"]]
    if decision["decided"] != decision["proposed"]:
        code += "*"
    if decision["needs_review"]:
        code += "R"
    if decision["rule"] in CAPITALISED_RULES:
        code += "c"
    return code


def _pv_table(session):
    """The PV's decisions as plain rows: one per candidate, one column per competency.

    A handful of queries whatever the number of candidates and plain values (no model instance per
    decision): the context of a 300-candidate PV costs a small fraction of WeasyPrint's time.
    """
    blocks = list(
        Block.objects.filter(certification_id=session.certification_id)
        .order_by("number")
        .values("id", "number", "title")
    )
    competencies = list(
        Competency.objects.filter(certification_id=session.certification_id)
        .order_by("block__number", "number")
        .values("id", "number", "title", "block_id")
    )
    block_number = {block["id"]: block["number"] for block in blocks}

    outcomes = list(
        CandidateOutcome.objects.filter(session=session)
        .select_related("candidate")
        .only(
            "id",
            "result",
            "explanation",
            "candidate__reference",
            "candidate__birth_name",
            "candidate__usage_name",
            "candidate__first_names",
            "candidate__pathway",
            "candidate__anonymised_at",
            "candidate__previous_attempt_id",
        )
        .order_by("candidate__reference")
    )
    acquired_blocks = {}
    for outcome_id, block_id in CandidateOutcome.blocks_acquired.through.objects.filter(
        candidateoutcome__session=session
    ).values_list("candidateoutcome_id", "block_id"):
        acquired_blocks.setdefault(outcome_id, []).append(block_number[block_id])
    decisions = {}
    for row in (
        CompetencyDecision.objects.filter(session=session)
        .annotate(
            rule=KT("explanation__rule"),
            commission=KT("explanation__commission"),
            company_opinion=KT("explanation__company_opinion"),
        )
        .values(
            "candidate_id",
            "competency_id",
            "proposed",
            "decided",
            "needs_review",
            "motivation",
            "rule",
            "commission",
            "company_opinion",
        )
    ):
        decisions.setdefault(row["candidate_id"], {})[row["competency_id"]] = row

    result_label = dict(Result.choices)
    # Every outcome's holdings (not only the partial ones): the same queries whatever the results.
    validity = _validity(
        session,
        {o.candidate_id: o.candidate.previous_attempt_id for o in outcomes},
        [(c["id"], c["block_id"]) for c in competencies],
        block_number,
        selectors._Referential(
            competencies=tuple(
                selectors._Competency(c["id"], c["number"], c["title"], c["block_id"]) for c in competencies
            ),
            blocks=tuple(selectors._Block(b["id"], b["number"], b["title"]) for b in blocks),
        ),
    )
    rows, motivated, departures = [], [], 0
    for outcome in outcomes:
        candidate = outcome.candidate
        own = decisions.get(candidate.pk, {})
        explanation = outcome.explanation or {}
        held = validity.get(candidate.pk) if outcome.result == Result.PARTIAL else None
        # The records' own dates, per competency and bloc (issue 22): the column shows the first
        # to end, the line under the table each of them.
        # Competencies (then blocs) sharing a date and a bloc are named together, « C1, C2 : date
        # (bloc 1) »: one short line per candidate instead of seven dates (the PV's length).
        dates = []
        if held:
            groups = {}
            for competency in competencies:
                entry = held["competencies"].get(competency["id"])
                if entry:
                    groups.setdefault(entry, []).append(f"C{competency['number']}")
            for (until, through), names in groups.items():
                mark = f" ({_('bloc')} {through})" if through else ""
                dates.append((until, f"{', '.join(names)} : {until:%d/%m/%Y}{mark}"))
            block_groups = {}
            for block_id, until in sorted(held["blocks"].items(), key=lambda pair: block_number[pair[0]]):
                block_groups.setdefault(until, []).append(str(block_number[block_id]))
            for until, numbers in block_groups.items():
                label = _("bloc") if len(numbers) == 1 else _("blocs")
                dates.append((until, f"{label} {', '.join(numbers)} : {until:%d/%m/%Y}"))
        valid_until = min(d[0] for d in dates) if dates else None
        codes = []
        for competency in competencies:
            decision = own.get(competency["id"])
            codes.append(_competency_code(decision))
            if decision is None:
                continue
            override = decision["decided"] != decision["proposed"]
            departures += override
            if override or decision["needs_review"] or decision["motivation"]:
                company = (
                    _("VAE")
                    if candidate.pathway == "vae"
                    else OPINION_SHORT.get(decision["company_opinion"], "—")
                )
                motivated.append(
                    {
                        "reference": candidate.reference,
                        "name": candidate.full_name,
                        # Comp., Comm., Prop., Jury, Entreprise on the tab grid of the header (the
                        # company's opinion, the only long value, last).
                        "codes": CODE_SEPARATOR.join(
                            [
                                f"C{competency['number']}",
                                DECISION_SHORT.get(decision["commission"], "—"),
                                DECISION_SHORT[decision["proposed"]],
                                DECISION_SHORT[decision["decided"]],
                                str(company),
                            ]
                        ),
                        "reason": _("Écart à la proposition")
                        if override
                        else _("Réexamen")
                        if decision["needs_review"]
                        else _("Décision motivée"),
                        "motivation": decision["motivation"],
                    }
                )
        acquired = sorted(acquired_blocks.get(outcome.pk, []))
        rows.append(
            {
                "reference": candidate.reference,
                "name": candidate.full_name,
                "pathway": PATHWAY_SHORT.get(candidate.pathway, candidate.pathway),
                "codes": CODE_SEPARATOR.join([*codes, ",".join(str(n) for n in acquired) or "—"]),
                "result_label": result_label.get(outcome.result, outcome.result),
                "valid_until": valid_until,
                "result": outcome.result,
                "capitalised_before": explanation.get("capitalised_before", []),
                "validity": " ; ".join(text for _until, text in dates),
            }
        )
    by_block = {}
    for competency in competencies:
        by_block.setdefault(competency["block_id"], []).append(competency)
    return {
        "blocks": [{**block, "competencies": by_block.get(block["id"], [])} for block in blocks],
        "competencies": competencies,
        "codes_header": CODE_SEPARATOR.join([*(f"C{c['number']}" for c in competencies), str(_("Blocs"))]),
        # Width of the codes' cell: one column (GRID_MM) per competency, 18 mm for the blocs, padding.
        "grid_mm": GRID_MM,
        "codes_width_mm": GRID_MM * len(competencies) + 18 + 2,
        # The motivated decisions' grid: Comp., Comm., Prop., Jury, Entreprise.
        "motivated_header": CODE_SEPARATOR.join(
            [str(_("Comp.")), str(_("Comm.")), str(_("Prop.")), str(_("Jury")), str(_("Entreprise"))]
        ),
        "rows": rows,
        "motivated": motivated,
        "departures": departures,
    }


def _pv_context(document):
    session = document.session
    table = _pv_table(session)
    rows = table["rows"]
    totals = {
        "candidates": len(rows),
        "certified": sum(1 for r in rows if r["result"] == Result.CERTIFIED),
        "partial": sum(1 for r in rows if r["result"] == Result.PARTIAL),
        "failed": sum(1 for r in rows if r["result"] == Result.FAILED),
        "overrides": table["departures"],
    }
    amendments = list(
        OutcomeAmendment.objects.filter(outcome__session=session)
        .select_related("outcome__candidate")
        .only("at", "previous_result", "motivation", "outcome__candidate__reference")
        .order_by("at")
    )
    return {
        **_base_context(document, qr=True),
        **_jury_context(session),
        **table,
        "totals": totals,
        "amendments": amendments,
        "late_convocations": selectors.late_convocations(session),
        "rules": [RULE_LABELS[code] for code in PV_RULES],
        "block_validity_years": settings.CQPM["BLOCK_VALIDITY_YEARS"],
        "competency_validity_months": settings.CQPM["COMPETENCY_VALIDITY_MONTHS"],
        "meta_description": _("Procès-verbal du jury paritaire de délibération du %(date)s — %(title)s")
        % {"date": session.date.strftime("%d/%m/%Y"), "title": session.certification.title},
    }


# Candidate documents that print the QR code of their verification page (all of them).
QR_KINDS = frozenset({DocumentKind.LETTER, DocumentKind.CERTIFICATE, DocumentKind.BLOCK_ATTESTATION})


def _candidate_contexts(documents):
    """{document id: context, or the DocumentError that prevents it} for candidate documents of one
    session, with the queries of one document."""
    session = documents[0].session
    results = {r["candidate"].pk: r for r in _candidate_results(session, [d.candidate_id for d in documents])}
    jury = _jury_context(session)
    centre_settings = document_settings(session.centre)
    description = {
        DocumentKind.LETTER: _("Résultat de la délibération du %(date)s — %(title)s"),
        DocumentKind.CERTIFICATE: _("Certificat de qualification paritaire de la métallurgie — %(title)s"),
        DocumentKind.BLOCK_ATTESTATION: _("Attestation de blocs de compétences — %(title)s"),
    }
    contexts = {}
    for document in documents:
        result = results.get(document.candidate_id)
        if result is None:
            contexts[document.pk] = DocumentError("Le candidat n'a pas de résultat dans cette session.")
            continue
        contexts[document.pk] = {
            **_base_context(document, qr=document.kind in QR_KINDS, settings_of_centre=centre_settings),
            **jury,
            "result": result,
            "candidate": document.candidate,
            "outcome": result["outcome"],
            "civ": civility(document.candidate.sex),
            "meta_description": description[document.kind]
            % {"date": session.date.strftime("%d/%m/%Y"), "title": session.certification.title},
        }
    return contexts


def _candidate_context(document):
    context = _candidate_contexts([document])[document.pk]
    if isinstance(context, Exception):
        raise context
    return context


TEMPLATES = {
    DocumentKind.PV: "deliberations/pdf/pv.html",
    DocumentKind.ATTENDANCE: "deliberations/pdf/attendance.html",
    DocumentKind.LETTER: "deliberations/pdf/letter.html",
    DocumentKind.CERTIFICATE: "deliberations/pdf/certificate.html",
    DocumentKind.BLOCK_ATTESTATION: "deliberations/pdf/block_attestation.html",
}
