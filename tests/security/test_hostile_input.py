"""Hostile input on the shared helpers and the forms: property-based tests (hypothesis).

Whatever the input, the helpers answer with a result or a ValidationError (never another exception),
uploaded names never keep a directory, and exported cells never start with a formula character.
Forms answer with a re-rendered page and store nothing, or store one valid row — never a 500.
"""

import contextlib
import csv
import hashlib
import io
import string
import zipfile

import pytest
from django.core.exceptions import SuspiciousFileOperation, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.exports import DANGEROUS_PREFIXES, csv_bytes, neutralise, xlsx_bytes
from core.files import KINDS, safe_filename, validate_upload

DB_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FAST = settings(max_examples=300, deadline=None)

# Beginnings of real file formats (and of hostile ones) mixed with random bytes below.
MAGIC = [
    b"%PDF-1.7\n",
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff\xe0",
    b"PK\x03\x04",
    b"MZ\x90\x00",
    b"\x7fELF",
    b"GIF89a",
    b"\xef\xbb\xbf",
    b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script>",
    b"<?php system($_GET['c']); ?>",
    b"=cmd|' /C calc'!A0;",
    b"",
]
contents = st.one_of(
    st.binary(max_size=4096),
    st.builds(lambda magic, tail: magic + tail, st.sampled_from(MAGIC), st.binary(max_size=2048)),
)
names = st.one_of(
    st.text(max_size=300),
    st.sampled_from(
        [
            "../../etc/passwd",
            "..\\..\\windows\\system32\\config\\SAM",
            "/absolute/path.pdf",
            "C:\\Users\\x\\rapport.pdf",
            "rapport.pdf\x00.exe",
            "....//....//x.pdf",
            ".htaccess",
            "..",
            ".",
            "",
            "con.pdf",
            "rapport\u202egnp.exe",
            "%2e%2e%2fetc%2fpasswd",
            "ﬁchier／slash.pdf",
            "a" * 1000 + ".pdf",
        ]
    ),
)


def zip_with(members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


# --- uploads ---------------------------------------------------------------------------------------


@FAST
@given(content=contents, name=names)
def test_validate_upload_returns_a_checked_kind_or_a_validation_error(content, name):
    upload = SimpleUploadedFile("x", content)
    with contextlib.suppress(SuspiciousFileOperation):  # Django itself refuses some names ("", "..")
        upload.name = name  # the browser's name, whatever it is
    try:
        info = validate_upload(upload)
    except ValidationError as exc:
        assert exc.code in {"empty", "too_large", "bad_type"}
        assert exc.messages and all(message.strip() for message in exc.messages)
        return
    assert info.kind in {"pdf", "odt", "docx", "png", "jpeg"}
    assert (info.content_type, info.extension) == KINDS[info.kind]
    assert info.size == len(content) > 0
    assert info.sha256 == hashlib.sha256(content).hexdigest()
    # The content decides: an accepted file really starts like its kind.
    assert content.startswith(
        {"pdf": b"%PDF-", "png": b"\x89PNG", "jpeg": b"\xff\xd8\xff"}.get(info.kind, b"PK")
    )


@FAST
@given(
    content=st.binary(min_size=1, max_size=512), allowed=st.sets(st.sampled_from(sorted(KINDS)), min_size=1)
)
def test_only_allowed_kinds_pass(content, allowed):
    try:
        info = validate_upload(SimpleUploadedFile("x", content), allowed=tuple(sorted(allowed)))
    except ValidationError:
        return
    assert info.kind in allowed


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("rapport.pdf", b"MZ\x90\x00" + b"\x00" * 300),  # a Windows executable named .pdf
        ("rapport.pdf", b"<html><script>alert(1)</script></html>"),
        ("photo.png", b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>"),
        ("rapport.docx", zip_with({"evil.sh": "rm -rf /"})),  # a ZIP that is no office document
        ("rapport.docx", zip_with({"../../evil": "x", "[Content_Types].xml": "<Types/>"})),
        ("rapport.odt", zip_with({"mimetype": "application/zip"})),
        ("rapport.pdf", b"\x00" * 64),
    ],
)
def test_wrong_content_behind_an_accepted_extension_is_refused(name, content):
    with pytest.raises(ValidationError) as excinfo:
        validate_upload(SimpleUploadedFile(name, content))
    assert excinfo.value.code == "bad_type"
    assert "Le nom ou l'extension ne suffisent pas" in excinfo.value.messages[0]


