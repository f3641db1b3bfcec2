"""The CPF holders file in the official flux: records, anomalies, XSD, exports record by record, and
the portal's processing reports (issue 18)."""

import datetime
import io

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone
from lxml import etree

from core.exceptions import BusinessRuleError
from core.models import AuditEvent
from reporting import accrochage, selectors
from reporting.accrochage import (
    NAMESPACE,
    XSD_PATH,
    HolderRecord,
    delivery_mode,
    parse_processing_report,
    record_errors,
    render_flux,
    schema_errors,
    split_first_names,
)
from reporting.models import AccrochageBatch, AccrochageRecord, ProcessingReport
from reporting.services import (
    AccrochageValidationError,
    ExportScope,
    ProcessingReportError,
    export_accrochage,
    import_processing_report,
)
from tests.core.factories import CentreFactory
from tests.referential.factories import CertificationFactory
from tests.reporting.builders import deliberated

D = datetime.date
NS = {"cpf": NAMESPACE}
CREDENTIALS = {"ID_CLIENT": "ABCD1234", "ID_CONTRAT": "MCFCER000123", "XSD_PATH": ""}
NOW = timezone.make_aware(datetime.datetime(2026, 4, 25, 10, 0, 0, 123456))


def record(**overrides):
    values = {
        "outcome_id": 1,
        "candidate_id": 1,
        "reference": "A-2026-00001",
        "display_name": "MARTIN Léa",
        "centre_code": "A",
        "certification_code": "CQPM 2006 0248",
        "certification_title": "Chargé RH",
        "rncp_number": "RNCP35000",
        "birth_name": "Martin",
        "usage_name": "",
        "first_names": "Léa Marie",
        "sex": "F",
        "birth_date": D(1995, 4, 2),
        "birth_place": "Metz",
        "birth_country": "France",
        "birth_insee_code": "57463",
        "birth_postcode": "",
        "pathway": "employee",
        "registered_on": D(2025, 9, 1),
        "exam_start": D(2026, 3, 1),
        "exam_end": D(2026, 3, 2),
        "delivery_mode": "on_site",
        "outcome": "certified",
        "centre_postcode": "54000",
        "issue_date": D(2026, 3, 15),
        "session_id": 7,
    }
    values.update(overrides)
    return HolderRecord(**values)


def flux(records, **kwargs):
    values = {
        "id_flux": "CQPM-TEST",
        "generated_at": NOW,
        "id_client": "ABCD1234",
        "id_contrat": "MCFCER000123",
    }
    values.update(kwargs)
    return render_flux(records, **values)


def xsd():
    return etree.XMLSchema(etree.parse(str(XSD_PATH)))


# --- records and anomalies (pure) ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({}, None),
        ({"rncp_number": ""}, "Enregistrement RNCP du CQPM"),
        ({"rncp_number": "35000"}, "Enregistrement RNCP du CQPM"),
        ({"birth_place": ""}, "Lieu de naissance"),
        ({"birth_name": "   "}, "Nom de naissance"),
        ({"birth_name": "X" * 61}, "Nom de naissance"),
        ({"usage_name": "Y" * 61}, "Nom d'usage"),
        ({"first_names": ""}, "Prénoms"),
        ({"first_names": "Léa " + "Z" * 61}, "Prénoms"),
        ({"sex": "X"}, "Sexe"),
        ({"birth_date": None}, "Date de naissance"),
        ({"birth_date": D(2020, 1, 1)}, "Date de naissance"),
        ({"birth_insee_code": "", "birth_postcode": ""}, "Code INSEE / postal de naissance"),
        ({"birth_insee_code": "", "birth_postcode": "57000"}, None),
        ({"birth_insee_code": "2A004"}, None),
        ({"birth_country": ""}, "Pays de naissance"),
        ({"pathway": "unknown"}, "Voie d'accès"),
        ({"exam_start": None, "exam_end": None}, "Date de l'examen"),
        ({"exam_end": D(2026, 4, 1)}, "Date de l'examen"),
        ({"delivery_mode": ""}, "Modalité de passage"),
        ({"outcome": "partial"}, "Résultat"),
        ({"centre_postcode": "540"}, "Code postal du centre d'examen"),
        ({"anonymised": True}, "Identité"),
    ],
)
def test_record_anomalies(overrides, field):
    errors = record_errors(record(**overrides))
    if field is None:
        assert errors == []
    else:
        assert [e.field for e in errors] == [field]
        assert errors[0].blocking
        assert (errors[0].reference, errors[0].name) == ("A-2026-00001", "MARTIN Léa")


