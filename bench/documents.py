"""Documents of the 300-candidate reference session, produced by real Celery workers (issue 9).

Run by bench/bench.py with CELERY_BROKER_URL (a Redis database of its own) and the bench database:
  python bench/documents.py SESSION_ID
Prints progress on stderr and one JSON line on stdout:
1. the PV requested through `deliberations.services.request_document`, rendered by ONE worker, timed
   from the request to the record marked done (queue, queries, templating, WeasyPrint, storage,
   hashing, publication);
2. in this process, `deliberations.documents.build` of the same record with its `render_pdf`
   instrumented: context and queries, template rendering, and WeasyPrint alone on the same HTML;
   the SHA-256 and the storage write of a file of that size;
3. every document of the session (`request_session_documents`: PV, attendance sheet, letters,
   parchemins, bloc attestations) with TWO workers, then the ZIP archive of the session.

The machine may be shared: besides wall-clock times, the JSON gives CPU times, which do not depend
on the neighbours: of the worker processes (`*_worker_cpu_s`, from /proc) and of this process
(`*_cpu_s`, process_time), e.g. `weasyprint_cpu_s` and `pv_rest_cpu_ratio` = (the worker's CPU for
the PV − WeasyPrint's CPU on the same HTML) / WeasyPrint's CPU.
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cqpm.settings")
os.environ.setdefault("CQPM_BENCH", "1")  # the development-only bench app (bench.scale)
os.environ.setdefault("STATICFILES_BACKEND", "django.contrib.staticfiles.storage.StaticFilesStorage")


# The document run is bounded (BENCH_PACK_TIMEOUT seconds, 10 minutes by default).
PACK_TIMEOUT = float(os.environ.get("BENCH_PACK_TIMEOUT", 600))


def log(message):
    print(message, file=sys.stderr, flush=True)


class Worker:
    """A `celery worker` process on a queue of its own, stopped on exit."""

    def __init__(self, concurrency):
        self.concurrency = concurrency
        self.queue = f"bench-{uuid.uuid4().hex[:8]}"

    def __enter__(self):
        from cqpm.celery import app

        celery = shutil.which("celery", path=str(Path(sys.executable).parent)) or "celery"
        self.process = subprocess.Popen(
            [
                celery,
                "-A",
                "cqpm",
                "worker",
                "--loglevel=warning",
                f"--concurrency={self.concurrency}",
                "--pool=prefork",
                "-Q",
                self.queue,
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=os.environ.copy(),
        )
        app.conf.task_default_queue = self.queue
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit("Le worker Celery s'est arrêté au démarrage.")
            replies = app.control.ping(timeout=1.0)
            if replies:
                # Every process of the pool must be up before the clock starts.
                time.sleep(2)
                return self
        raise SystemExit("Le worker Celery ne répond pas.")

    def cpu_seconds(self):
        """CPU time (user + system) used so far by the worker and its pool processes (Linux /proc)."""
        ticks = os.sysconf("SC_CLK_TCK")
        children = subprocess.run(
            ["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True, check=False
        ).stdout.split()
        total = 0.0
        for pid in [self.process.pid, *map(int, children)]:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
        return total

    def __exit__(self, *exc):
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def wait_done(ids, timeout):
    """Poll until every record is done; returns the number done (fewer when the time ran out)."""
    from deliberations.models import DocumentStatus, GeneratedDocument

    deadline = time.monotonic() + timeout
    ids = list(ids)
    while True:
        rows = list(GeneratedDocument.objects.filter(pk__in=ids).values_list("status", flat=True))
        failed = rows.count(DocumentStatus.FAILED)
        if failed:
            errors = set(
                GeneratedDocument.objects.filter(pk__in=ids, status=DocumentStatus.FAILED).values_list(
                    "error", flat=True
                )
            )
            raise SystemExit(f"{failed} document(s) en échec : {errors}")
        done = rows.count(DocumentStatus.DONE)
        if done == len(ids) or time.monotonic() > deadline:
            return done
        time.sleep(0.05)


def instrumented_build(document):
    """`documents.build(document)` with the time of each stage and the HTML given to WeasyPrint.

    Returns (content, html, wall seconds per stage, CPU seconds per stage, number of queries)."""
    from django.db import connection
    from django.template.loader import render_to_string
    from django.test.utils import CaptureQueriesContext

    from core.pdf import html_to_pdf
    from deliberations import documents
    from deliberations.documents import production  # noqa: F401 - patched below

    stages = {"template": 0.0, "weasyprint": 0.0}
    cpu = {"template": 0.0, "weasyprint": 0.0}
    captured = {}

    def render_pdf(template_name, context, *, pdf_variant=None):
        started, started_cpu = time.perf_counter(), time.process_time()
        html = render_to_string(template_name, context)
        stages["template"] += time.perf_counter() - started
        cpu["template"] += time.process_time() - started_cpu
        started, started_cpu = time.perf_counter(), time.process_time()
        content = html_to_pdf(html, pdf_variant=pdf_variant)  # PDF/A for the PV (issue 17)
        stages["weasyprint"] += time.perf_counter() - started
        cpu["weasyprint"] += time.process_time() - started_cpu
        captured["html"] = html
        return content

    html_to_pdf("<p>warm-up</p>")  # fonts loaded once per process, as in a worker that already ran
    # What a worker loads when it starts (cqpm/celery.py): the URLconf, pyHanko's code, the seal.
    from django.urls import get_resolver, reverse

    from deliberations import seal

    get_resolver().url_patterns  # noqa: B018 - loading it is the point
    reverse("deliberations:verify_number", args=["0"])
    seal.preload_code()
    seal.current()
    with (
        CaptureQueriesContext(connection) as queries,
        mock.patch.object(documents.production, "render_pdf", render_pdf),
    ):
        started, started_cpu = time.perf_counter(), time.process_time()
        content = documents.build(document)
        total, total_cpu = time.perf_counter() - started, time.process_time() - started_cpu
    stages["context"] = total - stages["template"] - stages["weasyprint"]
    cpu["context"] = total_cpu - cpu["template"] - cpu["weasyprint"]
    return content, captured["html"], stages, cpu, len(queries.captured_queries)


def candidate_batches_cpu(session):
    """CPU seconds, in this process, to build every candidate document of the session by batches
    (context, templates, WeasyPrint, split), without storing anything: the pack's work besides
    the PV and the attendance sheet, independent of the machine's load."""
    from deliberations import documents
    from deliberations.models import DocumentKind, GeneratedDocument
    from deliberations.services import DOCUMENT_BATCH_SIZE

    records = list(
        GeneratedDocument.objects.filter(
            session=session, is_current=True, kind__in=sorted(documents.BATCH_KINDS)
        )
        .select_related("session__centre", "session__certification", "session__jury", "candidate")
        .order_by("kind", "candidate__reference")
    )
    by_kind = {}
    for record in records:
        by_kind.setdefault(record.kind, []).append(record)
    cpu, count = {}, 0
    for kind, kind_records in by_kind.items():
        started = time.process_time()
        for i in range(0, len(kind_records), DOCUMENT_BATCH_SIZE):
            built = documents.build_batch(kind_records[i : i + DOCUMENT_BATCH_SIZE])
            bad = [pk for pk, content in built.items() if isinstance(content, Exception)]
            if bad:
                raise SystemExit(f"{len(bad)} document(s) {kind} impossibles à produire")
            count += len(built)
        cpu[str(DocumentKind(kind).label)] = time.process_time() - started
    return count, cpu