def test_huge_file_is_refused_before_reading_its_content(settings):
    settings.MAX_UPLOAD_SIZE = 5 * 1024 * 1024

    class HugeUpload(SimpleUploadedFile):
        def read(self, *args):  # pragma: no cover - must not be called
            raise AssertionError("content read before the size check")

    upload = HugeUpload("enorme.pdf", b"%PDF-")
    upload.size = 5 * 1024 * 1024 + 1
    with pytest.raises(ValidationError) as excinfo:
        validate_upload(upload)
    assert excinfo.value.code == "too_large"
    assert "trop volumineux" in excinfo.value.messages[0] and "5,0" in excinfo.value.messages[0]


# --- file names ------------------------------------------------------------------------------------

SAFE_CHARS = set(string.ascii_letters + string.digits + "._ -")


@FAST
@given(name=st.one_of(names, st.binary(max_size=200).map(lambda b: b.decode("latin-1"))))
def test_safe_filename_never_keeps_a_path_or_a_hostile_character(name):
    result = safe_filename(name)
    assert isinstance(result, str) and result
    assert "/" not in result and "\\" not in result
    assert set(result) <= SAFE_CHARS
    assert not result.startswith(".") and not result.endswith((".", " "))
    assert result not in {".", ".."}
    assert len(result) <= 150
    assert safe_filename(result) == result  # idempotent: a stored name stays the same


leaves = st.text(alphabet=string.ascii_letters + string.digits + "._- é", min_size=1, max_size=40).filter(
    lambda leaf: any(char.isalnum() for char in leaf)
)


@FAST
@given(
    directories=st.lists(st.sampled_from(["..", ".", "etc", "C:", "~", "%2e%2e"]), max_size=6), leaf=leaves
)
def test_traversal_prefixes_are_dropped(directories, leaf):
    for separator in ("/", "\\"):
        assert safe_filename(separator.join([*directories, leaf])) == safe_filename(leaf)


# --- exports ---------------------------------------------------------------------------------------

cell_values = st.one_of(
    st.text(),
    st.sampled_from(
        [
            "=1+1",
            "+33 6 12",
            "-2+3",
            "@SUM(A1)",
            "\t=1",
            "\r=1",
            '=HYPERLINK("http://evil";"x")',
            "=cmd|' /C calc'!A0",
        ]
    ),
    st.builds(lambda p, t: p + t, st.sampled_from(DANGEROUS_PREFIXES), st.text()),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
    st.dates(),
)


@FAST
@given(value=cell_values)
def test_neutralised_cells_never_start_with_a_formula_character(value):
    result = neutralise(value)
    if isinstance(value, bool) or value is None:
        assert result in {"oui", "non", ""}
    elif isinstance(value, int | float):
        assert result == value
    else:
        assert isinstance(result, str)
        assert not result.startswith(DANGEROUS_PREFIXES)
        if isinstance(value, str):
            # Nothing else changes: the original text is still there, after at most one quote.
            assert result in (value, "'" + value)


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.lists(cell_values, min_size=3, max_size=3), max_size=8))
def test_csv_export_keeps_rows_and_cells_and_runs_no_formula(rows):
    content = csv_bytes(["a", "b", "c"], rows).decode("utf-8")
    assert content.startswith("\ufeff")
    parsed = list(csv.reader(io.StringIO(content[1:], newline=""), delimiter=";"))
    assert len(parsed) == len(rows) + 1  # no cell can add a row (newlines are quoted)
    for row, parsed_row in zip(rows, parsed[1:], strict=True):
        assert len(parsed_row) == 3
        for value, cell in zip(row, parsed_row, strict=True):
            # A number ("-1") is data, not a formula; every text is neutralised.
            if not isinstance(value, int | float) or isinstance(value, bool):
                assert not cell.startswith(DANGEROUS_PREFIXES)


@settings(max_examples=25, deadline=None)
@given(rows=st.lists(st.lists(cell_values, min_size=2, max_size=2), max_size=5))
def test_xlsx_export_holds_values_never_formulas(rows):
    from openpyxl import load_workbook

    # Control characters (which openpyxl refuses) must not make the export crash either.
    content = xlsx_bytes(["a", "b"], rows)
    sheet = load_workbook(io.BytesIO(content)).active
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f"
            if isinstance(cell.value, str):
                assert not cell.value.startswith(DANGEROUS_PREFIXES)