def test_a_long_label_is_cut_only_with_an_anomaly():
    place = "Saint-Rémy-en-Bouzemont-Saint-Genest-et-Isson"  # 45 characters
    [warning] = record_errors(record(birth_place=place))
    assert not warning.blocking and warning.field == "Lieu de naissance" and "coupé" in warning.message
    root = etree.fromstring(flux([record(birth_place=place)]))
    assert root.findtext(".//cpf:libelleCommuneNaissance", namespaces=NS) == place[:40]


def test_demo_rncp_number_is_refused_outside_demo_mode():
    assert [e.field for e in record_errors(record(rncp_number="RNCP00000"))] == [
        "Enregistrement RNCP du CQPM"
    ]
    assert record_errors(record(rncp_number="RNCP00000"), demo_mode=True) == []


@pytest.mark.parametrize(
    ("first_names", "expected"),
    [
        ("Léa", ["Léa"]),
        ("Léa Marie", ["Léa", "Marie"]),
        ("Jean-Pierre, Paul", ["Jean-Pierre", "Paul"]),
        ("Anne  Marie Sophie Louise", ["Anne", "Marie", "Sophie Louise"]),
    ],
)
def test_first_names_fill_prenom1_to_prenom3_without_losing_one(first_names, expected):
    assert split_first_names(first_names) == expected


@pytest.mark.parametrize(
    ("flags", "mode"),
    [([], ""), ([False], "on_site"), ([True, True], "remote"), ([False, True], "mixed")],
)
def test_delivery_mode(flags, mode):
    assert delivery_mode(flags) == mode


# --- the flux and the XSD (pure) ------------------------------------------------------------------


def test_render_refuses_a_record_with_a_blocking_anomaly():
    with pytest.raises(ValueError):
        flux([record(birth_insee_code="")])


PASSAGE_ORDER = [
    "idTechnique",
    "obtentionCertification",
    "donneeCertifiee",
    "dateDebutExamen",
    "dateFinExamen",
    "modalitePassageExamen",
    "codePostalCentreExamen",
    "dateDebutValidite",
    "dateFinValidite",
    "presenceNiveauLangueEuro",
    "presenceNiveauNumeriqueEuro",
    "scoring",
    "mentionValidee",
    "modalitesInscription",
    "identificationTitulaire",
]
HOLDER_ORDER = [
    "nomNaissance",
    "nomUsage",
    "prenom1",
    "prenom2",
    "anneeNaissance",
    "moisNaissance",
    "jourNaissance",
    "sexe",
    "codeCommuneNaissance",
    "libelleCommuneNaissance",
    "libellePaysNaissance",
]


def local(element):
    return etree.QName(element).localname


