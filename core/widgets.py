"""The home page's widgets: the registry through which each app contributes its own (issue 20).

`core` knows no domain app: each app registers the widgets built from its selectors with
`register_widget` (in a module its `AppConfig.ready` imports, like `candidates.hub` and
`candidates.filters.register_filter`), and the dashboard (`reporting.dashboards.dashboard_for`, top
layer) lays out those of the user's role in their `order`. A builder is `builder(user, today)` and
returns a `Widget`, a list of them, or None (nothing to show); it runs a fixed number of queries
whatever the volume (tested at 5 and 50 rows) and counts only what its user may open.

Orders in use — staff: 10 candidates by status, 20 evaluation sessions, 30 late reports, 40 late
company opinions, 50 late access requests, 60 sessions ready to deliberate; evaluator: 10 to score,
20 to arbitrate; tutor: 10 opinions to give; jury: 10 next deliberations; every role: 1000 new
messages.
"""

from dataclasses import dataclass, field
from datetime import date

ITEM_LIMIT = 8


@dataclass
class Item:
    label: str
    url: str
    detail: str = ""
    due: date | None = None
    late: bool = False


@dataclass
class Widget:
    key: str
    title: str
    count: int
    items: list = field(default_factory=list)
    more_url: str = ""
    more_label: str = ""
    empty: str = ""
    counts: list = field(default_factory=list)  # [(label, number, url)] for a "by state" widget

    @property
    def hidden_count(self):
        """Items not listed (a "by state" widget lists no item: nothing is hidden)."""
        return 0 if self.counts else max(0, self.count - len(self.items))


def list_widget(rows, *, item, key, title, **options):
    """A widget listing the first `ITEM_LIMIT` of `rows` (a queryset or a list), each shown by
    `item(row)` → `Item`, with the total count.

    A queryset costs one query, and a second (`COUNT`) only when it holds more rows than the widget
    lists; `options` are the other `Widget` fields (`more_url`, `more_label`, `empty`).
    """
    if isinstance(rows, list):
        first, count = rows[:ITEM_LIMIT], len(rows)
    else:
        fetched = list(rows[: ITEM_LIMIT + 1])
        first = fetched[:ITEM_LIMIT]
        count = len(fetched) if len(fetched) <= ITEM_LIMIT else rows.count()
    return Widget(key=key, title=title, count=count, items=[item(row) for row in first], **options)


@dataclass(frozen=True)
class Registration:
    key: str
    roles: frozenset  # the roles (core.models.Role values) whose home shows it; empty: every role
    order: int
    builder: object


_REGISTRY = {}


def register_widget(*, key, order, roles=()):
    """Decorator: `builder(user, today)` contributes the widget `key` to the home of `roles` (every
    role when empty), at position `order`. Registering the same key again replaces it."""

    def decorator(builder):
        _REGISTRY[key] = Registration(key=key, roles=frozenset(roles), order=order, builder=builder)
        return builder

    return decorator


def registered_widgets(role):
    """The registrations shown to `role`, in their order."""
    return sorted(
        (r for r in _REGISTRY.values() if not r.roles or role in r.roles), key=lambda r: (r.order, r.key)
    )


def build_widgets(user, role, today):
    """Every widget of `role` for `user`, in order (builders returning None add nothing)."""
    widgets = []
    for registration in registered_widgets(role):
        built = registration.builder(user, today)
        if built is None:
            continue
        widgets.extend(built if isinstance(built, list) else [built])
    return widgets
