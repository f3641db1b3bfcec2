"""The CPF declaration page built for scale (issue 21): rows read as values, the tables' rows built in
Python (`reporting.rows`), the holders' answers read in one query; the same content as before, and the
same anomalies as the file's."""

import datetime
import re

import pytest
from crispy_forms.utils import render_crispy_form
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import html as lxml_html

from candidates.models import Candidate, display_name
from reporting import rows, selectors, views
from reporting.accrochage import record_errors
from reporting.forms import AccrochageExportForm
from reporting.models import AccrochageRecord
from reporting.services import ExportScope, export_accrochage, import_processing_report
from tests.core.factories import CentreFactory, StaffFactory
from tests.dashboards.html import tables
from tests.referential.factories import CertificationFactory
from tests.reporting.builders import deliberated
from tests.reporting.test_accrochage import record

D = datetime.date
TODAY = D(2026, 6, 1)  # the rows take the day they are computed for: no dependence on the clock
CREDENTIALS = {"ID_CLIENT": "ABCD1234", "ID_CONTRAT": "MCFCER000123", "XSD_PATH": ""}

# One row of the template loop the Python rows replace (templates/reporting/accrochage.html before
# issue 21), given `today`'s figures where the template called `r.is_overdue` / `r.days_left` on the
# clock.
TEMPLATE_ROW = Template(
    """{% load i18n %}
          <tr{% if is_overdue %} class="table-danger"{% endif %}>
            <td><a href="{% url 'candidates:detail' r.candidate_id %}">{{ r.reference }}</a></td>
            <td>{{ r.display_name }}</td>
            <td>{{ r.certification_code }}{% if r.rncp_number %}<br><span class="small text-body-secondary">{{ r.rncp_number }}</span>{% endif %}</td>
            <td>{{ r.issue_date|date:"SHORT_DATE_FORMAT" }}</td>
            <td>{{ r.due_date|date:"SHORT_DATE_FORMAT" }}</td>
            <td>{% if days_overdue %}<strong>{% blocktranslate count n=days_overdue %}En retard de {{ n }} jour{% plural %}En retard de {{ n }} jours{% endblocktranslate %}</strong>{% else %}{% blocktranslate count n=days_left %}Reste {{ n }} jour{% plural %}Reste {{ n }} jours{% endblocktranslate %}{% endif %}</td>
            <td class="small">
              {% if r.declaration_status == "rejected" %}<span class="badge text-bg-warning">{% translate "Rejeté par le portail" %}</span> {{ r.rejection_reason|default:_("motif non précisé") }}<br>{% endif %}
              {% for a in anomalies %}<span class="{% if a.blocking %}text-danger{% else %}text-body-secondary{% endif %}">{{ a.field }} : {{ a.message }}</span>{% if a.code == "exam_date" %} <a href="{% url 'reporting:legacy_examination' r.candidate_id %}">{% translate "Saisir l'évaluation antérieure" %}</a>{% elif a.code == "rncp" %} <span class="badge text-bg-secondary">{% translate "non déclarable" %}</span>{% endif %}<br>{% empty %}{% if r.declaration_status != "rejected" %}<span class="text-success">{% translate "Prêt" %}</span>{% endif %}{% endfor %}
            </td>
          </tr>
"""
)


def template_rows(pairs, today):
    return "".join(
        TEMPLATE_ROW.render(
            Context(
                {
                    "r": r,
                    "anomalies": anomalies,
                    "is_overdue": r.is_overdue(today),
                    "days_overdue": max(0, -r.days_left(today)),
                    "days_left": r.days_left(today),
                }
            )
        )
        for r, anomalies in pairs
    )


def dom(fragment, wrap="<table><tbody>{}</tbody></table>"):
    """Each element of the rows: tag, attributes, text and tail with spaces normalised."""
    table = lxml_html.fromstring(wrap.format(fragment))
    return [
        (e.tag, sorted(e.attrib.items()), " ".join((e.text or "").split()), " ".join((e.tail or "").split()))
        for e in table.iter()
    ]


