"""The rows of the CPF declaration page's tables and its list of files, built in Python (issue 21).

Through the template engine, ≈ 110 holders to declare with their anomalies and links cost about
80 ms of CPU per request (≈ 40 Python calls per variable, a `{% url %}` per link, a
`{% blocktranslate %}` per delay); here the same HTML costs a few ms, as the candidate list's
(candidates/views.py). Every value from the database and every translated label is HTML-escaped
(`html.escape`, what Django's autoescape calls); URLs come from `reverse` once per request; dates use
the locale's SHORT_DATE_FORMAT, as the template's `date` filter did. The anomalies are those of
`accrochage.record_errors` (the same as the file's), passed in with each record.
"""

from datetime import datetime
from html import escape

from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

_PK = 987654321  # a placeholder id: reverse() once, then the id is put in each row's URL


def _url_maker(name):
    """pk → URL of `name` (a route with one `<int:pk>`), reversed once."""
    prefix, suffix = reverse(name, args=[_PK]).split(str(_PK))
    return lambda pk: f"{prefix}{pk}{suffix}"


class _Dates:
    """SHORT_DATE_FORMAT of each date, formatted once per request (rows share few dates)."""

    def __init__(self):
        self.cache = {}

    def __call__(self, day):
        if day is None:
            return ""
        if isinstance(day, datetime):  # aware: its local date, as the template's `date` filter
            day = timezone.localtime(day).date()
        if day not in self.cache:
            self.cache[day] = escape(date_format(day, "SHORT_DATE_FORMAT"))
        return self.cache[day]


def _delay(record, today):
    left = record.days_left(today)
    overdue = max(0, -left)  # = record.days_overdue: every row is to declare
    if overdue:
        text = ngettext("En retard de %(n)s jour", "En retard de %(n)s jours", overdue) % {"n": overdue}
        return f"<strong>{escape(text)}</strong>"
    return escape(ngettext("Reste %(n)s jour", "Reste %(n)s jours", left) % {"n": left})


def to_declare_rows_html(rows, today):
    """The <tr>s of « Titulaires à déclarer »: `rows` are (HolderRecord, [RecordError]) pairs."""
    candidate_url = _url_maker("candidates:detail")
    legacy_url = _url_maker("reporting:legacy_examination")
    dates = _Dates()
    rejected_badge = f'<span class="badge text-bg-warning">{escape(_("Rejeté par le portail"))}</span> '
    no_reason = escape(_("motif non précisé"))
    legacy_label = escape(_("Saisir l'évaluation antérieure"))
    not_declarable = f' <span class="badge text-bg-secondary">{escape(_("non déclarable"))}</span>'
    ready = f'<span class="text-success">{escape(_("Prêt"))}</span>'
    html = []
    for record, anomalies in rows:
        rncp = (
            f'<br><span class="small text-body-secondary">{escape(record.rncp_number)}</span>'
            if record.rncp_number
            else ""
        )
        to_fix = []
        rejected = record.declaration_status == "rejected"
        if rejected:
            to_fix.append(f"{rejected_badge}{escape(record.rejection_reason) or no_reason}<br>")
        for anomaly in anomalies:
            css = "text-danger" if anomaly.blocking else "text-body-secondary"
            to_fix.append(f'<span class="{css}">{escape(anomaly.field)} : {escape(anomaly.message)}</span>')
            if anomaly.code == "exam_date":
                to_fix.append(f' <a href="{legacy_url(record.candidate_id)}">{legacy_label}</a>')
            elif anomaly.code == "rncp":
                to_fix.append(not_declarable)
            to_fix.append("<br>")
        if not anomalies and not rejected:
            to_fix.append(ready)
        overdue = ' class="table-danger"' if record.is_overdue(today) else ""
        html.append(
            f"<tr{overdue}>"
            f'<td><a href="{candidate_url(record.candidate_id)}">{escape(record.reference)}</a></td>'
            f"<td>{escape(record.display_name)}</td>"
            f"<td>{escape(record.certification_code)}{rncp}</td>"
            f"<td>{dates(record.issue_date)}</td>"
            f"<td>{dates(record.due_date)}</td>"
            f"<td>{_delay(record, today)}</td>"
            f'<td class="small">{"".join(to_fix)}</td></tr>\n'
        )
    return mark_safe("".join(html))  # noqa: S308 - every value escaped above


