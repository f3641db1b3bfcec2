"""Production of the deliberation documents (PV, attendance sheet, letters, parchemins, attestations,
ZIP packs). Called by the Celery task `deliberations.tasks.render_document` and by
`manage.py render_deliberation_documents --sync`.

One module per concern: `common` (failures, helpers shown in documents), `contexts` (what each
template receives), `splitting` (one PDF per candidate out of a batch), `production` (claim, render,
seal, publish: the steps below). This package re-exports their public names; tests that intercept a
step patch the module that calls it (`deliberations.documents.production`).

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

from .common import (
    DocumentError,
    DocumentsNotReady,
    mask_name,
    qr_png,
    verification_url,
)
from .contexts import (
    CAPITALISED_RULES,
    CODE_SEPARATOR,
    DECISION_SHORT,
    DEFAULT_CONTEST_TEXT,
    GRID_MM,
    OPINION_SHORT,
    PATHWAY_SHORT,
    PV_RULES,
    QR_KINDS,
    TEMPLATES,
    civility,
    document_settings,
)
from .production import (
    BATCH_KINDS,
    SEAL_REASON,
    build,
    build_batch,
    mark_failed,
    mark_waiting,
    produce,
    produce_batch,
    produce_session_documents_inline,
    seal_document,
)

__all__ = [
    "BATCH_KINDS",
    "CAPITALISED_RULES",
    "CODE_SEPARATOR",
    "DECISION_SHORT",
    "DEFAULT_CONTEST_TEXT",
    "DocumentError",
    "DocumentsNotReady",
    "GRID_MM",
    "OPINION_SHORT",
    "PATHWAY_SHORT",
    "PV_RULES",
    "QR_KINDS",
    "SEAL_REASON",
    "TEMPLATES",
    "build",
    "build_batch",
    "civility",
    "document_settings",
    "mark_failed",
    "mark_waiting",
    "mask_name",
    "produce",
    "produce_batch",
    "produce_session_documents_inline",
    "qr_png",
    "seal_document",
    "verification_url",
]