texts = st.text(alphabet=st.sampled_from("aéZ <>&\"' -"), max_size=8)


@st.composite
def holder_rows(draw):
    overrides = {
        "outcome_id": draw(st.integers(1, 10_000)),
        "candidate_id": draw(st.integers(1, 10_000)),
        "reference": draw(texts) or "R",
        "display_name": draw(texts),
        "certification_code": draw(texts),
        "rncp_number": draw(st.sampled_from(["", "RNCP35000", "35000", "RNCP00000", "<RNCP&>"])),
        "birth_name": draw(st.sampled_from(["Martin", "", "X" * 61])),
        "birth_place": draw(st.sampled_from(["Metz", "", "P" * 45])),
        "exam_start": draw(st.sampled_from([None, D(2026, 3, 1)])),
        "issue_date": TODAY + datetime.timedelta(days=draw(st.integers(-200, 10))),
        "declaration_status": draw(st.sampled_from(["", "rejected"])),
        "rejection_reason": draw(texts),
    }
    holder = record(**overrides)
    return holder, record_errors(holder)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(holder_rows(), max_size=4))
def test_the_python_rows_are_the_template_loop_s(pairs):
    assert dom(rows.to_declare_rows_html(pairs, TODAY)) == dom(template_rows(pairs, TODAY))


def cells(fragment):
    return [
        [" ".join(td.text_content().split()) for td in tr.iter("td")]
        for tr in lxml_html.fragments_fromstring(fragment)
    ]


# Each missing or wrong datum, as the page shows it: « label : French message ».
@pytest.mark.parametrize(
    ("overrides", "shown"),
    [
        (
            {"rncp_number": ""},
            "Enregistrement RNCP du CQPM : Le CQPM CQPM 2006 0248 n'est pas enregistré au RNCP",
        ),
        ({"birth_name": " "}, "Nom de naissance : Le nom de naissance manque."),
        ({"first_names": ""}, "Prénoms : Les prénoms manquent."),
        ({"sex": ""}, "Sexe : Le sexe doit être F ou M."),
        ({"birth_date": None}, "Date de naissance : La date de naissance manque."),
        ({"birth_place": ""}, "Lieu de naissance : Le lieu de naissance manque."),
        (
            {"birth_insee_code": "", "birth_postcode": ""},
            "Code INSEE / postal de naissance : Le code INSEE (ou à défaut le code postal) de la commune "
            "de naissance manque",
        ),
        ({"birth_country": ""}, "Pays de naissance : Le pays de naissance manque."),
        ({"pathway": ""}, "Voie d'accès : La voie d'accès est inconnue."),
        ({"exam_start": None}, "Date de l'examen : Date d'examen inconnue"),
        (
            {"delivery_mode": ""},
            "Modalité de passage : La modalité de passage (présentiel, à distance, mixte) est inconnue.",
        ),
        (
            {"centre_postcode": ""},
            "Code postal du centre d'examen : Le code postal du centre d'examen manque",
        ),
        ({"anonymised": True}, "Identité : Le candidat a été anonymisé"),
    ],
)
def test_each_missing_datum_is_shown_on_its_row_in_french(overrides, shown):
    holder = record(**overrides)
    fragment = rows.to_declare_rows_html([(holder, record_errors(holder))], TODAY)
    [row] = cells(fragment)
    assert row[0] == holder.reference and shown in row[6] and "Prêt" not in row[6]
    assert 'class="text-danger"' in fragment


def test_row_links_delays_and_ready():
    ready = record(issue_date=TODAY - datetime.timedelta(days=89))  # due in 1 day
    missing_exam = record(candidate_id=42, exam_start=None, issue_date=TODAY - datetime.timedelta(days=92))
    fragment = rows.to_declare_rows_html([(h, record_errors(h)) for h in (ready, missing_exam)], TODAY)
    first, second = cells(fragment)
    assert first[5] == "Reste 1 jour" and first[6] == "Prêt"
    assert second[5] == "En retard de 2 jours"
    assert f'href="{reverse("reporting:legacy_examination", args=[42])}"' in fragment
    assert f'href="{reverse("candidates:detail", args=[42])}"' in fragment
    assert fragment.count('class="table-danger"') == 1