def test_flux_is_namespaced_valid_and_in_the_documented_order():
    content = flux(
        [
            record(),
            record(
                outcome_id=2, reference="A-2026-00002", usage_name="Durand & Fils <b>", rncp_number="RNCP1234"
            ),
            record(outcome_id=3, reference="A-2026-00003", session_id=8),
        ]
    )
    assert content.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    document = etree.fromstring(content)
    assert xsd().validate(etree.ElementTree(document)), xsd().error_log
    assert document.tag == f"{{{NAMESPACE}}}flux"
    assert all(etree.QName(e).namespace == NAMESPACE for e in document.iter(etree.Element))
    assert [local(e) for e in document] == ["idFlux", "horodatage", "emetteur"]
    assert document.findtext("cpf:horodatage", namespaces=NS) == "2026-04-25T10:00:00+02:00"
    certifier = document.find("cpf:emetteur/cpf:certificateurs/cpf:certificateur", NS)
    assert document.findtext("cpf:emetteur/cpf:idClient", namespaces=NS) == "ABCD1234"
    assert certifier.findtext("cpf:idContrat", namespaces=NS) == "MCFCER000123"
    # one certification per RNCP code, each with its passages
    certifications = certifier.findall("cpf:certifications/cpf:certification", NS)
    assert [
        (c.findtext("cpf:type", namespaces=NS), c.findtext("cpf:code", namespaces=NS)) for c in certifications
    ] == [
        ("RNCP", "RNCP1234"),
        ("RNCP", "RNCP35000"),
    ]
    assert certifications[1].findtext("cpf:natureDeposant", namespaces=NS) == "CERTIFICATEUR"
    passages = certifications[1].findall("cpf:passageCertifications/cpf:passageCertification", NS)
    assert [p.findtext("cpf:idTechnique", namespaces=NS) for p in passages] == [
        "A-2026-00001-D7",
        "A-2026-00003-D8",
    ]
    first = passages[0]
    assert [local(e) for e in first] == PASSAGE_ORDER
    values = {local(e): e.text for e in first if len(e) == 0}
    assert values == {
        "idTechnique": "A-2026-00001-D7",
        "obtentionCertification": "PAR_ADMISSION",
        "donneeCertifiee": "true",
        "dateDebutExamen": "2026-03-01",
        "dateFinExamen": "2026-03-02",
        "modalitePassageExamen": "EN_PRESENTIEL",
        "codePostalCentreExamen": "54000",
        "dateDebutValidite": "2026-03-15",
        "dateFinValidite": None,
        "presenceNiveauLangueEuro": "false",
        "presenceNiveauNumeriqueEuro": "false",
        "scoring": None,
        "mentionValidee": None,
    }
    nil = f"{{{accrochage.XSI}}}nil"
    assert all(
        first.find(f"cpf:{tag}", NS).get(nil) == "true"
        for tag in ("dateFinValidite", "scoring", "mentionValidee")
    )
    holder = first.find("cpf:identificationTitulaire/cpf:titulaire", NS)
    assert [local(e) for e in holder] == HOLDER_ORDER
    assert holder.find("cpf:nomUsage", NS).get(nil) == "true"
    assert (
        holder.findtext("cpf:codeCommuneNaissance/cpf:codeInseeNaissance/cpf:codeInsee", namespaces=NS)
        == "57463"
    )
    assert [
        holder.findtext(f"cpf:{t}", namespaces=NS)
        for t in ("anneeNaissance", "moisNaissance", "jourNaissance")
    ] == [
        "1995",
        "04",
        "02",
    ]
    registration = first.find("cpf:modalitesInscription", NS)
    assert [(local(e), e.text) for e in registration] == [
        ("modaliteAcces", "FORMATION_CONTINUE_HORS_CONTRAT_DE_PROFESSIONNALISATION"),
        ("dateInscription", "2025-09-01"),
    ]
    other = certifications[0].find(".//cpf:titulaire", NS)
    assert other.findtext("cpf:nomUsage", namespaces=NS) == "Durand & Fils <b>"


