import datetime
import io
import xml.etree.ElementTree as ET

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from core.models import AuditEvent
from reporting import accrochage, selectors
from reporting.accrochage import HOLDER_ELEMENTS, HolderRecord, delivery_mode, record_errors
from reporting.models import AccrochageBatch, AccrochageRecord
from reporting.services import AccrochageValidationError, ExportScope, export_accrochage
from tests.candidates.factories import CentreFactory
from tests.referential.factories import CertificationFactory
from tests.reporting.builders import deliberated

D = datetime.date


def record(**overrides):
    values = {
        "outcome_id": 1,
        "candidate_id": 1,
        "reference": "A-2026-00001",
        "display_name": "MARTIN Léa",
        "centre_code": "A",
        "certification_code": "CQPM 2006 0248",
        "certification_title": "Chargé RH",
        "certification_version": 1,
        "rncp_number": "",
        "birth_name": "Martin",
        "usage_name": "",
        "first_names": "Léa Marie",
        "sex": "F",
        "birth_date": D(1995, 4, 2),
        "birth_place": "Metz",
        "birth_country": "France",
        "pathway": "employee",
        "exam_date": D(2026, 3, 1),
        "outcome": "certified",
        "delivery_mode": "on_site",
        "centre_postcode": "54000",
        "issue_date": D(2026, 3, 15),
        "session_id": 1,
    }
    values.update(overrides)
    return HolderRecord(**values)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({}, None),
        ({"birth_place": ""}, "Lieu de naissance"),
        ({"birth_place": "   "}, "Lieu de naissance"),
        ({"birth_name": ""}, "Nom de naissance"),
        ({"first_names": ""}, "Prénoms"),
        ({"sex": "X"}, "Sexe"),
        ({"birth_date": None}, "Date de naissance"),
        ({"birth_date": D(2020, 1, 1)}, "Date de naissance"),
        ({"birth_country": ""}, "Pays de naissance"),
        ({"pathway": "unknown"}, "Voie d'accès"),
        ({"exam_date": None}, "Date de l'examen"),
        ({"exam_date": D(2026, 4, 1)}, "Date de l'examen"),
        ({"delivery_mode": ""}, "Modalité de passage"),
        ({"outcome": "partial"}, "Résultat"),
        ({"centre_postcode": ""}, "Code postal du centre d'examen"),
        ({"centre_postcode": "540"}, "Code postal du centre d'examen"),
        ({"centre_postcode": "2A004"}, "Code postal du centre d'examen"),
        ({"centre_postcode": "20000"}, None),
        ({"anonymised": True}, "Identité"),
        ({"usage_name": ""}, None),
    ],
)
def test_record_validation_rules(overrides, field):
    errors = record_errors(record(**overrides))
    if field is None:
        assert errors == []
    else:
        assert [e.field for e in errors] == [field]
        assert errors[0].reference == "A-2026-00001" and errors[0].name == "MARTIN Léa"


@pytest.mark.parametrize(
    ("flags", "mode"),
    [([], ""), ([False], "on_site"), ([True, True], "remote"), ([False, True], "mixed")],
)
def test_delivery_mode(flags, mode):
    assert delivery_mode(flags) == mode


def test_render_refuses_invalid_records():
    with pytest.raises(ValueError):
        accrochage.render_xml([record(birth_place="")], certifier_name="UIMM", centre=CentreFactory.build())


