"""Public verification of a generated document (later editions, stored file integrity) and the
document settings of a centre."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.core.files.storage import default_storage

from core.models import CertificationCentre

from .. import seal
from ..models import (
    CentreDocumentSettings,
    DocumentStatus,
    GeneratedDocument,
)
from ..models.documents import SEALED_KINDS


def later_edition(document):
    """The newest produced edition of the same document (same session, kind and candidate) that
    replaces `document`, or None."""
    return (
        GeneratedDocument.objects.filter(
            session_id=document.session_id,
            kind=document.kind,
            candidate_id=document.candidate_id,
            status=DocumentStatus.DONE,
            version__gt=document.version,
        )
        .only("id", "version", "finished_at", "is_current")
        .order_by("-version")
        .first()
    )


@dataclass(frozen=True)
class Integrity:
    """The stored file checked again: its SHA-256 against the record, its seal with pyHanko."""

    erased: bool = False
    missing: bool = False
    sha256_matches: bool = False
    seal: object = None  # deliberations.seal.SealCheck for the sealed kinds, else None


def stored_file_integrity(document):
    if document.erased_at is not None:
        return Integrity(erased=True)
    try:
        with default_storage.open(document.file.name, "rb") as handle:
            content = handle.read()
    except (OSError, ValueError):
        return Integrity(missing=True)
    digest = hashlib.sha256(content).hexdigest()
    matches = digest == document.sha256
    # The seal's validation is remembered under the bytes' own digest (not the recorded one).
    check = seal.cached_check(content, digest) if document.kind in SEALED_KINDS else None
    return Integrity(sha256_matches=matches, seal=check)


def centres_managed_by(user):
    """The centres whose document settings the user may change (staff of the centre, superusers)."""
    if not getattr(user, "is_centre_staff", False):
        return CertificationCentre.objects.none()
    return CertificationCentre.objects.filter(pk__in=user.centre_ids()).order_by("code")


def document_settings_of(centre):
    return CentreDocumentSettings.objects.filter(centre=centre).first()
