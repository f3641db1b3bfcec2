"""Production of the deliberation documents (PV, attendance sheet, letters, parchemins, attestations,
ZIP packs). Called by the Celery task `deliberations.tasks.render_document` and by
`manage.py render_deliberation_documents --sync`.

How a document is produced, so that a worker killed at any moment leaves nothing half-done visible:
1. claim the record (status `rendering`, attempts + 1) in a short transaction;
2. render the whole file in memory;
3. delete files left by earlier interrupted attempts of this record, then write the new file to the
   storage under a fresh name `<record id>-<attempt>.<ext>` (never the name of a visible file);
4. in one transaction, point the record at the file, record its SHA-256 and size, mark it `done` and
   current (the previous current version of the same document stops being current).
Until step 4 commits, nobody can reach the new file; if the worker dies, the retry starts again at 1.
Running the job of a `done` record again changes nothing (idempotent).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import io
import logging
import posixpath
import re
import zipfile
from datetime import date

import qrcode
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models.fields.json import KT
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from pypdf import PdfReader, PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject
from weasyprint.pdf.pdfa import VARIANTS  # noqa: F401 - the variant names checked in PDFA_VARIANT

from core.pdf import PDFA_VARIANT, render_html, render_pdf
from referential.models import Block, Competency

from . import capitalisation, seal, selectors, services
from .awards import (
    RULE_BLOCK_ALL_ACQUIRED,
    RULE_CQPM_ALL_ACQUIRED,
    RULE_CQPM_NONE,
    RULE_CQPM_PARTIAL,
    RULE_DISAGREEMENT,
    RULE_JURY_OVERRIDE,
    RULE_JURY_REVIEW,
    RULE_LABELS,
)
from .models import (
    CandidateOutcome,
    CentreDocumentSettings,
    College,
    CompetencyDecision,
    Decision,
    DocumentKind,
    DocumentStatus,
    GeneratedDocument,
    OutcomeAmendment,
    Result,
)
from .models.documents import DEFAULT_CONTEST_DAYS, SEALED_KINDS
from .notifications import notify_result_letter_available

logger = logging.getLogger(__name__)


class DocumentsNotReady(Exception):
    """A pack needs documents that are still being produced: try again a little later."""


class DocumentError(Exception):
    """The document cannot be produced from the current data (permanent failure)."""


# ---------------------------------------------------------------------------------------------
# Helpers shown in documents
# ---------------------------------------------------------------------------------------------


def verification_url(number):
    return f"{settings.SITE_URL}{reverse('deliberations:verify_number', args=[number])}"


def qr_png(text):
    """A QR code as a PNG `<img>` (data URI): drawn by WeasyPrint in a fraction of the SVG's time.

    The mask pattern is fixed (any of the 8 is valid for every reader) instead of trying all eight.
    """

    code = qrcode.QRCode(border=1, box_size=4, mask_pattern=0)
    code.add_data(text)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image().save(buffer)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return mark_safe(f'<img class="qr" alt="QR code" src="data:image/png;base64,{data}">')  # noqa: S308 - base64 of our own PNG


def mask_name(first_names, last_name):
    """« Jean DUPONT » → « J*** D***** »: enough to match a paper document, not to identify a person."""

    def mask(word):
        word = word.strip()
        return word[:1].upper() + "*" * max(len(word) - 1, 2) if word else ""

    first = (first_names or "").split()[:1]
    return " ".join(mask(w) for w in [*first, *(last_name or "").split()[:1]] if w)


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


def _zip(entries):
    """entries: [(name, bytes)] → ZIP bytes with a manifest of SHA-256 fingerprints."""
    buffer = io.BytesIO()
    manifest = []
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries:
            archive.writestr(name, content)
            manifest.append(f"{hashlib.sha256(content).hexdigest()}  {name}")
        archive.writestr("SHA256SUMS.txt", "\n".join(manifest) + "\n")
    return buffer.getvalue()


def _current_files(session, kinds):
    docs = list(
        GeneratedDocument.objects.filter(session=session, kind__in=kinds, is_current=True).order_by(
            "kind", "candidate__reference"
        )
    )
    present = {d.kind for d in docs}
    pending = GeneratedDocument.objects.filter(
        session=session, kind__in=kinds, status__in=[DocumentStatus.QUEUED, DocumentStatus.RENDERING]
    )
    if pending.exists():
        raise DocumentsNotReady("Des documents de la session sont encore en cours de production.")
    missing = [k for k in (DocumentKind.PV, DocumentKind.ATTENDANCE) if k in kinds and k not in present]
    if missing:
        raise DocumentError("Produisez d'abord le procès-verbal et la feuille d'émargement de la session.")
    entries = []
    for doc in docs:
        with default_storage.open(doc.file.name, "rb") as handle:
            entries.append((f"{doc.get_kind_display()} - {doc.number}.{doc.extension}", handle.read()))
    return entries


SEAL_REASON = {
    DocumentKind.PV: _("Procès-verbal du jury paritaire de délibération"),
    DocumentKind.CERTIFICATE: _("Délivrance du CQPM"),
    DocumentKind.BLOCK_ATTESTATION: _("Attestation de blocs de compétences"),
}


def _variant(kind):
    return PDFA_VARIANT if kind in SEALED_KINDS else None


def seal_document(document, content):
    """Sign an archival document with the certifier's seal (PAdES) when one is configured; records
    the signer on the instance (`_publish` stores it)."""
    if document.kind not in SEALED_KINDS:
        document.sealed_by = ""
        return content
    session = document.session
    signed, subject = seal.sign(
        content,
        reason=str(SEAL_REASON[document.kind]),
        location=session.centre.city or session.place,
    )
    document.sealed_by = subject
    return signed


def build(document) -> bytes:
    """The file's bytes for this record (nothing written anywhere)."""
    kind = document.kind
    if kind == DocumentKind.PV:
        return seal_document(
            document, render_pdf(TEMPLATES[kind], _pv_context(document), pdf_variant=_variant(kind))
        )
    if kind == DocumentKind.ATTENDANCE:
        return render_pdf(
            TEMPLATES[kind], {**_base_context(document, qr=True), **_jury_context(document.session)}
        )
    if kind in (DocumentKind.LETTER, DocumentKind.CERTIFICATE, DocumentKind.BLOCK_ATTESTATION):
        return seal_document(
            document, render_pdf(TEMPLATES[kind], _candidate_context(document), pdf_variant=_variant(kind))
        )
    if kind == DocumentKind.PACK:
        return _zip(
            _current_files(
                document.session,
                [
                    DocumentKind.PV,
                    DocumentKind.ATTENDANCE,
                    DocumentKind.LETTER,
                    DocumentKind.CERTIFICATE,
                    DocumentKind.BLOCK_ATTESTATION,
                ],
            )
        )
    if kind == DocumentKind.GTP:
        entries = _current_files(document.session, [DocumentKind.PV, DocumentKind.ATTENDANCE])
        composition = render_pdf(
            "deliberations/pdf/composition.html",
            {**_base_context(document), **_jury_context(document.session)},
        )
        entries.append((f"Composition du jury - {document.number}.pdf", composition))
        return _zip(entries)
    raise DocumentError(f"Type de document inconnu : {kind}")


