"""Validation of uploaded files: by content (magic bytes), never by the name the browser sends."""

import hashlib
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

# kind → (content type, extension)
KINDS = {
    "pdf": ("application/pdf", "pdf"),
    "odt": ("application/vnd.oasis.opendocument.text", "odt"),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
    "png": ("image/png", "png"),
    "jpeg": ("image/jpeg", "jpg"),
    "csv": ("text/csv", "csv"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "json": ("application/json", "json"),
}

KIND_LABELS = {
    "pdf": "PDF",
    "odt": "ODT",
    "docx": "DOCX",
    "png": "PNG",
    "jpeg": "JPEG",
    "csv": "CSV",
    "xlsx": "XLSX",
    "json": "JSON",
}


@dataclass(frozen=True)
class UploadInfo:
    kind: str
    content_type: str
    extension: str
    size: int
    sha256: str


def _zip_kind(head_file):
    """ODT, DOCX and XLSX are ZIP containers: look inside to tell them apart (and from any other ZIP)."""
    try:
        with zipfile.ZipFile(head_file) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                mimetype = archive.read("mimetype").decode("ascii", "replace").strip()
                if mimetype == KINDS["odt"][0]:
                    return "odt"
            if "[Content_Types].xml" in names:
                if any(name.startswith("word/") for name in names):
                    return "docx"
                if any(name.startswith("xl/") for name in names):
                    return "xlsx"
    except (zipfile.BadZipFile, OSError, KeyError, ValueError):
        return None
    return None


def _looks_like_text(sample):
    if b"\x00" in sample:
        return False
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still text.
        if exc.start < len(sample) - 4:
            try:
                sample.decode("cp1252")
            except UnicodeDecodeError:
                return False
    return True


def detect_kind(uploaded_file):
    uploaded_file.seek(0)
    head = uploaded_file.read(8192)
    uploaded_file.seek(0)
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"PK\x03\x04"):
        kind = _zip_kind(uploaded_file)
        uploaded_file.seek(0)
        return kind
    guessed = filetype.guess(head)
    if guessed is not None:
        return None  # a known binary type we do not accept (executable, archive, video…)
    if _looks_like_text(head):
        stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        if stripped.startswith((b"{", b"[")):
            return "json"
        return "csv"
    return None


def validate_upload(uploaded_file, allowed=("pdf", "odt", "docx", "png", "jpeg"), max_size=None):
    """Check size and real content type; return UploadInfo with the SHA-256 of the content."""
    max_size = max_size or settings.MAX_UPLOAD_SIZE
    size = uploaded_file.size
    if not size:
        raise ValidationError(_("Le fichier est vide."), code="empty")
    if size > max_size:
        raise ValidationError(
            _("Le fichier est trop volumineux (%(size)s) : la taille maximale est %(max)s.")
            % {"size": filesizeformat(size), "max": filesizeformat(max_size)},
            code="too_large",
        )
    kind = detect_kind(uploaded_file)
    if kind not in allowed:
        raise ValidationError(
            _(
                "Le contenu du fichier n'est pas d'un type accepté (%(allowed)s). Le nom ou l'extension ne suffisent pas."
            )
            % {"allowed": ", ".join(KIND_LABELS[k] for k in allowed)},
            code="bad_type",
        )
    digest = hashlib.sha256()
    uploaded_file.seek(0)
    for chunk in uploaded_file.chunks():
        digest.update(chunk)
    uploaded_file.seek(0)
    content_type, extension = KINDS[kind]
    return UploadInfo(
        kind=kind, content_type=content_type, extension=extension, size=size, sha256=digest.hexdigest()
    )


_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


def safe_filename(name, default="document", extension=None):
    """A display/download name without directories, control or bidi characters (only ASCII letters,
    digits, dot, dash, underscore and space are kept) or leading dots.

    With `extension` (the one of the type detected from the content, e.g. "pdf"), the name ends with
    it whatever the uploader's extension was: "rapport.hta" holding a PDF becomes "rapport.pdf", so a
    browser or a mail client never opens it as something else.
    """
    name = PureWindowsPath(PurePosixPath(str(name or "")).name).name
    name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    name = _UNSAFE.sub("_", name).strip(" ._")
    if extension is None:
        return name[:150] or default
    stem = name.rsplit(".", 1)[0].strip(" ._") if "." in name else name
    return f"{stem[:140] or default}.{extension}"


def extension_for(content_type):
    """The extension of an accepted content type ("application/pdf" → "pdf"), or None."""
    for known_type, extension in KINDS.values():
        if known_type == content_type:
            return extension
    return None


def download_name(name, content_type, default="document"):
    """The name a stored file is served under: safe, with the extension of its checked content type
    (files stored before this rule keep their row; the name is corrected when served)."""
    return safe_filename(name, default=default, extension=extension_for(content_type))


def sha256_of_bytes(data):
    return hashlib.sha256(data).hexdigest()