@pytest.mark.parametrize(
    ("pathway", "expected"),
    [
        ("employee", [("modaliteAcces", "FORMATION_CONTINUE_HORS_CONTRAT_DE_PROFESSIONNALISATION")]),
        ("apprentice", [("modaliteAcces", "FORMATION_CONTINUE_CONTRAT_DE_PROFESSIONNALISATION")]),
        ("job_seeker", [("modaliteAcces", "FORMATION_CONTINUE_HORS_CONTRAT_DE_PROFESSIONNALISATION")]),
        ("vae", [("modaliteAcces", "VAE"), ("voieAccessVAE", "VAE_CLASSIQUE")]),
        ("other", [("modaliteAcces", "CANDIDAT_LIBRE")]),
    ],
)
def test_pathway_mapping(pathway, expected):
    document = etree.fromstring(flux([record(pathway=pathway, registered_on=None)]))
    registration = document.find(".//cpf:modalitesInscription", NS)
    assert [(local(e), e.text) for e in registration] == expected
    assert xsd().validate(etree.ElementTree(document))


@pytest.mark.parametrize(
    ("mode", "code"), [("on_site", "EN_PRESENTIEL"), ("remote", "A_DISTANCE"), ("mixed", "MIXTE")]
)
def test_delivery_mode_mapping(mode, code):
    document = etree.fromstring(flux([record(delivery_mode=mode)]))
    assert document.findtext(".//cpf:modalitePassageExamen", namespaces=NS) == code


def test_birth_postcode_when_the_insee_code_is_unknown():
    document = etree.fromstring(flux([record(birth_insee_code="", birth_postcode="57000")]))
    commune = document.find(".//cpf:codeCommuneNaissance", NS)
    assert [local(e) for e in commune] == ["codePostalNaissance"]
    assert commune.findtext("cpf:codePostalNaissance/cpf:codePostal", namespaces=NS) == "57000"
    assert xsd().validate(etree.ElementTree(document))


def test_control_characters_are_stripped_not_breaking_the_file():
    document = etree.fromstring(flux([record(birth_place="Metz\x0b", first_names="Léa\x00")]))
    assert document.findtext(".//cpf:libelleCommuneNaissance", namespaces=NS) == "Metz"
    assert document.findtext(".//cpf:prenom1", namespaces=NS) == "Léa"


def test_schema_errors_are_attributed_to_their_record():
    content = flux([record(), record(outcome_id=2, reference="A-2026-00002")])
    assert schema_errors(content).is_valid
    broken = content.replace(b"<cpf:sexe>F</cpf:sexe>", b"<cpf:sexe>X</cpf:sexe>", 1)
    check = schema_errors(broken)
    assert list(check.by_record) == ["A-2026-00001-D7"] and not check.envelope
    envelope = content.replace(
        b"<cpf:idContrat>MCFCER000123</cpf:idContrat>", b"<cpf:idContrat></cpf:idContrat>"
    )
    assert schema_errors(envelope).envelope and not schema_errors(envelope).by_record


# --- the processing report (pure) -------------------------------------------------------------------


def test_processing_report_is_read_with_or_without_header_and_accents():
    content = (
        "idTechnique;statut;motif\nA-1-D1;ACCEPTE;\nA-2-D1;Rejeté;Date de naissance incohérente\nA-3-D1;ko\n"
    )
    lines, problems = parse_processing_report(("\ufeff" + content).encode("utf-8"))
    assert problems == []
    assert [(line.id_technique, line.status, line.reason) for line in lines] == [
        ("A-1-D1", "accepted", ""),
        ("A-2-D1", "rejected", "Date de naissance incohérente"),
        ("A-3-D1", "rejected", ""),
    ]
    lines, problems = parse_processing_report("A-1-D1;OK\n".encode("cp1252"))
    assert [line.status for line in lines] == ["accepted"] and problems == []


@pytest.mark.parametrize(
    ("content", "line"),
    [
        (b"A-1-D1;PEUT-ETRE;\n", 1),
        (b"A-1-D1\n", 1),
        (b"A-1-D1;ACCEPTE\nA-1-D1;REJETE;x\n", 2),
        (b";ACCEPTE\n", 1),
        (b"\n\n", 0),
        (b"\x00\x01", 0),
    ],
)
def test_processing_report_problems_are_named_by_line(content, line):
    _lines, problems = parse_processing_report(content)
    assert [p.line for p in problems] == [line]


