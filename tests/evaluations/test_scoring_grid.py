"""The hand-written scoring grid (evaluations.scoring_grid): every input labelled, one fieldset per
criterion, values escaped, and the form as a browser would send it posts back exactly what it shows."""

from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from candidates.models import Candidate, Tutor
from core.models import User
from evaluations import scoring_grid, selectors, services
from evaluations.models import CriterionJudgement, Judgement, ScoringSheet
from referential.models import Criterion, CriterionCategory
from tests.evaluations.conftest import judge_all

pytestmark = pytest.mark.django_db


class _Form(HTMLParser):
    """The elements of #scoring-form: inputs, textareas (with their text), labels, and the fieldsets
    as [legend id, legend text, names of the inputs inside] in document order of their end."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.inputs, self.textareas, self.labels, self.fieldsets = [], [], [], []
        self._in_form = False
        self._open = []  # the fieldsets being read, innermost last
        self._textarea = None
        self._legend = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("id") == "scoring-form":
            self._in_form = True
        if not self._in_form:
            return
        if tag == "fieldset":
            self._open.append([None, "", []])
        elif tag == "legend" and self._open:
            self._legend = self._open[-1]
            self._legend[0] = attrs.get("id")
        elif tag == "input":
            self.inputs.append(attrs)
            for fieldset in self._open:
                fieldset[2].append(attrs.get("name"))
        elif tag == "textarea":
            self._textarea = dict(attrs, text="")
        elif tag == "label":
            self.labels.append(attrs.get("for"))

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_form = False
        elif tag == "fieldset" and self._open:
            fieldset = self._open.pop()
            fieldset[1] = " ".join(fieldset[1].split())
            self.fieldsets.append(fieldset)
        elif tag == "legend":
            self._legend = None
        elif tag == "textarea" and self._textarea is not None:
            self.textareas.append(self._textarea)
            self._textarea = None

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea["text"] += data
        if self._legend is not None:
            self._legend[1] += data


def read_form(html):
    parser = _Form()
    parser.feed(html)
    return parser


def browser_post(form, action="save"):
    """What a browser sends for the form as rendered: hidden fields, checked radios, textareas."""
    data = {"action": action}
    for field in form.inputs:
        if field.get("type") == "hidden" or (field.get("type") == "radio" and "checked" in field):
            data[field["name"]] = field["value"]
    for area in form.textareas:
        # A browser drops the single newline that follows <textarea>.
        data[area["name"]] = area["text"][1:] if area["text"].startswith("\n") else area["text"]
    return data


def login(user):
    client = Client()
    client.force_login(user)
    return client


def score_url(world, competency=None):
    competency = competency or world.competencies[0]
    return reverse("evaluations:score", args=[world.candidate.pk, competency.pk])


def test_every_input_of_the_grid_has_its_label_and_each_criterion_its_fieldset(world):
    criteria = world.criteria()
    html = login(world.member).get(score_url(world)).content.decode()
    form = read_form(html)
    labelled = set(form.labels)
    radios = [field for field in form.inputs if field.get("type") == "radio"]
    assert len(radios) == 3 * len(criteria) + 2  # three judgements per criterion, two conclusions
    assert len(form.textareas) == len(criteria) + 1  # an observation per criterion, the justification
    for field in [*radios, *form.textareas]:
        assert field["id"] in labelled, field
    by_legend = {legend: (text, names) for legend, text, names in form.fieldsets if legend}
    for criterion in criteria:
        # its own fieldset, named by a legend holding the criterion's text, with its three choices
        legend_id = f"crit-{criterion.pk}"
        assert by_legend[legend_id] == (criterion.text, [f"j-{criterion.pk}"] * 3)
        values = [field["value"] for field in radios if field["name"] == f"j-{criterion.pk}"]
        assert values == list(Judgement.values)
        area = next(area for area in form.textareas if area["name"] == f"c-{criterion.pk}")
        assert area["id"] == f"c-{criterion.pk}" and area["aria-describedby"] == legend_id
    # one fieldset per category around its criteria, in the referential's order
    category_legends = [
        text for legend, text, names in form.fieldsets if not legend and names and names[0].startswith("j-")
    ]
    assert category_legends == [str(label) for label in CriterionCategory.labels]
    # the referential's texts of the competency, in their order
    conditions = html.index("A partir de la donnée 1"), html.index("A partir de la donnée 2")
    results = html.index("Résultat 1 de la compétence 1"), html.index("Résultat 2 de la compétence 1")
    assert conditions[0] < conditions[1] < results[0] < results[1]


def test_the_grid_as_rendered_posts_back_exactly_what_it_shows(world):
    """A draft with every kind of value reloads, and the untouched form, posted, changes nothing."""
    sheet = world.sheet(world.member)
    criteria = world.criteria()
    stored = {
        criterion.pk: (value, comment)
        for criterion, (value, comment) in zip(
            criteria,
            [
                ("acquired", ""),
                ("not_acquired", 'Serrage "au jugé" <sans clé> & sans contrôle'),
                ("", "À revoir\nen deux lignes"),
                ("not_observed", "l'outil manquait"),
            ],
            strict=False,
        )
    }
    sheet = services.save_sheet(
        sheet=sheet,
        by=world.member,
        expected_version=sheet.version,
        judgements=stored,
        conclusion="not_acquired",
        justification="Deux critères non acquis",
    )
    client = login(world.member)
    url = score_url(world)
    html = client.get(url).content.decode()
    assert "<sans clé>" not in html and "&lt;sans clé&gt;" in html
    data = browser_post(read_form(html))
    for criterion in criteria:
        value, comment = stored.get(criterion.pk, ("", ""))
        assert data.get(f"j-{criterion.pk}", "") == value, criterion.pk
        assert data[f"c-{criterion.pk}"] == comment, criterion.pk
    assert data["conclusion"] == "not_acquired" and data["version"] == str(sheet.version)

    assert client.post(url, data).status_code == 302
    saved = {j.criterion_id: (j.judgement, j.comment) for j in CriterionJudgement.objects.filter(sheet=sheet)}
    assert {pk: saved[pk] for pk in stored} == stored
    sheet.refresh_from_db()
    assert sheet.conclusion == "not_acquired" and sheet.justification == "Deux critères non acquis"

    # One click on another choice, sent by the autosave: only that criterion changes.
    data = browser_post(read_form(client.get(url).content.decode()))
    first = criteria[0]
    data[f"j-{first.pk}"] = "not_observed"
    autosave = reverse("evaluations:autosave", args=[world.candidate.pk, sheet.competency_id])
    assert client.post(autosave, data, HTTP_HX_REQUEST="true").status_code == 200
    saved = {j.criterion_id: (j.judgement, j.comment) for j in CriterionJudgement.objects.filter(sheet=sheet)}
    assert saved[first.pk] == ("not_observed", "")
    assert {pk: saved[pk] for pk in stored if pk != first.pk} == {
        pk: value for pk, value in stored.items() if pk != first.pk
    }


@pytest.mark.parametrize(
    ("submitted", "radio_attribute", "textarea_attribute"),
    [(False, None, None), (True, "disabled", "readonly")],
)
def test_a_submitted_grid_is_read_only_input_by_input(world, submitted, radio_attribute, textarea_attribute):
    if submitted:
        judge_all(world, world.member, "acquired", conclusion="acquired")
    form = read_form(login(world.member).get(score_url(world)).content.decode())
    radios = [field for field in form.inputs if field.get("type") == "radio"]
    assert radios and form.textareas
    for field in radios:
        assert (radio_attribute in field) if radio_attribute else ("disabled" not in field), field
    for area in form.textareas:
        assert (textarea_attribute in area) if textarea_attribute else ("readonly" not in area), area


def test_referential_texts_are_escaped(world):
    competency = world.competencies[0]
    criterion = world.criteria()[0]
    Criterion.objects.filter(pk=criterion.pk).update(text='<script>alert("x")</script> Gestes & postures')
    html = login(world.member).get(score_url(world, competency)).content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Gestes &amp; postures" in html


def test_grid_items_follow_the_referential_category_order_and_keep_posted_input():
    categories = list(CriterionCategory.values)
    rows = [
        (3, categories[2], "C", "acquired", ""),
        (1, categories[0], "A", "", ""),
        (2, categories[2], "B", "not_acquired", "vu"),
    ]
    groups = scoring_grid.grid_items(rows, posted={2: ("acquired", "vu")}, conflict=True)
    assert [label for label, _items in groups] == [
        str(CriterionCategory(categories[0]).label),
        str(CriterionCategory(categories[2]).label),
    ]
    items = {item["pk"]: item for _label, group in groups for item in group}
    assert [item["pk"] for item in groups[1][1]] == [3, 2]  # the rows' order within a category
    # posted input wins, and differs from what is stored only where it was changed
    assert (items[2]["value"], items[2]["differs"], items[2]["saved_label"]) == (
        "acquired",
        True,
        "Non acquis",
    )
    assert (items[3]["value"], items[3]["differs"]) == ("acquired", False)  # not posted: stored value
    assert items[1]["saved_label"] == "—"


def test_co_members_judgements_show_after_submission_with_a_dash_when_unjudged(world):
    judge_all(world, world.president, "not_observed", conclusion="not_acquired", submit=True)
    first = world.criteria()[0]
    CriterionJudgement.objects.filter(sheet=world.sheet(world.president), criterion=first).update(
        judgement="", comment="jamais vu"
    )
    judge_all(world, world.member, "acquired", conclusion="acquired")
    html = login(world.member).get(score_url(world)).content.decode()
    name = escape(world.president.get_full_name())
    assert html.count(f"{name} — <strong>Non observé</strong>") == len(world.criteria()) - 1
    assert f"{name} — —" in html and "jamais vu" not in html
    assert ScoringSheet.objects.filter(evaluator=world.member, status="submitted").exists()


# --- the scope of the scoring page: `sheets_for_evaluator`, its SQL composed once per key ---------


def _declare_candidate_conflict(world):
    services.declare_conflict(user=world.member, candidate=world.candidate, reason="Voisin", by=world.staff)


def _declare_company_conflict(world):
    services.declare_conflict(
        user=world.member, company=world.candidate.company, reason="Ancien employeur", by=world.staff
    )


def _share_the_tutors_email_domain(world):
    Tutor.objects.filter(pk=world.candidate.tutor_id).update(email="Contact@Ateliers-Lorrains.FR")  # any case
    User.objects.filter(pk=world.member.pk).update(email="jean.dupont@ateliers-lorrains.fr")


def _leave_the_centre(world):
    world.member.centres.remove(world.centre)


def _unassign(world):
    services.unassign_evaluator(convocation=world.convocation, user=world.member, by=world.staff)


def _anonymise(world):
    Candidate.objects.filter(pk=world.candidate.pk).update(anonymised_at=timezone.now())


@pytest.mark.parametrize(
    "change",
    [
        _declare_candidate_conflict,
        _declare_company_conflict,
        _share_the_tutors_email_domain,
        _leave_the_centre,
        _unassign,
        _anonymise,
    ],
)
def test_the_scoring_scope_follows_every_change_of_the_evaluators_situation(world, change):
    """The page is loaded first (its scope's SQL is then composed and kept for this evaluator): a change
    of his situation afterwards still closes the page and its autosave (404), as for every evaluator URL."""
    competency = world.competencies[0]
    url = score_url(world, competency)
    autosave = reverse("evaluations:autosave", args=[world.candidate.pk, competency.pk])
    client = login(world.member)
    assert client.get(url).status_code == 200
    change(world)
    member = User.objects.get(pk=world.member.pk)
    assert not selectors.sheets_for_evaluator(member).filter(candidate=world.candidate).exists()
    with pytest.raises(ScoringSheet.DoesNotExist):
        selectors.sheet_for_scoring(member, world.candidate.pk, competency.pk)
    assert client.get(url).status_code == 404
    assert client.post(autosave, {"version": 1}).status_code == 404


def test_the_scoring_scope_finds_exactly_the_sheets_of_sheets_for_evaluator(two_worlds):
    """Every (evaluator, candidate, competency) of two commissions: the page's sheet exists exactly
    when `sheets_for_evaluator` lists it (assigned member, president, other commission, conflict)."""
    first, second = two_worlds
    services.declare_conflict(
        user=second.member, candidate=second.candidate, reason="Cousin", by=second.staff
    )
    users = [first.president, first.member, second.president, second.member]
    checked = 0
    for user in users:
        listed = set(selectors.sheets_for_evaluator(user).values_list("candidate_id", "competency_id"))
        for world in (first, second):
            for competency in world.competencies:
                try:
                    selectors.sheet_for_scoring(user, world.candidate.pk, competency.pk)
                except ScoringSheet.DoesNotExist:
                    found = False
                else:
                    found = True
                assert found == ((world.candidate.pk, competency.pk) in listed), (user, world.candidate)
                checked += found
    assert checked == 3 * len(first.competencies)  # both members of the first, the second's president


@pytest.fixture
def two_worlds(db, django_capture_on_commit_callbacks):
    from tests.evaluations.conftest import build_world

    with django_capture_on_commit_callbacks(execute=True):
        return build_world(), build_world(code="B")
