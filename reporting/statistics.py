"""Statistics of the certification activity: registrations and results per period, CQPM, centre,
pathway and company; pass rate per bloc and per competency; time from registration to deliberation.

Every figure starts from `candidates.selectors.candidates_visible_to(user)` (staff: their centres;
superusers: all centres). Aggregates are computed by the database in a fixed number of queries and
cached briefly (the key holds the user's centres and the filters). Each table carries the spec of
its chart, so the chart is drawn from exactly the numbers the table shows.

Caching (docs/performance.md): the figures are cached for settings.CQPM["STATISTICS_CACHE_SECONDS"]
under a key made of the user's centres and the filters, together with a small "stamp" entry naming
that computation. The page's rendered summary, tables and charts (`cached_fragment`) are cached under
the same key plus the language and the fragment's name, and are served only while the stamp of the
figures they were drawn from is still there: they never outlive the figures, and a recomputation
(expiry, `invalidate`) makes them stale at once. A centre's staff and another centre's never share a
key; two users with the same centres share the figures, which hold nothing personal.

Definitions (shown on the page):
- registrations: candidates whose registration date falls in the period;
- results: outcomes of *closed* deliberation sessions held in the period (certified / partial / failed);
- pass rate: certified ÷ deliberated; bloc / competency rate: acquired ÷ decided.
"""

import functools
import hashlib
import json
import os
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta

import django_filters
from django import forms
from django.conf import settings
from django.core.cache import cache
from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Max, Q
from django.db.models.functions import TruncMonth, TruncQuarter, TruncYear
from django.template.loader import get_template
from django.utils import formats
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from candidates.models import Pathway
from candidates.selectors import candidates_visible_to
from core.models import CertificationCentre
from deliberations.models import CandidateOutcome, CompetencyDecision, SessionStatus
from referential.models import Block, Certification

from .charts import BarChart, format_number

GRANULARITIES = {
    "month": (gettext_lazy("Mois"), TruncMonth),
    "quarter": (gettext_lazy("Trimestre"), TruncQuarter),
    "year": (gettext_lazy("Année"), TruncYear),
}
RESULTS = ("certified", "partial", "failed")
COMPANY_CHART_LIMIT = 15
# The page shows the companies with the most registrations; the whole table is one click away (its own
# page) and in the CSV / XLSX exports. 2 300 companies nationally made a 600 KiB page.
COMPANY_TABLE_LIMIT = 50
MAX_FILLED_PERIODS = 240
CACHE_VERSION = 2


@dataclass
class StatTable:
    """One table of the page and the chart drawn from it.

    `rows` hold raw values (numbers stay numbers for the XLSX export); `chart_columns` are the
    indexes of the columns drawn as series, `chart_rows` how many first rows the chart shows.
    """

    key: str
    title: str
    headers: list
    rows: list
    chart_columns: list = field(default_factory=list)
    chart_unit: str = ""
    chart_max: float | None = None
    chart_rows: int | None = None
    rate_columns: tuple = ()
    note: str = ""
    # Rows shown on the statistics page (None: all); the table's own page and the exports have all.
    shown_rows: int | None = None

    @property
    def truncated(self):
        return self.shown_rows is not None and len(self.rows) > self.shown_rows

    @property
    def chart_data_rows(self):
        return self.rows if self.chart_rows is None else self.rows[: self.chart_rows]

    def chart(self):
        rows = self.chart_data_rows
        chart = BarChart(
            title=self.title, labels=[str(r[0]) for r in rows], unit=self.chart_unit, max_value=self.chart_max
        )
        for column in self.chart_columns:
            name = self.headers[column] if len(self.chart_columns) > 1 else ""
            chart.add_series(name, [r[column] for r in rows])
        return chart.render()

    def display_rows(self, *, complete=False):
        """Cells formatted for the HTML table (the same numbers the chart shows)."""
        shown = []
        rows = self.rows if complete or self.shown_rows is None else self.rows[: self.shown_rows]
        for row in rows:
            cells = []
            for index, value in enumerate(row):
                if isinstance(value, int | float) and not isinstance(value, bool):
                    text = format_number(value)
                    if index in self.rate_columns and value is not None:
                        text += " %"
                    cells.append({"value": text, "numeric": True})
                elif value is None:
                    cells.append({"value": "–", "numeric": True})
                else:
                    cells.append({"value": value, "numeric": False})
            shown.append(cells)
        return shown

    def as_dict(self):
        return {
            "key": self.key,
            "title": self.title,
            "headers": self.headers,
            "rows": self.rows,
            "chart_columns": self.chart_columns,
            "chart_unit": self.chart_unit,
            "chart_max": self.chart_max,
            "chart_rows": self.chart_rows,
            "rate_columns": list(self.rate_columns),
            "note": self.note,
            "shown_rows": self.shown_rows,
        }

    @classmethod
    def from_dict(cls, data):
        return cls(**{**data, "rate_columns": tuple(data["rate_columns"])})