# --- with the database ----------------------------------------------------------------------------


@pytest.fixture
def holders(db, settings):
    settings.CPF_ACCROCHAGE = dict(CREDENTIALS)
    centre = CentreFactory(code="A", postcode="54000")
    other = CentreFactory(code="B", postcode="69002")
    cqpm = CertificationFactory(code="CQPM 2006 0248", rncp_number="RNCP35000", rncp_level="5")
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
    return {"centre": centre, "other": other, "cqpm": cqpm, "early": early, "late": late, "after": after}


def scope(h, **kwargs):
    values = {"centre": h["centre"], "date_from": D(2026, 1, 1), "date_to": D(2026, 3, 31)}
    values.update(kwargs)
    return ExportScope(**values)


def export(h, **kwargs):
    now = kwargs.pop("now", NOW)
    return export_accrochage(
        actor=None, outcomes=selectors.holder_outcomes(), scope=scope(h, **kwargs), now=now
    )


def ids_in(content):
    return [e.text for e in etree.fromstring(content).iterfind(".//cpf:idTechnique", NS)]


def id_of(outcome):
    return f"{outcome.candidate.reference}-D{outcome.session_id}"


def test_holder_records_read_the_models(holders):
    records = selectors.holder_records(
        selectors.holder_outcomes().filter(candidate__centre=holders["centre"])
    )
    by_ref = {r.reference: r for r in records}
    assert len(records) == 3  # the partial result is not a holder, the other centre is out
    first = by_ref[holders["early"].candidate.reference]
    assert (first.exam_start, first.exam_end, first.delivery_mode) == (D(2026, 1, 5), D(2026, 1, 12), "mixed")
    assert first.issue_date == D(2026, 1, 20) and first.centre_postcode == "54000"
    assert first.rncp_number == "RNCP35000" and first.birth_insee_code == "57463"
    assert first.declaration_status == "" and first.to_declare
    assert by_ref[holders["late"].candidate.reference].pathway == "vae"


def test_export_writes_a_valid_flux_of_the_period_and_records_the_batch(holders):
    result = export(holders)
    content = result.content
    assert xsd().validate(etree.parse(io.BytesIO(content)))
    assert ids_in(content) == [id_of(holders["early"]), id_of(holders["late"])]
    batch = result.batch
    assert batch.record_count == 2 and batch.centre == holders["centre"] and batch.left_out == []
    assert batch.file.read() == content
    assert etree.fromstring(content).findtext("cpf:idFlux", namespaces=NS) == batch.flux_id
    records = {r.candidate_id: r for r in AccrochageRecord.objects.filter(batch=batch)}
    assert {r.id_technique for r in records.values()} == {id_of(holders["early"]), id_of(holders["late"])}
    assert all(r.status == "sent" for r in records.values())
    # issued 20/01 → due 20/04: reported 25/04 is late; issued 10/02 → due 11/05: in time.
    assert records[holders["early"].candidate_id].is_late is True
    assert records[holders["late"].candidate_id].is_late is False
    event = AuditEvent.objects.get(action="reporting.accrochage_exported", target_id=str(batch.pk))
    assert holders["early"].candidate.birth_name not in event.message
    assert event.data["flux_id"] == batch.flux_id


def test_every_file_has_its_own_flux_id(holders):
    first = export(holders).batch
    second = export(holders).batch
    assert first.flux_id != second.flux_id and len(first.flux_id) <= 50