def test_xml_is_well_formed_and_matches_the_documented_structure():
    centre = CentreFactory.build(code="A", legal_name="UIMM Lorraine", postcode="54000")
    content = accrochage.render_xml(
        [record(), record(reference="A-2026-00002", usage_name="Durand & Fils <b>", rncp_number="RNCP1")],
        certifier_name="UIMM",
        centre=centre,
        period=(D(2026, 1, 1), D(2026, 3, 31)),
    )
    assert content.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    root = ET.fromstring(content)
    assert root.tag == "declarationTitulaires" and root.get("version") == "1"
    assert root.find("certificateur/raisonSociale").text == "UIMM"
    assert root.find("certificateur/centre").get("code") == "A"
    assert root.find("perimetre/periode").attrib == {"debut": "2026-01-01", "fin": "2026-03-31"}
    holders = root.findall("titulaires/titulaire")
    assert root.find("titulaires").get("nombre") == "2" and len(holders) == 2
    for holder in holders:
        assert [child.tag for child in holder] == list(HOLDER_ELEMENTS)
    first, second = holders
    assert first.get("reference") == "A-2026-00001"
    assert {child.tag: child.text for child in first if child.tag != "certification"} == {
        "nomNaissance": "Martin",
        "nomUsage": None,
        "prenoms": "Léa Marie",
        "sexe": "F",
        "dateNaissance": "1995-04-02",
        "lieuNaissance": "Metz",
        "paysNaissance": "France",
        "voieAcces": "SALARIE",
        "dateExamen": "2026-03-01",
        "resultat": "ADMIS",
        "modalitePassage": "PRESENTIEL",
        "codePostalCentreExamen": "54000",
        "dateDelivrance": "2026-03-15",
    }
    assert second.find("nomUsage").text == "Durand & Fils <b>"
    assert second.find("certification/numeroRNCP").text == "RNCP1"
    assert first.find("certification/numeroRNCP") is None


def test_control_characters_are_stripped_not_breaking_the_file():
    content = accrochage.render_xml(
        [record(birth_place="Metz\x0b")], certifier_name="UIMM", centre=CentreFactory.build()
    )
    assert ET.fromstring(content).find("titulaires/titulaire/lieuNaissance").text == "Metz"


# --- with the database ---------------------------------------------------------------------------


@pytest.fixture
def holders(db):
    centre = CentreFactory(code="A", postcode="54000")
    other = CentreFactory(code="B", postcode="69002")
    cqpm = CertificationFactory(code="CQPM 2006 0248", rncp_number="RNCP35000")
    early = deliberated(
        centre,
        cqpm,
        issued=D(2026, 1, 20),
        evaluations=[(D(2026, 1, 5), False), (D(2026, 1, 12), True)],
        birth_name="Martin",
        sex="F",
    )
    late = deliberated(centre, cqpm, issued=D(2026, 2, 10), pathway="vae", company=None, tutor=None)
    deliberated(centre, cqpm, issued=D(2026, 2, 10), result="partial")  # not a holder
    deliberated(other, cqpm, issued=D(2026, 2, 10))  # other centre
    after = deliberated(centre, cqpm, issued=D(2026, 5, 2))  # outside the period
    return {"centre": centre, "other": other, "early": early, "late": late, "after": after}


def scope(h, **kwargs):
    values = {"centre": h["centre"], "date_from": D(2026, 1, 1), "date_to": D(2026, 3, 31)}
    values.update(kwargs)
    return ExportScope(**values)


def test_holder_records_read_the_models(holders):
    records = selectors.holder_records(
        selectors.holder_outcomes().filter(candidate__centre=holders["centre"])
    )
    by_ref = {r.reference: r for r in records}
    assert len(records) == 3  # the partial result is not a holder, the other centre is out
    first = by_ref[holders["early"].candidate.reference]
    assert first.exam_date == D(2026, 1, 12)
    assert first.delivery_mode == "mixed"
    assert first.issue_date == D(2026, 1, 20)
    assert first.centre_postcode == "54000"
    assert first.rncp_number == "RNCP35000"
    assert by_ref[holders["late"].candidate.reference].pathway == "vae"


def test_export_writes_the_period_holders_and_records_the_batch(holders):
    now = timezone.make_aware(datetime.datetime(2026, 4, 25, 10, 0))
    batch, content = export_accrochage(
        actor=None, outcomes=selectors.holder_outcomes(), scope=scope(holders), now=now
    )
    root = ET.fromstring(content)
    references = [h.get("reference") for h in root.iter("titulaire")]
    assert references == [holders["early"].candidate.reference, holders["late"].candidate.reference]
    assert batch.record_count == 2 and batch.centre == holders["centre"]
    assert batch.file.read() == content
    records = {r.candidate_id: r for r in AccrochageRecord.objects.filter(batch=batch)}
    # issued 20/01 → due 20/04: reported 25/04 is late; issued 10/02 → due 11/05: in time.
    assert records[holders["early"].candidate_id].is_late is True
    assert records[holders["late"].candidate_id].is_late is False
    assert AuditEvent.objects.filter(action="reporting.accrochage_exported", target_id=str(batch.pk)).exists()
    audit = AuditEvent.objects.get(action="reporting.accrochage_exported")
    assert holders["early"].candidate.birth_name not in audit.message