@dataclass
class Statistics:
    tables: list
    summary: dict
    # Which computation these figures come from, and until when they are cached (epoch seconds).
    stamp: str = ""
    expires_at: float = 0.0

    def table(self, key):
        return next(t for t in self.tables if t.key == key)


class StatisticsFilter(django_filters.FilterSet):
    """The page's filters. Centre, CQPM and pathway filter the candidates; the dates bound both the
    registrations (registration date) and the results (deliberation date); the granularity groups."""

    granularity = django_filters.ChoiceFilter(
        label=gettext_lazy("Regrouper par"),
        choices=[(k, v[0]) for k, v in GRANULARITIES.items()],
        method="keep",
        empty_label=None,
    )
    date_from = django_filters.DateFilter(
        label=gettext_lazy("Du"), method="keep", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = django_filters.DateFilter(
        label=gettext_lazy("Au"), method="keep", widget=forms.DateInput(attrs={"type": "date"})
    )
    centre = django_filters.ModelChoiceFilter(
        label=gettext_lazy("Centre"),
        queryset=CertificationCentre.objects.none(),
        empty_label=gettext_lazy("Tous mes centres"),
    )
    cqpm = django_filters.ChoiceFilter(
        label=gettext_lazy("CQPM"), field_name="certification__code", empty_label=gettext_lazy("Tous")
    )
    pathway = django_filters.ChoiceFilter(label=gettext_lazy("Parcours"), empty_label=gettext_lazy("Tous"))

    def __init__(self, data=None, *, user, **kwargs):

        data = data.copy() if data is not None else {}
        if not data.get("granularity"):
            data["granularity"] = "month"
        super().__init__(data, queryset=candidates_visible_to(user), **kwargs)
        self.user = user
        self.filters["centre"].queryset = CertificationCentre.objects.filter(pk__in=user.centre_ids())
        self.filters["pathway"].extra["choices"] = Pathway.choices

        def cqpm_choices():  # read only when the form is drawn or a CQPM is chosen (not from the cache)
            return [
                (code, f"{code} — {title}")
                for code, title in Certification.objects.filter(status__in=["published", "archived"])
                .values_list("code", "title")
                .order_by("code", "-version")
                .distinct()
            ]

        self.filters["cqpm"].extra["choices"] = cqpm_choices

    def keep(self, queryset, name, value):
        return queryset  # not a filter on the candidates: read from cleaned_data

    @property
    def values(self):
        data = self.form.cleaned_data if self.is_valid() else {}
        return {
            "granularity": data.get("granularity") or "month",
            "date_from": data.get("date_from"),
            "date_to": data.get("date_to"),
            "centre": data["centre"].pk if data.get("centre") else None,
            "cqpm": data.get("cqpm") or "",
            "pathway": data.get("pathway") or "",
        }

    def cache_key(self):
        """The figures' cache key: the user's centres (the scope), the filters' values and the
        language (titles and labels are translated when computed). An invalid filter (another
        centre's id) shows no figure: it has a key of its own, so its empty tables are never served
        for the unfiltered page."""
        values = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in self.values.items()}
        raw = json.dumps(
            {
                "v": CACHE_VERSION,
                "centres": sorted(self.user.centre_ids()),
                "filters": values,
                "valid": self.is_valid(),
                "language": get_language(),
            },
            sort_keys=True,
        )
        return "statistics:" + hashlib.sha256(raw.encode()).hexdigest()


