"""The seed fixture against the official source text it was made from.

`source_text.read_source` only locates the source's table cells and strips their <p> markup; it does
not know how the fixture cut them into items. Each test below rebuilds the source cell from the
fixture's items: every item must be an exact substring of the cell, the items must follow each other
in order, and only a separator (one "," or "." and/or whitespace) may lie between two items, before
the first or after the last one. So nothing was reworded, dropped, added or reordered.
"""

import json
import re

import pytest

from referential import formats
from tests.referential.source_text import (
    CATEGORY_HEADING,
    HEADING_TO_CATEGORY,
    SEED_FIXTURE,
    SEED_SOURCE,
    normalise_heading,
    paragraphs,
    read_source,
)

SEPARATOR = re.compile(r"^\s*[,.]?\s*$")

SOURCE = read_source()
FIXTURE = json.loads(SEED_FIXTURE.read_text(encoding="utf-8"))
FIXTURE_COMPETENCIES = [c for block in FIXTURE["blocks"] for c in block["competencies"]]


def assert_items_rebuild(cell, items, where):
    """`items`, in order, are consecutive exact substrings of `cell` separated only by separators."""
    assert items, f"{where}: no item"
    position = 0
    for index, item in enumerate(items):
        assert item == item.strip() and item, f"{where}[{index}]: empty or untrimmed item {item!r}"
        found = cell.find(item, position)
        assert found >= 0, f"{where}[{index}]: {item!r} is not in the source after position {position}"
        gap = cell[position:found]
        assert SEPARATOR.match(gap), f"{where}[{index}]: source text {gap!r} skipped before {item!r}"
        position = found + len(item)
    assert SEPARATOR.match(cell[position:]), (
        f"{where}: source text {cell[position:]!r} left after the last item"
    )


def squash(text):
    return " ".join(text.split())


def test_source_copy_is_the_shared_seed_verbatim():
    # the repo keeps its own copy so that the test runs on any clone; it must stay byte-identical
    shared = SEED_SOURCE.parents[3].parent / "shared" / "seed" / SEED_SOURCE.name
    if not shared.exists():
        pytest.skip("Le dépôt partagé d'origine n'est pas présent sur cette machine.")
    assert SEED_SOURCE.read_bytes() == shared.read_bytes()


def test_fixture_is_a_valid_document():
    assert FIXTURE["format"] == formats.FORMAT_NAME
    assert FIXTURE["format_version"] == formats.FORMAT_VERSION
    assert formats.validate(FIXTURE) == []
    assert FIXTURE["title"] == SOURCE.title
    assert FIXTURE["code"] == "CQPM-CRH" and FIXTURE["rncp_number"] == ""


def test_three_blocks_and_seven_competencies_numbered_like_the_source():
    assert [b["title"] for b in FIXTURE["blocks"]] == [b.title for b in SOURCE.blocks]
    assert len(FIXTURE["blocks"]) == 3
    assert (
        [c["number"] for c in FIXTURE_COMPETENCIES]
        == [c.number for c in SOURCE.competencies]
        == list(range(1, 8))
    )
    for block, source_block in zip(FIXTURE["blocks"], SOURCE.blocks, strict=True):
        assert len(block["competencies"]) == len(source_block.competency_titles)


@pytest.mark.parametrize("index", range(7))
def test_competency_titles_keep_both_wordings(index):
    """§2 and §3.1 word some competencies differently (e.g. 4: "déployer" / "exploiter"): both kept."""
    competency = FIXTURE_COMPETENCIES[index]
    source = SOURCE.competencies[index]
    section2_titles = [t for block in SOURCE.blocks for t in block.competency_titles]
    assert_items_rebuild(section2_titles[index], [competency["title"]], f"competency {index + 1} title")
    assert_items_rebuild(
        source.title, [competency["evaluation_title"]], f"competency {index + 1} evaluation_title"
    )


def test_wordings_differ_where_the_source_differs():
    by_number = {c["number"]: c for c in FIXTURE_COMPETENCIES}
    assert "déployer" in by_number[4]["title"] and "exploiter" in by_number[4]["evaluation_title"]
    different = {n for n, c in by_number.items() if c["title"] != c["evaluation_title"]}
    assert different == {4, 5, 6}


