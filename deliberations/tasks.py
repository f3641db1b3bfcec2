"""Celery tasks of the deliberations: produce generated documents (PV, letters, parchemins…).

`render_document` produces one record, `render_documents` a batch of records (the candidate
documents of a session, laid out several per WeasyPrint run). Both take ids, are idempotent (a
`done` record is left as is) and safe to run again after a crash: `acks_late` +
`reject_on_worker_lost` put the message back when the worker dies, and `documents.produce` /
`documents.produce_batch` never expose a half-written file (see their docstrings).
"""

import logging

from celery import shared_task
from celery.signals import worker_process_init
from django.db import DatabaseError, InterfaceError, OperationalError
from django.template import loader

from core.pdf import html_to_pdf

from . import documents

logger = logging.getLogger(__name__)

# Failures worth a retry: the database or the storage briefly unavailable, dependencies pending.
TRANSIENT_ERRORS = (OperationalError, InterfaceError, OSError, documents.DocumentsNotReady)
MAX_RETRIES = 5


@worker_process_init.connect
def warm_up_pdf_rendering(**kwargs):
    """Load the fonts and compile the PDF templates once per worker process, before its first task
    (about 0.15 s that the first PV would otherwise pay). Nothing here touches the database."""
    try:
        html_to_pdf('<p><strong>CQPM</strong> <span style="font-family: monospace">A NA</span></p>')
        for template_name in documents.TEMPLATES.values():
            loader.get_template(template_name)
    except Exception:  # noqa: BLE001 - an optimisation only: the tasks work without it
        logger.exception("PDF warm-up failed")


def backoff(retries):
    """2 s, 4 s, 8 s, 16 s, 32 s: bounded (at most 60 s)."""
    return min(2 ** (retries + 1), 60)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=MAX_RETRIES)
def render_document(self, document_id):
    try:
        document = documents.produce(document_id)
    except TRANSIENT_ERRORS as exc:
        if self.request.retries >= self.max_retries:
            logger.warning("Document %s failed after %s retries", document_id, self.request.retries)
            documents.mark_failed(document_id, _public_message(exc))
            return str(document_id)
        logger.warning("Document %s: transient error, retrying: %r", document_id, exc)
        documents.mark_waiting(document_id, _public_message(exc))
        raise self.retry(exc=exc, countdown=backoff(self.request.retries)) from exc
    except Exception as exc:  # noqa: BLE001 - a permanent failure is recorded, the page offers a retry
        logger.exception("Document %s could not be produced", document_id)
        documents.mark_failed(document_id, _public_message(exc))
        return str(document_id)
    return str(document.pk)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=MAX_RETRIES)
def render_documents(self, document_ids):
    """A batch of documents; a failure of one is recorded on its record, the others are produced."""
    try:
        failures = documents.produce_batch(document_ids, transient=TRANSIENT_ERRORS)
    except TRANSIENT_ERRORS as exc:
        if self.request.retries >= self.max_retries:
            logger.warning(
                "Batch of %s documents failed after %s retries", len(document_ids), self.request.retries
            )
            for document_id in document_ids:
                documents.mark_failed(document_id, _public_message(exc))
            return list(document_ids)
        logger.warning("Batch of %s documents: transient error, retrying: %r", len(document_ids), exc)
        for document_id in document_ids:
            documents.mark_waiting(document_id, _public_message(exc))
        raise self.retry(exc=exc, countdown=backoff(self.request.retries)) from exc
    for document_id, exc in failures:
        logger.error("Document %s could not be produced: %r", document_id, exc)
        documents.mark_failed(document_id, _public_message(exc))
    return [str(i) for i in document_ids]


def _public_message(exc):
    if isinstance(exc, documents.DocumentsNotReady | documents.DocumentError):
        return str(exc)
    if isinstance(exc, DatabaseError):
        return "Base de données momentanément indisponible."
    if isinstance(exc, OSError):
        return "Stockage des fichiers momentanément indisponible."
    return "Erreur lors de la production du document ; réessayez ou contactez l'assistance."
