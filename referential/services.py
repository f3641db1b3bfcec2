"""State changes of the referential: import, publication, new draft versions, edits of a draft.

Rule (issue 3): a published version is immutable. Every edit function below locks the certification
row and refuses anything but a draft; evolving a published referential means `create_draft_from`,
editing the draft, then `publish` (which archives the version previously in force). Candidates keep
pointing at the version they were registered on.
"""

import re

from django.db import transaction
from django.db.models import F, Max, ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import BusinessRuleError
from core.services import audit
from core.text import strip_bidi_deep

from . import formats
from .models import (
    AssociatedKnowledge,
    Block,
    Certification,
    CertificationStatus,
    Competency,
    Criterion,
    CriterionCategory,
    EvaluationModality,
    ExpectedResult,
    RealisationCondition,
)
from .selectors import with_full_content

CATEGORY_SEQUENCE = list(CriterionCategory.values)


class ReferentialImportError(BusinessRuleError):
    """The file cannot be imported; `errors` lists every problem with its location."""

    def __init__(self, errors):
        self.errors = list(errors)
        count = len(self.errors)
        message = _("Le fichier contient %(count)d erreur(s) : rien n'a été importé.") % {"count": count}
        super().__init__(message, code="invalid_referential")


# -- helpers ---------------------------------------------------------------------------------------


def _locked(certification):
    """Re-read the certification under a row lock: its status may have changed since it was loaded."""
    return Certification.objects.select_for_update().get(pk=certification.pk)


def _ensure_draft(certification):
    if certification.status == CertificationStatus.PUBLISHED:
        raise BusinessRuleError(
            _(
                "La version %(version)s du référentiel %(code)s est publiée : elle ne peut plus être modifiée. "
                "Créez une nouvelle version brouillon pour la faire évoluer."
            )
            % {"version": certification.version, "code": certification.code},
            code="published_is_immutable",
        )
    if certification.status == CertificationStatus.ARCHIVED:
        raise BusinessRuleError(
            _(
                "La version %(version)s du référentiel %(code)s est archivée : elle ne peut plus être modifiée."
            )
            % {"version": certification.version, "code": certification.code},
            code="archived_is_immutable",
        )


def _renumber(model, objects):
    """Give `objects` the orders 1..n, in list order, without breaking the (parent, order) unique
    constraint in the middle of the update (PostgreSQL checks it row by row)."""
    if not objects:
        return
    model.objects.filter(pk__in=[o.pk for o in objects]).update(order=F("order") + 10000)
    for index, obj in enumerate(objects, start=1):
        obj.order = index
    model.objects.bulk_update(objects, ["order"])


def _target(certification):
    return f"{certification.code} v{certification.version}"


# -- import ----------------------------------------------------------------------------------------


def _create_from_document(data, *, status, derived_from=None):
    certification = Certification.objects.create(
        code=data["code"].strip(),
        title=data["title"].strip(),
        rncp_number=data.get("rncp_number", "").strip(),
        rncp_level=data.get("rncp_level", "").strip(),
        version=data["version"],
        status=status,
        derived_from=derived_from,
        **{key: data.get(key, "") for key in formats.TOP_LEVEL_TEXTS},
    )
    EvaluationModality.objects.bulk_create(
        EvaluationModality(
            certification=certification,
            code=m["code"],
            label=m["label"],
            description=m.get("description", ""),
            order=index,
        )
        for index, m in enumerate(data["modalities"], start=1)
    )
    knowledge, conditions, criteria, results = [], [], [], []
    for block_data in data["blocks"]:
        block = Block.objects.create(
            certification=certification, number=block_data["number"], title=block_data["title"]
        )
        knowledge += [
            AssociatedKnowledge(block=block, order=i, text=text)
            for i, text in enumerate(block_data.get("knowledge", []), start=1)
        ]
        for c in block_data["competencies"]:
            competency = Competency.objects.create(
                certification=certification,
                block=block,
                number=c["number"],
                title=c["title"],
                evaluation_title=c.get("evaluation_title", c["title"]),
            )
            conditions += [
                RealisationCondition(competency=competency, order=i, text=text)
                for i, text in enumerate(c.get("conditions", []), start=1)
            ]
            criteria += [
                Criterion(competency=competency, order=i, category=x["category"], text=x["text"])
                for i, x in enumerate(c["criteria"], start=1)
            ]
            results += [
                ExpectedResult(competency=competency, order=i, text=text)
                for i, text in enumerate(c["expected_results"], start=1)
            ]
    AssociatedKnowledge.objects.bulk_create(knowledge)
    RealisationCondition.objects.bulk_create(conditions)
    Criterion.objects.bulk_create(criteria)
    ExpectedResult.objects.bulk_create(results)
    return certification