def holder_rows_html(records, *, late=False):
    """The <tr>s of « Envoyés, en attente » (first sent) or, with `late`, of « Déclarés en retard »
    (due date, then declared on)."""
    candidate_url = _url_maker("candidates:detail")
    dates = _Dates()
    html = []
    for record in records:
        due = f"<td>{dates(record.due_date)}</td>" if late else ""
        html.append(
            f'<tr><td><a href="{candidate_url(record.candidate_id)}">{escape(record.reference)}</a></td>'
            f"<td>{escape(record.display_name)}</td>"
            f"<td>{escape(record.certification_code)}</td>"
            f"<td>{dates(record.issue_date)}</td>{due}"
            f"<td>{dates(record.first_reported_at)}</td></tr>\n"
        )
    return mark_safe("".join(html))  # noqa: S308 - every value escaped above


def batches_html(batches, csrf_token):
    """The <li>s of « Fichiers produits » (`views._batches`: at most 20 files with their holders left
    out and the portal's reports), each with its form to import the processing report."""
    download_url = _url_maker("reporting:batch_download")
    upload_url = _url_maker("reporting:report_upload")
    csrf = f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(csrf_token)}">'
    upload_label = escape(_("Importer l'accusé de traitement (CSV idTechnique;statut;motif)"))
    upload_button = escape(_("Importer"))
    html = []
    for batch in batches:
        pk = batch.pk
        created = escape(date_format(timezone.localtime(batch.created_at), "SHORT_DATETIME_FORMAT"))
        count = batch.record_count
        parts = [
            f'<li class="list-group-item" data-batch="{pk}">'
            f'<a href="{download_url(pk)}">{escape(batch.filename)}</a><br>'
            '<span class="small text-body-secondary">'
            + ngettext("%(n)s titulaire — %(at)s", "%(n)s titulaires — %(at)s", count)
            % {"n": count, "at": created}
            + f"<br>idFlux <code>{escape(batch.flux_id)}</code></span>"
        ]
        if batch.left_out_rows:
            n = batch.left_out_count
            summary = ngettext("%(n)s titulaire laissé de côté", "%(n)s titulaires laissés de côté", n) % {
                "n": n
            }
            entries = "".join(
                f"<li>{escape(str(e.get('reference', '')))} — {escape(str(e.get('name', '')))} — "
                f"{escape(str(e.get('field', '')))} : {escape(str(e.get('message', '')))}</li>"
                for e in batch.left_out_rows
            )
            parts.append(
                f'<details class="small mt-1"><summary class="text-danger">{summary}</summary>'
                f'<ul class="mb-0">{entries}</ul></details>'
            )
        for report in batch.reports.all():
            text = _("Accusé du %(at)s : %(accepted)s accepté(s), %(rejected)s rejeté(s)") % {
                "at": escape(date_format(timezone.localtime(report.uploaded_at), "SHORT_DATE_FORMAT")),
                "accepted": report.accepted_count,
                "rejected": report.rejected_count,
            }
            parts.append(f'<div class="small">{text}</div>')
        parts.append(
            f'<form method="post" enctype="multipart/form-data" action="{upload_url(pk)}" class="mt-2 no-print">'
            f'{csrf}<label class="form-label small mb-1" for="accuse-{pk}">{upload_label}</label>'
            '<div class="input-group input-group-sm">'
            f'<input type="file" name="file" id="accuse-{pk}" class="form-control" '
            'accept=".csv,text/csv,text/plain" required>'
            f'<button type="submit" class="btn btn-outline-primary">{upload_button}</button></div></form></li>\n'
        )
        html.append("".join(parts))
    return mark_safe("".join(html))  # noqa: S308 - every value escaped above