def test_rows_escape_what_comes_from_the_database():
    holder = record(
        display_name="<script>x</script>",
        reference="A&B",
        declaration_status="rejected",
        rejection_reason='"motif" <b>',
    )
    fragment = rows.to_declare_rows_html([(holder, [])], TODAY)
    assert "<script>" not in fragment and "<b>" not in fragment
    assert "&lt;script&gt;" in fragment and "A&amp;B" in fragment and "&quot;motif&quot;" in fragment


def test_pending_and_late_rows_show_the_local_date_of_the_first_report():
    # 23:30 UTC on 31 May = 1 June in Paris: the local date, as the template's `date` filter
    sent_at = datetime.datetime(2026, 5, 31, 23, 30, tzinfo=datetime.UTC)
    holder = record(first_reported_at=sent_at, declaration_status="sent", issue_date=D(2026, 1, 2))
    with timezone.override("Europe/Paris"):
        [pending] = cells(rows.holder_rows_html([holder]))
        [late] = cells(rows.holder_rows_html([holder], late=True))
    assert pending == [holder.reference, "MARTIN Léa", "CQPM 2006 0248", "02/01/2026", "01/06/2026"]
    assert late == [
        holder.reference,
        "MARTIN Léa",
        "CQPM 2006 0248",
        "02/01/2026",
        "02/04/2026",
        "01/06/2026",
    ]


names = st.text(alphabet=st.sampled_from("abÉé -'"), max_size=6)


@given(names, names, names, st.booleans())
def test_display_name_is_the_candidate_s_full_name(birth_name, usage_name, first_names, anonymised):
    candidate = Candidate(
        birth_name=birth_name,
        usage_name=usage_name,
        first_names=first_names,
        anonymised_at=timezone.now() if anonymised else None,
    )
    assert display_name(birth_name, usage_name, first_names, anonymised) == candidate.full_name


# --- with the database ------------------------------------------------------------------------------


@pytest.fixture
def centre(db, settings):
    settings.CPF_ACCROCHAGE = dict(CREDENTIALS)
    return CentreFactory(code="A", postcode="54000")


def test_page_and_file_name_the_same_anomalies(centre, client):
    """The page's « À corriger » and the file's holders left out come from one function
    (`accrochage.record_errors`): for every holder, the same blocking anomalies."""
    today = timezone.localdate()
    cqpm = CertificationFactory(rncp_number="RNCP35000", rncp_level="5")
    issued = today - datetime.timedelta(days=20)
    deliberated(centre, cqpm, issued=issued)  # declarable
    deliberated(centre, cqpm, issued=issued, birth_place="")
    deliberated(centre, cqpm, issued=issued, birth_insee_code="", birth_postcode="", birth_country="")
    deliberated(centre, cqpm, issued=issued, evaluations=[])
    staff = StaffFactory(centres=[centre])
    client.force_login(staff)
    page = lxml_html.fromstring(client.get(reverse("reporting:accrochage")).content)
    shown = {}
    for tr in page.xpath('//table[@data-table="unreported"]/tbody/tr'):
        reference = tr.xpath("./td[1]")[0].text_content().strip()
        shown[reference] = sorted(
            " ".join(s.text_content().split()) for s in tr.xpath('.//span[@class="text-danger"]')
        )
    result = export_accrochage(
        actor=staff,
        outcomes=selectors.holders_visible_to(staff),
        scope=ExportScope(centre=centre, date_from=issued, date_to=today),
    )
    left_out = {}
    for entry in result.batch.left_out:
        left_out.setdefault(entry["reference"], []).append(f"{entry['field']} : {entry['message']}")
    assert len(shown) == 4 and sum(1 for v in shown.values() if v) == 3
    assert {ref: sorted(v) for ref, v in left_out.items()} == {ref: v for ref, v in shown.items() if v}


