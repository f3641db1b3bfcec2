"""A worker loads, when it starts, what its first document would otherwise load while a user waits
(cqpm/celery.py): the URLconf and the verification link's reverse table, pyHanko, the seal."""

import os
import subprocess
import sys
from pathlib import Path

from cqpm import celery as worker
from deliberations import seal

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import sys, django
django.setup()
from deliberations import seal
before = [m for m in seal.PYHANKO_MODULES if m in sys.modules]
from cqpm import celery
celery.load_code_before_the_first_task()
after = [m for m in seal.PYHANKO_MODULES if m in sys.modules]
print(len(before), len(after), len(seal.PYHANKO_MODULES))
"""


def test_the_worker_imports_pyhanko_when_it_starts_not_at_its_first_seal():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "cqpm.settings_test"}
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    before, after, total = map(int, out[-3:])
    assert before == 0 and after == total


def test_each_pool_process_loads_the_seal_before_its_first_task(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.CQPM_SEAL = {"PKCS12_PATH": "", "PKCS12_PASSWORD": "", "DEMO": True}
    seal.reset_cache()
    try:
        worker.load_seal_in_each_child()
        loaded = seal._cache.get("seal")
        assert loaded is not None and loaded.is_demo
    finally:
        seal.reset_cache()
