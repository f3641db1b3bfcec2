"""Production of the deliberation documents' files (PV, attendance sheet, letters, parchemins, attestations,
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

import hashlib
import io
import logging
import posixpath
import zipfile

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from weasyprint.pdf.pdfa import VARIANTS  # noqa: F401 - the variant names checked in PDFA_VARIANT

from core.pdf import PDFA_VARIANT, render_html, render_pdf

from .. import seal, services
from ..models import (
    DocumentKind,
    DocumentStatus,
    GeneratedDocument,
)
from ..models.documents import SEALED_KINDS
from ..notifications import notify_result_letter_available
from .common import (
    DocumentError,
    DocumentsNotReady,
)
from .contexts import (
    TEMPLATES,
    _base_context,
    _candidate_context,
    _candidate_contexts,
    _jury_context,
    _pv_context,
)
from .splitting import (
    _page_ranges,
    _split,
)

logger = logging.getLogger(__name__)


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