@transaction.atomic
def import_certification(*, data, actor=None):
    """Validate the whole document, then create the version as a draft. All or nothing."""
    # Bidi controls removed before anything (the rows are written with bulk_create: no pre_save).
    data = strip_bidi_deep(data)
    errors = formats.validate(data)
    if (
        not errors
        and Certification.objects.filter(code=data["code"].strip(), version=data["version"]).exists()
    ):
        errors.append(
            formats.FormatError(
                "version", f'la version {data["version"]} du référentiel "{data["code"]}" existe déjà'
            )
        )
    if errors:
        raise ReferentialImportError(errors)
    certification = _create_from_document(data, status=CertificationStatus.DRAFT)
    audit(
        actor=actor,
        action="referential.imported",
        target=certification,
        message=f"Référentiel {_target(certification)} importé (brouillon)",
        code=certification.code,
        version=certification.version,
    )
    return certification


def import_certification_file(*, content, actor=None):
    """Same as `import_certification` from the raw bytes of an uploaded or local file."""
    data, errors = formats.parse_json(content)
    if errors:
        raise ReferentialImportError(errors)
    return import_certification(data=data, actor=actor)


# -- lifecycle -------------------------------------------------------------------------------------


def _publication_problems(certification):
    problems = []
    competencies = list(certification.competencies.prefetch_related("criteria", "expected_results"))
    if not competencies:
        problems.append(_("le référentiel ne contient aucune compétence"))
    for competency in competencies:
        if not competency.criteria.all():
            problems.append(_("la compétence %(n)s n'a aucun critère") % {"n": competency.number})
        if not competency.expected_results.all():
            problems.append(_("la compétence %(n)s n'a aucun résultat attendu") % {"n": competency.number})
    if not certification.modalities.exists():
        problems.append(_("aucune modalité d'évaluation n'est prévue"))
    return problems


@transaction.atomic
def publish(*, certification, actor=None):
    """Put a draft in force; the version of the same code previously in force is archived."""
    certification = _locked(certification)
    if certification.status != CertificationStatus.DRAFT:
        raise BusinessRuleError(
            _("Seule une version brouillon peut être publiée (version %(version)s : %(status)s).")
            % {"version": certification.version, "status": certification.get_status_display().lower()},
            code="not_a_draft",
        )
    problems = _publication_problems(certification)
    if problems:
        raise BusinessRuleError(
            _("Publication impossible : %(problems)s.") % {"problems": " ; ".join(problems)},
            code="incomplete",
        )
    previous = list(
        Certification.objects.select_for_update().filter(
            code=certification.code, status=CertificationStatus.PUBLISHED
        )
    )
    for old in previous:
        if old.version > certification.version:
            raise BusinessRuleError(
                _("Une version plus récente (%(version)s) de ce référentiel est déjà en vigueur.")
                % {"version": old.version},
                code="newer_published",
            )
    now = timezone.now()
    for old in previous:
        old.status = CertificationStatus.ARCHIVED
        old.archived_at = now
        old.save(update_fields=["status", "archived_at"])
        audit(
            actor=actor,
            action="referential.archived",
            target=old,
            message=f"Référentiel {_target(old)} archivé (remplacé par la version {certification.version})",
        )
    certification.status = CertificationStatus.PUBLISHED
    certification.published_at = now
    certification.save(update_fields=["status", "published_at"])
    audit(
        actor=actor,
        action="referential.published",
        target=certification,
        message=f"Référentiel {_target(certification)} publié",
        archived=[old.pk for old in previous],
    )
    return certification


