"""The journal page's HTML built in Python (core/audit_rows.py, issue 21): the same rows as the
template that built them before, every value escaped; the filter's fields from a per-process cache
only when unbound; the objects' names read with the columns their str() needs, nothing else."""

import datetime as dt
import decimal

import pytest
from django.apps import apps
from django.db import connection
from django.db.models.base import DEFERRED
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import audit_rows
from core.audit import AuditEventFilter, audit_events_visible_to, describe_events
from core.audit_labels import NAME_FIELDS, TARGETS
from core.audit_rows import filter_fields_html, journal_rows_html
from core.memo import ProcessMemo
from core.models import AuditEvent, CertificationCentre, Role, User
from core.services import audit

# The table's loop of templates/core/audit_log.html before issue 21's second pass, as it was.
OLD_ROWS = Template(
    "{% load i18n %}{% for event in events %}\n"
    "    <tr>\n"
    '      <td class="text-nowrap">{{ event.created_at|date:"SHORT_DATETIME_FORMAT" }}</td>\n'
    "      <td>{{ event.action_label }}</td>\n"
    "      <td>{% if event.actor %}{{ event.actor.get_full_name|default:event.actor.username }}"
    '{% else %}<span class="text-body-secondary">{% translate "anonyme" %}</span>{% endif %}</td>\n'
    '      <td>{{ event.centre.name|default:"—" }}</td>\n'
    "      <td>{% if event.target_type %}{{ event.target_label }}{% if event.target_name %} : "
    '{% if event.target_url %}<a href="{{ event.target_url }}">{{ event.target_name }}</a>'
    "{% else %}{{ event.target_name }}{% endif %}{% else %} n° {{ event.target_id }}{% endif %}"
    "{% else %}—{% endif %}</td>\n"
    '      <td>{% if event.details %}<small class="text-body-secondary">{% for key, value in event.details %}'
    "{{ key }} : {{ value }}{% if not forloop.last %} · {% endif %}{% endfor %}</small>{% endif %}</td>\n"
    '      <td><small>{{ event.ip_address|default:"" }}</small></td>\n'
    "    </tr>\n"
    "  {% endfor %}"
)
OLD_FIELDS = Template(
    "{% load crispy_forms_tags %}{% for field in form %}\n"
    '    <div class="col-sm-6 col-lg-2">{{ field|as_crispy_field }}</div>\n'
    "    {% endfor %}"
)

HOSTILE = ["<script>alert(1)</script>", "\"'><img src=x onerror=alert(1)>", "a & b", "{x} {0}", "é ü ß —"]
text = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=12))


@st.composite
def described_events(draw):
    """An event as `describe_events` leaves it, not saved (its labels, object and details drawn)."""
    moment = draw(
        st.datetimes(
            min_value=dt.datetime(2001, 1, 1),
            max_value=dt.datetime(2090, 12, 31),
            timezones=st.just(dt.UTC),
        )
    )
    actor = draw(
        st.one_of(
            st.none(),
            st.builds(User, username=text.filter(bool), first_name=text, last_name=text),
        )
    )
    centre = draw(st.one_of(st.none(), st.builds(CertificationCentre, code=st.just("C"), name=text)))
    event = AuditEvent(
        created_at=moment,
        action=draw(text),
        actor=actor,
        centre=centre,
        target_type=draw(st.one_of(st.just(""), st.sampled_from(sorted(TARGETS)), text)),
        target_id=draw(st.one_of(st.just(""), st.integers(1, 10**9).map(str), text)),
        ip_address=draw(st.one_of(st.none(), st.just("192.0.2.1"), st.just("2001:db8::1"), text)),
    )
    event.action_label = draw(st.one_of(text, st.sampled_from(["Connexion", "Candidat inscrit"])))
    event.target_label = draw(text)
    event.target_name = draw(st.one_of(st.just(""), text))
    event.target_url = draw(st.one_of(st.just(""), st.just("/candidats/12/"), text))
    event.details = draw(st.lists(st.tuples(text, text), max_size=3))
    return event


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(described_events(), max_size=6))
def test_rows_are_the_templates_byte_for_byte(events):
    assert journal_rows_html(events) == OLD_ROWS.render(Context({"events": events}))


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(["Europe/Paris", "America/Cayenne", "UTC"]), st.lists(described_events(), max_size=3))
def test_dates_are_those_of_the_current_time_zone_as_the_template_showed_them(zone, events):
    with timezone.override(zone):
        assert journal_rows_html(events) == OLD_ROWS.render(Context({"events": events}))


