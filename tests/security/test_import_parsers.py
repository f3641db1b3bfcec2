"""Hostile input on the import parsers (referential JSON, candidates CSV/XLSX) and on the forms.

Property: whatever the file or the form data, the answer is the imported data or a clear list of
errors — never another exception, never a half-written import.
"""

import copy
import csv
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from candidates.importing import COLUMNS, ImportFileError, read_table, row_to_kwargs
from candidates.models import Candidate, Company
from candidates.services import import_candidates
from referential import formats
from referential.models import Certification, Competency, Criterion
from referential.services import ReferentialImportError, import_certification, import_certification_file
from tests.candidates.factories import MINIMAL_PDF, CandidateFactory, CompanyFactory, TutorFactory
from tests.core.factories import CentreFactory, StaffFactory
from tests.referential.factories import CertificationFactory

DB = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FAST = settings(max_examples=200, deadline=None)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)


@pytest.fixture(scope="module")
def seed_document():
    from referential.demo import SEED_FILE

    return json.loads(SEED_FILE.read_text(encoding="utf-8"))


def paths_of(document, prefix=()):
    """Every location of a JSON document: ("blocks", 0, "competencies", 1, "title"), ..."""
    yield prefix
    if isinstance(document, dict):
        for key, value in document.items():
            yield from paths_of(value, (*prefix, key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            yield from paths_of(value, (*prefix, index))


def replaced(document, path, value):
    document = copy.deepcopy(document)
    if not path:
        return value
    node = document
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return document


def removed(document, path):
    document = copy.deepcopy(document)
    node = document
    for step in path[:-1]:
        node = node[step]
    del node[path[-1]]
    return document


def counts():
    return (Certification.objects.count(), Competency.objects.count(), Criterion.objects.count())


# --- referential JSON ------------------------------------------------------------------------------


@FAST
@given(raw=st.one_of(st.binary(max_size=2000), st.text(max_size=2000).map(str.encode)))
def test_parse_json_never_raises(raw):
    data, errors = formats.parse_json(raw)
    assert (data is None) == bool(errors)
    for error in errors:
        assert str(error).strip()


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_deeply_nested_json_is_an_error_not_a_crash(depth):
    data, errors = formats.parse_json(b"[" * depth + b"]" * depth)
    if errors:
        assert data is None and "JSON" in str(errors[0])
    else:
        assert formats.validate(data)  # parsed, but certainly not a referential


@FAST
@given(document=json_values)
def test_validate_reports_errors_for_any_json(document):
    errors = formats.validate(document)
    assert isinstance(errors, list)
    assert all(isinstance(error, formats.FormatError) and error.message for error in errors)
    if not isinstance(document, dict):
        assert errors


@pytest.mark.django_db
@DB
@given(data=st.data())
def test_a_mutated_seed_document_is_imported_whole_or_not_at_all(seed_document, data):
    paths = list(paths_of(seed_document))
    path = data.draw(st.sampled_from(paths[1:]), label="path")
    if data.draw(st.booleans(), label="remove"):
        document = removed(seed_document, path)
    else:
        document = replaced(seed_document, path, data.draw(json_values, label="value"))
    # A code of its own, so that a valid mutant does not collide with a previous example.
    if isinstance(document, dict) and isinstance(document.get("code"), str):
        document["code"] = f"HYP {data.draw(st.integers(0, 10**9))}"
    before = counts()
    try:
        certification = import_certification(data=document)
    except ReferentialImportError as exc:
        assert exc.errors and all(str(error) for error in exc.errors)
        assert counts() == before
    else:
        assert certification.status == "draft"
        assert formats.validate(formats.serialise(certification)) == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"\xff\xfe\x00\x00",
        b"{",
        b"[" * 100_000,
        b'{"format": "cqpm-referential", "format_version": 1, "code": "' + b"x" * 10_000 + b'"}',
        json.dumps({"format": "cqpm-referential", "format_version": 1, "blocks": [[[[[]]]]]}).encode(),
        b'{"__proto__": {"admin": true}}',
    ],
)
def test_hostile_referential_files_are_refused_with_messages(content):
    before = counts()
    with pytest.raises(ReferentialImportError) as excinfo:
        import_certification_file(content=content)
    assert excinfo.value.errors
    assert counts() == before


@pytest.mark.django_db
def test_referential_upload_page_answers_hostile_files_without_500(client):
    staff = StaffFactory(centres=[CentreFactory(code="A")])
    client.force_login(staff)
    before = counts()
    for content in (b"[" * 100_000, b"MZ\x90\x00" + b"\x00" * 100, b'{"format": 1}'):
        upload = SimpleUploadedFile("referentiel.json", content, content_type="application/json")
        response = client.post(reverse("referential:upload"), {"file": upload})
        assert response.status_code == 400
        assert "alert" in response.content.decode() or response.context["form"].errors
    assert counts() == before


# --- candidates CSV / XLSX -------------------------------------------------------------------------