def test_the_overview_reads_only_the_holders_not_accepted_or_declared_late(centre, client):
    today = timezone.localdate()
    cqpm = CertificationFactory(rncp_number="RNCP35000", rncp_level="5")
    long_ago = today - datetime.timedelta(days=200)
    on_time, late, rejected, waiting, never = (deliberated(centre, cqpm, issued=long_ago) for _ in range(5))
    staff = StaffFactory(centres=[centre])
    batch = export_accrochage(
        actor=staff,
        outcomes=selectors.holder_outcomes().exclude(pk=never.pk),
        scope=ExportScope(centre=centre, date_from=long_ago, date_to=today),
    ).batch
    # « on time »: as if its record had been sent within the 3 months
    AccrochageRecord.objects.filter(outcome=on_time).update(
        reported_at=timezone.now() - datetime.timedelta(days=150), is_late=False
    )

    def id_of(outcome):
        return f"{outcome.candidate.reference}-D{outcome.session_id}"

    import_processing_report(
        actor=None,
        batch=batch,
        content=(
            f"{id_of(on_time)};ACCEPTE;\n{id_of(late)};ACCEPTE;\n{id_of(rejected)};REJETE;Commune inconnue\n"
        ).encode(),
        filename="accuse.csv",
    )
    overview = selectors.reporting_overview(staff)
    assert {r.outcome_id for r in overview["unreported"]} == {rejected.pk, never.pk}
    assert [r.outcome_id for r in overview["pending"]] == [waiting.pk]
    assert {r.outcome_id for r in overview["reported_late"]} == {late.pk, rejected.pk, waiting.pk}
    assert (overview["accepted_count"], overview["reported_count"]) == (2, 4)
    client.force_login(staff)
    parsed = tables(client.get(reverse("reporting:accrochage")).content.decode())
    rejected_row = next(r for r in parsed["unreported"][1:] if r[0] == rejected.candidate.reference)
    assert re.search(r"Rejeté par le portail\s+Commune inconnue", rejected_row[6])
    assert on_time.candidate.reference not in {r[0] for rows_ in parsed.values() for r in rows_}


# The list of files as the template rendered it before issue 21 (one <li> per file).
TEMPLATE_BATCHES = Template(
    """{% load i18n %}{% for batch in batches %}
        <li class="list-group-item" data-batch="{{ batch.pk }}">
          <a href="{% url 'reporting:batch_download' batch.pk %}">{{ batch.filename }}</a><br>
          <span class="small text-body-secondary">{% blocktranslate count n=batch.record_count with at=batch.created_at|date:"SHORT_DATETIME_FORMAT" %}{{ n }} titulaire — {{ at }}{% plural %}{{ n }} titulaires — {{ at }}{% endblocktranslate %}<br>idFlux <code>{{ batch.flux_id }}</code></span>
          {% if batch.left_out_rows %}
          <details class="small mt-1"><summary class="text-danger">{% blocktranslate count n=batch.left_out_count %}{{ n }} titulaire laissé de côté{% plural %}{{ n }} titulaires laissés de côté{% endblocktranslate %}</summary>
            <ul class="mb-0">{% for entry in batch.left_out_rows %}<li>{{ entry.reference }} — {{ entry.name }} — {{ entry.field }} : {{ entry.message }}</li>{% endfor %}</ul>
          </details>
          {% endif %}
          {% for report in batch.reports.all %}
          <div class="small">{% blocktranslate with at=report.uploaded_at|date:"SHORT_DATE_FORMAT" accepted=report.accepted_count rejected=report.rejected_count %}Accusé du {{ at }} : {{ accepted }} accepté(s), {{ rejected }} rejeté(s){% endblocktranslate %}</div>
          {% endfor %}
          <form method="post" enctype="multipart/form-data" action="{% url 'reporting:report_upload' batch.pk %}" class="mt-2 no-print">
            <input type="hidden" name="csrfmiddlewaretoken" value="{{ token }}">
            <label class="form-label small mb-1" for="accuse-{{ batch.pk }}">{% translate "Importer l'accusé de traitement (CSV idTechnique;statut;motif)" %}</label>
            <div class="input-group input-group-sm">
              <input type="file" name="file" id="accuse-{{ batch.pk }}" class="form-control" accept=".csv,text/csv,text/plain" required>
              <button type="submit" class="btn btn-outline-primary">{% translate "Importer" %}</button>
            </div>
          </form>
        </li>
        {% endfor %}"""
)


