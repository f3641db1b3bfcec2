import csv
import io
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from core.exports import csv_bytes, neutralise, xlsx_bytes
from core.files import safe_filename, validate_upload

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 100
WINDOWS_EXE = b"MZ\x90\x00" + b"\x00" * 200


def docx_bytes():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def odt_bytes():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", "<office:document-content/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "name, content, kind",
    [
        ("rapport.pdf", PDF, "pdf"),
        ("photo.png", PNG, "png"),
        ("rapport.docx", docx_bytes(), "docx"),
        ("rapport.odt", odt_bytes(), "odt"),
        # The content decides, not the name.
        ("rapport.txt", PDF, "pdf"),
    ],
)
def test_accepted_content(name, content, kind):
    info = validate_upload(SimpleUploadedFile(name, content))
    assert info.kind == kind
    assert len(info.sha256) == 64


@pytest.mark.parametrize(
    "name, content, code",
    [
        ("rapport.pdf", ELF, "bad_type"),
        ("rapport.pdf", WINDOWS_EXE, "bad_type"),
        ("rapport.pdf", b"", "empty"),
        ("rapport.docx", b"PK\x03\x04not really a zip", "bad_type"),
        ("notes.pdf", b"juste du texte", "bad_type"),
    ],
)
def test_refused_content(name, content, code):
    with pytest.raises(ValidationError) as excinfo:
        validate_upload(SimpleUploadedFile(name, content))
    assert excinfo.value.code == code


def test_oversized_upload_is_refused_with_french_message(settings):
    settings.MAX_UPLOAD_SIZE = 100
    with pytest.raises(ValidationError) as excinfo:
        validate_upload(SimpleUploadedFile("gros.pdf", PDF + b"x" * 200))
    assert "trop volumineux" in excinfo.value.messages[0]


@pytest.mark.parametrize(
    "name, expected",
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\system32\\cmd.exe", "cmd.exe"),
        ("rapport final é.pdf", "rapport final e.pdf"),
        ("", "document"),
        ("....", "document"),
    ],
)
def test_safe_filename(name, expected):
    assert safe_filename(name) == expected


@pytest.mark.parametrize("value", ["=1+1", "+33 6", "-2", "@SUM(A1)", "\tcmd", "\rcmd"])
def test_formula_cells_are_neutralised(value):
    assert neutralise(value) == "'" + value


def test_csv_and_xlsx_exports_keep_values_and_neutralise_formulas():
    rows = [["Dupont", '=HYPERLINK("http://x")', 3]]
    text = csv_bytes(["Nom", "Note", "N"], rows).decode("utf-8-sig")
    parsed = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert parsed[1] == ["Dupont", '\'=HYPERLINK("http://x")', "3"]
    workbook = load_workbook(io.BytesIO(xlsx_bytes(["Nom", "Note", "N"], rows)))
    sheet = workbook.active
    assert [c.value for c in sheet[2]] == ["Dupont", '\'=HYPERLINK("http://x")', 3]
    assert sheet["B2"].data_type == "s"


def test_render_pdf_produces_a_pdf():
    from pypdf import PdfReader

    from core.pdf import html_to_pdf

    data = html_to_pdf("<html><body><h1>Procès-verbal</h1></body></html>")
    assert data.startswith(b"%PDF")
    assert "Procès-verbal" in PdfReader(io.BytesIO(data)).pages[0].extract_text()


def test_pdf_loads_static_stylesheets_and_data_images_but_nothing_external(caplog):
    from pypdf import PdfReader

    from core.pdf import StaticOnlyURLFetcher, html_to_pdf

    pixel = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
    html = (
        '<html><head><link rel="stylesheet" href="/static/css/app.css"></head>'
        f'<body><h1>Attestation</h1><img src="{pixel}" alt=""><img src="http://example.org/x.png" alt=""></body></html>'
    )
    data = html_to_pdf(html)
    assert "Attestation" in PdfReader(io.BytesIO(data)).pages[0].extract_text()
    fetcher = StaticOnlyURLFetcher()
    assert b"skip-link" in fetcher.fetch("file:///static/css/app.css").read()
    with pytest.raises(ValueError):
        fetcher.fetch("http://example.org/x.png")
    with pytest.raises(ValueError):
        fetcher.fetch("file:///etc/passwd")
