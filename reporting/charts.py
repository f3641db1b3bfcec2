"""Server-side SVG bar charts: no JavaScript (the CSP forbids inline script), printable, accessible.

Each chart is an `<svg role="img">` with a `<title>`, a `<desc>` and an `aria-label` that says what
the chart shows; every bar carries its own `<title>` (tooltip) and `data-label` / `data-value`
attributes. A chart is always shown next to the table of the same numbers (the table is what a screen
reader user reads, and what the tests compare the chart with).
"""

from dataclasses import dataclass, field
from itertools import count

from django.utils.html import escape
from django.utils.safestring import mark_safe

# Colours with a contrast ratio ≥ 3:1 against white (WCAG 2.1 non-text contrast), distinguishable
# by people with the common colour vision deficiencies.
PALETTE = ("#123a6b", "#c25400", "#2f7d32", "#7b3fa0", "#8a6d00", "#4a5560")

_ids = count(1)
# Longest label drawn in full in the label column (11px font); longer ones end with "…" and keep
# their full text in the bar's tooltip and in the table.
LABEL_CHARS = 40


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple
    colour: str = ""


@dataclass
class BarChart:
    """A horizontal bar chart: one row per label, one bar per series in each row."""

    title: str
    labels: list
    series: list = field(default_factory=list)
    unit: str = ""
    max_value: float | None = None
    description: str = ""
    label_width: int = 270
    bar_area_width: int = 420
    bar_height: int = 16
    gap: int = 10

    def add_series(self, name, values, colour=""):
        values = tuple(values)
        if len(values) != len(self.labels):
            raise ValueError("Une série doit avoir une valeur par libellé.")
        self.series.append(Series(name=str(name), values=values, colour=colour))
        return self

    def render(self):
        return render_bar_chart(self)


def format_number(value):
    """French-style number for a chart label: 12, 12,5 (one decimal at most)."""
    if value is None:
        return "–"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.1f}".replace(".", ",")
    return str(int(value))


def _truncate(text, limit):
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_bar_chart(chart):
    labels = [str(label) for label in chart.labels]
    series = chart.series or []
    chart_id = f"chart-{next(_ids)}"
    values = [v for s in series for v in s.values if v is not None]
    max_value = chart.max_value if chart.max_value is not None else max(values, default=0)
    max_value = max_value or 1
    per_row = max(len(series), 1)
    row_height = per_row * chart.bar_height + chart.gap
    legend_height = 24 if len(series) > 1 else 0
    value_width = 60
    width = chart.label_width + chart.bar_area_width + value_width
    height = legend_height + max(len(labels), 1) * row_height + chart.gap
    summary = chart.description or _default_description(chart, labels, series)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="bar-chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet" '
        f'aria-label="{escape(chart.title)}" aria-describedby="{chart_id}-desc" id="{chart_id}">',
        f'<title id="{chart_id}-title">{escape(chart.title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(summary)}</desc>',
    ]
    if len(series) > 1:
        x = chart.label_width
        for index, item in enumerate(series):
            colour = item.colour or PALETTE[index % len(PALETTE)]
            parts.append(
                f'<rect x="{x}" y="4" width="12" height="12" fill="{colour}" aria-hidden="true"></rect>'
                f'<text x="{x + 16}" y="15" font-size="12" fill="#1d2530">{escape(item.name)}</text>'
            )
            x += 16 + 8 * len(item.name) + 16
    if not labels or not series:
        parts.append(
            f'<text x="0" y="{legend_height + 16}" font-size="13" fill="#4a5560">Aucune donnée</text>'
        )
    for row, label in enumerate(labels):
        top = legend_height + row * row_height + chart.gap // 2
        parts.append(f'<g class="bar-row" data-label="{escape(label)}">')
        parts.append(
            f'<text x="{chart.label_width - 8}" y="{top + per_row * chart.bar_height / 2 + 4:g}" '
            f'font-size="11" text-anchor="end" fill="#1d2530">{escape(_truncate(label, LABEL_CHARS))}</text>'
        )
        for index, item in enumerate(series):
            value = item.values[row]
            colour = item.colour or PALETTE[index % len(PALETTE)]
            y = top + index * chart.bar_height
            bar = 0 if not value else max(1, round(chart.bar_area_width * value / max_value))
            shown = format_number(value) + (f" {chart.unit}" if chart.unit and value is not None else "")
            tooltip = f"{label} — {item.name} : {shown}" if item.name else f"{label} : {shown}"
            parts.append(
                f'<rect class="bar" x="{chart.label_width}" y="{y}" width="{bar}" '
                f'height="{chart.bar_height - 2}" fill="{colour}" data-series="{escape(item.name)}" '
                f'data-value="{"" if value is None else escape(str(value))}">'
                f"<title>{escape(tooltip)}</title></rect>"
            )
            parts.append(
                f'<text x="{chart.label_width + bar + 4}" y="{y + chart.bar_height - 4}" font-size="11" '
                f'fill="#1d2530" aria-hidden="true">{escape(shown)}</text>'
            )
        parts.append("</g>")
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text part above is escaped


def _default_description(chart, labels, series):
    if not labels or not series:
        return "Aucune donnée pour ces critères."
    unit = f" {chart.unit}" if chart.unit else ""
    rows = []
    for row, label in enumerate(labels):
        values = ", ".join(
            (
                f"{s.name} {format_number(s.values[row])}{unit}"
                if s.name
                else f"{format_number(s.values[row])}{unit}"
            )
            for s in series
        )
        rows.append(f"{label} : {values}")
    return "Diagramme en barres. " + " ; ".join(rows) + "."


def bar_chart(*, title, labels, series, unit="", max_value=None, description=""):
    """Shortcut: `series` is a list of (name, values) pairs; returns safe SVG markup."""
    chart = BarChart(
        title=title, labels=list(labels), unit=unit, max_value=max_value, description=description
    )
    for name, values in series:
        chart.add_series(name, values)
    return chart.render()
