"""RGPD right of access / portability: everything held on one candidate as a ZIP (JSON + documents).

The archive has a readable summary (identity, CQPM, company, dossier, history, documents) and, under
`records`, every row of any app that points at the candidate (and the rows hanging from those rows),
found by introspection: scoring sheets, company opinions, decisions… are included as soon as their
app exists, without this module knowing them.
"""

import io
import json
import zipfile

from django.core import serializers
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone

from core.files import download_name
from core.models import AuditEvent

from .models import Candidate

# Reverse relations not exported: other people's registrations (previous / later attempts are the
# same person but separate records — their references are listed in the summary instead).
SKIPPED_RELATIONS = {("candidates", "candidate")}


def _serialise(objects):
    rows = serializers.serialize("python", objects)
    for row in rows:
        for name, value in list(row["fields"].items()):
            if isinstance(value, models.fields.files.FieldFile):
                row["fields"][name] = value.name
    return rows


def _reverse_relations(model):
    for relation in model._meta.related_objects:
        if not (relation.one_to_many or relation.one_to_one):
            continue
        label = (relation.related_model._meta.app_label, relation.related_model._meta.model_name)
        if label in SKIPPED_RELATIONS:
            continue
        yield relation


def _related_rows(instance):
    for relation in _reverse_relations(type(instance)):
        manager_filter = {relation.field.name: instance}
        yield relation.related_model, list(relation.related_model._default_manager.filter(**manager_filter))


def collect_records(candidate, depth=2):
    """{"app.model": [serialised rows]} for every row pointing at the candidate, `depth` levels deep."""
    records = {}
    seen = set()
    frontier = [candidate]
    for _level in range(depth):
        next_frontier = []
        for instance in frontier:
            for model, rows in _related_rows(instance):
                fresh = [row for row in rows if (model, row.pk) not in seen]
                if not fresh:
                    continue
                seen.update((model, row.pk) for row in fresh)
                records.setdefault(model._meta.label_lower, []).extend(_serialise(fresh))
                next_frontier.extend(fresh)
        frontier = next_frontier
    return records


def build_summary(candidate):
    dossier = getattr(candidate, "dossier", None)
    return {
        "reference": candidate.reference,
        "centre": {"code": candidate.centre.code, "name": candidate.centre.name},
        "certification": {
            "code": candidate.certification.code,
            "title": candidate.certification.title,
            "version": candidate.certification.version,
        },
        "identity": {
            "birth_name": candidate.birth_name,
            "usage_name": candidate.usage_name,
            "first_names": candidate.first_names,
            "sex": candidate.sex,
            "birth_date": candidate.birth_date,
            "birth_place": candidate.birth_place,
            "birth_country": candidate.birth_country,
            "birth_insee_code": candidate.birth_insee_code,
            "birth_postcode": candidate.birth_postcode,
        },
        "contact": {
            "email": candidate.email,
            "phone": candidate.phone,
            "address": candidate.address,
            "postcode": candidate.postcode,
            "city": candidate.city,
        },
        "pathway": candidate.get_pathway_display(),
        "company": candidate.company.name if candidate.company else None,
        "tutor": str(candidate.tutor) if candidate.tutor else None,
        "registered_on": candidate.registered_on,
        "status": candidate.get_status_display(),
        "legal_basis": candidate.get_legal_basis_display(),
        "consent_given_at": candidate.consent_given_at,
        "previous_attempt": candidate.previous_attempt.reference if candidate.previous_attempt else None,
        "later_attempts": list(candidate.later_attempts.values_list("reference", flat=True)),
        "dossier": None
        if dossier is None
        else {
            "report_due_date": dossier.report_due_date,
            "company_opinion_applies": dossier.company_opinion_applies,
            "validated_at": dossier.validated_at,
            "competencies": [
                {
                    "number": item.competency.number,
                    "title": item.competency.title,
                    "modalities": item.modalities,
                    "already_acquired": item.already_acquired,
                    "acquired_until": item.acquired_until,
                }
                for item in dossier.items.select_related("competency")
            ],
        },
        "status_history": [
            {"from": change.from_status, "to": change.to_status, "at": change.at, "reason": change.reason}
            for change in candidate.status_changes.all()
        ],
        "documents": [
            {
                "archive_path": document_archive_path(document),
                "kind": document.get_kind_display(),
                "original_name": document.original_name,
                "size": document.size,
                "sha256": document.sha256,
                "uploaded_at": document.uploaded_at,
                "is_late": document.is_late,
            }
            for document in candidate.documents.all()
        ],
        "access_log": [
            {"at": event.created_at, "action": event.action}
            for event in AuditEvent.objects.filter(
                target_type="candidates.candidate", target_id=str(candidate.pk)
            )
        ],
    }


def document_archive_path(document):
    return f"documents/{document.pk}-{download_name(document.original_name, document.content_type)}"


def build_candidate_archive(candidate):
    candidate = Candidate.objects.select_related("centre", "certification", "company", "tutor").get(
        pk=candidate.pk
    )
    payload = {
        "format": "cqpm-candidate-export/1",
        "generated_at": timezone.now(),
        "candidate": build_summary(candidate),
        "records": collect_records(candidate),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "candidat.json", json.dumps(payload, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
        )
        for document in candidate.documents.all():
            with document.file.open("rb") as handle:
                archive.writestr(document_archive_path(document), handle.read())
    return buffer.getvalue()