def rate(part, whole):
    return round(100 * part / whole, 1) if whole else None


def period_label(value, granularity):
    if value is None:
        return _("Sans date")
    value = _as_date(value)
    if granularity == "year":
        return str(value.year)
    if granularity == "quarter":
        return _("T%(q)s %(y)s") % {"q": (value.month - 1) // 3 + 1, "y": value.year}
    return formats.date_format(value, "F Y")


def _next_period(value, granularity):
    if granularity == "year":
        return value.replace(year=value.year + 1)
    months = 3 if granularity == "quarter" else 1
    month = value.month - 1 + months
    return value.replace(year=value.year + month // 12, month=month % 12 + 1, day=1)


def _as_date(value):
    return value.date() if hasattr(value, "hour") else value


def _filled_periods(keys, granularity):
    """Every period from the first to the last one with data (zero rows make gaps visible)."""
    keys = sorted(_as_date(k) for k in keys if k is not None)
    if not keys:
        return []
    periods, current = [], keys[0]
    while current <= keys[-1] and len(periods) < MAX_FILLED_PERIODS:
        periods.append(current)
        current = _next_period(current, granularity)
    return periods


def scoped_querysets(filterset):
    """(registrations, outcomes, decisions) for the filterset's scope (user's centres) and values."""

    values = filterset.values
    candidates = filterset.qs if filterset.is_valid() else filterset.queryset.none()
    registrations = candidates
    if values["date_from"]:
        registrations = registrations.filter(registered_on__gte=values["date_from"])
    if values["date_to"]:
        registrations = registrations.filter(registered_on__lte=values["date_to"])
    in_scope = candidates.values("pk")
    outcomes = CandidateOutcome.objects.filter(session__status=SessionStatus.CLOSED, candidate__in=in_scope)
    decisions = CompetencyDecision.objects.filter(
        session__status=SessionStatus.CLOSED, candidate__in=in_scope
    )
    if values["date_from"]:
        outcomes = outcomes.filter(session__date__gte=values["date_from"])
        decisions = decisions.filter(session__date__gte=values["date_from"])
    if values["date_to"]:
        outcomes = outcomes.filter(session__date__lte=values["date_to"])
        decisions = decisions.filter(session__date__lte=values["date_to"])
    return registrations, outcomes, decisions


def _result_counts(outcomes, key):
    counts = {}
    for row in outcomes.values(key, "result").annotate(n=Count("id")).order_by():
        counts.setdefault(row[key], dict.fromkeys(RESULTS, 0))[row["result"]] = row["n"]
    return counts


def _result_headers(first):
    return [
        first,
        _("Inscriptions"),
        _("Délibérés"),
        _("CQPM attribué"),
        _("Résultat partiel"),
        _("Non attribué"),
        _("Taux de réussite"),
    ]


def _breakdown(key, title, first_header, registrations_by, results_by, labels, order_by_registrations=False):
    """A "registrations and results per X" table from two {group: ...} dicts."""
    groups = set(registrations_by) | set(results_by)
    rows = []
    for group in groups:
        results = results_by.get(group, dict.fromkeys(RESULTS, 0))
        deliberated = sum(results.values())
        rows.append(
            [
                labels(group),
                registrations_by.get(group, 0),
                deliberated,
                results["certified"],
                results["partial"],
                results["failed"],
                rate(results["certified"], deliberated),
            ]
        )
    if order_by_registrations:
        rows.sort(key=lambda r: (-r[1], -r[2], str(r[0])))
    else:
        rows.sort(key=lambda r: str(r[0]))
    return StatTable(
        key=key,
        title=title,
        headers=_result_headers(first_header),
        rows=rows,
        chart_columns=[1, 3],
        rate_columns=(6,),
    )


def compute_statistics(filterset):
    """All the tables of the statistics page (cached for settings.CQPM["STATISTICS_CACHE_SECONDS"])."""
    key = filterset.cache_key()
    cached = cache.get(key)
    if cached is not None:
        return Statistics(
            tables=[StatTable.from_dict(t) for t in cached["tables"]],
            summary=cached["summary"],
            stamp=cached["stamp"],
            expires_at=cached["expires_at"],
        )
    statistics = _compute(filterset)
    timeout = settings.CQPM.get("STATISTICS_CACHE_SECONDS", 300)
    statistics.stamp = uuid.uuid4().hex
    statistics.expires_at = time.time() + timeout
    data = {
        "tables": [t.as_dict() for t in statistics.tables],
        "summary": statistics.summary,
        "stamp": statistics.stamp,
        "expires_at": statistics.expires_at,
    }
    cache.set_many({key: data, key + ":stamp": statistics.stamp}, timeout)
    return statistics


def invalidate(filterset):
    """Forget the figures of this scope and filters, and with them every fragment drawn from them."""
    key = filterset.cache_key()
    cache.delete_many([key, key + ":stamp"])


# The templates and modules that draw the cached fragments: every template the fragments include is
# listed (tests/reporting/test_statistics_stamp.py checks it), the views' `draw` functions with them.
FRAGMENT_SOURCES = (
    "reporting/includes/statistics_body.html",
    "reporting/includes/statistics_table.html",
)
FRAGMENT_MODULES = ("statistics.py", "charts.py", "statistics_views.py")


@functools.cache
def _code_stamp():
    """Part of every cached fragment's key: a digest of the *contents* of the code and templates that
    draw the fragments. A deployment that changes one of them changes the key, so HTML drawn by the
    previous version is never served from a shared cache (contents, not modification times, which a
    copy or a checkout may keep or reset). Computed once per process.

    Why the HTML is cached at all: drawing the statistics page costs ≈ 1 s at national scale, served
    from the cache ≈ 10 ms (docs/performance.md)."""
    here = os.path.dirname(os.path.abspath(__file__))
    paths = [os.path.join(here, name) for name in FRAGMENT_MODULES]
    paths += [get_template(name).origin.name for name in FRAGMENT_SOURCES]
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as source:
            digest.update(source.read())
    return digest.hexdigest()[:12]


def cached_fragment(filterset, name, render):
    """What `render(statistics)` draws from the figures (HTML), cached as long as those figures are.

    `name` tells the fragments of one scope and filters apart (the page, one table's page, the query
    string its links carry). Returns (value, served_from_cache).
    """
    key = filterset.cache_key()
    name_hash = hashlib.sha256(name.encode()).hexdigest()[:24]
    fragment_key = f"{key}:html:{_code_stamp()}:{name_hash}"
    found = cache.get_many([key + ":stamp", fragment_key])
    fragment = found.get(fragment_key)
    if fragment is not None and fragment["stamp"] == found.get(key + ":stamp"):
        return fragment["value"], True
    statistics = compute_statistics(filterset)
    value = render(statistics)
    remaining = int(statistics.expires_at - time.time())
    if remaining > 0:
        cache.set(fragment_key, {"stamp": statistics.stamp, "value": value}, remaining)
    return value, False


def _compute(filterset):

    granularity = filterset.values["granularity"]
    trunc = GRANULARITIES[granularity][1]
    registrations, outcomes, decisions = scoped_querysets(filterset)
    tables = []

    # 1. Registrations per period.
    per_period = {
        _as_date(row["period"]): row["n"]
        for row in registrations.annotate(period=trunc("registered_on"))
        .values("period")
        .annotate(n=Count("id"))
        .order_by("period")
    }
    # 2. Results per period (deliberation date).
    results_per_period = {}
    for row in (
        outcomes.annotate(period=trunc("session__date"))
        .values("period", "result")
        .annotate(n=Count("id"))
        .order_by("period")
    ):
        results_per_period.setdefault(_as_date(row["period"]), dict.fromkeys(RESULTS, 0))[row["result"]] = (
            row["n"]
        )
    periods = _filled_periods(set(per_period) | set(results_per_period), granularity)
    tables.append(
        StatTable(
            key="registrations_by_period",
            title=_("Inscriptions par période"),
            headers=[_("Période"), _("Inscriptions")],
            rows=[[period_label(p, granularity), per_period.get(p, 0)] for p in periods],
            chart_columns=[1],
        )
    )
    result_rows = []
    for period in periods:
        counts = results_per_period.get(period, dict.fromkeys(RESULTS, 0))
        total = sum(counts.values())
        result_rows.append(
            [
                period_label(period, granularity),
                counts["certified"],
                counts["partial"],
                counts["failed"],
                total,
                rate(counts["certified"], total),
            ]
        )
    tables.append(
        StatTable(
            key="results_by_period",
            title=_("Résultats des délibérations par période"),
            headers=[
                _("Période"),
                _("CQPM attribué"),
                _("Résultat partiel"),
                _("Non attribué"),
                _("Délibérés"),
                _("Taux de réussite"),
            ],
            rows=result_rows,
            chart_columns=[1, 2, 3],
            rate_columns=(5,),
        )
    )

    # 3-6. Per CQPM, centre, pathway and company.
    cqpm_titles = {}
    regs_by_cqpm = {}
    for row in (
        registrations.values("certification__code")
        .annotate(n=Count("id"), title=Max("certification__title"))
        .order_by()
    ):
        regs_by_cqpm[row["certification__code"]] = row["n"]
        cqpm_titles[row["certification__code"]] = row["title"]
    results_by_cqpm = {}
    for row in (
        outcomes.values("candidate__certification__code", "result")
        .annotate(n=Count("id"), title=Max("candidate__certification__title"))
        .order_by()
    ):
        code = row["candidate__certification__code"]
        cqpm_titles.setdefault(code, row["title"])
        results_by_cqpm.setdefault(code, dict.fromkeys(RESULTS, 0))[row["result"]] = row["n"]
    tables.append(
        _breakdown(
            "by_cqpm",
            _("Inscriptions et résultats par CQPM"),
            _("CQPM"),
            regs_by_cqpm,
            results_by_cqpm,
            lambda code: f"{code} — {cqpm_titles.get(code, '')}".strip(" —"),
        )
    )
    tables.append(
        _breakdown(
            "by_centre",
            _("Inscriptions et résultats par centre"),
            _("Centre"),
            {
                r["centre__name"]: r["n"]
                for r in registrations.values("centre__name").annotate(n=Count("id")).order_by()
            },
            _result_counts(outcomes, "candidate__centre__name"),
            str,
        )
    )
    pathway_labels = dict(Pathway.choices)
    tables.append(
        _breakdown(
            "by_pathway",
            _("Inscriptions et résultats par parcours"),
            _("Parcours"),
            {
                r["pathway"]: r["n"]
                for r in registrations.values("pathway").annotate(n=Count("id")).order_by()
            },
            _result_counts(outcomes, "candidate__pathway"),
            lambda value: str(pathway_labels.get(value, value)),
        )
    )
    company_table = _breakdown(
        "by_company",
        _("Inscriptions et résultats par entreprise"),
        _("Entreprise"),
        {
            r["company__name"]: r["n"]
            for r in registrations.values("company__name").annotate(n=Count("id")).order_by()
        },
        _result_counts(outcomes, "candidate__company__name"),
        lambda name: name or _("Sans entreprise (VAE, demandeur d'emploi…)"),
        order_by_registrations=True,
    )
    if len(company_table.rows) > COMPANY_CHART_LIMIT:
        company_table.chart_rows = COMPANY_CHART_LIMIT
        company_table.note = _(
            "Le graphique montre les %(n)s entreprises qui comptent le plus d'inscriptions."
        ) % {"n": COMPANY_CHART_LIMIT}
    if len(company_table.rows) > COMPANY_TABLE_LIMIT:
        company_table.shown_rows = COMPANY_TABLE_LIMIT
    tables.append(company_table)

    # 7. Pass rate per bloc: outcomes whose candidate's CQPM version has the bloc, and those acquiring it.
    outcomes_per_version = dict(
        outcomes.values("candidate__certification_id")
        .annotate(n=Count("id"))
        .values_list("candidate__certification_id", "n")
        .order_by()
    )
    acquired_per_block = dict(
        CandidateOutcome.blocks_acquired.through.objects.filter(candidateoutcome__in=outcomes.values("pk"))
        .values("block_id")
        .annotate(n=Count("id"))
        .values_list("block_id", "n")
        .order_by()
    )
    block_groups = {}
    for block in Block.objects.filter(certification_id__in=list(outcomes_per_version)).select_related(
        "certification"
    ):
        group = block_groups.setdefault(
            (block.certification.code, block.number),
            {"title": block.title, "decided": 0, "acquired": 0},
        )
        group["decided"] += outcomes_per_version.get(block.certification_id, 0)
        group["acquired"] += acquired_per_block.get(block.pk, 0)
    tables.append(
        StatTable(
            key="pass_rate_by_block",
            title=_("Taux de réussite par bloc de compétences"),
            headers=[_("Bloc"), _("Délibérés"), _("Bloc acquis"), _("Taux de réussite")],
            rows=[
                [
                    _("%(code)s — bloc %(n)s : %(title)s") % {"code": code, "n": number, "title": g["title"]},
                    g["decided"],
                    g["acquired"],
                    rate(g["acquired"], g["decided"]),
                ]
                for (code, number), g in sorted(block_groups.items())
            ],
            chart_columns=[3],
            chart_unit="%",
            chart_max=100,
            rate_columns=(3,),
        )
    )

    # 8. Pass rate per competency (jury decisions).
    competency_rows = []
    for row in (
        decisions.values("competency__certification__code", "competency__number")
        .annotate(
            decided_n=Count("id"),
            acquired_n=Count("id", filter=Q(decided="acquired")),
            title=Max("competency__title"),
        )
        .order_by("competency__certification__code", "competency__number")
    ):
        competency_rows.append(
            [
                _("%(code)s — C%(n)s : %(title)s")
                % {
                    "code": row["competency__certification__code"],
                    "n": row["competency__number"],
                    "title": row["title"],
                },
                row["decided_n"],
                row["acquired_n"],
                rate(row["acquired_n"], row["decided_n"]),
            ]
        )
    tables.append(
        StatTable(
            key="pass_rate_by_competency",
            title=_("Taux de réussite par compétence"),
            headers=[_("Compétence"), _("Décisions du jury"), _("Compétence acquise"), _("Taux de réussite")],
            rows=competency_rows,
            chart_columns=[3],
            chart_unit="%",
            chart_max=100,
            rate_columns=(3,),
        )
    )

    # 9. Average time from registration to deliberation, per CQPM and overall.
    delay = ExpressionWrapper(
        F("session__date") - F("candidate__registered_on"), output_field=DurationField()
    )
    delay_rows = []
    for row in (
        outcomes.values("candidate__certification__code")
        .annotate(n=Count("id"), average=Avg(delay))
        .order_by("candidate__certification__code")
    ):
        delay_rows.append([row["candidate__certification__code"], row["n"], _days(row["average"])])
    overall = outcomes.aggregate(n=Count("id"), average=Avg(delay))
    tables.append(
        StatTable(
            key="time_to_deliberation",
            title=_("Délai moyen entre l'inscription et la délibération"),
            headers=[_("CQPM"), _("Délibérés"), _("Délai moyen (jours)")],
            rows=delay_rows,
            chart_columns=[2],
            chart_unit=_("j"),
        )
    )
    summary = {
        "registrations": sum(per_period.values()),
        "deliberated": overall["n"],
        "certified": sum(c["certified"] for c in results_per_period.values()),
        "pass_rate": rate(sum(c["certified"] for c in results_per_period.values()), overall["n"]),
        "average_days": _days(overall["average"]),
    }
    return Statistics(tables=tables, summary=summary)


def _days(value):
    """Average duration → days, one decimal (None when there is nothing to average)."""
    if value is None:
        return None
    if isinstance(value, timedelta):
        return round(value.total_seconds() / 86400, 1)
    return round(float(value) / 86_400_000_000, 1)  # some backends return microseconds
