"""Structural reader of the official seed text (fixtures/referential/sources/*.txt).

It only finds the *cells* of the source tables and removes their HTML markup: it never splits a cell
into items. The fidelity tests then check that the fixture's items, in order, rebuild each cell — so
the item splitting of the fixture is verified against the source, not restated.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SEED_SOURCE = (
    ROOT / "fixtures" / "referential" / "sources" / "referentiel-cqpm-charge-ressources-humaines.txt"
)
SEED_FIXTURE = ROOT / "fixtures" / "referential" / "cqpm-charge-ressources-humaines.json"

# "En matière de méthodes utilisées :" → the category heading of a criteria paragraph.
CATEGORY_HEADING = re.compile(r"^En matière de (?P<heading>[^:]+?)\s*:\s*")
HEADING_TO_CATEGORY = {
    "méthodes utilisées": "methods",
    "moyens utilisés": "means",
    "liens professionnels / relationnels": "relations",
    "contraintes liées au milieu et environnement de travail": "environment",
}
NUMBERED = re.compile(r"(?P<number>\d+)\.\s*(?P<text>.*?)(?=\d+\.\s*[A-ZÀ-Ý]|$)", re.S)


def normalise_heading(heading):
    """ "liens professionnels /relationnels" and "liens professionnels / relationnels" are one heading."""
    return re.sub(r"\s*/\s*", " / ", " ".join(heading.split()))


def paragraphs(cell):
    """The <p> paragraphs of a cell (a cell without <p> is one paragraph), markup removed."""
    cell = cell.strip()
    found = re.findall(r"<p>(.*?)</p>", cell, flags=re.S)
    if not found:
        return [cell]
    return [p.strip() for p in found]


def strip_numbered(text):
    match = re.match(r"^(\d+)\.\s*(.*)$", text, flags=re.S)
    return int(match.group(1)), match.group(2).strip()


@dataclass
class SourceCompetency:
    number: int
    title: str  # §3.1 wording, markup removed, number removed
    conditions: list
    criteria: list  # [(category, paragraph body without heading)]
    expected_results: list


@dataclass
class SourceBlock:
    title: str
    competency_titles: list  # §2 wording, numbers removed (the source numbers them per block)
    knowledge: str


@dataclass
class SourceReferential:
    title: str
    sections: dict = field(default_factory=dict)  # "1.1" → raw text of that section
    blocks: list = field(default_factory=list)
    competencies: list = field(default_factory=list)


def read_source(path=SEED_SOURCE):
    text = Path(path).read_text(encoding="utf-8")
    lines = text.split("\n")
    ref = SourceReferential(title=re.search(r"Titre du CQPM : (.+)", text).group(1).strip())

    # §2 table: header then one row per block (3 tab-separated cells).
    header2 = lines.index("Blocs de compétences\tCompétences professionnelles\tConnaissances associées")
    for line in lines[header2 + 1 :]:
        if not line.strip():
            break
        block_title, competencies_cell, knowledge = line.split("\t")
        items = re.sub(r"</?ol[^>]*>", "", competencies_cell)
        titles = [m.group("text").strip() for m in NUMBERED.finditer(items) if m.group("text").strip()]
        ref.blocks.append(SourceBlock(block_title.strip(), titles, knowledge.strip()))

    # §3.1 tables: after each header line, one row of 4 cells.
    header3 = "Compétences professionnelles\tConditions de réalisation\tCritères mesurables et observables\tRésultats attendus"
    for index, line in enumerate(lines):
        if line != header3:
            continue
        title_cell, conditions_cell, criteria_cell, results_cell = lines[index + 1].split("\t")
        number, title = strip_numbered(paragraphs(title_cell)[0])
        criteria = []
        for paragraph in paragraphs(criteria_cell):
            match = CATEGORY_HEADING.match(paragraph)
            category = HEADING_TO_CATEGORY[normalise_heading(match.group("heading"))]
            criteria.append((category, paragraph[match.end() :]))
        ref.competencies.append(
            SourceCompetency(
                number=number,
                title=title,
                conditions=paragraphs(conditions_cell),
                criteria=criteria,
                expected_results=paragraphs(results_cell),
            )
        )

    # Numbered sections of the running text ("1.1.Mission…", "1.2. Environnement…", "3.2. MODALITES…").
    section_starts = [
        ("1.1", r"^1\.1\."),
        ("1.2", r"^1\.2\. "),
        ("1.3", r"^1\.3\. "),
        ("2", r"^2\. "),
        ("3.2", r"^3\.2\. "),
        ("4", r"^4\. "),
    ]
    positions = []
    for key, pattern in section_starts:
        match = re.search(pattern, text, flags=re.M)
        positions.append((key, match.start(), match.end()))
    for i, (key, _start, _end) in enumerate(positions):
        line_end = text.index("\n", positions[i][1])
        stop = positions[i + 1][1] if i + 1 < len(positions) else len(text)
        ref.sections[key] = text[line_end:stop].strip()
    return ref
