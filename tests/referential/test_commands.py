import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from referential import services
from referential.models import Block, Certification, CertificationStatus, Criterion

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data"
EXAMPLE = DATA / "cqpm-exemple-operateur-maintenance.json"
SEED = (
    Path(__file__).resolve().parents[2] / "fixtures" / "referential" / "cqpm-charge-ressources-humaines.json"
)


def run(*args):
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_import_then_export_gives_back_the_same_file(tmp_path):
    run("import_referential", str(SEED))
    exported, _ = run("export_referential", "CQPM-CRH")
    assert exported == SEED.read_text(encoding="utf-8")


def test_export_import_export_is_identical_through_files(tmp_path):
    run("import_referential", str(EXAMPLE), "--publish")
    first = tmp_path / "first.json"
    run("export_referential", "CQPM-EXEMPLE-OM", "-o", str(first))
    Certification.objects.all().delete()
    run("import_referential", str(first))
    second = tmp_path / "second.json"
    run("export_referential", "CQPM-EXEMPLE-OM", "--version", "1", "-o", str(second))
    assert first.read_bytes() == second.read_bytes()


def test_import_creates_a_draft_unless_asked_to_publish():
    out, _ = run("import_referential", str(EXAMPLE))
    assert "importé (brouillon) : 2 blocs, 2 compétences" in out
    assert Certification.objects.get().status == CertificationStatus.DRAFT
    Certification.objects.all().delete()
    run("import_referential", str(EXAMPLE), "--publish")
    assert Certification.objects.in_force("CQPM-EXEMPLE-OM") is not None


def test_if_absent_does_nothing_when_the_version_exists():
    run("import_referential", str(SEED), "--if-absent", "--publish")
    before = Certification.objects.get()
    out, _ = run("import_referential", str(SEED), "--if-absent", "--publish")
    assert "existe déjà (publié) : rien à faire" in out
    assert list(Certification.objects.all()) == [before]


def test_without_if_absent_an_existing_version_is_an_error():
    run("import_referential", str(EXAMPLE))
    with pytest.raises(CommandError, match="rien n'a été importé"):
        run("import_referential", str(EXAMPLE))
    assert Certification.objects.count() == 1


def test_a_bad_file_reports_every_error_with_its_location_and_imports_nothing(tmp_path):
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["blocks"][1]["competencies"][0]["criteria"][2]["category"] = "foo"
    data["blocks"][0]["competencies"][0]["expected_results"][0] = ""
    data["modalities"].append({"code": "workplace_observation", "label": "Doublon"})
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    err = StringIO()
    with pytest.raises(CommandError, match="3 erreur"):
        call_command("import_referential", str(bad), stdout=StringIO(), stderr=err)
    lines = err.getvalue().splitlines()
    assert lines == [
        '  modalities[2].code: modalité "workplace_observation" déjà déclarée en modalities[0]',
        "  blocks[0].competencies[0].expected_results[0]: ne doit pas être vide",
        '  blocks[1].competencies[0].criteria[2]: catégorie "foo" inconnue '
        "(valeurs possibles : methods, means, relations, environment)",
    ]
    assert (
        not Certification.objects.exists() and not Block.objects.exists() and not Criterion.objects.exists()
    )


@pytest.mark.parametrize(
    "content, message",
    [
        ("{ pas du json", "JSON invalide ligne 1, colonne 3"),
        ("[1, 2]", "(racine): un objet JSON est attendu"),
    ],
)
def test_unreadable_files_are_reported(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("import_referential", str(path), stdout=StringIO(), stderr=err)
    assert message in err.getvalue()


def test_missing_file():
    with pytest.raises(CommandError, match="Fichier introuvable"):
        run("import_referential", "/nonexistent/referential.json")


def test_export_chooses_the_version_in_force_by_default():
    v1 = services.publish(certification=services.import_certification(data=json.loads(EXAMPLE.read_text())))
    draft = services.create_draft_from(certification=v1)
    services.add_criterion(competency=draft.competencies.get(number=1), category="means", text="Nouveau")
    assert json.loads(run("export_referential", "CQPM-EXEMPLE-OM")[0])["version"] == 1
    assert json.loads(run("export_referential", "CQPM-EXEMPLE-OM", "--version", "2")[0])["version"] == 2
    services.publish(certification=draft)
    assert json.loads(run("export_referential", "CQPM-EXEMPLE-OM")[0])["version"] == 2


@pytest.mark.parametrize("args", [("NOPE",), ("CQPM-EXEMPLE-OM", "--version", "9")])
def test_export_unknown_referential(args):
    services.import_certification(data=json.loads(EXAMPLE.read_text()))
    with pytest.raises(CommandError, match="Référentiel introuvable"):
        run("export_referential", *args)