def main(session_id):
    import django

    django.setup()
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from pypdf import PdfReader

    from deliberations import services
    from deliberations.models import DeliberationSession, DocumentKind, DocumentStatus, GeneratedDocument

    session = DeliberationSession.objects.get(pk=session_id)
    size = session.entries.count()
    # Records left pending by an interrupted earlier run have no task any more: a new request would
    # return them as "already pending" and wait for ever. They are bench artefacts: remove them.
    GeneratedDocument.objects.filter(
        session=session, status__in=[DocumentStatus.QUEUED, DocumentStatus.RENDERING, DocumentStatus.FAILED]
    ).delete()
    result = {"session_size": size}

    # The requesting process imports the tasks module (and WeasyPrint through it) on its first
    # enqueue: about 1 s that a web process has already paid when it loaded its views. Paid here,
    # before the clock, so that « end to end » measures the request, the queue and the worker.
    import deliberations.tasks  # noqa: F401

    log(f"PV de la session {session_id} ({size} candidats), un worker…")
    with Worker(concurrency=1) as worker:
        cpu_before = worker.cpu_seconds()
        started = time.perf_counter()
        document = services.request_document(actor=None, session=session, kind=DocumentKind.PV)
        if not wait_done([document.pk], timeout=900):
            raise SystemExit("PV non produit en 15 minutes.")
        result["pv_end_to_end_s"] = time.perf_counter() - started
        result["pv_worker_cpu_s"] = worker.cpu_seconds() - cpu_before
    document = GeneratedDocument.objects.get(pk=document.pk)
    result["pv_worker_s"] = (document.finished_at - document.started_at).total_seconds()
    with default_storage.open(document.file.name, "rb") as handle:
        result["pv_pages"] = len(PdfReader(handle).pages)
    result["pv_bytes"] = document.size

    log("Même PV dans ce processus, étape par étape (WeasyPrint seul sur le HTML produit)…")
    content, html, stages, cpu, queries = instrumented_build(document)
    result["weasyprint_s"] = stages["weasyprint"]
    result["weasyprint_cpu_s"] = cpu["weasyprint"]
    result["pv_context_s"] = stages["context"]
    result["pv_context_cpu_s"] = cpu["context"]
    result["pv_template_s"] = stages["template"]
    result["pv_template_cpu_s"] = cpu["template"]
    result["pv_queries"] = queries
    result["pv_html_bytes"] = len(html.encode())
    started = time.perf_counter()
    hashlib.sha256(content).hexdigest()
    name = default_storage.save(f"bench/{uuid.uuid4().hex}.pdf", ContentFile(content))
    result["pv_store_s"] = time.perf_counter() - started
    default_storage.delete(name)
    result["pv_rest_s"] = max(0.0, result["pv_end_to_end_s"] - result["weasyprint_s"])
    result["pv_rest_ratio"] = result["pv_rest_s"] / result["weasyprint_s"]
    # The same ratio in CPU time: what the worker spent besides WeasyPrint, whatever the load.
    result["pv_rest_cpu_ratio"] = max(0.0, result["pv_worker_cpu_s"] - cpu["weasyprint"]) / cpu["weasyprint"]

    log("Tous les documents de la session, deux workers…")
    with Worker(concurrency=2) as worker:
        cpu_before = worker.cpu_seconds()
        started = time.perf_counter()
        produced = services.request_session_documents(actor=None, session=session)
        result["pack_request_s"] = time.perf_counter() - started
        done = wait_done([d.pk for d in produced], timeout=PACK_TIMEOUT)
        elapsed = time.perf_counter() - started
        result["pack_worker_cpu_s"] = worker.cpu_seconds() - cpu_before
        result["pack_documents"] = len(produced)
        result["pack_done"] = done
        # Bounded run: past the time limit the total is extrapolated from the rate so far.
        result["pack_s"] = elapsed if done == len(produced) else elapsed * len(produced) / max(done, 1)
        result["pack_extrapolated"] = done < len(produced)
        if done == len(produced):
            started = time.perf_counter()
            archive = services.request_document(actor=None, session=session, kind=DocumentKind.PACK)
            wait_done([archive.pk], timeout=600)
            result["zip_s"] = time.perf_counter() - started
        else:
            result["zip_s"] = None
            log(f"{done}/{len(produced)} documents en {elapsed:.0f} s : durée totale extrapolée.")
    kinds = {}
    for document in produced:
        kinds[document.kind] = kinds.get(document.kind, 0) + 1
    result["pack_kinds"] = kinds

    log("Documents des candidats par lots, dans ce processus (temps CPU)…")
    count, per_kind = candidate_batches_cpu(session)
    result["candidate_documents_cpu_s"] = per_kind
    result["candidate_document_cpu_ms"] = 1000 * sum(per_kind.values()) / max(count, 1)
    log(json.dumps({k: v for k, v in result.items() if "cpu" in k or k.startswith("pack")}, default=str))
    print(json.dumps(result))


if __name__ == "__main__":
    main(int(sys.argv[1]))