cell_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        ["=1+1", "@SUM(A1)", "+33", "-1", "31/02/2001", "1900-01-01", "0000000000000", "\x00", "'"]
    ),
)


def csv_upload(rows, delimiter=";", encoding="utf-8"):
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerows(rows)
    return SimpleUploadedFile(
        "import.csv", buffer.getvalue().encode(encoding, "replace"), content_type="text/csv"
    )


@FAST
@given(content=st.one_of(st.binary(max_size=3000), st.text(max_size=3000).map(lambda t: t.encode("utf-8"))))
def test_read_table_returns_rows_or_a_file_error(content):
    try:
        rows = read_table(SimpleUploadedFile("import.csv", content))
    except ImportFileError as exc:
        assert str(exc).strip()
        return
    assert rows
    for row in rows:
        assert row["line"] >= 2 and set(row["values"]) <= set(COLUMNS)


@FAST
@given(
    body=st.lists(st.lists(cell_text, max_size=len(COLUMNS) + 3), min_size=1, max_size=6),
    delimiter=st.sampled_from([";", ",", "\t"]),
)
def test_read_table_with_right_headers_and_hostile_cells(body, delimiter):
    try:
        rows = read_table(csv_upload([COLUMNS, *body], delimiter=delimiter))
    except ImportFileError as exc:
        assert str(exc).strip()
        return
    for row in rows:
        assert all(isinstance(value, str) for value in row["values"].values())


@pytest.mark.django_db
@DB
@given(values=st.dictionaries(st.sampled_from(COLUMNS), cell_text, max_size=len(COLUMNS)))
def test_row_to_kwargs_returns_arguments_or_a_list_of_messages(values):
    centre = CentreFactory(code="HYP")
    try:
        kwargs = row_to_kwargs(values, centre=centre, cache={"certifications": {}, "companies": {}})
    except ValueError as exc:
        (problems,) = exc.args
        assert problems and all(isinstance(p, str) and p.strip() for p in problems)
    else:
        assert kwargs["birth_name"] and kwargs["first_names"]


@pytest.fixture
def import_world(db):
    centre = CentreFactory(code="A")
    certification = CertificationFactory(code="CQPM HYP")
    company = CompanyFactory(centre=centre)
    tutor = TutorFactory(company=company)
    staff = StaffFactory(centres=[centre])
    good = {
        "nom_naissance": "Martin",
        "prenoms": "Léa",
        "sexe": "F",
        "date_naissance": "01/02/1990",
        "parcours": "salarie",
        "cqpm": certification.code,
        "siret_entreprise": company.siret,
        "email_tuteur": tutor.email,
        "consentement": "oui",
    }
    return {"centre": centre, "staff": staff, "good": good}


@pytest.mark.django_db
@DB
@given(
    hostile=st.lists(
        st.dictionaries(st.sampled_from(COLUMNS), cell_text, max_size=8), min_size=1, max_size=4
    ),
    position=st.integers(0, 4),
)
def test_an_import_with_one_bad_row_writes_nothing(import_world, hostile, position):
    good_rows = [{**import_world["good"], "nom_naissance": f"Valide{i}"} for i in range(3)]
    values = good_rows[:position] + hostile + good_rows[position:]
    rows = [{"line": index + 2, "values": row} for index, row in enumerate(values)]
    before = Candidate.objects.count()
    report = import_candidates(centre=import_world["centre"], rows=rows, by=import_world["staff"])
    if report.committed:
        assert Candidate.objects.count() == before + len(rows)
        assert not report.error_rows
    else:
        assert Candidate.objects.count() == before
        assert report.error_rows and all(row.errors for row in report.error_rows)
        assert all(not row.reference for row in report.rows)


@pytest.mark.django_db
def test_formula_in_an_imported_name_is_neutralised_in_the_export(client, import_world):
    formula = '=HYPERLINK("http://evil.example";"Cliquez")'
    row = {**import_world["good"], "nom_naissance": formula, "prenoms": "@SUM(1+1)"}
    report = import_candidates(
        centre=import_world["centre"], rows=[{"line": 2, "values": row}], by=import_world["staff"]
    )
    assert report.committed, [r.errors for r in report.rows]
    client.force_login(import_world["staff"])
    response = client.get(reverse("candidates:export"), {"format": "csv"})
    assert response.status_code == 200
    cells = [
        cell
        for line in csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";")
        for cell in line
    ]
    assert "'" + formula in cells and "'@SUM(1+1)" in cells
    assert formula not in cells


# --- forms -----------------------------------------------------------------------------------------

form_text = st.one_of(
    st.text(max_size=300),
    st.sampled_from(
        [
            "<script>alert(1)</script>",
            '" onmouseover="alert(1)',
            "'; DROP TABLE candidates_candidate; --",
            "=cmd|' /C calc'!A0",
            "\x00",
            "x" * 5000,
            "{{ settings.SECRET_KEY }}",
            "../../etc/passwd",
        ]
    ),
)


