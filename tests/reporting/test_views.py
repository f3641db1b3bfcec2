import datetime
import io
import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from core.models import AuditEvent, Role
from reporting.models import AccrochageBatch, AccrochageRecord
from tests.candidates.factories import CentreFactory, StaffFactory, UserFactory
from tests.dashboards.html import tables
from tests.referential.factories import CertificationFactory
from tests.reporting.builders import deliberated

D = datetime.date
TODAY = datetime.date.today()


@pytest.fixture
def setup(db):
    centre = CentreFactory(code="A", postcode="54000")
    other = CentreFactory(code="B", postcode="69002")
    cqpm = CertificationFactory()
    overdue = deliberated(centre, cqpm, issued=TODAY - datetime.timedelta(days=100))
    recent = deliberated(centre, cqpm, issued=TODAY - datetime.timedelta(days=10))
    foreign = deliberated(other, cqpm, issued=TODAY - datetime.timedelta(days=100))
    staff = StaffFactory(centres=[centre])
    return {
        "centre": centre,
        "other": other,
        "overdue": overdue,
        "recent": recent,
        "foreign": foreign,
        "staff": staff,
    }


def test_page_lists_unreported_holders_overdue_first_and_only_own_centre(setup, client):
    client.force_login(setup["staff"])
    response = client.get(reverse("reporting:accrochage"))
    assert response.status_code == 200
    rows = tables(response.content.decode())["unreported"][1:]
    assert [r[0] for r in rows] == [setup["overdue"].candidate.reference, setup["recent"].candidate.reference]
    assert rows[0][5] == "En retard de 10 jours"
    assert rows[1][5] == "Reste 80 jours"
    assert setup["foreign"].candidate.reference not in response.content.decode()
    assert response.context["overdue_count"] == 1


def test_export_from_the_page_records_the_batch_and_lists_late_reports(setup, client):
    client.force_login(setup["staff"])
    response = client.post(
        reverse("reporting:accrochage_export"),
        {
            "centre": setup["centre"].pk,
            "date_from": (TODAY - datetime.timedelta(days=365)).isoformat(),
            "date_to": TODAY.isoformat(),
            "unreported_only": "on",
        },
    )
    assert response.status_code == 302
    batch = AccrochageBatch.objects.get()
    assert batch.created_by == setup["staff"] and batch.record_count == 2
    page = client.get(reverse("reporting:accrochage")).content.decode()
    parsed = tables(page)
    assert "unreported" not in parsed
    assert [r[0] for r in parsed["late"][1:]] == [setup["overdue"].candidate.reference]
    download = client.get(reverse("reporting:batch_download", args=[batch.pk]))
    assert download.status_code == 200 and download["Content-Type"] == "application/xml"
    root = ET.fromstring(b"".join(download.streaming_content))
    assert root.find("titulaires").get("nombre") == "2"
    assert AuditEvent.objects.filter(action="reporting.accrochage_downloaded").count() == 1


def test_missing_birth_place_is_listed_on_the_page_not_a_broken_file(setup, client):
    candidate = setup["recent"].candidate
    candidate.birth_place = ""
    candidate.save()
    client.force_login(setup["staff"])
    response = client.post(
        reverse("reporting:accrochage_export"),
        {"centre": setup["centre"].pk, "session": setup["recent"].session.pk},
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert candidate.reference in body and candidate.full_name in body and "Lieu de naissance" in body
    assert not AccrochageBatch.objects.exists() and not AccrochageRecord.objects.exists()


def test_session_of_another_centre_cannot_be_chosen(setup, client):
    client.force_login(setup["staff"])
    response = client.post(
        reverse("reporting:accrochage_export"),
        {"centre": setup["centre"].pk, "session": setup["foreign"].session.pk},
    )
    assert response.status_code == 400
    assert not AccrochageBatch.objects.exists()


def test_other_centre_cannot_download_a_batch(setup, client):
    from reporting import selectors
    from reporting.services import ExportScope, export_accrochage

    batch, _ = export_accrochage(
        actor=None,
        outcomes=selectors.holder_outcomes(),
        scope=ExportScope(centre=setup["other"], session=setup["foreign"].session),
    )
    client.force_login(setup["staff"])
    assert client.get(reverse("reporting:batch_download", args=[batch.pk])).status_code == 404


@pytest.mark.parametrize("role", [Role.EVALUATOR, Role.TUTOR, Role.JURY])
def test_other_roles_get_403(setup, client, role):
    client.force_login(UserFactory(role=role, centres=[setup["centre"]]))
    assert client.get(reverse("reporting:accrochage")).status_code == 403
    assert client.post(reverse("reporting:accrochage_export"), {}).status_code == 403


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_lists_export_what_they_show(setup, client, fmt):
    client.force_login(setup["staff"])
    response = client.get(reverse("reporting:accrochage"), {"list": "unreported", "export": fmt})
    assert response.status_code == 200
    if fmt == "xlsx":
        rows = [
            [c.value for c in row] for row in load_workbook(io.BytesIO(response.content)).active.iter_rows()
        ]
    else:
        rows = [line.split(";") for line in response.content.decode("utf-8-sig").strip().splitlines()]
    assert rows[0][0] == "Référence"
    assert [r[0] for r in rows[1:]] == [
        setup["overdue"].candidate.reference,
        setup["recent"].candidate.reference,
    ]


@pytest.mark.parametrize("n", [5, 50])
def test_page_query_count_is_constant(db, client, django_assert_max_num_queries, n):
    centre = CentreFactory(code="Q", postcode="54000")
    cqpm = CertificationFactory()
    for index in range(n):
        deliberated(centre, cqpm, issued=TODAY - datetime.timedelta(days=index % 120))
    client.force_login(StaffFactory(centres=[centre]))
    with django_assert_max_num_queries(9):
        response = client.get(reverse("reporting:accrochage"))
    assert len(tables(response.content.decode())["unreported"]) == n + 1


@pytest.mark.parametrize(
    ("role", "same_centre", "superuser", "allowed"),
    [
        (Role.STAFF, True, False, True),
        (Role.STAFF, False, False, False),
        (Role.STAFF, False, True, True),
        (Role.EVALUATOR, True, False, False),
        (Role.JURY, True, False, False),
    ],
)
def test_download_permission_predicate(db, role, same_centre, superuser, allowed):
    from reporting.models import AccrochageBatch

    own, other = CentreFactory(code="P1"), CentreFactory(code="P2")
    user = UserFactory(role=role, centres=[own], is_superuser=superuser)
    batch = AccrochageBatch(centre=own if same_centre else other)
    assert user.has_perm("reporting.download_batch", batch) is allowed
    assert user.has_perm("reporting.export_accrochage") is (role == Role.STAFF)
