"""The criteria of the scoring grid (templates/evaluations/score.html), built as plain data and
written as HTML by hand.

A competency has up to ~25 criteria, each with a radio group of 3 judgements and an observation:
through the template engine (a `{% for %}` over the choices, an `{% if %}` per attribute, a
translation per label) that was ~1 500 template nodes and half the page's CPU. Here the labels are
translated once per request, every value coming from the database or the user is escaped, and the
markup is the one the page always had:

- one `<fieldset>` per category (`<legend>`: the category) and one per criterion (`<legend>`: the
  criterion's text, also naming its radio group through `aria-labelledby`);
- radios `name="j-<criterion id>"`, `id="j-<criterion id>-<value>"`, each with its `<label for>`
  (Bootstrap `.btn-check` buttons), `data-key` 1/2/3 for the keyboard shortcuts of scoring.js;
- the observation `<textarea name="c-<id>" id="c-<id>">` with its `<label for>`, described by the
  criterion's text (`aria-describedby`) so that a screen reader says which criterion it belongs to.

`forms.parse_scoring_post` reads the same names back; the htmx autosave posts the whole form.
"""

from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from referential.models import CriterionCategory

from .models import Judgement

CATEGORY_ORDER = {value: index for index, value in enumerate(CriterionCategory.values)}

# Bootstrap colour of each judgement's button.
JUDGEMENT_STYLES = {
    Judgement.ACQUIRED: "success",
    Judgement.NOT_ACQUIRED: "danger",
    Judgement.NOT_OBSERVED: "secondary",
}


def grid_items(rows, *, posted=None, conflict=False, others=None):
    """Group the grid's rows by category: [(category label, [item])], in the referential's order.

    `rows`: `selectors.scoring_grid_rows(sheet)`. `posted`: {criterion id: (value, comment)} read from
    the form (shown instead of the stored values after a refused save). `conflict`: the save was
    refused as stale, flag the criteria whose input differs from what is stored. `others`:
    {criterion id: [(name, judgement label, comment)]} of the co-members' submitted sheets.
    Each item: {"pk", "text", "value", "comment", "differs", "saved_label", "saved_comment", "others"}.
    """
    labels = {value: str(label) for value, label in Judgement.choices}
    others = others or {}
    groups = {}
    for pk, category, text, saved_value, saved_comment in rows:
        value, comment = (
            posted.get(pk, (saved_value, saved_comment)) if posted else (saved_value, saved_comment)
        )
        groups.setdefault(category, []).append(
            {
                "pk": pk,
                "text": text,
                "value": value,
                "comment": comment,
                "differs": conflict and (value, comment) != (saved_value, saved_comment),
                "saved_label": labels.get(saved_value, "—"),
                "saved_comment": saved_comment,
                "others": others.get(pk, ()),
            }
        )
    return [
        (str(CriterionCategory(category).label), items)
        for category, items in sorted(groups.items(), key=lambda group: CATEGORY_ORDER[group[0]])
    ]


def render_grid(groups, *, locked):
    """The HTML of every criterion group (see the module's docstring), safe to put in the page."""
    choices = [
        (value, escape(str(label)), JUDGEMENT_STYLES[value], key)
        for key, (value, label) in enumerate(Judgement.choices, start=1)
    ]
    observation = escape(_("Observation (facultative)"))
    saved_meanwhile = escape(_("Valeur enregistrée entre-temps"))
    other_members = escape(_("Autres membres"))
    disabled = " disabled" if locked else ""
    readonly = " readonly" if locked else ""
    html = []
    for label, items in groups:
        html.append(
            f'<fieldset class="mb-3 criterion-group">\n<legend class="h6 border-bottom pb-1">{escape(label)}</legend>\n'
        )
        for item in items:
            pk = int(item["pk"])
            border = " border-danger border-2" if item["differs"] else ""
            html.append(
                f'<div class="criterion-row border rounded p-2 mb-2{border}" data-criterion>\n<fieldset>\n'
                f'<legend class="fs-6 fw-normal mb-1" id="crit-{pk}">{escape(item["text"])}</legend>\n'
                f'<div class="d-flex flex-wrap gap-1" role="radiogroup" aria-labelledby="crit-{pk}">\n'
            )
            for value, choice_label, style, key in choices:
                checked = " checked" if item["value"] == value else ""
                html.append(
                    f'<input type="radio" class="btn-check" name="j-{pk}" id="j-{pk}-{value}" value="{value}"'
                    f'{checked}{disabled} autocomplete="off" data-key="{key}">\n'
                    f'<label class="btn btn-outline-{style}" for="j-{pk}-{value}">{choice_label}</label>\n'
                )
            html.append(
                f"</div>\n</fieldset>\n"
                f'<label class="form-label small mt-1 mb-0" for="c-{pk}">{observation}</label>\n'
                f'<textarea class="form-control form-control-sm" name="c-{pk}" id="c-{pk}" rows="1"'
                f' aria-describedby="crit-{pk}"{readonly}>{escape(item["comment"])}</textarea>\n'
            )
            if item["differs"]:
                saved = escape(item["saved_label"])
                if item["saved_comment"]:
                    saved += f" — « {escape(item['saved_comment'])} »"
                html.append(f'<p class="small text-danger mb-0 mt-1">{saved_meanwhile} : {saved}</p>\n')
            if item["others"]:
                parts = []
                for name, judgement_label, comment in item["others"]:
                    part = f"{escape(name)} — "
                    if judgement_label:
                        part += f"<strong>{escape(judgement_label)}</strong>"
                        if comment:
                            part += f" (« {escape(comment)} »)"
                    else:
                        part += "—"
                    parts.append(part)
                html.append(f'<p class="small mb-0 mt-1">{other_members} : {" ; ".join(parts)}</p>\n')
            html.append("</div>\n")
        html.append("</fieldset>\n")
    return mark_safe("".join(html))  # noqa: S308 - every value from the database or the user is escaped above
