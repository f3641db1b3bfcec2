"""CSV / XLSX exports of the list pages: `?format=csv|xlsx` on the page itself, through the same
role-scoped selector (another centre's / commission's / tutor's rows absent), formula cells neutralised,
the page's role restriction (wrong role → 403), constant query count."""

import csv
import datetime
import io

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from candidates.models import CandidateStatus
from core.models import Role
from evaluations import services
from evaluations.models import CompanyOpinion
from referential.models import CertificationStatus
from tests.candidates.factories import CandidateFactory, CompanyFactory
from tests.core.factories import CentreFactory, StaffFactory, UserFactory
from tests.deliberations.factories import (
    DeliberationSessionFactory,
    JuryFactory,
    JuryUserFactory,
    paritary_jury,
)
from tests.evaluations.conftest import build_world
from tests.evaluations.factories import (
    CommissionFactory,
    CommissionMemberFactory,
    CompanyOpinionFactory,
    EvaluationSessionFactory,
    EvaluatorFactory,
)
from tests.referential.factories import CertificationFactory

pytestmark = pytest.mark.django_db

FORMULA = '=HYPERLINK("http://evil.test","x")'
FORMATS = ["csv", "xlsx"]


def read_export(response, fmt):
    """The rows of an export as a list of lists of strings (header first), opened like a user would."""
    assert response.status_code == 200
    content = b"".join(response.streaming_content) if response.streaming else response.content
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;") and disposition.endswith(f'.{fmt}"')
    if fmt == "csv":
        assert response["Content-Type"].startswith("text/csv")
        text = content.decode("utf-8-sig")
        return list(csv.reader(io.StringIO(text), delimiter=";"))
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    sheet = workbook.active
    return [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]


def column(rows, header):
    index = rows[0].index(header)
    return [row[index] for row in rows[1:]]


def export(client, user, url, fmt, **params):
    client.force_login(user)
    return client.get(url, {**params, "format": fmt})


def assert_neutralised(cells):
    """The formula is exported as text (a leading quote), never as a live formula."""
    assert any(cell.upper().startswith("'=HYPERLINK(") for cell in cells), cells
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells), cells


# --- candidates:company_list ----------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_company_export_scoped_to_centre_filtered_and_neutralised(client, fmt):
    centre, other = CentreFactory(code="A"), CentreFactory(code="B")
    staff = StaffFactory(centres=[centre])
    CompanyFactory(centre=centre, name=FORMULA, city="Metz")
    CompanyFactory(centre=centre, name="Forges de Lorraine")
    CompanyFactory(centre=other, name="Usinage Autre Centre")

    rows = read_export(export(client, staff, reverse("candidates:company_list"), fmt), fmt)
    assert rows[0][:3] == ["Raison sociale", "SIRET", "Ville"]
    names = column(rows, "Raison sociale")
    assert sorted(names) == sorted(["'" + FORMULA, "Forges de Lorraine"])
    assert_neutralised(names)
    assert set(column(rows, "Centre")) == {"A"}

    filtered = read_export(export(client, staff, reverse("candidates:company_list"), fmt, q="Forges"), fmt)
    assert column(filtered, "Raison sociale") == ["Forges de Lorraine"]


@pytest.mark.parametrize("role", [Role.EVALUATOR, Role.TUTOR, Role.JURY])
def test_company_export_refused_to_other_roles(client, role):
    user = UserFactory(role=role, centres=[CentreFactory(code="A")])
    assert export(client, user, reverse("candidates:company_list"), "csv").status_code == 403


def test_unknown_format_is_404(client):
    staff = StaffFactory(centres=[CentreFactory(code="A")])
    assert export(client, staff, reverse("candidates:company_list"), "pdf").status_code == 404


@pytest.mark.parametrize("count", [5, 50])
def test_company_export_constant_queries(client, django_assert_max_num_queries, count):
    centre = CentreFactory(code="A")
    staff = StaffFactory(centres=[centre])
    CompanyFactory.create_batch(count, centre=centre)
    client.force_login(staff)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("candidates:company_list"), {"format": "xlsx"})
    assert len(read_export(response, "xlsx")) == count + 1


