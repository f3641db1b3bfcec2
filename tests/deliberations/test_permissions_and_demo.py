import pytest
from django.core.management import call_command

from core.models import Role
from deliberations import permissions
from deliberations.models import DeliberationSession, DocumentKind, GeneratedDocument, SessionStatus
from tests.core.factories import CentreFactory, StaffFactory, UserFactory
from tests.deliberations.factories import DeliberationSessionFactory, JuryUserFactory, paritary_jury

pytestmark = pytest.mark.django_db


@pytest.fixture
def session_and_users():
    centre, other = CentreFactory(), CentreFactory()
    juror, outsider_juror = JuryUserFactory(centres=[centre]), JuryUserFactory(centres=[centre])
    session = DeliberationSessionFactory(centre=centre, jury=paritary_jury(centre, jury_user=juror))
    superuser = StaffFactory()
    superuser.is_superuser = True
    superuser.save()
    return session, {
        "staff_same_centre": StaffFactory(centres=[centre]),
        "staff_other_centre": StaffFactory(centres=[other]),
        "superuser": superuser,
        "juror": juror,
        "juror_other_jury": outsider_juror,
        "evaluator": UserFactory(role=Role.EVALUATOR, centres=[centre]),
    }


@pytest.mark.parametrize(
    ("predicate", "allowed"),
    [
        ("can_view_session", {"staff_same_centre", "superuser", "juror"}),
        ("can_manage_session", {"staff_same_centre", "superuser"}),
        ("can_decide", {"staff_same_centre", "superuser", "juror"}),
        ("can_close_session", {"staff_same_centre", "superuser", "juror"}),
        ("can_amend", {"staff_same_centre", "superuser"}),
    ],
)
def test_session_predicates(session_and_users, predicate, allowed):
    session, users = session_and_users
    check = getattr(permissions, predicate)
    assert {key for key, user in users.items() if check(user, session)} == allowed


def test_jury_predicate(session_and_users):
    session, users = session_and_users
    allowed = {key for key, user in users.items() if permissions.can_manage_jury(user, session.jury)}
    assert allowed == {"staff_same_centre", "superuser"}


def test_demo_seed_builds_the_three_deliberations_and_is_idempotent():
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    sessions = list(DeliberationSession.objects.filter(centre__code="A").order_by("date"))
    assert [s.status for s in sessions] == [SessionStatus.CLOSED, SessionStatus.OPEN, SessionStatus.PLANNED]
    closed, decided, ready = sessions
    pv = GeneratedDocument.objects.get(session=closed, kind=DocumentKind.PV)
    assert pv.is_current and pv.sha256 and pv.status == "done"
    assert {o.result for o in decided.outcomes.all()} == {"certified", "partial"}
    assert decided.entries.count() == decided.outcomes.count()
    assert ready.entries.exists() and not ready.outcomes.exists()
    assert closed.jury.members.filter(user__username="jury-a", is_president=True).exists()


def test_a_session_found_through_the_jurors_seat_is_not_asked_again(
    session_and_users, django_assert_num_queries
):
    """session_for finds a juror's session through his seat (issue 21: one query less per page); the
    seat it notes is his only: another juror does not get the session, nor the seat."""
    from django.http import Http404

    from deliberations.selectors import session_for

    session, users = session_and_users
    found = session_for(users["juror"], session.pk)
    with django_assert_num_queries(0):
        assert permissions.can_view_session(users["juror"], found)
        assert permissions.can_decide(users["juror"], found)
    with pytest.raises(Http404):
        session_for(users["juror_other_jury"], session.pk)
    with django_assert_num_queries(1):  # the same instance, another juror: asked, and refused
        assert not permissions.can_view_session(users["juror_other_jury"], found)
