"""The home page of each role: what needs doing, each item linking to the page where it is done.

The widgets come from the apps that own their data, through `core.widgets.register_widget`
(`candidates.widgets`, `evaluations.widgets`, `deliberations.widgets`, core's « Nouveaux messages »):
the dashboard lays out those of the user's role. Every figure comes through the role's selectors, so
a dashboard never counts what its user may not open.
"""

from django.utils import timezone

from core.models import Role
from core.widgets import build_widgets


def dashboard_for(user, today=None):
    today = today or timezone.localdate()
    role = Role.STAFF if user.is_superuser else user.role
    widgets = build_widgets(user, role, today) if user.is_active else []
    return {"role": role, "widgets": widgets, "today": today}
