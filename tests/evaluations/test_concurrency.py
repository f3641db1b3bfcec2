"""Two saves of the same sheet at the same moment, on two database connections (PostgreSQL): exactly one
wins, the other gets the conflict — never a silent overwrite."""

import threading

import pytest
from django.db import connection, connections

from evaluations import services
from evaluations.models import CriterionJudgement, ScoringSheet
from tests.evaluations.conftest import build_world


@pytest.mark.django_db(transaction=True)
def test_simultaneous_saves_on_two_connections_cannot_both_win():
    if connection.vendor != "postgresql":
        pytest.skip("Deux connexions simultanées sur la même base : PostgreSQL requis (voir .ci/run).")
    world = build_world()
    sheet_id = world.sheet(world.member).pk
    criterion = world.criteria()[0]
    barrier = threading.Barrier(2)
    outcomes = {}

    def save(name, value):
        try:
            sheet = ScoringSheet.objects.select_related("candidate", "competency").get(pk=sheet_id)
            barrier.wait(timeout=10)
            services.save_sheet(
                sheet=sheet, by=world.member, expected_version=1, judgements={criterion.pk: (value, name)}
            )
            outcomes[name] = "saved"
        except services.StaleSheetError:
            outcomes[name] = "conflict"
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=save, args=("tablette", "acquired")),
        threading.Thread(target=save, args=("portable", "not_acquired")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes.values()) == ["conflict", "saved"]
    winner = next(name for name, outcome in outcomes.items() if outcome == "saved")
    stored = CriterionJudgement.objects.get(sheet_id=sheet_id, criterion=criterion)
    assert stored.comment == winner
    assert ScoringSheet.objects.get(pk=sheet_id).version == 2