def test_the_python_file_list_is_the_template_s(centre):
    today = timezone.localdate()
    cqpm = CertificationFactory(rncp_number="RNCP35000", rncp_level="5")
    issued = today - datetime.timedelta(days=20)
    sent = deliberated(centre, cqpm, issued=issued, birth_name="O'Brien <b>")
    deliberated(centre, cqpm, issued=issued, birth_place="", evaluations=[])  # left out, 2 anomalies
    staff = StaffFactory(centres=[centre])
    scope = ExportScope(centre=centre, date_from=issued, date_to=today)
    first = export_accrochage(actor=staff, outcomes=selectors.holders_visible_to(staff), scope=scope).batch
    import_processing_report(
        actor=None,
        batch=first,
        content=f"{sent.candidate.reference}-D{sent.session_id};REJETE;x\n".encode(),
        filename="accuse.csv",
    )
    export_accrochage(actor=staff, outcomes=selectors.holders_visible_to(staff), scope=scope)
    batches = views._batches(staff)
    assert len(batches) == 2 and any(b.left_out_rows for b in batches)
    assert any(b.reports.all() for b in batches)
    expected = TEMPLATE_BATCHES.render(Context({"batches": batches, "token": "T"}))
    got = dom(rows.batches_html(batches, "T"), wrap="<ul>{}</ul>")
    assert got == dom(expected, wrap="<ul>{}</ul>")
    assert (
        len(got) > 30
        and ("input", [("name", "csrfmiddlewaretoken"), ("type", "hidden"), ("value", "T")], "", "") in got
    )


def _export_form_dom(content):
    page = lxml_html.fromstring(content)
    [form] = page.xpath('//section[@aria-labelledby="produire"]//form')
    for token in form.xpath('.//input[@name="csrfmiddlewaretoken"]'):
        token.set("value", "T")  # this request's
    return dom(lxml_html.tostring(form, encoding="unicode"), wrap="<div>{}</div>")


def test_the_kept_export_form_is_crispy_s_and_follows_the_sessions(centre, client, rf):
    today = timezone.localdate()
    cqpm = CertificationFactory(rncp_number="RNCP35000", rncp_level="5")
    first = deliberated(centre, cqpm, issued=today - datetime.timedelta(days=20))
    staff = StaffFactory(centres=[centre])
    client.force_login(staff)
    request = rf.get("/")
    request.user = staff
    views._EXPORT_FORM_HTML.clear()
    for _ in range(2):  # rendered, then kept
        shown = _export_form_dom(client.get(reverse("reporting:accrochage")).content)
        expected = _export_form_dom(
            f"<section aria-labelledby='produire'>{render_crispy_form(AccrochageExportForm(user=staff), context={'csrf_token': 'T'})}</section>"
        )
        assert shown == expected
        assert ("option", [("value", str(first.session_id))], str(first.session), "") in shown
    # a session closed since: a new set of choices, a new form
    second = deliberated(centre, cqpm, issued=today - datetime.timedelta(days=5))
    shown = _export_form_dom(client.get(reverse("reporting:accrochage")).content)
    assert ("option", [("value", str(second.session_id))], str(second.session), "") in shown
    assert len(views._EXPORT_FORM_HTML) == 2


def test_a_refused_export_shows_the_form_with_its_values_and_errors(centre, client):
    staff = StaffFactory(centres=[centre])
    client.force_login(staff)
    response = client.post(
        reverse("reporting:accrochage_export"), {"centre": centre.pk, "date_from": "2026-01-01"}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Choisissez une session de délibération, ou une période (début et fin)." in body
    assert 'value="2026-01-01"' in body
