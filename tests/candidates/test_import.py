import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from openpyxl import Workbook

from candidates import services
from candidates.importing import ImportFileError, read_table
from candidates.models import Candidate, Pathway
from tests.candidates.factories import CandidateFactory

HEADER = "Nom de naissance;Prénoms;Sexe;Date de naissance;Email;Parcours;SIRET;Email tuteur;CQPM\n"


def csv_file(lines, header=HEADER, name="candidats.csv"):
    return SimpleUploadedFile(name, (header + "".join(lines)).encode("utf-8"))


@pytest.fixture
def good_lines(company_a, tutor_a, certification):
    return [
        f"Martin;Luc;M;03/02/1990;luc@exemple.test;salarié;{company_a.siret};{tutor_a.email};{certification.code}\n",
        f"Petit;Emma;F;1992-07-14;;VAE;;;{certification.code}\n",
        f"Bernard;Zoé;F;01/01/1988;;demandeur d'emploi;;;{certification.code}\n",
    ]


@pytest.mark.django_db
def test_import_all_good_rows(centre_a, staff_a, good_lines, certification):
    rows = read_table(csv_file(good_lines))
    preview = services.import_candidates(centre=centre_a, rows=rows, by=staff_a, dry_run=True)
    assert preview.is_valid and not preview.committed
    assert not Candidate.objects.exists()
    report = services.import_candidates(centre=centre_a, rows=rows, by=staff_a)
    assert report.committed
    assert Candidate.objects.filter(centre=centre_a).count() == 3
    martin = Candidate.objects.get(birth_name="Martin")
    assert martin.pathway == Pathway.EMPLOYEE and martin.tutor.email and martin.certification == certification
    assert Candidate.objects.get(birth_name="Petit").pathway == Pathway.VAE
    assert all(c.dossier.items.count() == 3 for c in Candidate.objects.all())


@pytest.mark.django_db
def test_import_with_bad_rows_imports_nothing_and_reports_each_row(
    centre_a, staff_a, good_lines, certification
):
    existing = CandidateFactory(centre=centre_a, birth_name="Double", first_names="Jean")
    bad = [
        f"Sans;Date;F;32/13/1990;;VAE;;;{certification.code}\n",  # line 5: bad date
        f"Inconnu;Parcours;F;01/01/1990;;astronaute;;;{certification.code}\n",  # line 6
        "Code;Faux;M;01/01/1990;;VAE;;;CQPM INEXISTANT\n",  # line 7
        f"Salarie;SansEntreprise;M;01/01/1990;;salarié;;;{certification.code}\n",  # line 8
        f"Double;Jean;M;{existing.birth_date:%d/%m/%Y};;VAE;;;{certification.code}\n",  # line 9
        f"Entreprise;Inconnue;M;01/01/1990;;salarié;73282932000074;x@y.z;{certification.code}\n",  # line 10
        f"Martin;Luc;M;03/02/1990;;VAE;;;{certification.code}\n",  # line 11: same as line 2
    ]
    rows = read_table(csv_file(good_lines + bad))
    report = services.import_candidates(centre=centre_a, rows=rows, by=staff_a)
    assert not report.committed
    assert Candidate.objects.count() == 1  # only the pre-existing one
    errors = {row.line: " ".join(row.errors) for row in report.error_rows}
    assert set(errors) == {5, 6, 7, 8, 9, 10, 11}
    assert "Date de naissance illisible" in errors[5]
    assert "Parcours inconnu" in errors[6]
    assert "Aucune version en vigueur" in errors[7]
    assert "obligatoires" in errors[8]
    assert "Doublon" in errors[9] and "Doublon" in errors[11]
    assert "SIRET" in errors[10]
    assert all(not row.reference for row in report.rows)


@pytest.mark.django_db
def test_import_company_of_another_centre_is_unknown(centre_a, centre_b, staff_b, good_lines):
    rows = read_table(csv_file(good_lines[:1]))
    report = services.import_candidates(centre=centre_b, rows=rows, by=staff_b)
    assert "Aucune entreprise de ce centre" in report.error_rows[0].errors[0]
    assert not Candidate.objects.exists()


@pytest.mark.django_db
def test_import_reads_xlsx_with_real_dates(centre_a, staff_a, certification):
    import datetime

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["nom_naissance", "prenoms", "sexe", "date_naissance", "parcours", "cqpm"])
    sheet.append(["Girard", "Anne", "F", datetime.datetime(1985, 3, 4), "vae", certification.code])
    buffer = io.BytesIO()
    workbook.save(buffer)
    rows = read_table(SimpleUploadedFile("c.xlsx", buffer.getvalue()))
    report = services.import_candidates(centre=centre_a, rows=rows, by=staff_a)
    assert report.committed
    assert Candidate.objects.get().birth_date == datetime.date(1985, 3, 4)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"MZ\x90\x00" + b"\x00" * 100, "candidats.csv", "type accepté"),
        (b"nom;prenoms\nA;B\n", "candidats.csv", "Colonnes obligatoires absentes"),
        (HEADER.encode(), "candidats.csv", "que la ligne d'en-tête"),
    ],
)
def test_unreadable_files(content, name, message):
    with pytest.raises(ImportFileError, match=message):
        read_table(SimpleUploadedFile(name, content))


@pytest.mark.django_db
def test_import_command_all_or_nothing(tmp_path, centre_a, good_lines, certification):
    good = tmp_path / "ok.csv"
    good.write_text(HEADER + "".join(good_lines), encoding="utf-8")
    bad = tmp_path / "ko.csv"
    bad.write_text(HEADER + "".join(good_lines) + "X;Y;Z;01/01/1990;;vae;;;" + certification.code + "\n")
    err = io.StringIO()
    with pytest.raises(CommandError, match="aucun candidat importé"):
        call_command("import_candidates", str(bad), "--centre", "A", stdout=io.StringIO(), stderr=err)
    assert "Ligne 5" in err.getvalue() and "Sexe inconnu" in err.getvalue()
    assert not Candidate.objects.exists()
    call_command("import_candidates", str(good), "--centre", "A", "--dry-run", stdout=io.StringIO())
    assert not Candidate.objects.exists()
    out = io.StringIO()
    call_command("import_candidates", str(good), "--centre", "A", stdout=out)
    assert "3 candidat(s) importé(s)" in out.getvalue()
    assert Candidate.objects.filter(centre=centre_a).count() == 3
    with pytest.raises(CommandError, match="Centre inconnu"):
        call_command("import_candidates", str(good), "--centre", "ZZ")