# Candidate documents are laid out several per WeasyPrint run (one kind, one session): WeasyPrint's
# cost is mostly per page, but each run also pays its start (styles, fonts, page setup) and each
# document its queries; a batch of 25 pays them once. The file is then split again, one PDF per
# candidate, with pypdf (a few milliseconds per page).
BATCH_KINDS = frozenset({DocumentKind.LETTER, DocumentKind.CERTIFICATE, DocumentKind.BLOCK_ATTESTATION})


def _page_ranges(laid_out, anchors):
    """[(first page, end page)] of each part, found by the anchor that opens it."""
    starts = {}
    for index, page in enumerate(laid_out.pages):
        for anchor in page.anchors:
            starts.setdefault(anchor, index)
    firsts = [starts[anchor] for anchor in anchors]
    return list(zip(firsts, [*firsts[1:], len(laid_out.pages)], strict=True))


_PDF_NAME = re.compile(rb"/([^\s/\[\]()<>{}%]+)")


def _own_resources(page):
    """Give the page a resource dictionary with only what its content uses.

    WeasyPrint shares one resource dictionary between the pages of a file: copied as is, a
    candidate's file would carry the images (QR codes, hence document numbers) of the whole batch.
    """

    resources = page["/Resources"].get_object()
    used = {b"/" + name for name in _PDF_NAME.findall(page.get_contents().get_data())}
    own = DictionaryObject()
    for category, value in resources.items():
        value = value.get_object()
        if isinstance(value, DictionaryObject):
            value = DictionaryObject({k: v for k, v in value.items() if k.encode() in used})
        own[NameObject(category)] = value
    page[NameObject("/Resources")] = own


def _xmp(metadata, title):
    """The XMP packet of a PDF/A part: WeasyPrint's metadata of the batch with the part's own title."""

    own = copy.copy(metadata)
    own.title = title
    version, conformance = PDFA_VARIANT.removeprefix("pdf/a-")[:-1], PDFA_VARIANT[-1].upper()
    header = b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>\n<x:xmpmeta xmlns:x="adobe:ns:meta/">'
    footer = b'</x:xmpmeta>\n<?xpacket end="r"?>'
    return b"\n".join((header, own.generate_rdf_metadata("a", int(version), conformance), footer))


