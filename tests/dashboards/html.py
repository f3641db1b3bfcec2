"""Tiny HTML readers for the tests (no third-party parser in the project)."""

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

SVG_NS = "{http://www.w3.org/2000/svg}"


class _Tables(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tables, self._table, self._row, self._cell = {}, None, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and "data-table" in attrs:
            self._table = attrs["data-table"]
            self.tables[self._table] = []
        elif self._table and tag == "tr":
            self._row = []
        elif self._row is not None and tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def tables(html):
    """{data-table key: [[cell text, ...], ...]} (first row: headers)."""
    parser = _Tables()
    parser.feed(html)
    return parser.tables


def section(html, section_id):
    match = re.search(rf'<section[^>]*id="{section_id}".*?</section>', html, re.S)
    assert match, section_id
    return match.group(0)


def svg_bars(fragment):
    """[(row label, series, value)] of the first SVG chart in `fragment`."""
    match = re.search(r"<svg.*?</svg>", fragment, re.S)
    assert match, "no svg"
    root = ET.fromstring(match.group(0))
    return [
        (g.get("data-label"), rect.get("data-series"), rect.get("data-value"))
        for g in root.iter(f"{SVG_NS}g")
        for rect in g.iter(f"{SVG_NS}rect")
    ]


def _number(text):
    """A table cell or an SVG data-value as a comparable number ("66,7 %" / "66.7" → 66.7)."""
    text = text.replace("\u202f", "").replace("%", "").replace(",", ".").strip()
    if text in ("", "–"):
        return None
    return float(text)


def assert_charts_match_tables(html, statistics):
    """Every chart of the statistics page shows exactly the numbers of the table next to it."""
    parsed = tables(html)
    checked = 0
    for table in statistics.tables:
        if not table.rows:
            continue
        shown = parsed[table.key]
        assert shown[0] == [str(h) for h in table.headers], table.key
        bars = svg_bars(section(html, f"stat-{table.key}"))
        expected = []
        for row in shown[1 : 1 + len(table.chart_data_rows)]:
            for column in table.chart_columns:
                series = str(table.headers[column]) if len(table.chart_columns) > 1 else ""
                expected.append((row[0], series, _number(row[column])))
        assert [(label, series, _number(value)) for label, series, value in bars] == expected, table.key
        checked += 1
    return checked
