"""The audit journal page's HTML built in Python (issue 21, second pass): its 50 rows and its filter
fields.

Through the template engine, the 50 rows of 7 cells cost ≈ 20 ms of CPU per request (≈ 40 Python
calls per variable, a localised `date` filter per row) and crispy-forms' six filter fields ≈ 8 ms;
here the same HTML costs a few ms. Every value from the database and every translated label is
HTML-escaped (`html.escape`, what Django's autoescape calls); dates use the locale's
SHORT_DATETIME_FORMAT in the current time zone, as the template's `date` filter did. The events are
those of `audit.describe_events` (their labels, object names and links already set).
"""

from html import escape

from crispy_forms.templatetags.crispy_forms_filters import as_crispy_field
from django.utils import dateformat, timezone
from django.utils.formats import get_format
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from core.memo import ProcessMemo

# The <tr> of one event; the whitespace is the template's (templates/core/audit_log.html before).
ROW_HTML = (
    "\n    <tr>\n"
    '      <td class="text-nowrap">{date}</td>\n'
    "      <td>{action}</td>\n"
    "      <td>{actor}</td>\n"
    "      <td>{centre}</td>\n"
    "      <td>{target}</td>\n"
    "      <td>{details}</td>\n"
    "      <td><small>{ip}</small></td>\n"
    "    </tr>\n  "
)

# Django's date format characters → strftime's, for the formats made of these only (« d/m/Y H:i »).
_STRFTIME = {"d": "%d", "m": "%m", "Y": "%Y", "H": "%H", "i": "%M"}


def _date_formatter():
    """datetime → its SHORT_DATETIME_FORMAT text in the current time zone (the `date` filter's)."""
    fmt = get_format("SHORT_DATETIME_FORMAT")
    if all(ch in _STRFTIME or not (ch.isalpha() or ch in "\\%") for ch in fmt):
        pattern = "".join(_STRFTIME.get(ch, ch) for ch in fmt)
        return lambda value: timezone.localtime(value).strftime(pattern)
    return lambda value: dateformat.format(timezone.localtime(value), fmt)


def journal_rows_html(events):
    """The <tr>s of the journal's table for `events` (described by `audit.describe_events`)."""
    formatted = _date_formatter()
    anonymous = '<span class="text-body-secondary">{}</span>'.format(escape(_("anonyme")))
    escaped = {}  # label → escaped label (actions, kinds of objects: a few per page)

    def label(value):
        if value not in escaped:
            escaped[value] = escape(str(value))
        return escaped[value]

    rows = []
    for event in events:
        actor = event.actor
        if actor is not None:
            actor_html = escape(actor.get_full_name() or actor.username)
        else:
            actor_html = anonymous
        if event.target_type:
            target = label(event.target_label)
            if event.target_name:
                name = escape(str(event.target_name))
                if event.target_url:
                    name = f'<a href="{escape(event.target_url)}">{name}</a>'
                target = f"{target} : {name}"
            else:
                target = f"{target} n° {escape(str(event.target_id))}"
        else:
            target = "—"
        details = ""
        if event.details:
            details = '<small class="text-body-secondary">{}</small>'.format(
                " · ".join(f"{label(key)} : {escape(str(value))}" for key, value in event.details)
            )
        rows.append(
            ROW_HTML.format(
                date=formatted(event.created_at),
                action=label(event.action_label),
                actor=actor_html,
                centre=escape(event.centre.name) if event.centre is not None and event.centre.name else "—",
                target=target,
                details=details,
                ip=escape(event.ip_address or ""),
            )
        )
    return mark_safe("".join(rows))  # noqa: S308 - every value escaped above


# crispy-forms' HTML of the unbound filter's fields, per process, by language and choices offered:
# the same HTML for every request of a centre's staff while the journal's codes do not change
# (`audit.journal_codes`, cached 10 minutes). A few entries: one per scope's set of choices.
_FILTER_HTML = ProcessMemo()

FIELD_HTML = '\n    <div class="col-sm-6 col-lg-2">{}</div>\n    '


def _fields_html(form):
    return "".join(FIELD_HTML.format(as_crispy_field(field)) for field in form)


def filter_fields_html(event_filter):
    """The filter form's fields (`as_crispy_field` each in its column), from the per-process cache
    for an unbound filter (no values, no errors: its HTML depends on the language and choices only)."""
    if event_filter.is_bound:
        return mark_safe(_fields_html(event_filter.form))  # noqa: S308 - crispy-forms' escaped output
    key = (
        get_language(),
        *(
            tuple((str(value), str(text)) for value, text in event_filter.filters[name].extra["choices"])
            for name in ("action", "target_type")
        ),
    )
    html = _FILTER_HTML.get_or_build(key, lambda: _fields_html(event_filter.form))
    return mark_safe(html)  # noqa: S308 - crispy-forms' escaped output