def test_a_file_with_one_bad_record_still_holds_the_good_ones(holders):
    bad = holders["late"].candidate
    bad.birth_insee_code = ""
    bad.save()
    result = export(holders)
    assert ids_in(result.content) == [id_of(holders["early"])]
    assert xsd().validate(etree.parse(io.BytesIO(result.content)))
    [anomaly] = result.left_out
    assert (anomaly.reference, anomaly.name, anomaly.field) == (
        bad.reference,
        bad.full_name,
        "Code INSEE / postal de naissance",
    )
    assert result.batch.left_out == [
        {
            "candidate_id": bad.pk,
            "reference": bad.reference,
            "field": anomaly.field,
            "message": anomaly.message,
        }
    ]
    # the bad one stays « à déclarer » and goes into the next file once corrected
    assert not AccrochageRecord.objects.filter(candidate=bad).exists()
    bad.birth_insee_code = "57463"
    bad.save()
    assert ids_in(export(holders, unreported_only=True).content) == [id_of(holders["late"])]


def test_nothing_declarable_stores_nothing_and_lists_every_anomaly(holders):
    holders["cqpm"].rncp_number = ""
    holders["cqpm"].save()
    with pytest.raises(AccrochageValidationError) as caught:
        export(holders)
    assert {e.reference for e in caught.value.errors} == {
        holders["early"].candidate.reference,
        holders["late"].candidate.reference,
    }
    assert {e.field for e in caught.value.errors} == {"Enregistrement RNCP du CQPM"}
    assert not AccrochageBatch.objects.exists() and not AccrochageRecord.objects.exists()


def test_a_cqpm_not_on_the_rncp_is_left_out_never_guessed(holders):
    unregistered = CertificationFactory(code="CQPM HORS RNCP")
    outside = deliberated(holders["centre"], unregistered, issued=D(2026, 2, 1))
    result = export(holders)
    assert id_of(outside) not in ids_in(result.content)
    assert [e.reference for e in result.left_out] == [outside.candidate.reference]
    assert b"CQPM HORS RNCP" not in result.content


def test_the_export_refuses_to_run_without_credentials_outside_demo_mode(holders, settings):
    settings.CPF_ACCROCHAGE = {"ID_CLIENT": "", "ID_CONTRAT": "", "XSD_PATH": ""}
    settings.DEMO_DATA_ALLOWED = False
    with pytest.raises(BusinessRuleError, match="CPF_ID_CLIENT"):
        export(holders)
    assert not AccrochageBatch.objects.exists()
    settings.CPF_ACCROCHAGE = {"ID_CLIENT": "ABC", "ID_CONTRAT": "MCFCER1", "XSD_PATH": ""}
    with pytest.raises(BusinessRuleError, match="8 caractères"):
        export(holders)


def test_demo_mode_writes_fictitious_credentials(holders, settings):
    settings.CPF_ACCROCHAGE = {"ID_CLIENT": "", "ID_CONTRAT": "", "XSD_PATH": ""}
    settings.DEMO_DATA_ALLOWED = True
    root = etree.fromstring(export(holders).content)
    assert root.findtext("cpf:emetteur/cpf:idClient", namespaces=NS) == selectors.DEMO_ID_CLIENT


def test_the_configured_official_xsd_takes_precedence(holders, settings, tmp_path):
    # A stricter "official" schema: birth names of at most 5 characters. « Martin » has 6.
    official = tmp_path / "officiel.xsd"
    text = XSD_PATH.read_text(encoding="utf-8")
    official.write_text(
        text.replace(
            '<xs:element name="nomNaissance" type="cpf:Texte60"/>',
            '<xs:element name="nomNaissance"><xs:simpleType><xs:restriction base="xs:string">'
            '<xs:maxLength value="5"/></xs:restriction></xs:simpleType></xs:element>',
        ),
        encoding="utf-8",
    )
    holders["late"].candidate.birth_name = "Roy"
    holders["late"].candidate.save()
    settings.CPF_ACCROCHAGE = {**CREDENTIALS, "XSD_PATH": str(official)}
    result = export(holders)
    assert ids_in(result.content) == [id_of(holders["late"])]
    [refused] = result.left_out
    assert refused.reference == holders["early"].candidate.reference and refused.field == "Schéma XSD"
    assert result.batch.schema_name == "officiel.xsd"
    settings.CPF_ACCROCHAGE = {**CREDENTIALS, "XSD_PATH": str(tmp_path / "absent.xsd")}
    with pytest.raises(BusinessRuleError, match="XSD"):
        export(holders)


