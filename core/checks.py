"""System checks of the platform. `cqpm.E001` (deploy): the SECRET_KEY must not appear in any file of
the repository (a key copied from a README, a compose file or a CI script is known to everyone who
can read the code). Run by `manage.py check --deploy`."""

import os
from pathlib import Path

from django.conf import settings
from django.core.checks import Error, Tags, register

# Folders that are not the repository's text (dependencies, caches, user files).
SKIPPED_DIRS = {
    ".git",
    ".venv",
    "venv",
    "node_modules",
    "__pycache__",
    ".hypothesis",
    ".ruff_cache",
    ".pytest_cache",
    "media",
    "staticfiles",
    "var",
}
MAX_SCANNED_FILE = 2 * 1024 * 1024


def files_containing(secret, root):
    """Paths (relative to `root`) of the files under `root` that contain `secret`."""
    needle = secret.encode()
    skipped = set(SKIPPED_DIRS)
    for setting in ("MEDIA_ROOT", "STATIC_ROOT"):
        value = getattr(settings, setting, None)
        if value:
            skipped.add(Path(value).name)
    found = []
    for directory, dirnames, filenames in os.walk(root):
        dirnames[:] = [name for name in dirnames if name not in skipped]
        for filename in filenames:
            path = Path(directory) / filename
            try:
                if path.stat().st_size > MAX_SCANNED_FILE:
                    continue
                if needle in path.read_bytes():
                    found.append(str(path.relative_to(root)))
            except OSError:
                continue
    return found


@register(Tags.security, deploy=True)
def check_secret_key_not_in_repository(app_configs=None, **kwargs):
    secret = getattr(settings, "SECRET_KEY", "") or ""
    if len(secret) < 16:
        return []  # too short to search for; Django's security.W009 reports it
    found = files_containing(secret, Path(settings.BASE_DIR))
    if not found:
        return []
    where = ", ".join(sorted(found)[:5])
    return [
        Error(
            f"SECRET_KEY appears in the repository ({where}): it is known to anyone who can read the code.",
            hint="Generate a new random key and give it only through the environment.",
            id="cqpm.E001",
        )
    ]