# --- evaluations:session_list and commission_list ---------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_evaluation_session_export_scoped_and_follows_period_tab(client, fmt):
    centre, other = CentreFactory(code="A"), CentreFactory(code="B")
    staff = StaffFactory(centres=[centre])
    commission = CommissionFactory(centre=centre, name=FORMULA)
    EvaluationSessionFactory(
        commission=commission, place="Salle future", date=timezone.localdate() + datetime.timedelta(days=10)
    )
    EvaluationSessionFactory(
        commission=commission, place="Salle passée", date=timezone.localdate() - datetime.timedelta(days=5)
    )
    EvaluationSessionFactory(commission=CommissionFactory(centre=other), place="Salle autre centre")
    url = reverse("evaluations:session_list")

    upcoming = read_export(export(client, staff, url, fmt), fmt)
    assert column(upcoming, "Lieu") == ["Salle future"]
    assert_neutralised(column(upcoming, "Commission"))
    assert column(upcoming, "Centre") == ["A"]

    past = read_export(export(client, staff, url, fmt, periode="passees"), fmt)
    assert column(past, "Lieu") == ["Salle passée"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_commission_export_scoped_with_president(client, fmt):
    centre, other = CentreFactory(code="A"), CentreFactory(code="B")
    staff = StaffFactory(centres=[centre])
    commission = CommissionFactory(centre=centre, name="Commission usinage")
    CommissionMemberFactory(
        commission=commission, is_president=True, user=EvaluatorFactory(first_name=FORMULA, last_name="Z")
    )
    CommissionMemberFactory(commission=commission)
    CommissionFactory(centre=other, name="Commission autre centre")

    rows = read_export(export(client, staff, reverse("evaluations:commission_list"), fmt), fmt)
    assert column(rows, "Commission") == ["Commission usinage"]
    assert column(rows, "Membres") == ["2"]
    assert column(rows, "Président(e)") == ["'" + FORMULA + " Z"]


@pytest.mark.parametrize(
    "url_name", ["evaluations:session_list", "evaluations:commission_list", "deliberations:jury_list"]
)
@pytest.mark.parametrize("role", [Role.EVALUATOR, Role.TUTOR, Role.JURY])
def test_staff_only_list_exports_refused_to_other_roles(client, url_name, role):
    user = UserFactory(role=role, centres=[CentreFactory(code="A")])
    assert export(client, user, reverse(url_name), "xlsx").status_code == 403


@pytest.mark.parametrize("count", [5, 50])
def test_commission_and_session_exports_constant_queries(client, django_assert_max_num_queries, count):
    centre = CentreFactory(code="A")
    staff = StaffFactory(centres=[centre])
    for _index in range(count):
        commission = CommissionFactory(centre=centre)
        CommissionMemberFactory(commission=commission, is_president=True)
        # upcoming: the session list shows the sessions to come by default
        EvaluationSessionFactory(
            commission=commission, date=timezone.localdate() + datetime.timedelta(days=10)
        )
    client.force_login(staff)
    for url_name in ("evaluations:commission_list", "evaluations:session_list"):
        with django_assert_max_num_queries(9):
            response = client.get(reverse(url_name), {"format": "csv"})
        assert len(read_export(response, "csv")) == count + 1


# --- evaluations:to_score (evaluator) ----------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_to_score_export_holds_only_the_evaluators_candidates(client, fmt):
    mine = build_world(code="A", birth_name=FORMULA)
    theirs = build_world(code="B", birth_name="Autrecentre")
    rows = read_export(export(client, mine.president, reverse("evaluations:to_score"), fmt), fmt)
    assert column(rows, "Référence") == [mine.candidate.reference]
    assert theirs.candidate.reference not in column(rows, "Référence")
    names = column(rows, "Candidat")
    assert names == ["'" + mine.candidate.full_name]
    assert_neutralised(names)
    sheets = column(rows, "Vos fiches par compétence")[0]
    assert sheets.count("à noter") == len(mine.competencies)
    assert column(rows, "Fiches soumises") == [f"0 / {len(mine.competencies)}"]


@pytest.mark.parametrize("role", [Role.STAFF, Role.TUTOR, Role.JURY])
def test_to_score_export_refused_to_other_roles(client, role):
    user = UserFactory(role=role, centres=[CentreFactory(code="A")])
    assert export(client, user, reverse("evaluations:to_score"), "csv").status_code == 403


# --- evaluations:opinions_todo (tutor) ---------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_opinions_export_holds_only_the_tutors_candidates(client, fmt):
    centre = CentreFactory(code="A")
    mine = CandidateFactory(centre=centre, birth_name=FORMULA, status=CandidateStatus.IN_EVALUATION)
    other = CandidateFactory(centre=centre, birth_name="Autretuteur", status=CandidateStatus.IN_EVALUATION)
    due = timezone.localdate() + datetime.timedelta(days=7)
    for candidate in (mine, other):
        for competency in candidate.certification.competencies.all():
            CompanyOpinionFactory(candidate=candidate, competency=competency, signed=False, due_date=due)
    assert CompanyOpinion.objects.filter(candidate=mine).exists()

    rows = read_export(export(client, mine.tutor.user, reverse("evaluations:opinions_todo"), fmt), fmt)
    names = column(rows, "Candidat")
    assert names == ["'" + mine.full_name]
    assert_neutralised(names)
    total = mine.certification.competencies.count()
    assert column(rows, "Avis") == [f"0 / {total} compétence(s)"]
    assert column(rows, "CQPM") == [mine.certification.code]
    assert column(rows, "À rendre avant le") == [due.strftime("%d/%m/%Y")]


@pytest.mark.parametrize("role", [Role.STAFF, Role.EVALUATOR, Role.JURY])
def test_opinions_export_refused_to_other_roles(client, role):
    user = UserFactory(role=role, centres=[CentreFactory(code="A")])
    assert export(client, user, reverse("evaluations:opinions_todo"), "csv").status_code == 403


# --- deliberations:session_list and jury_list --------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_deliberation_session_export_scoped_for_staff_and_jury(client, fmt):
    centre, other = CentreFactory(code="A"), CentreFactory(code="B")
    staff = StaffFactory(centres=[centre])
    jury_user = JuryUserFactory()
    sitting = DeliberationSessionFactory(
        centre=centre, jury=paritary_jury(centre, jury_user=jury_user), place=FORMULA
    )
    DeliberationSessionFactory(centre=centre, place="Autre jury")
    DeliberationSessionFactory(centre=other, place="Autre centre")
    url = reverse("deliberations:session_list")

    staff_rows = read_export(export(client, staff, url, fmt), fmt)
    assert sorted(column(staff_rows, "Lieu")) == sorted(["'" + FORMULA, "Autre jury"])
    assert_neutralised(column(staff_rows, "Lieu"))

    jury_rows = read_export(export(client, jury_user, url, fmt), fmt)
    assert column(jury_rows, "Lieu") == ["'" + FORMULA]
    assert column(jury_rows, "CQPM") == [sitting.certification.code]


@pytest.mark.parametrize("role", [Role.EVALUATOR, Role.TUTOR])
def test_deliberation_session_export_refused_to_other_roles(client, role):
    user = UserFactory(role=role, centres=[CentreFactory(code="A")])
    assert export(client, user, reverse("deliberations:session_list"), "csv").status_code == 403


@pytest.mark.parametrize("fmt", FORMATS)
def test_jury_export_scoped_with_composition(client, fmt):
    centre, other = CentreFactory(code="A"), CentreFactory(code="B")
    staff = StaffFactory(centres=[centre])
    paritary = paritary_jury(centre)
    paritary.name = "-2+3"
    paritary.save()
    JuryFactory(centre=centre, name="Jury vide")
    JuryFactory(centre=other, name="Jury autre centre")

    rows = read_export(export(client, staff, reverse("deliberations:jury_list"), fmt), fmt)
    by_name = {row[0]: row for row in rows[1:]}
    assert set(by_name) == {"'-2+3", "Jury vide"}
    assert by_name["'-2+3"][2:] == ["2", "Paritaire"]
    assert by_name["Jury vide"][2] == "0"
    assert "deux collèges" in by_name["Jury vide"][3]


@pytest.mark.parametrize("count", [5, 50])
def test_deliberation_exports_constant_queries(client, django_assert_max_num_queries, count):
    centre = CentreFactory(code="A")
    staff = StaffFactory(centres=[centre])
    certification = CertificationFactory()
    for _index in range(count):
        DeliberationSessionFactory(centre=centre, certification=certification)
    client.force_login(staff)
    for url_name in ("deliberations:session_list", "deliberations:jury_list"):
        with django_assert_max_num_queries(9):
            response = client.get(reverse(url_name), {"format": "xlsx"})
        assert len(read_export(response, "xlsx")) == count + 1


# --- referential:list ----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_referential_export_follows_the_readers_scope(client, fmt):
    published = CertificationFactory(code="CQPM-PUB", title=FORMULA)
    CertificationFactory(code="CQPM-DRAFT", status=CertificationStatus.DRAFT, with_content=False)
    staff = StaffFactory(centres=[CentreFactory(code="A")])
    evaluator = EvaluatorFactory(centres=[CentreFactory(code="B")])
    url = reverse("referential:list")

    staff_rows = read_export(export(client, staff, url, fmt), fmt)
    assert sorted(column(staff_rows, "Code")) == ["CQPM-DRAFT", "CQPM-PUB"]
    assert_neutralised(column(staff_rows, "Intitulé"))

    evaluator_rows = read_export(export(client, evaluator, url, fmt), fmt)
    assert column(evaluator_rows, "Code") == ["CQPM-PUB"]
    index = evaluator_rows[0].index("Compétences")
    assert evaluator_rows[1][index] == str(published.competencies.count())


def test_referential_export_refused_to_tutors(client):
    tutor = UserFactory(role=Role.TUTOR, centres=[CentreFactory(code="A")])
    assert export(client, tutor, reverse("referential:list"), "xlsx").status_code == 403


@pytest.mark.parametrize("count", [5, 50])
def test_referential_export_constant_queries(client, django_assert_max_num_queries, count):
    CertificationFactory.create_batch(count, with_content=False)
    client.force_login(StaffFactory(centres=[CentreFactory(code="A")]))
    with django_assert_max_num_queries(6):
        response = client.get(reverse("referential:list"), {"format": "csv"})
    assert len(read_export(response, "csv")) == count + 1


# --- the buttons ---------------------------------------------------------------------------------


def test_list_pages_offer_both_export_buttons_with_their_filters(client):
    centre = CentreFactory(code="A")
    staff = StaffFactory(centres=[centre])
    CompanyFactory(centre=centre, name="Forges")
    EvaluationSessionFactory(
        commission=CommissionFactory(centre=centre), date=timezone.localdate() - datetime.timedelta(days=3)
    )
    client.force_login(staff)
    page = client.get(reverse("candidates:company_list"), {"q": "Forges"}).content.decode()
    assert "?q=Forges&amp;format=csv" in page and "?q=Forges&amp;format=xlsx" in page
    page = client.get(reverse("evaluations:session_list"), {"periode": "passees"}).content.decode()
    assert "?periode=passees&amp;format=csv" in page and "Exporter en XLSX" in page


@pytest.mark.parametrize("count", [5, 50])
def test_evaluator_and_tutor_exports_constant_queries(client, django_assert_max_num_queries, count):
    world = build_world(code="A")
    certification = world.candidate.certification
    competency = certification.competencies.first()
    tutor = world.candidate.tutor
    for index in range(count - 1):
        candidate = CandidateFactory(
            centre=world.centre,
            certification=certification,
            company=tutor.company,
            tutor=tutor,
            status=CandidateStatus.DOSSIER_VALIDATED,
        )
        services.convene_candidate(
            session=world.session, candidate=candidate, time_slot=datetime.time(8, index % 60), by=world.staff
        )
    for candidate in tutor.candidates.all():
        CompanyOpinionFactory(candidate=candidate, competency=competency, signed=False)

    client.force_login(world.president)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("evaluations:to_score"), {"format": "csv"})
    assert len(read_export(response, "csv")) == count + 1

    client.force_login(tutor.user)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("evaluations:opinions_todo"), {"format": "csv"})
    assert len(read_export(response, "csv")) == count + 1