def report_csv(*lines):
    return ("idTechnique;statut;motif\n" + "\n".join(lines) + "\n").encode("utf-8")


def test_a_processing_report_marks_records_and_the_next_file_holds_only_rejected_and_new(holders):
    first = export(holders).batch
    report = import_processing_report(
        actor=None,
        batch=first,
        content=report_csv(
            f"{id_of(holders['early'])};ACCEPTE;", f"{id_of(holders['late'])};REJETE;Commune inconnue"
        ),
        filename="accuse.csv",
    )
    assert (report.accepted_count, report.rejected_count) == (1, 1)
    statuses = dict(AccrochageRecord.objects.filter(batch=first).values_list("id_technique", "status"))
    assert statuses == {id_of(holders["early"]): "accepted", id_of(holders["late"]): "rejected"}
    assert AccrochageRecord.objects.get(id_technique=id_of(holders["late"])).reason == "Commune inconnue"
    assert AuditEvent.objects.filter(
        action="reporting.processing_report_imported", target_id=str(first.pk)
    ).exists()
    rejected = selectors.holder_records(selectors.holder_outcomes().filter(pk=holders["late"].pk))[0]
    assert rejected.to_declare and rejected.rejection_reason == "Commune inconnue"

    # A new holder is awarded in the period; the next file: the rejected one and the new one only.
    new = deliberated(holders["centre"], holders["cqpm"], issued=D(2026, 3, 20))
    second = export(holders)
    assert sorted(ids_in(second.content)) == sorted([id_of(holders["late"]), id_of(new)])
    # accepted holders are never sent again, even when every holder is asked for
    assert id_of(holders["early"]) not in ids_in(export(holders, date_to=D(2026, 12, 31)).content)


def test_a_processing_report_with_an_unknown_id_changes_nothing(holders):
    batch = export(holders).batch
    with pytest.raises(ProcessingReportError) as caught:
        import_processing_report(
            actor=None,
            batch=batch,
            content=report_csv(f"{id_of(holders['early'])};ACCEPTE;", "INCONNU-D1;REJETE;x"),
        )
    assert [p.line for p in caught.value.problems] == [3]
    assert set(AccrochageRecord.objects.values_list("status", flat=True)) == {"sent"}
    assert not ProcessingReport.objects.exists()


def test_unreported_only_skips_the_holders_awaiting_the_portal(holders):
    export(holders, date_to=D(2026, 1, 31))
    assert ids_in(export(holders, unreported_only=True).content) == [id_of(holders["late"])]
    # without the option, holders awaiting an answer are sent again with the same idTechnique
    assert ids_in(export(holders).content) == [id_of(holders["early"]), id_of(holders["late"])]


def test_empty_scope_is_refused(holders):
    with pytest.raises(BusinessRuleError):
        export(holders, date_from=D(2025, 1, 1), date_to=D(2025, 12, 31))


def test_export_per_session(holders):
    session = holders["after"].session
    result = export_accrochage(
        actor=None,
        outcomes=selectors.holder_outcomes(),
        scope=ExportScope(centre=holders["centre"], session=session),
    )
    assert ids_in(result.content) == [id_of(holders["after"])]
    assert result.batch.session == session and result.batch.period_start is None


# --- legacy holders --------------------------------------------------------------------------------


