"""The home page's widget registry (core.widgets): apps contribute, the dashboard lays them out."""

import pytest

from core import widgets
from core.models import Role
from reporting.dashboards import dashboard_for
from tests.core.factories import UserFactory


@pytest.fixture
def registry(monkeypatch):
    monkeypatch.setattr(widgets, "_REGISTRY", dict(widgets._REGISTRY))
    return widgets


def test_every_app_contributes_its_widgets_in_order():
    keys = [r.key for r in widgets.registered_widgets(Role.STAFF)]
    assert keys == [
        "candidates_by_status",
        "upcoming_sessions",
        "late_reports",
        "overdue_opinions",
        "overdue_access_requests",
        "open_appeals",
        "sessions_ready",
        "new_messages",
    ]
    assert [r.key for r in widgets.registered_widgets(Role.EVALUATOR)] == [
        "to_score",
        "to_arbitrate",
        "new_messages",
    ]
    assert [r.key for r in widgets.registered_widgets(Role.TUTOR)] == ["opinions_todo", "new_messages"]
    assert [r.key for r in widgets.registered_widgets(Role.JURY)] == ["next_deliberations", "new_messages"]


def test_a_registered_widget_shows_for_its_roles_only_and_none_adds_nothing(db, registry):
    registry.register_widget(key="hello", order=5, roles=[Role.TUTOR])(
        lambda user, today: widgets.Widget(key="hello", title="Bonjour", count=1)
    )
    registry.register_widget(key="nothing", order=6, roles=[Role.TUTOR])(lambda user, today: None)
    tutor = UserFactory(role=Role.TUTOR)
    assert [w.key for w in dashboard_for(tutor)["widgets"]] == ["hello", "opinions_todo"]
    jury = UserFactory(role=Role.JURY)
    assert "hello" not in [w.key for w in dashboard_for(jury)["widgets"]]


def test_an_inactive_user_gets_no_widget(db):
    assert dashboard_for(UserFactory(role=Role.TUTOR, is_active=False))["widgets"] == []
