import copy
import json
from pathlib import Path

import pytest

from referential import formats

EXAMPLE = Path(__file__).parent / "data" / "cqpm-exemple-operateur-maintenance.json"


@pytest.fixture
def document():
    return json.loads(EXAMPLE.read_text(encoding="utf-8"))


def test_example_is_valid(document):
    assert formats.validate(document) == []


def _set(path, value):
    def mutate(doc):
        target = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return mutate


def _delete(path):
    def mutate(doc):
        target = doc
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return mutate


CRITERION = ("blocks", 1, "competencies", 0, "criteria", 2)


@pytest.mark.parametrize(
    "mutate, expected",
    [
        (
            _set((*CRITERION, "category"), "foo"),
            'blocks[1].competencies[0].criteria[2]: catégorie "foo" inconnue',
        ),
        (
            _set((*CRITERION, "text"), "   "),
            "blocks[1].competencies[0].criteria[2].text: ne doit pas être vide",
        ),
        (
            _delete((*CRITERION, "text")),
            "blocks[1].competencies[0].criteria[2].text: champ obligatoire manquant",
        ),
        (_set((*CRITERION, "weight"), 2), 'blocks[1].competencies[0].criteria[2]: clé "weight" inconnue'),
        (_set(CRITERION, "texte libre"), "blocks[1].competencies[0].criteria[2]: un objet JSON est attendu"),
        (
            _set(("blocks", 0, "competencies", 0, "criteria"), []),
            "blocks[0].competencies[0].criteria: la liste ne doit pas être vide",
        ),
        (
            _set(("blocks", 0, "competencies", 0, "expected_results", 0), 3),
            "blocks[0].competencies[0].expected_results[0]: une chaîne de caractères est attendue",
        ),
        (
            _set(("blocks", 1, "competencies", 0, "number"), 1),
            "blocks[1].competencies[0].number: compétence n° 1 déjà déclarée en blocks[0].competencies[0]",
        ),
        (
            _set(("blocks", 1, "competencies", 0, "number"), 3),
            "blocks: les compétences doivent être numérotées",
        ),
        (_set(("blocks", 1, "number"), 1), "blocks[1].number: bloc n° 1 déjà déclaré en blocks[0]"),
        (_set(("blocks", 0, "number"), "1"), "blocks[0].number: un entier supérieur ou égal à 1 est attendu"),
        (_set(("blocks", 0, "knowledge"), "texte"), "blocks[0].knowledge: une liste est attendue"),
        (_set(("blocks",), []), "blocks: la liste ne doit pas être vide"),
        (_set(("modalities", 1, "code"), "oral"), 'modalities[1].code: modalité "oral" inconnue'),
        (
            _set(("modalities", 1, "code"), "workplace_observation"),
            'modalities[1].code: modalité "workplace_observation" déjà déclarée en modalities[0]',
        ),
        (_set(("format",), "autre"), 'format: "cqpm-referential" attendu'),
        (_set(("format_version",), 2), "format_version: version de format non prise en charge"),
        (_set(("version",), 0), "version: un entier supérieur ou égal à 1 est attendu"),
        (_set(("version",), True), "version: un entier supérieur ou égal à 1 est attendu"),
        (_delete(("code",)), "code: champ obligatoire manquant"),
        (_set(("title",), "x" * 300), "title: 255 caractères au plus (300 reçus)"),
        (_set(("mission",), ["a"]), "mission: une chaîne de caractères est attendue"),
        (_set(("status",), "published"), '(racine): clé "status" inconnue'),
    ],
)
def test_each_error_is_reported_with_its_location(document, mutate, expected):
    mutate(document)
    errors = [str(e) for e in formats.validate(document)]
    assert any(e.startswith(expected) for e in errors), errors


def test_every_error_is_reported_at_once(document):
    document["blocks"][0]["competencies"][0]["criteria"][3]["category"] = "foo"
    document["blocks"][1]["competencies"][0]["criteria"][0]["text"] = ""
    document["modalities"][0]["code"] = "bar"
    document["code"] = ""
    errors = [e.location for e in formats.validate(document)]
    assert errors == [
        "code",
        "modalities[0].code",
        "blocks[0].competencies[0].criteria[3]",
        "blocks[1].competencies[0].criteria[0].text",
    ]


@pytest.mark.parametrize("value", [[], "texte", 3, None])
def test_a_document_that_is_not_an_object_is_refused(value):
    assert [str(e) for e in formats.validate(value)] == ["(racine): un objet JSON est attendu"]


@pytest.mark.parametrize(
    "raw, expected",
    [
        (b'{"format": ', "JSON invalide ligne 1, colonne 12"),
        (b"\xff\xfe\x00", "le fichier n'est pas un texte UTF-8."),
    ],
)
def test_parse_errors_say_where(raw, expected):
    data, errors = formats.parse_json(raw)
    assert data is None
    assert str(errors[0]).startswith(expected)


def test_parse_accepts_a_byte_order_mark(document):
    data, errors = formats.parse_json(b"\xef\xbb\xbf" + json.dumps(document).encode())
    assert errors == [] and data == document


def test_dumps_is_canonical(document):
    again = json.loads(formats.dumps(document))
    assert formats.dumps(copy.deepcopy(again)) == formats.dumps(document)
    assert formats.dumps(document).endswith("}\n")
    assert "é" in formats.dumps(document)  # readable UTF-8, not \u escapes


def test_hostile_nesting_is_an_error_not_a_crash():
    data, errors = formats.parse_json(b"[" * 200_000)
    assert data is None
    assert [str(e) for e in errors] == ["JSON invalide : imbrication trop profonde."]
