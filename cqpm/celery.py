import contextlib
import os

from celery import Celery
from celery.signals import worker_init, worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cqpm.settings")

app = Celery("cqpm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


# What a worker's first task would otherwise load while a user waits for a document (measured by
# `make bench`: about 1.2 s on the first PV of a fresh worker). Imports inside the handlers: this
# module is imported before Django's apps are ready (cqpm/__init__.py).


@worker_init.connect
def load_code_before_the_first_task(**kwargs):
    """In the main worker process, before the pool forks: the URLconf (every view, hence WeasyPrint;
    the documents' verification links are `reverse`d) and pyHanko's code, shared by the children."""
    from django.urls import get_resolver, reverse  # noqa: PLC0415 - apps are not ready at import time

    from deliberations import seal  # noqa: PLC0415 - apps are not ready at import time

    get_resolver().url_patterns  # noqa: B018 - loading it is the point
    reverse("deliberations:verify_number", args=["0"])  # the namespace's reverse table, built once
    seal.preload_code()


@worker_process_init.connect
def load_seal_in_each_child(**kwargs):
    """In each pool process, after the fork: the certifier's certificate (file I/O, not shared)."""
    from deliberations import seal  # noqa: PLC0415 - apps are not ready at import time

    # A missing or invalid certificate is reported on the documents page and by the task needing it.
    with contextlib.suppress(seal.SealConfigurationError):
        seal.current()