@transaction.atomic
def create_draft_from(*, certification, actor=None):
    """Deep copy of a published (or archived) version as the next draft version of the same code."""
    certification = _locked(certification)
    if certification.status == CertificationStatus.DRAFT:
        raise BusinessRuleError(
            _("Cette version est déjà un brouillon : modifiez-la directement."), code="already_draft"
        )
    existing = Certification.objects.filter(code=certification.code, status=CertificationStatus.DRAFT).first()
    if existing:
        raise BusinessRuleError(
            _(
                "Un brouillon (version %(version)s) existe déjà pour ce référentiel : modifiez-le ou supprimez-le."
            )
            % {"version": existing.version},
            code="draft_exists",
        )
    document = formats.serialise(with_full_content(Certification.objects.filter(pk=certification.pk)).get())
    document["version"] = (
        Certification.objects.filter(code=certification.code).aggregate(m=Max("version"))["m"] + 1
    )
    draft = _create_from_document(document, status=CertificationStatus.DRAFT, derived_from=certification)
    audit(
        actor=actor,
        action="referential.draft_created",
        target=draft,
        message=f"Brouillon {_target(draft)} créé à partir de la version {certification.version}",
        derived_from=certification.pk,
    )
    return draft


@transaction.atomic
def delete_draft(*, certification, actor=None):
    certification = _locked(certification)
    _ensure_draft(certification)
    target = _target(certification)
    pk = certification.pk
    try:
        with transaction.atomic():
            certification.delete()
    except ProtectedError as exc:
        raise BusinessRuleError(
            _("Ce brouillon est déjà utilisé (par exemple par un candidat) : il ne peut pas être supprimé."),
            code="draft_in_use",
        ) from exc
    audit(
        actor=actor,
        action="referential.draft_deleted",
        message=f"Brouillon {target} supprimé",
        certification_id=pk,
    )


# -- edits of a draft ------------------------------------------------------------------------------


def _validated_text(text):
    text = (text or "").strip()
    if not text:
        raise BusinessRuleError(_("Le texte du critère ne peut pas être vide."), code="empty_text")
    return text


def _validated_category(category):
    if category not in CriterionCategory.values:
        raise BusinessRuleError(_("Catégorie de critère inconnue."), code="unknown_category")
    return category


@transaction.atomic
def update_criterion(*, criterion, text, category=None, actor=None):
    certification = _locked(criterion.competency.certification)
    _ensure_draft(certification)
    criterion = Criterion.objects.select_for_update().get(pk=criterion.pk)
    criterion.text = _validated_text(text)
    fields = ["text"]
    if category is not None and category != criterion.category:
        criterion.category = _validated_category(category)
        fields.append("category")
        siblings = sorted(
            criterion.competency.criteria.exclude(pk=criterion.pk),
            key=lambda c: (CATEGORY_SEQUENCE.index(c.category), c.order),
        )
        # keep the criteria grouped by category: move it to the end of its new category
        position = sum(
            1 for c in siblings if CATEGORY_SEQUENCE.index(c.category) <= CATEGORY_SEQUENCE.index(category)
        )
        ordered = siblings[:position] + [criterion] + siblings[position:]
        criterion.save(update_fields=fields)
        _renumber(Criterion, ordered)
    else:
        criterion.save(update_fields=fields)
    audit(
        actor=actor,
        action="referential.criterion_updated",
        target=certification,
        message=f"Critère {criterion.pk} modifié (compétence {criterion.competency.number})",
        criterion_id=criterion.pk,
    )
    return criterion