def test_a_legacy_examination_makes_a_holder_without_sessions_declarable(holders):
    from evaluations.models import LegacyExamination
    from evaluations.services import record_legacy_examination

    legacy = deliberated(holders["centre"], holders["cqpm"], issued=D(2026, 3, 1), evaluations=[])
    with pytest.raises(AccrochageValidationError):
        export(holders, session=None, date_from=D(2026, 3, 1), date_to=D(2026, 3, 1))
    record_legacy_examination(
        actor=None,
        candidate=legacy.candidate,
        first_date=D(2026, 2, 2),
        last_date=D(2026, 2, 3),
        delivery_mode="remote",
    )
    result = export(holders, date_from=D(2026, 3, 1), date_to=D(2026, 3, 1))
    passage = etree.fromstring(result.content).find(".//cpf:passageCertification", NS)
    assert [
        passage.findtext(f"cpf:{t}", namespaces=NS)
        for t in ("dateDebutExamen", "dateFinExamen", "modalitePassageExamen")
    ] == [
        "2026-02-02",
        "2026-02-03",
        "A_DISTANCE",
    ]
    examination = LegacyExamination.objects.get(candidate=legacy.candidate)
    event = AuditEvent.objects.get(action="evaluations.legacy_examination_recorded")
    assert event.target_id == str(examination.pk) and event.centre_id == holders["centre"].pk


@pytest.mark.parametrize(
    ("first", "last", "mode", "message"),
    [
        (D(2026, 2, 3), D(2026, 2, 2), "on_site", "postérieure"),
        (D(2026, 2, 2), None, "on_site", "date de fin"),
        (D(2026, 2, 2), D(2026, 2, 2), "teleport", "modalité"),
    ],
)
def test_legacy_examination_rules(holders, first, last, mode, message):
    from evaluations.services import record_legacy_examination

    with pytest.raises(BusinessRuleError, match=message):
        record_legacy_examination(
            actor=None,
            candidate=holders["late"].candidate,
            first_date=first,
            last_date=last,
            delivery_mode=mode,
        )


def test_legacy_examination_cannot_be_in_the_future(holders):
    from evaluations.services import record_legacy_examination

    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    with pytest.raises(BusinessRuleError, match="futur"):
        record_legacy_examination(
            actor=None,
            candidate=holders["late"].candidate,
            first_date=tomorrow,
            last_date=tomorrow,
            delivery_mode="on_site",
        )


# --- the command ----------------------------------------------------------------------------------


def command(*args, **kwargs):
    return call_command(
        "export_accrochage", "--centre", "A", "--from", "2026-01-01", "--to", "2026-03-31", *args, **kwargs
    )


def test_command_writes_the_file_and_lists_the_left_out(holders, tmp_path):
    bad = holders["late"].candidate
    bad.birth_insee_code = ""
    bad.save()
    out = tmp_path / "accrochage.xml"
    stdout, stderr = io.StringIO(), io.StringIO()
    command("-o", str(out), stdout=stdout, stderr=stderr)
    assert xsd().validate(etree.parse(str(out)))
    assert ids_in(out.read_bytes()) == [id_of(holders["early"])]
    assert "1 titulaire(s) déclaré(s)" in stdout.getvalue() and "1 laissé(s) de côté" in stdout.getvalue()
    assert f"{bad.reference} — {bad.full_name} — Code INSEE / postal de naissance" in stderr.getvalue()


def test_command_exits_non_zero_when_nothing_is_declarable(holders, tmp_path):
    for outcome in (holders["early"], holders["late"]):
        outcome.candidate.birth_place = ""
        outcome.candidate.save()
    out = tmp_path / "accrochage.xml"
    stderr = io.StringIO()
    with pytest.raises(CommandError):
        command("-o", str(out), stderr=stderr)
    assert (
        holders["early"].candidate.full_name in stderr.getvalue() and "Lieu de naissance" in stderr.getvalue()
    )
    assert not out.exists() and not AccrochageBatch.objects.exists()


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


@override_settings(
    CPF_ACCROCHAGE={"ID_CLIENT": "", "ID_CONTRAT": "", "XSD_PATH": ""}, DEMO_DATA_ALLOWED=False
)
def test_command_refuses_without_credentials(holders, tmp_path):
    with pytest.raises(CommandError, match="CPF_ID_CLIENT"):
        command("-o", str(tmp_path / "x.xml"))