def test_every_value_is_escaped():
    actor = User(username="u", first_name="<b>Jean</b>", last_name="")
    event = AuditEvent(
        created_at=timezone.now(),
        action="x",
        actor=actor,
        centre=CertificationCentre(name="<i>centre</i>"),
        target_type="candidates.candidate",
        target_id="3",
        ip_address='"><script>',
    )
    event.action_label = "<script>alert(1)</script>"
    event.target_label = "Candidat"
    event.target_name = "<img src=x onerror=alert(1)>"
    event.target_url = '/c/3/"onclick="x'
    event.details = [("<k>", "<v>")]
    html = journal_rows_html([event])
    assert "<script>" not in html and "<img" not in html and "<b>" not in html and "<i>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert 'href="/c/3/&quot;onclick=&quot;x"' in html and "&lt;k&gt; : &lt;v&gt;" in html


def test_a_date_format_other_than_day_month_year_hour_minute_still_formats_as_the_template(settings):
    settings.FORMAT_MODULE_PATH = None
    settings.USE_I18N = False  # the default English SHORT_DATETIME_FORMAT « m/d/Y P »
    event = AuditEvent(created_at=dt.datetime(2026, 3, 4, 15, 7, tzinfo=dt.UTC), action="x", target_type="")
    event.action_label, event.details = "x", []
    assert journal_rows_html([event]) == OLD_ROWS.render(Context({"events": [event]}))


# -- the filter's fields -------------------------------------------------------------------------


@pytest.fixture
def staff(db):
    centre = CertificationCentre.objects.create(code="A", name="Centre A")
    user = User.objects.create_user("staff-a", password="x", role=Role.STAFF)
    user.centres.set([centre])
    audit(actor=user, action="candidate.updated", target=centre, centre=centre)
    return user


def _filter(rf, user, data=None):
    request = rf.get("/journal/", data or {})
    request.user = user
    return AuditEventFilter(data or None, queryset=audit_events_visible_to(user), request=request)


@pytest.mark.django_db
def test_unbound_fields_come_from_the_cache_and_equal_crispy_forms_rendering(rf, staff, monkeypatch):
    monkeypatch.setattr(audit_rows, "_FILTER_HTML", ProcessMemo())
    first = filter_fields_html(_filter(rf, staff))
    assert first == OLD_FIELDS.render(Context({"form": _filter(rf, staff).form}))
    assert len(audit_rows._FILTER_HTML) == 1
    # A hit does not build the form.
    cached = _filter(rf, staff)
    monkeypatch.setattr(AuditEventFilter, "form", property(lambda self: pytest.fail("form built")))
    assert filter_fields_html(cached) == first


@pytest.mark.django_db
def test_the_cache_key_covers_the_choices_and_the_language(rf, staff, monkeypatch):
    from django.utils import translation

    monkeypatch.setattr(audit_rows, "_FILTER_HTML", ProcessMemo())
    filter_fields_html(_filter(rf, staff))
    other = _filter(rf, staff)
    other.filters["action"].extra["choices"] = [("login", "Connexion")]
    html = filter_fields_html(other)
    assert '<option value="login">Connexion</option>' in html and "candidate.updated" not in html
    with translation.override("en"):
        filter_fields_html(_filter(rf, staff))
    assert len(audit_rows._FILTER_HTML) == 3


