"""Celery tasks of the candidates app: check, then import, an uploaded file of candidates (ImportJob).

Each task takes the job's id and is idempotent (a job past the task's step is left as is: a task run
again on a done job does nothing). `acks_late` + `reject_on_worker_lost` put the message back when
the worker dies mid-run: the commit is one transaction, so a re-run starts from a clean state.
Transient database errors are retried with a bounded backoff; any other failure marks the job failed
with a French message the page shows (nothing is imported: all or nothing).
"""

import logging

from celery import shared_task
from django.db import DatabaseError, InterfaceError, OperationalError
from django.utils.translation import gettext as _

from core.exceptions import BusinessRuleError

from . import services

logger = logging.getLogger(__name__)

TRANSIENT_ERRORS = (OperationalError, InterfaceError)
MAX_RETRIES = 3


def backoff(retries):
    """2 s, 4 s, 8 s (at most 60 s)."""
    return min(2 ** (retries + 1), 60)


def _public_message(exc):
    if isinstance(exc, BusinessRuleError):
        return exc.message
    if isinstance(exc, DatabaseError):
        return _(
            "Base de données momentanément indisponible : aucun candidat n'a été importé. Déposez le fichier à nouveau."
        )
    return _(
        "Erreur inattendue pendant l'import : aucun candidat n'a été importé. Déposez le fichier à nouveau "
        "ou contactez l'assistance."
    )


def _run(task, body, job_id):
    try:
        body(job_id)
    except TRANSIENT_ERRORS as exc:
        if task.request.retries >= task.max_retries:
            logger.warning("Import job %s failed after %s retries", job_id, task.request.retries)
            services.fail_import_job(job_id, _public_message(exc))
            return job_id
        logger.warning("Import job %s: transient error, retrying: %r", job_id, exc)
        raise task.retry(exc=exc, countdown=backoff(task.request.retries)) from exc
    except Exception as exc:  # noqa: BLE001 - recorded on the job, the page says what to do
        if not isinstance(exc, BusinessRuleError):
            logger.exception("Import job %s failed", job_id)
        services.fail_import_job(job_id, _public_message(exc))
    return job_id


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=MAX_RETRIES)
def validate_import(self, job_id):
    """Check every row of the job's file; the job becomes « prêt à importer » or « erreurs à corriger »."""
    return _run(self, services.run_import_validation, job_id)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=MAX_RETRIES)
def commit_import(self, job_id):
    """Import the confirmed job's rows in one transaction; the job becomes « importé »."""
    return _run(self, services.run_import_commit, job_id)


@shared_task(acks_late=True)
def expire_import_jobs():
    """Delete the files of checked imports left unconfirmed (can be scheduled daily by Celery beat)."""
    return services.expire_import_jobs()