def _split(content, ranges, titles, metadata=None):
    """One PDF per page range of `content`, each with its own title and only its own resources.

    With `metadata` (a PDF/A batch), each file keeps the output intent and gets its own XMP packet
    (PDF/A identification, title, author, subject), as a file rendered alone would."""

    reader = PdfReader(io.BytesIO(content))
    info = {
        k: v
        for k, v in (reader.metadata or {}).items()
        if k in ("/Producer", "/Creator", "/Author", "/Subject")
    }
    root = reader.trailer["/Root"]
    files = []
    for (start, end), title in zip(ranges, titles, strict=True):
        writer = PdfWriter()
        for index in range(start, end):
            page = reader.pages[index]
            _own_resources(page)
            writer.add_page(page)
        writer.add_metadata({**info, "/Title": title})
        if metadata is not None:
            writer.pdf_header = reader.pdf_header
            writer._root_object[NameObject("/OutputIntents")] = root["/OutputIntents"].clone(writer)
            stream = DecodedStreamObject()
            stream.set_data(_xmp(metadata, title))
            stream[NameObject("/Type")] = NameObject("/Metadata")
            stream[NameObject("/Subtype")] = NameObject("/XML")
            writer._root_object[NameObject("/Metadata")] = writer._add_object(stream)
        buffer = io.BytesIO()
        writer.write(buffer)
        files.append(buffer.getvalue())
    return files


def build_batch(documents):
    """{document id: bytes, or the exception that prevents it} for candidate documents of one kind
    and one session, laid out in one WeasyPrint run and split into one file each.

    A part longer than one page is rendered again on its own, so that its footer numbers its pages
    (« Page 1 / 2 »): in the shared run the footer can only say « Page 1 / 1 »."""
    kinds = {d.kind for d in documents}
    if len(kinds) != 1 or not kinds <= BATCH_KINDS or len({d.session_id for d in documents}) != 1:
        raise ValueError("build_batch: documents of one candidate kind and one session only")
    template = TEMPLATES[documents[0].kind]
    contexts = _candidate_contexts(documents)
    results = {pk: context for pk, context in contexts.items() if isinstance(context, Exception)}
    ready = [d for d in documents if d.pk not in results]
    if not ready:
        return results
    parts = [
        {
            "anchor": f"part-{index}",
            "number": document.number,
            "body": render_to_string(template, {**contexts[document.pk], "body_only": True}),
        }
        for index, document in enumerate(ready)
    ]
    kind = documents[0].kind
    variant = _variant(kind)
    laid_out = render_html(render_to_string(template, {**contexts[ready[0].pk], "parts": parts}))
    ranges = _page_ranges(laid_out, [part["anchor"] for part in parts])
    titles = [f"{d.get_kind_display()} — {d.number}" for d in ready]
    files = _split(
        laid_out.write_pdf(pdf_variant=variant),
        ranges,
        titles,
        metadata=laid_out.metadata if variant else None,
    )
    for document, (start, end), content in zip(ready, ranges, files, strict=True):
        if end - start != 1:
            content = render_pdf(template, contexts[document.pk], pdf_variant=variant)
        results[document.pk] = seal_document(document, content)
    return results


# ---------------------------------------------------------------------------------------------
# Production
# ---------------------------------------------------------------------------------------------


def _directory(document):
    return f"deliberations/{document.session_id}"


def _remove_leftovers(document, keep=()):
    """Delete files of earlier interrupted attempts of this record (never a file a record points at)."""
    directory = _directory(document)
    try:
        _dirs, files = default_storage.listdir(directory)
    except (FileNotFoundError, NotADirectoryError):
        return
    prefix = f"{document.pk}-"
    for name in files:
        path = posixpath.join(directory, name)
        if name.startswith(prefix) and path not in keep:
            default_storage.delete(path)


def _claim(document_id):
    with transaction.atomic():
        document = (
            GeneratedDocument.objects.select_for_update(of=("self",))
            .select_related("session__centre", "session__certification", "session__jury", "candidate")
            .get(pk=document_id)
        )
        if document.status == DocumentStatus.DONE:
            return document, False
        document.status = DocumentStatus.RENDERING
        document.attempts += 1
        document.started_at = timezone.now()
        document.error = ""
        document.save(update_fields=["status", "attempts", "started_at", "error"])
        return document, True


