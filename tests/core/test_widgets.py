"""The home page's widget registry (core.widgets): apps contribute, the dashboard lays them out."""

import pytest

from core import widgets
from core.models import Role, User
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


@pytest.mark.parametrize("total", [0, 1, widgets.ITEM_LIMIT, widgets.ITEM_LIMIT + 1, 20])
def test_list_widget_lists_the_first_rows_and_counts_them_all(db, total, django_assert_num_queries):
    """One query while everything fits, a COUNT only when rows are left out; a list costs nothing."""
    for i in range(total):
        UserFactory(username=f"w{i:02d}", role=Role.TUTOR)
    queryset = widgets_users().order_by("username")
    with django_assert_num_queries(1 if total <= widgets.ITEM_LIMIT else 2):
        widget = widgets.list_widget(
            queryset, item=lambda u: widgets.Item(label=u.username, url="#"), key="k", title="T", empty="Rien"
        )
    assert widget.count == total
    assert [i.label for i in widget.items] == [f"w{i:02d}" for i in range(min(total, widgets.ITEM_LIMIT))]
    assert widget.hidden_count == max(0, total - widgets.ITEM_LIMIT)
    assert widget.empty == "Rien"

    as_list = widgets.list_widget(
        list(range(total)), item=lambda n: widgets.Item(label=str(n), url="#"), key="k", title="T"
    )
    assert as_list.count == total
    assert len(as_list.items) == min(total, widgets.ITEM_LIMIT)


def widgets_users():
    return User.objects.filter(username__startswith="w")