@transaction.atomic
def add_criterion(*, competency, category, text, actor=None):
    """Append a criterion at the end of its category group within the competency."""
    certification = _locked(competency.certification)
    _ensure_draft(certification)
    category = _validated_category(category)
    text = _validated_text(text)
    existing = list(competency.criteria.order_by("order"))
    rank = CATEGORY_SEQUENCE.index(category)
    position = 0
    for index, other in enumerate(existing):
        if CATEGORY_SEQUENCE.index(other.category) <= rank:
            position = index + 1
    criterion = Criterion.objects.create(
        competency=competency, category=category, text=text, order=len(existing) + 10001
    )
    _renumber(Criterion, existing[:position] + [criterion] + existing[position:])
    audit(
        actor=actor,
        action="referential.criterion_added",
        target=certification,
        message=f"Critère {criterion.pk} ajouté (compétence {competency.number})",
        criterion_id=criterion.pk,
    )
    return criterion


@transaction.atomic
def remove_criterion(*, criterion, actor=None):
    competency = criterion.competency
    certification = _locked(competency.certification)
    _ensure_draft(certification)
    pk = criterion.pk
    Criterion.objects.filter(pk=pk).delete()
    _renumber(Criterion, list(competency.criteria.order_by("order")))
    audit(
        actor=actor,
        action="referential.criterion_removed",
        target=certification,
        message=f"Critère {pk} supprimé (compétence {competency.number})",
        criterion_id=pk,
    )


# -- RNCP registration -------------------------------------------------------------------------------

RNCP_NUMBER = re.compile(r"^RNCP[0-9]{3,6}$")
RNCP_LEVELS = tuple(str(level) for level in range(1, 9))  # national framework (decree 2019-14)


def normalise_rncp_number(value):
    """« rncp 35 000 » → « RNCP35000 »; a bare number gets its prefix."""
    value = re.sub(r"\s+", "", value or "").upper()
    if value.isdigit():
        value = f"RNCP{value}"
    return value


@transaction.atomic
def set_rncp_registration(*, certification, rncp_number, rncp_level, actor=None):
    """Record the CQPM's registration in the RNCP (number and level), or its absence (both empty).

    A registry fact, not part of the referential's content: it changes without a new version, so it
    is set on every version of the code (published ones included) and audited with the old values.
    """
    number = normalise_rncp_number(rncp_number)
    level = (rncp_level or "").strip()
    if number and not RNCP_NUMBER.match(number):
        raise BusinessRuleError(
            _("Le numéro RNCP s'écrit « RNCP » suivi de 3 à 6 chiffres (par exemple RNCP35000)."),
            code="rncp_number",
        )
    if level and level not in RNCP_LEVELS:
        raise BusinessRuleError(_("Le niveau RNCP est un chiffre de 1 à 8."), code="rncp_level")
    if bool(number) != bool(level):
        raise BusinessRuleError(
            _(
                "Indiquez le numéro et le niveau RNCP ensemble (ou videz les deux si le CQPM n'est pas enregistré)."
            ),
            code="rncp_pair",
        )
    versions = list(Certification.objects.select_for_update().filter(code=certification.code).order_by("pk"))
    before = {"rncp_number": certification.rncp_number, "rncp_level": certification.rncp_level}
    for version in versions:
        version.rncp_number, version.rncp_level = number, level
        version.save(update_fields=["rncp_number", "rncp_level"])
    certification.rncp_number, certification.rncp_level = number, level
    audit(
        actor=actor,
        action="referential.rncp_registration_set",
        target=certification,
        message=f"Enregistrement RNCP du référentiel {certification.code} : {number or 'aucun'}",
        before=before,
        rncp_number=number,
        rncp_level=level,
        versions=[v.pk for v in versions],
    )
    return certification