def _publish(document, name, content):
    """Point the record at its new file and make it current, atomically."""
    with transaction.atomic():
        record = GeneratedDocument.objects.select_for_update().get(pk=document.pk)
        if record.status == DocumentStatus.DONE:  # a concurrent run finished first: keep its file
            transaction.on_commit(lambda: default_storage.delete(name))
            return record
        siblings = GeneratedDocument.objects.filter(
            session_id=record.session_id, kind=record.kind, candidate_id=record.candidate_id
        ).exclude(pk=record.pk)
        newer_done = siblings.filter(status=DocumentStatus.DONE, version__gt=record.version).exists()
        if not newer_done:
            siblings.filter(is_current=True).update(is_current=False)
        record.file.name = name
        record.sealed_by = getattr(document, "sealed_by", "")
        record.sha256 = hashlib.sha256(content).hexdigest()
        record.size = len(content)
        record.status = DocumentStatus.DONE
        record.is_current = not newer_done
        record.finished_at = timezone.now()
        record.error = ""
        record.save(
            update_fields=[
                "file",
                "sealed_by",
                "sha256",
                "size",
                "status",
                "is_current",
                "finished_at",
                "error",
            ]
        )
        transaction.on_commit(lambda: _remove_leftovers(record, keep={name}))
        notify_result_letter_available(record)  # a result letter, now current: the candidate is told
        return record


def _store(document, content):
    """Write the file of a claimed record under a fresh name, then publish it (steps 3 and 4)."""
    _remove_leftovers(document)
    name = default_storage.save(
        f"{_directory(document)}/{document.pk}-{document.attempts}.{document.extension}", ContentFile(content)
    )
    return _publish(document, name, content)


def produce(document_id):
    """Render, store and publish one document. Idempotent; safe to run again after a crash."""
    document, claimed = _claim(document_id)
    if not claimed:
        return document
    return _store(document, build(document))


def _claim_many(document_ids):
    """Claim the records of `document_ids` not done yet, in their order, in one short transaction."""
    with transaction.atomic():
        records = {
            str(d.pk): d
            for d in GeneratedDocument.objects.select_for_update(of=("self",))
            .select_related("session__centre", "session__certification", "session__jury", "candidate")
            .filter(pk__in=document_ids)
        }
        claimed = []
        now = timezone.now()
        for document_id in dict.fromkeys(str(i) for i in document_ids):
            document = records.get(document_id)
            if document is None or document.status == DocumentStatus.DONE:
                continue
            document.status = DocumentStatus.RENDERING
            document.attempts += 1
            document.started_at = now
            document.error = ""
            claimed.append(document)
        GeneratedDocument.objects.bulk_update(claimed, ["status", "attempts", "started_at", "error"])
    return claimed


def produce_batch(document_ids, transient=()):
    """Produce several documents (any kinds); candidate documents of one kind and session are laid out
    together (`build_batch`). Idempotent like `produce`: done records are skipped, each record is
    stored and published on its own, a crash leaves the others to the retry.

    Returns [(document id, exception)] for the documents that could not be produced; exceptions of
    the `transient` classes are raised instead (the caller retries the whole batch).
    """
    claimed = _claim_many(document_ids)
    groups = {}
    for document in claimed:
        key = (document.kind, document.session_id) if document.kind in BATCH_KINDS else document.pk
        groups.setdefault(key, []).append(document)
    failures = []
    for documents in groups.values():
        contents = {}
        if len(documents) > 1:
            try:
                contents = build_batch(documents)
            except transient:
                raise
            except Exception:  # noqa: BLE001 - one broken document must not sink the others: one by one
                logger.exception("Batch of %s documents failed; producing them one by one", len(documents))
        for document in documents:
            try:
                content = contents.get(document.pk)
                if content is None:
                    content = build(document)
                if isinstance(content, Exception):
                    raise content
                _store(document, content)
            except transient:
                raise
            except Exception as exc:  # noqa: BLE001 - recorded by the caller, the page offers a retry
                failures.append((document.pk, exc))
    return failures


def mark_failed(document_id, message):
    GeneratedDocument.objects.filter(pk=document_id).exclude(status=DocumentStatus.DONE).update(
        status=DocumentStatus.FAILED, error=str(message)[:1000], finished_at=timezone.now()
    )


def mark_waiting(document_id, message):
    GeneratedDocument.objects.filter(pk=document_id, status=DocumentStatus.RENDERING).update(
        status=DocumentStatus.QUEUED, error=str(message)[:1000]
    )


def produce_session_documents_inline(session, *, actor=None):
    """`--sync`: request every document of the session and produce them in this process, in order
    (the candidate documents in batches, as the workers do)."""

    documents = services.request_session_documents(actor=actor, session=session, queue=False)
    for batch in services.document_batches(documents):
        failures = produce_batch([d.pk for d in batch])
        for document_id, exc in failures:
            mark_failed(document_id, exc)
        if failures:
            raise failures[0][1]
    done = GeneratedDocument.objects.in_bulk([d.pk for d in documents])
    return [done[d.pk] for d in documents]