# --- The audit journal: who took which list out -----------------------------------------------------


def test_name_bearing_list_exports_are_written_in_the_audit_journal(client):
    """The lists that carry names (to score, opinions to give, companies, commissions, sessions) leave
    a trace: who, which list, how many rows, which format, from where; never a name in the event."""
    from core.models import AuditEvent

    world = build_world(code="A", birth_name="Exportdenom")
    tutor = world.candidate.tutor.user
    cases = [
        (world.president, reverse("evaluations:to_score"), "a-evaluer", 1),
        (world.staff, reverse("candidates:company_list"), "entreprises", None),
        (world.staff, reverse("evaluations:commission_list"), "commissions", None),
        (world.staff, reverse("evaluations:session_list"), "sessions-evaluation", None),
    ]
    CompanyOpinionFactory(
        candidate=world.candidate, competency=world.candidate.certification.competencies.first(), signed=False
    )
    cases.append((tutor, reverse("evaluations:opinions_todo"), "avis-a-donner", 1))
    for user, url, name, count in cases:
        exported = AuditEvent.objects.filter(action="list.exported")
        before = exported.count()
        rows = read_export(export(client, user, url, "xlsx"), "xlsx")
        event = exported.get(data__export=name)
        assert exported.count() == before + 1
        assert event.actor == user and event.data["format"] == "xlsx"
        assert event.data["count"] == len(rows) - 1 and (count is None or event.data["count"] == count)
        assert event.ip_address == "127.0.0.1"
        assert "Exportdenom" not in f"{event.message} {event.data}"
    # showing the page itself writes nothing
    client.force_login(world.president)
    before = AuditEvent.objects.count()
    assert client.get(reverse("evaluations:to_score")).status_code == 200
    assert AuditEvent.objects.count() == before
