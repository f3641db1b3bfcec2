"""The versioned JSON exchange format of a CQPM referential (docs/referential-format.md).

`validate(data)` checks a whole document and returns *every* error with its location
(`blocks[1].competencies[0].criteria[3]: catégorie "foo" inconnue …`); `serialise(certification)`
produces the document back. Nothing here writes to the database: see `services.import_certification`.
"""

import json
from dataclasses import dataclass

from core.text import COMMENT_MAX, REFERENTIAL_ITEM_MAX, REFERENTIAL_TEXT_MAX, REFERENTIAL_TITLE_MAX

from .models import CriterionCategory, ModalityCode

FORMAT_NAME = "cqpm-referential"
FORMAT_VERSION = 1
SUPPORTED_FORMAT_VERSIONS = (1,)

# Field limits mirror the model fields.
MAX_CODE = 50
MAX_TITLE = 255
MAX_RNCP = 20
MAX_TEXT = REFERENTIAL_TEXT_MAX
MAX_ITEM = REFERENTIAL_ITEM_MAX
MAX_COMPETENCY_TITLE = REFERENTIAL_TITLE_MAX
MAX_DESCRIPTION = COMMENT_MAX

TOP_LEVEL_TEXTS = (
    "mission",
    "work_environment",
    "interactions",
    "evaluation_modalities_text",
    "admission_rule",
)
TOP_LEVEL_KEYS = {
    "format",
    "format_version",
    "code",
    "title",
    "rncp_number",
    "rncp_level",
    "version",
    *TOP_LEVEL_TEXTS,
    "modalities",
    "blocks",
}
MODALITY_KEYS = {"code", "label", "description"}
BLOCK_KEYS = {"number", "title", "knowledge", "competencies"}
COMPETENCY_KEYS = {"number", "title", "evaluation_title", "conditions", "criteria", "expected_results"}
CRITERION_KEYS = {"category", "text"}


@dataclass(frozen=True)
class FormatError:
    location: str
    message: str

    def __str__(self):
        return f"{self.location}: {self.message}" if self.location else self.message


