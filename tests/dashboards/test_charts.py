import xml.etree.ElementTree as ET

import pytest

from reporting.charts import BarChart, bar_chart, format_number

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg):
    return ET.fromstring(str(svg))


def bars(root):
    return [
        (g.get("data-label"), rect.get("data-series"), rect.get("data-value"), int(rect.get("width")))
        for g in root.iter(f"{SVG}g")
        for rect in g.iter(f"{SVG}rect")
    ]


def test_chart_is_accessible_svg_with_title_and_description():
    root = parse(bar_chart(title="Inscriptions par mois", labels=["janv.", "févr."], series=[("", [3, 5])]))
    assert root.get("role") == "img"
    assert root.get("aria-label") == "Inscriptions par mois"
    title = root.find(f"{SVG}title")
    assert title is not None and title.text == "Inscriptions par mois"
    desc = root.find(f"{SVG}desc")
    assert root.get("aria-describedby") == desc.get("id")
    assert "janv. : 3" in desc.text and "févr. : 5" in desc.text


def test_bar_lengths_are_proportional_to_values():
    root = parse(bar_chart(title="t", labels=["a", "b", "c"], series=[("n", [10, 5, 0])]))
    widths = {label: width for label, _s, _v, width in bars(root)}
    # The largest value takes the whole bar area (420), the others in proportion, zero draws nothing.
    assert widths == {"a": 420, "b": 210, "c": 0}


def test_max_value_fixes_the_scale_for_percentages():
    root = parse(bar_chart(title="t", labels=["bloc 1"], series=[("", [50])], unit="%", max_value=100))
    [(_label, _series, value, width)] = bars(root)
    assert value == "50" and width == 210


@pytest.mark.parametrize(("value", "shown"), [(3, "3"), (2.0, "2"), (66.666, "66,7"), (None, "–"), (0, "0")])
def test_format_number(value, shown):
    assert format_number(value) == shown


def test_grouped_series_have_a_legend_and_one_bar_each():
    chart = BarChart(title="Résultats", labels=["2025", "2026"])
    chart.add_series("Attribué", [4, 1]).add_series("Non attribué", [2, 0])
    root = parse(chart.render())
    assert [(lab, s, v) for lab, s, v, _w in bars(root)] == [
        ("2025", "Attribué", "4"),
        ("2025", "Non attribué", "2"),
        ("2026", "Attribué", "1"),
        ("2026", "Non attribué", "0"),
    ]
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "Attribué" in texts and "Non attribué" in texts


def test_labels_are_escaped_and_long_labels_truncated_but_kept_in_tooltip():
    label = "<script>alert(1)</script> Entreprise au nom vraiment très très très long"
    svg = str(bar_chart(title="t & co", labels=[label], series=[("", [1])]))
    assert "<script>" not in svg
    root = parse(svg)  # still well-formed XML
    tooltip = root.find(f".//{SVG}rect/{SVG}title").text
    assert tooltip.startswith(label)
    shown = [t.text for t in root.iter(f"{SVG}text") if t.get("text-anchor") == "end"][0]
    assert shown.endswith("…") and len(shown) == 40


def test_empty_chart_says_so():
    root = parse(bar_chart(title="t", labels=[], series=[("", [])]))
    assert "Aucune donnée" in "".join(t.text or "" for t in root.iter(f"{SVG}text"))


def test_series_length_must_match_labels():
    with pytest.raises(ValueError):
        BarChart(title="t", labels=["a"]).add_series("x", [1, 2])
