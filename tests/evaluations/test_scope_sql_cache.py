"""The evaluator's scope SQL is cached per process by its arguments (`_evaluator_scope_sql`, lru_cache):
the scoring grid and its autosave would otherwise pay ~8 ms of ORM composition at every click. The cache
is right only while the SQL is a function of the arguments alone: composing it must read nothing from
the database (no value of a row baked into the SQL), and the cached SQL must keep selecting what the
queryset selects when the data changes. These tests hold that invariant."""

import datetime

from django.db import connection
from django.db.models.expressions import RawSQL
from django.test.utils import CaptureQueriesContext

from candidates.models import Candidate
from evaluations import selectors, services
from tests.candidates.factories import CandidateFactory, CompanyFactory, TutorFactory
from tests.evaluations.factories import (
    CommissionMemberFactory,
    ConflictOfInterestFactory,
    EvaluationSessionFactory,
)

from .conftest import build_world


def scope_args(user):
    return (
        Candidate.objects.db,
        user.pk,
        tuple(user.centre_ids()),
        selectors.professional_domain(user.email),
    )


def cached_ids(user):
    selectors._evaluator_scope_sql.cache_clear()
    args = scope_args(user)  # the user's centres are read here, per request, as the page does
    with CaptureQueriesContext(connection) as composing:
        scope = selectors._evaluator_scope_sql(*args)
    assert not composing.captured_queries, "composing the scope read the database: it cannot be cached"
    cached_again = selectors._evaluator_scope_sql(*scope_args(user))
    assert cached_again == scope
    if scope is None:
        return set()
    return set(Candidate.objects.filter(pk__in=RawSQL(*scope)).values_list("pk", flat=True))  # noqa: S611


def queryset_ids(user):
    return set(selectors.candidates_for_evaluator(user).values_list("pk", flat=True))


def test_the_cached_scope_selects_what_the_queryset_selects_after_the_data_changes(world):
    member = world.member
    selectors._evaluator_scope_sql.cache_clear()
    scope = selectors._evaluator_scope_sql(*scope_args(member))  # composed before the changes below
    assert cached_ids(member) == queryset_ids(member) == {world.candidate.pk}

    # New convocation, new conflicts (declared, through a company, through the e-mail domain), a
    # candidate anonymised: the SQL composed before them still selects exactly the queryset's rows.
    other = CandidateFactory(centre=world.centre, status=world.candidate.status)
    services.convene_candidate(
        session=world.session, candidate=other, time_slot=datetime.time(10, 0), by=world.staff
    )
    third = CandidateFactory(centre=world.centre, status=world.candidate.status)
    services.convene_candidate(
        session=world.session, candidate=third, time_slot=datetime.time(11, 0), by=world.staff
    )
    ConflictOfInterestFactory(user=member, candidate=other)
    company = CompanyFactory(centre=world.centre)
    TutorFactory(company=company, user=member)
    Candidate.objects.filter(pk=third.pk).update(company=company)
    Candidate.objects.filter(pk=world.candidate.pk).update(anonymised_at="2026-01-01T00:00:00Z")

    assert selectors._evaluator_scope_sql(*scope_args(member)) == scope
    in_scope = set(Candidate.objects.filter(pk__in=RawSQL(*scope)).values_list("pk", flat=True))  # noqa: S611
    assert in_scope == queryset_ids(member)


def test_another_commission_and_centre_give_another_key(db):
    first, second = build_world(code="A"), build_world(code="B")
    member = first.member
    CommissionMemberFactory(commission=second.commission, user=member)
    EvaluationSessionFactory(commission=second.commission)
    assert cached_ids(member) == queryset_ids(member)
    assert cached_ids(second.member) == queryset_ids(second.member) == {second.candidate.pk}