@pytest.mark.parametrize("index", range(7))
def test_criteria_rebuild_the_source_criteria_cell(index):
    competency = FIXTURE_COMPETENCIES[index]
    source = SOURCE.competencies[index]
    # the category paragraphs, in the source order, each rebuilt by the items of that category
    groups = []
    for item in competency["criteria"]:
        if not groups or groups[-1][0] != item["category"]:
            groups.append((item["category"], []))
        groups[-1][1].append(item["text"])
    assert [category for category, _ in groups] == [category for category, _ in source.criteria], (
        "the criteria must follow the category paragraphs of the source, each category in one run"
    )
    for (category, texts), (_, body) in zip(groups, source.criteria, strict=True):
        assert_items_rebuild(body, texts, f"competency {source.number} {category}")


@pytest.mark.parametrize("index", range(7))
def test_expected_results_rebuild_the_source_cell(index):
    cell = " ".join(SOURCE.competencies[index].expected_results)
    assert_items_rebuild(cell, FIXTURE_COMPETENCIES[index]["expected_results"], f"results {index + 1}")


@pytest.mark.parametrize("index", range(7))
def test_conditions_rebuild_the_source_cell(index):
    cell = " ".join(SOURCE.competencies[index].conditions)
    assert_items_rebuild(cell, FIXTURE_COMPETENCIES[index]["conditions"], f"conditions {index + 1}")


@pytest.mark.parametrize("index", range(3))
def test_associated_knowledge_rebuilds_the_source_cell(index):
    assert_items_rebuild(
        SOURCE.blocks[index].knowledge, FIXTURE["blocks"][index]["knowledge"], f"knowledge {index}"
    )


def test_every_competency_has_criteria_in_the_four_categories():
    for competency in FIXTURE_COMPETENCIES:
        assert {c["category"] for c in competency["criteria"]} == set(HEADING_TO_CATEGORY.values())


def test_heading_mapping_covers_every_heading_of_the_source():
    text = SEED_SOURCE.read_text(encoding="utf-8")
    headings = set()
    for cell in re.findall(r"<p>(En matière de [^<]*?)</p>", text):
        headings.add(normalise_heading(CATEGORY_HEADING.match(cell).group("heading")))
    assert headings == set(HEADING_TO_CATEGORY)
    # 7 competencies × 4 paragraphs: none missed by the reader
    assert sum(len(c.criteria) for c in SOURCE.competencies) == 28 == text.count("En matière de ")


@pytest.mark.parametrize(
    "field, section",
    [("mission", "1.1"), ("work_environment", "1.2"), ("interactions", "1.3"), ("admission_rule", "4")],
)
def test_running_texts_are_the_source_sections(field, section):
    # only the markdown emphasis (**) of §1.1 is markup; the words and line structure are kept
    assert FIXTURE[field] == SOURCE.sections[section].replace("**", "")


def test_evaluation_modalities_text_keeps_every_piece_of_section_3_2():
    """§3.2 holds a two-column table (commission | company); the fixture reads it column by column."""
    stored = squash(FIXTURE["evaluation_modalities_text"])
    pieces = [p for p in re.split(r"[\t\n]", SOURCE.sections["3.2"]) if p.strip()]
    for piece in pieces:
        assert squash(piece) in stored, piece
    assert len(stored.split()) == len(squash(SOURCE.sections["3.2"]).split()), "words added or dropped"


def test_modalities_are_the_three_of_the_seed():
    assert [m["code"] for m in FIXTURE["modalities"]] == [
        "workplace_observation",
        "workplace_questioning",
        "project_presentation",
    ]
    section = squash(SOURCE.sections["3.2"])
    assert "une observation en situation de travail" in section
    assert "des questionnements avec apport d'éléments de preuve" in section


def test_reader_finds_paragraphs_without_markup():
    assert paragraphs("<p>a,</p> <p>b.</p>") == ["a,", "b."]
    assert paragraphs("plain text") == ["plain text"]
