"""The WSGI entry point loads every view when the server process starts (cqpm/wsgi.py)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_wsgi_module_imports_the_views_and_weasyprint_at_start():
    # A fresh interpreter: in the test process everything is already imported.
    code = "import sys, cqpm.wsgi; print('deliberations.views' in sys.modules, 'weasyprint' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.split() == ["True", "True"]
