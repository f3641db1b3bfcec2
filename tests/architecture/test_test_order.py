"""The random test order keeps the browser journeys in one block per package, last (tests/conftest.py).

A shuffled order once put tests/evaluations/test_browser.py between two tests/e2e modules: its Chromium
was still running when tests/e2e started its own (« Playwright Sync API inside the asyncio loop »)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("seed", [1, 2, 3, 12345])
def test_browser_tests_come_last_e2e_first_whatever_the_seed(seed):
    collected = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            f"--randomly-seed={seed}",
            "tests/e2e",
            "tests/evaluations/test_browser.py",
            "tests/evaluations/test_concurrency.py",
            "tests/deliberations/test_documents.py",
            "tests/core/test_widgets.py",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    ids = [line for line in collected if "::" in line]
    kinds = [
        "e2e" if line.startswith("tests/e2e/") else "browser" if "test_browser.py" in line else "other"
        for line in ids
    ]
    assert kinds.count("e2e") > 10 and kinds.count("browser") >= 3 and kinds.count("other") > 5
    first_e2e = kinds.index("e2e")
    assert set(kinds[:first_e2e]) == {"other"}
    assert kinds[first_e2e:] == ["e2e"] * kinds.count("e2e") + ["browser"] * kinds.count("browser")
    e2e_modules = [line.split("::")[0] for line in ids if line.startswith("tests/e2e/")]
    assert len(set(e2e_modules)) > 3  # several modules, each kept whole by pytest-randomly