@pytest.mark.django_db
@DB
@given(
    name=form_text, siret=st.one_of(form_text, st.just("73282932000074")), postcode=form_text, city=form_text
)
def test_company_form_stores_a_valid_row_or_nothing(client, import_world, name, siret, postcode, city):
    from django.conf import settings as django_settings

    centre = import_world["centre"]
    client.force_login(import_world["staff"])
    before = Company.objects.count()
    response = client.post(
        reverse("candidates:company_create"),
        {
            "centre": centre.pk,
            "name": name,
            "siret": siret,
            "address": "",
            "postcode": postcode,
            "city": city,
        },
    )
    body = response.content.decode()
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert Company.objects.count() == before
        assert "invalid-feedback" in body or "alert-danger" in body
        assert "<script>alert(1)</script>" not in body  # echoed input is escaped
        assert django_settings.SECRET_KEY not in body  # input is never rendered as a template
    else:
        assert Company.objects.count() == before + 1
        company = Company.objects.latest("pk")
        assert company.name == name.strip()
        assert "\x00" not in company.name


@pytest.mark.django_db
@DB
@given(
    birth_name=form_text,
    first_names=form_text,
    birth_date=st.one_of(form_text, st.dates().map(lambda d: d.isoformat())),
    email=form_text,
)
def test_candidate_form_stores_a_valid_row_or_nothing(
    client, import_world, birth_name, first_names, birth_date, email
):
    client.force_login(import_world["staff"])
    certification = Certification.objects.get(code="CQPM HYP")
    before = Candidate.objects.count()
    response = client.post(
        reverse("candidates:create"),
        {
            "centre": import_world["centre"].pk,
            "birth_name": birth_name,
            "first_names": first_names,
            "sex": "F",
            "birth_date": birth_date,
            "email": email,
            "pathway": "job_seeker",
            "certification": certification.pk,
            "registered_on": "2026-01-15",
            "legal_basis": "contract",
        },
    )
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert Candidate.objects.count() == before
        assert "<script>alert(1)</script>" not in response.content.decode()
    else:
        assert Candidate.objects.count() == before + 1


# --- uploads through the page ----------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("rapport.pdf", b"MZ\x90\x00" + b"\x00" * 500, "n'est pas d'un type accepté"),
        ("../../../../etc/cron.d/rapport.pdf", b"#!/bin/sh\nrm -rf /\n", "n'est pas d'un type accepté"),
        ("rapport.pdf", b"", "vide"),
        ("rapport.docx", b"PK\x03\x04" + b"\x00" * 100, "n'est pas d'un type accepté"),
    ],
)
def test_hostile_uploads_are_refused_and_store_nothing(client, import_world, name, content, message):
    from candidates.models import CandidateDocument

    candidate = CandidateFactory(centre=import_world["centre"])
    client.force_login(import_world["staff"])
    upload = SimpleUploadedFile(name, content, content_type="application/pdf")
    response = client.post(
        reverse("candidates:document_upload", args=[candidate.pk]), {"kind": "report", "file": upload}
    )
    assert response.status_code == 200
    assert message in response.content.decode().replace("&#x27;", "'")
    assert not CandidateDocument.objects.filter(candidate=candidate).exists()


@pytest.mark.django_db
def test_oversized_upload_is_refused_with_the_limit(client, import_world, settings):
    from candidates.models import CandidateDocument

    settings.MAX_UPLOAD_SIZE = 1024
    candidate = CandidateFactory(centre=import_world["centre"])
    client.force_login(import_world["staff"])
    upload = SimpleUploadedFile("rapport.pdf", b"%PDF-1.4\n" + b"0" * 5000, content_type="application/pdf")
    response = client.post(
        reverse("candidates:document_upload", args=[candidate.pk]), {"kind": "report", "file": upload}
    )
    assert response.status_code == 200
    assert "trop volumineux" in response.content.decode()
    assert not CandidateDocument.objects.filter(candidate=candidate).exists()


@pytest.mark.django_db
def test_traversal_name_is_stored_without_its_directories(client, import_world):
    from candidates.models import CandidateDocument

    candidate = CandidateFactory(centre=import_world["centre"])
    client.force_login(import_world["staff"])
    upload = SimpleUploadedFile(
        "..\\..\\secret\\rapport final.pdf", MINIMAL_PDF, content_type="application/pdf"
    )
    response = client.post(
        reverse("candidates:document_upload", args=[candidate.pk]), {"kind": "report", "file": upload}
    )
    assert response.status_code == 302
    document = CandidateDocument.objects.get(candidate=candidate)
    assert (
        "/" not in document.original_name
        and "\\" not in document.original_name
        and ".." not in document.original_name
    )
    assert ".." not in document.file.name and not document.file.name.startswith("/")


@pytest.mark.parametrize("raw", [b"null", b" null\n", "null"])
def test_parse_json_of_the_document_null_is_an_error_not_an_empty_referential(raw):
    data, errors = formats.parse_json(raw)
    assert data is None
    assert [str(error) for error in errors] and "aucun référentiel" in str(errors[0])
