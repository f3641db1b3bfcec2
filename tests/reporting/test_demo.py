"""Issue 18's acceptance on the demo data: on a fresh `seed_demo`, centre A's holders are declarable
and `export_accrochage --centre A --from 2000-01-01 --to 2100-01-01` writes a valid official flux."""

import io

import pytest
from django.core.management import call_command
from lxml import etree

from deliberations.models import CandidateOutcome
from reporting.accrochage import NAMESPACE, XSD_PATH


@pytest.mark.django_db
def test_fresh_demo_export_holds_every_certified_holder_of_centre_a(tmp_path, settings):
    settings.CPF_ACCROCHAGE = {"ID_CLIENT": "", "ID_CONTRAT": "", "XSD_PATH": ""}
    settings.DEMO_DATA_ALLOWED = True  # `make run`: demo mode, fictitious identifiers
    call_command("seed_demo", stdout=io.StringIO())
    holders = CandidateOutcome.objects.filter(
        result="certified", session__status="closed", candidate__centre__code="A"
    ).select_related("candidate")
    assert holders.exists()
    out = tmp_path / "f.xml"
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command(
        "export_accrochage", "--centre", "A", "--from", "2000-01-01", "--to", "2100-01-01", "-o", str(out),
        stdout=stdout, stderr=stderr,
    )  # fmt: skip
    document = etree.parse(str(out))
    assert document.getroot().tag == f"{{{NAMESPACE}}}flux"
    schema = etree.XMLSchema(etree.parse(str(XSD_PATH)))
    assert schema.validate(document), schema.error_log
    ids = {e.text for e in document.iterfind(f".//{{{NAMESPACE}}}idTechnique")}
    assert ids == {f"{o.candidate.reference}-D{o.session_id}" for o in holders}
    assert stderr.getvalue() == ""  # no anomaly on the demo data
    assert "0 laissé(s) de côté" in stdout.getvalue()