def parse_json(raw):
    """Bytes or str → (data, errors). A syntax error is reported with its line and column."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            return None, [FormatError("", "le fichier n'est pas un texte UTF-8.")]
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        return None, [FormatError("", f"JSON invalide ligne {exc.lineno}, colonne {exc.colno} : {exc.msg}.")]
    except RecursionError:  # hostile nesting ("[[[[…") must be an error message, not a crash
        return None, [FormatError("", "JSON invalide : imbrication trop profonde.")]
    if data is None:  # the document "null": valid JSON, but no referential in it
        return None, [FormatError("", "le fichier ne contient aucun référentiel (JSON « null »).")]
    return data, []


class _Validator:
    def __init__(self):
        self.errors = []

    def error(self, location, message):
        self.errors.append(FormatError(location, message))

    # -- primitives ------------------------------------------------------------------------
    def unknown_keys(self, obj, allowed, location):
        for key in sorted(set(obj) - allowed):
            self.error(location or "(racine)", f'clé "{key}" inconnue')

    def object(self, value, location):
        if not isinstance(value, dict):
            self.error(location or "(racine)", "un objet JSON est attendu")
            return False
        return True

    def text(self, obj, key, location, *, required=True, max_length=None):
        where = f"{location}.{key}" if location else key
        if key not in obj:
            if required:
                self.error(where, "champ obligatoire manquant")
            return
        value = obj[key]
        if not isinstance(value, str):
            self.error(where, "une chaîne de caractères est attendue")
            return
        if required and not value.strip():
            self.error(where, "ne doit pas être vide")
        if max_length and len(value) > max_length:
            self.error(where, f"{max_length} caractères au plus ({len(value)} reçus)")

    def positive_int(self, obj, key, location):
        where = f"{location}.{key}" if location else key
        value = obj.get(key)
        if key not in obj:
            self.error(where, "champ obligatoire manquant")
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            self.error(where, f"un entier supérieur ou égal à 1 est attendu (reçu : {json.dumps(value)})")
            return None
        return value

    def list_(self, obj, key, location, *, required=True, non_empty=False):
        where = f"{location}.{key}" if location else key
        if key not in obj:
            if required:
                self.error(where, "champ obligatoire manquant")
            return []
        value = obj[key]
        if not isinstance(value, list):
            self.error(where, "une liste est attendue")
            return []
        if non_empty and not value:
            self.error(where, "la liste ne doit pas être vide")
        return value

    def text_items(self, obj, key, location, *, non_empty):
        where = f"{location}.{key}"
        for index, item in enumerate(self.list_(obj, key, location, non_empty=non_empty)):
            if not isinstance(item, str):
                self.error(f"{where}[{index}]", "une chaîne de caractères est attendue")
            elif not item.strip():
                self.error(f"{where}[{index}]", "ne doit pas être vide")
            elif len(item) > MAX_ITEM:
                self.error(f"{where}[{index}]", f"{MAX_ITEM} caractères au plus ({len(item)} reçus)")

    # -- document --------------------------------------------------------------------------
    def document(self, data):
        if not self.object(data, ""):
            return
        fmt = data.get("format")
        if fmt != FORMAT_NAME:
            self.error("format", f'"{FORMAT_NAME}" attendu (reçu : {json.dumps(fmt, ensure_ascii=False)})')
        version = data.get("format_version")
        if version not in SUPPORTED_FORMAT_VERSIONS or isinstance(version, bool):
            supported = ", ".join(str(v) for v in SUPPORTED_FORMAT_VERSIONS)
            self.error(
                "format_version",
                f"version de format non prise en charge (reçu : {json.dumps(version)} ; "
                f"prises en charge : {supported})",
            )
        self.unknown_keys(data, TOP_LEVEL_KEYS, "")
        self.text(data, "code", "", max_length=MAX_CODE)
        self.text(data, "title", "", max_length=MAX_TITLE)
        self.text(data, "rncp_number", "", required=False, max_length=MAX_RNCP)
        self.text(data, "rncp_level", "", required=False, max_length=MAX_RNCP)
        self.positive_int(data, "version", "")
        for key in TOP_LEVEL_TEXTS:
            self.text(data, key, "", required=False, max_length=MAX_TEXT)
        self.modalities(data)
        self.blocks(data)

    def modalities(self, data):
        seen = {}
        for index, modality in enumerate(self.list_(data, "modalities", "", non_empty=True)):
            where = f"modalities[{index}]"
            if not self.object(modality, where):
                continue
            self.unknown_keys(modality, MODALITY_KEYS, where)
            code = modality.get("code")
            if code not in ModalityCode.values:
                self.error(
                    f"{where}.code",
                    f"modalité {json.dumps(code, ensure_ascii=False)} inconnue "
                    f"(valeurs possibles : {', '.join(ModalityCode.values)})",
                )
            elif code in seen:
                self.error(f"{where}.code", f'modalité "{code}" déjà déclarée en modalities[{seen[code]}]')
            else:
                seen[code] = index
            self.text(modality, "label", where, max_length=MAX_TITLE)
            self.text(modality, "description", where, required=False, max_length=MAX_DESCRIPTION)

    def blocks(self, data):
        block_numbers = {}
        competency_numbers = {}
        for b_index, block in enumerate(self.list_(data, "blocks", "", non_empty=True)):
            where = f"blocks[{b_index}]"
            if not self.object(block, where):
                continue
            self.unknown_keys(block, BLOCK_KEYS, where)
            number = self.positive_int(block, "number", where)
            if number is not None:
                if number in block_numbers:
                    self.error(
                        f"{where}.number", f"bloc n° {number} déjà déclaré en blocks[{block_numbers[number]}]"
                    )
                else:
                    block_numbers[number] = b_index
            self.text(block, "title", where, max_length=MAX_TITLE)
            self.text_items(block, "knowledge", where, non_empty=False)
            for c_index, competency in enumerate(self.list_(block, "competencies", where, non_empty=True)):
                self.competency(competency, f"{where}.competencies[{c_index}]", competency_numbers)
        if competency_numbers and sorted(competency_numbers) != list(range(1, len(competency_numbers) + 1)):
            self.error(
                "blocks",
                "les compétences doivent être numérotées de 1 à n sans trou "
                f"(reçu : {', '.join(str(n) for n in sorted(competency_numbers))})",
            )

    def competency(self, competency, where, numbers):
        if not self.object(competency, where):
            return
        self.unknown_keys(competency, COMPETENCY_KEYS, where)
        number = self.positive_int(competency, "number", where)
        if number is not None:
            if number in numbers:
                self.error(f"{where}.number", f"compétence n° {number} déjà déclarée en {numbers[number]}")
            else:
                numbers[number] = where
        self.text(competency, "title", where, max_length=MAX_COMPETENCY_TITLE)
        self.text(competency, "evaluation_title", where, required=False, max_length=MAX_COMPETENCY_TITLE)
        self.text_items(competency, "conditions", where, non_empty=False)
        self.text_items(competency, "expected_results", where, non_empty=True)
        for index, criterion in enumerate(self.list_(competency, "criteria", where, non_empty=True)):
            c_where = f"{where}.criteria[{index}]"
            if not self.object(criterion, c_where):
                continue
            self.unknown_keys(criterion, CRITERION_KEYS, c_where)
            category = criterion.get("category")
            if category not in CriterionCategory.values:
                self.error(
                    c_where,
                    f"catégorie {json.dumps(category, ensure_ascii=False)} inconnue "
                    f"(valeurs possibles : {', '.join(CriterionCategory.values)})",
                )
            self.text(criterion, "text", c_where, max_length=MAX_ITEM)


def validate(data):
    """Every error of the document (an empty list when it can be imported)."""
    validator = _Validator()
    validator.document(data)
    return validator.errors


def serialise(certification):
    """The exchange document of one version. Lifecycle data (status, dates) is not part of it."""
    document = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "code": certification.code,
        "title": certification.title,
        "rncp_number": certification.rncp_number,
        "rncp_level": certification.rncp_level,
        "version": certification.version,
    }
    for key in TOP_LEVEL_TEXTS:
        document[key] = getattr(certification, key)
    document["modalities"] = [
        {"code": m.code, "label": m.label, "description": m.description}
        for m in certification.modalities.all()
    ]
    document["blocks"] = [
        {
            "number": block.number,
            "title": block.title,
            "knowledge": [k.text for k in block.knowledge.all()],
            "competencies": [
                {
                    "number": c.number,
                    "title": c.title,
                    "evaluation_title": c.evaluation_title,
                    "conditions": [x.text for x in c.conditions.all()],
                    "criteria": [{"category": x.category, "text": x.text} for x in c.criteria.all()],
                    "expected_results": [x.text for x in c.expected_results.all()],
                }
                for c in block.competencies.all()
            ],
        }
        for block in certification.blocks.all()
    ]
    return document


def dumps(document):
    """Canonical text of a document: stable key order, UTF-8 kept readable, final newline."""
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