def test_invalid_holder_blocks_the_whole_file_and_is_listed_by_reference_and_name(holders):
    candidate = holders["late"].candidate
    candidate.birth_place = ""
    candidate.save()
    with pytest.raises(AccrochageValidationError) as caught:
        export_accrochage(actor=None, outcomes=selectors.holder_outcomes(), scope=scope(holders))
    [error] = caught.value.errors
    assert (error.reference, error.name, error.field) == (
        candidate.reference,
        candidate.full_name,
        "Lieu de naissance",
    )
    assert not AccrochageBatch.objects.exists() and not AccrochageRecord.objects.exists()


def test_export_per_session(holders):
    session = holders["after"].session
    batch, content = export_accrochage(
        actor=None,
        outcomes=selectors.holder_outcomes(),
        scope=ExportScope(centre=holders["centre"], session=session),
    )
    root = ET.fromstring(content)
    assert root.find("perimetre/sessionDeliberation").get("id") == str(session.pk)
    assert [h.get("reference") for h in root.iter("titulaire")] == [holders["after"].candidate.reference]
    assert batch.session == session and batch.period_start is None


def test_unreported_only_skips_holders_already_reported(holders):
    export_accrochage(
        actor=None, outcomes=selectors.holder_outcomes(), scope=scope(holders, date_to=D(2026, 1, 31))
    )
    batch, content = export_accrochage(
        actor=None, outcomes=selectors.holder_outcomes(), scope=scope(holders, unreported_only=True)
    )
    assert [h.get("reference") for h in ET.fromstring(content).iter("titulaire")] == [
        holders["late"].candidate.reference
    ]


def test_empty_scope_is_refused(holders):
    from core.exceptions import BusinessRuleError

    with pytest.raises(BusinessRuleError):
        export_accrochage(
            actor=None,
            outcomes=selectors.holder_outcomes(),
            scope=scope(holders, date_from=D(2025, 1, 1), date_to=D(2025, 12, 31)),
        )


def test_command_writes_the_file(holders, tmp_path):
    out = tmp_path / "accrochage.xml"
    stdout = io.StringIO()
    call_command(
        "export_accrochage",
        "--centre",
        "A",
        "--from",
        "2026-01-01",
        "--to",
        "2026-03-31",
        "-o",
        str(out),
        stdout=stdout,
    )
    root = ET.parse(out).getroot()
    assert root.find("titulaires").get("nombre") == "2"
    assert "2 titulaire(s)" in stdout.getvalue()


def test_command_lists_errors_and_exits_non_zero(holders, tmp_path):
    candidate = holders["early"].candidate
    candidate.birth_place = ""
    candidate.save()
    out = tmp_path / "accrochage.xml"
    stderr = io.StringIO()
    with pytest.raises(CommandError):
        call_command(
            "export_accrochage",
            "--centre",
            "A",
            "--from",
            "2026-01-01",
            "--to",
            "2026-03-31",
            "-o",
            str(out),
            stderr=stderr,
        )
    assert candidate.reference in stderr.getvalue() and candidate.full_name in stderr.getvalue()
    assert "Lieu de naissance" in stderr.getvalue()
    assert not out.exists()


def test_command_exit_status_is_non_zero(holders, tmp_path):
    # CommandError → exit status 1 when run from the shell (the code path a cron job uses).
    from django.core.management import ManagementUtility

    utility = ManagementUtility(
        [
            "manage.py",
            "export_accrochage",
            "--centre",
            "ZZ",
            "--from",
            "2026-01-01",
            "--to",
            "2026-03-31",
            "-o",
            str(tmp_path / "x.xml"),
        ]
    )
    with pytest.raises(SystemExit) as caught:
        utility.execute()
    assert caught.value.code == 1