@pytest.mark.django_db
def test_bound_fields_show_their_values_and_errors_and_are_not_cached(rf, staff, monkeypatch):
    monkeypatch.setattr(audit_rows, "_FILTER_HTML", ProcessMemo())
    data = {"target_id": '"><script>', "since": "pas une date"}
    html = filter_fields_html(_filter(rf, staff, data))
    assert html == OLD_FIELDS.render(Context({"form": _filter(rf, staff, data).form}))
    assert "&quot;&gt;&lt;script&gt;" in html and "<script>" not in html and "is-invalid" in html
    assert len(audit_rows._FILTER_HTML) == 0


# -- the objects' names --------------------------------------------------------------------------


def test_every_kind_of_object_says_which_fields_its_name_reads():
    assert set(NAME_FIELDS) == set(TARGETS)


def _value(field):
    if field.choices:
        return field.choices[0][0]
    kind = field.get_internal_type()
    if kind in ("DateField",):
        return dt.date(2026, 3, 4)
    if kind in ("DateTimeField",):
        return dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC)
    if kind in ("BooleanField",):
        return False
    if kind in ("DecimalField",):
        return decimal.Decimal("1")
    if "Integer" in kind or kind in ("AutoField", "BigAutoField", "ForeignKey", "OneToOneField"):
        return 7
    return "nom"


def _loaded_with(model, fields):
    """An instance of `model` as `.only(pk, *fields)` (with select_related) reads it: every other
    column deferred, the related objects named by « rel__field » loaded the same way."""
    own = [f for f in fields if "__" not in f]
    names = [model._meta.pk.attname, *(model._meta.get_field(f).attname for f in own)]
    values = [_value(field) if field.attname in names else DEFERRED for field in model._meta.concrete_fields]
    obj = model.from_db("default", [f.attname for f in model._meta.concrete_fields], values)
    for relation in {f.split("__", 1)[0] for f in fields if "__" in f}:
        related = model._meta.get_field(relation).related_model
        inner = [f.split("__", 1)[1] for f in fields if f.startswith(f"{relation}__")]
        obj._state.fields_cache[relation] = _loaded_with(related, inner)
    return obj


@pytest.mark.django_db
@pytest.mark.parametrize("target_type", sorted(NAME_FIELDS))
def test_a_name_reads_only_the_fields_listed(target_type):
    """str() of an object loaded with its NAME_FIELDS: no query (a deferred column or relation read
    would load it, one query per object of the page)."""
    model = apps.get_model(*target_type.split("."))
    obj = _loaded_with(model, NAME_FIELDS[target_type])
    with CaptureQueriesContext(connection) as queries:
        assert str(obj)
    assert not queries.captured_queries, queries.captured_queries


@pytest.mark.django_db
def test_the_page_names_sessions_as_their_whole_rows_do_in_one_query_per_kind(django_assert_num_queries):
    from tests.deliberations.factories import DeliberationSessionFactory
    from tests.evaluations.factories import EvaluationSessionFactory, ScoringSheetFactory

    sessions = EvaluationSessionFactory.create_batch(3)
    deliberations = DeliberationSessionFactory.create_batch(2)
    sheets = ScoringSheetFactory.create_batch(2)
    events = [
        AuditEvent(
            action="x", target_type=f"{obj._meta.app_label}.{obj._meta.model_name}", target_id=str(obj.pk)
        )
        for obj in [*sessions, *deliberations, *sheets]
    ]
    expected = [str(type(obj).objects.get(pk=obj.pk)) for obj in [*sessions, *deliberations, *sheets]]
    with django_assert_num_queries(3):  # one per kind of object
        describe_events(events)
    assert [event.target_name for event in events] == expected
    assert events[0].target_url == reverse("evaluations:session_detail", args=[sessions[0].pk])
    assert events[-1].target_url == reverse("evaluations:sheet_detail", args=[sheets[-1].pk])
