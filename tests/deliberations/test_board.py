"""The jury board (session detail): one page of light rows, filters by state with the counts of the
whole session, a search by name or reference that keeps names out of URLs, and the same checks and
proposals as the decision page (selectors.board)."""

import datetime
import re

import pytest
from django.urls import reverse

from deliberations import selectors, services
from deliberations.models import CapitalisedCompetency, SessionCandidate
from evaluations.models import CompanyOpinion
from tests.core.factories import CentreFactory, StaffFactory
from tests.deliberations.factories import (
    DeliberationSessionFactory,
    JuryUserFactory,
    evaluated_candidate,
    ready_session,
)

pytestmark = pytest.mark.django_db


def board_url(session, query=""):
    url = reverse("deliberations:session_detail", args=[session.pk])
    return f"{url}?{query}" if query else url


def references_on(response):
    return [row.reference for row in response.context["rows"]]


@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr(selectors, "BOARD_PAGE_SIZE", 2)


@pytest.fixture
def session_of_five():
    centre = CentreFactory(code="BRD")
    juror = JuryUserFactory(centres=[centre])
    session = ready_session(centre=centre, n=5, jury_user=juror)
    entries = list(session.entries.select_related("candidate").order_by("candidate__reference"))
    # decide the 2nd and the 4th candidate (by reference)
    for entry in (entries[1], entries[3]):
        services.record_decisions(actor=None, session=session, candidate=entry.candidate, choices={})
    return {
        "session": session,
        "juror": juror,
        "staff": StaffFactory(centres=[centre]),
        "references": [e.candidate.reference for e in entries],
        "candidates": [e.candidate for e in entries],
    }


# --- Pagination ---------------------------------------------------------------------------------------
def test_board_pages_follow_the_references_and_the_navigation_is_labelled(
    client, session_of_five, small_pages
):
    session, refs = session_of_five["session"], session_of_five["references"]
    client.force_login(session_of_five["juror"])
    first = client.get(board_url(session))
    assert references_on(first) == refs[:2]
    body = first.content.decode()
    assert refs[2] not in body  # the third candidate is on page 2
    assert (
        'aria-label="Pages des candidats"' in body
        and 'aria-current="page"><span class="page-link">1<' in body
    )
    assert "?page=2" in body and "Candidats 1 à 2 sur 5." in body
    assert "page 1 sur 3" in body  # the table's caption
    last = client.get(board_url(session, "page=3"))
    assert references_on(last) == refs[4:]
    assert client.get(board_url(session, "page=99")).context["page"].number == 3  # out of range → last
    # the heading counts the whole session, whatever the page
    assert "(2 / 5 décidés)" in body and "(2 / 5 décidés)" in last.content.decode()


# --- Filters by state -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("state", "positions"),
    [("", [0, 1, 2, 3, 4]), ("todo", [0, 2, 4]), ("decided", [1, 3]), ("bogus", [0, 1, 2, 3, 4])],
)
def test_state_filters_list_the_right_candidates(client, session_of_five, state, positions):
    session, refs = session_of_five["session"], session_of_five["references"]
    client.force_login(session_of_five["staff"])
    response = client.get(board_url(session, f"state={state}"))
    assert references_on(response) == [refs[i] for i in positions]
    body = response.content.decode()
    for i in set(range(5)) - set(positions):
        assert refs[i] not in body
    # the filter navigation gives the counts of the whole session, the active filter is marked
    nav = re.search(r'<nav aria-label="Filtrer les candidats par état">(.*?)</nav>', body, re.S).group(1)
    text = re.sub(r"<[^>]+>", " ", nav)
    text = re.sub(r"\s+", " ", text)
    assert "Tous 5" in text and "À décider 3" in text and "Décidés 2" in text
    assert "Divergence commission / entreprise 0" in text
    active = re.search(r'class="nav-link py-1 active" href="\?([^"]*)" aria-current="page"', nav).group(1)
    assert active == (f"state={state}" if state in ("todo", "decided") else "")


def test_decided_rows_show_the_result_and_undecided_ones_the_decide_link(client, session_of_five):
    session = session_of_five["session"]
    decided, undecided = session_of_five["candidates"][1], session_of_five["candidates"][0]
    client.force_login(session_of_five["juror"])
    response = client.get(board_url(session))
    rows = {row.reference: row for row in response.context["rows"]}
    assert rows[decided.reference].decided and rows[decided.reference].result == "CQPM attribué"
    assert not rows[undecided.reference].decided and rows[undecided.reference].result == ""
    body = response.content.decode()
    decide_url = reverse("deliberations:candidate_decide", args=[session.pk, undecided.pk])
    assert f'href="{decide_url}">Décider</a>' in body
    review_url = reverse("deliberations:candidate_decide", args=[session.pk, decided.pk])
    assert f'href="{review_url}">Revoir</a>' in body
    assert "C1 : acquise<br>C2 : acquise<br>C3 : acquise" in body


# --- Divergence commission / company ----------------------------------------------------------------------
def test_divergence_filter_is_exactly_the_award_rules_needs_review(client):
    """The divergence count and filter read one query of disagreeing proposals; they must agree with
    awards.propose, candidate by candidate, including the cases where no review is needed."""
    centre = CentreFactory(code="DIV")
    session = ready_session(centre=centre, n=0)
    cert = session.certification
    comp1 = cert.competencies.get(number=1)
    cases = {
        "agree": evaluated_candidate(centre, cert),
        "acquired_vs_unfavourable": evaluated_candidate(centre, cert, opinions={1: "unfavourable"}),
        "acquired_vs_reserved": evaluated_candidate(centre, cert, opinions={2: "reserved"}),
        "not_acquired_vs_favourable": evaluated_candidate(centre, cert, conclusions={3: "not_acquired"}),
        "both_negative": evaluated_candidate(
            centre, cert, conclusions={1: "not_acquired"}, opinions={1: "unfavourable"}
        ),
        "vae": evaluated_candidate(centre, cert, vae=True, conclusions={1: "not_acquired"}),
        "opinion_missing": evaluated_candidate(centre, cert, opinions={1: None}),
        "unsigned": evaluated_candidate(centre, cert, opinions={1: "unfavourable"}),
        "no_company_opinion": evaluated_candidate(centre, cert, opinions={1: "unfavourable"}),
        "acquired_in_dossier": evaluated_candidate(centre, cert, opinions={1: "unfavourable"}),
        "capitalised_earlier": evaluated_candidate(centre, cert, opinions={1: "unfavourable"}),
        "capitalised_expired": evaluated_candidate(centre, cert, opinions={1: "unfavourable"}),
        "job_seeker": evaluated_candidate(centre, cert, job_seeker=True, conclusions={1: "not_acquired"}),
    }
    CompanyOpinion.objects.filter(candidate=cases["unsigned"], competency=comp1).update(signed_at=None)
    cases["no_company_opinion"].dossier.company_opinion_applies = False
    cases["no_company_opinion"].dossier.save()
    cases["acquired_in_dossier"].dossier.items.filter(competency=comp1).update(
        already_acquired=True, acquired_until=session.date + datetime.timedelta(days=300)
    )
    earlier = DeliberationSessionFactory(
        centre=centre, certification=cert, jury=session.jury, date=session.date - datetime.timedelta(days=200)
    )
    for key, until in (("capitalised_earlier", 300), ("capitalised_expired", -1)):
        CapitalisedCompetency.objects.create(
            candidate=cases[key],
            competency=comp1,
            session=earlier,
            acquired_on=earlier.date,
            valid_until=session.date + datetime.timedelta(days=until),
        )
    for candidate in cases.values():
        SessionCandidate.objects.create(session=session, candidate=candidate)

    expected = {
        row.candidate.pk
        for row in selectors.board(session)
        if any(p.needs_review for p in row.proposals.values())
    }
    names = {pk: key for key, c in cases.items() for pk in [c.pk]}
    # Neither a flag of the dossier nor a date typed in it waives the opinion or makes a competency
    # acquired (issue 22): only the pathway and the capitalisation records do.
    assert {names[pk] for pk in expected} == {
        "acquired_vs_unfavourable",
        "acquired_vs_reserved",
        "not_acquired_vs_favourable",
        "capitalised_expired",
        "no_company_opinion",
        "acquired_in_dossier",
    }
    board = selectors.board_page(session, state=selectors.BOARD_REVIEW)
    assert {line.candidate_id for line in board.lines} == expected
    assert board.counts[selectors.BOARD_REVIEW] == len(expected)
    assert all(any(a.code == "needs_review" for a in line.anomalies) for line in board.lines)

    client.force_login(StaffFactory(centres=[centre]))
    body = client.get(board_url(session, "state=review")).content.decode()
    assert 'Divergence commission / entreprise <span class="badge text-bg-light">6</span>' in body
    assert cases["acquired_vs_unfavourable"].reference in body and cases["agree"].reference not in body


# --- Same checks and proposals as the decision page -------------------------------------------------------
def test_board_lines_say_what_the_decision_page_rows_say():
    centre = CentreFactory(code="EQV")
    session = ready_session(centre=centre, n=0)
    cert = session.certification
    candidates = [
        evaluated_candidate(centre, cert),
        evaluated_candidate(centre, cert, conclusions={2: None}),
        evaluated_candidate(centre, cert, opinions={3: None}),
        evaluated_candidate(centre, cert, vae=True),
        evaluated_candidate(centre, cert, opinions={1: "unfavourable"}),
        evaluated_candidate(centre, cert, usage_name="Épouse"),
    ]
    candidates[1].dossier.validated_at = None
    candidates[1].dossier.save()
    candidates[2].dossier.items.update(modalities=["project_presentation"])
    services.add_candidates(actor=None, session=session, candidates=candidates)
    services.record_decisions(actor=None, session=session, candidate=candidates[0], choices={})
    rows = {row.candidate.pk: row for row in selectors.board(session)}
    lines = {line.candidate_id: line for line in selectors.board_page(session, per_page=50).lines}
    assert set(lines) == set(rows)
    for pk, row in rows.items():
        line = lines[pk]
        assert line.anomalies == row.anomalies
        assert line.is_complete == row.is_complete
        assert line.full_name == row.candidate.full_name and line.reference == row.candidate.reference
        assert line.pathway == row.candidate.get_pathway_display()
        assert line.decided == (row.outcome is not None)
    assert lines[candidates[0].pk].result == "CQPM attribué"
    assert lines[candidates[0].pk].blocks == ", ".join(
        str(b.number) for b in rows[candidates[0].pk].outcome.blocks_acquired.all()
    )
    assert lines[candidates[4].pk].proposals.splitlines()[0] == "C1 : acquise ⚠"


# --- Search: by name or reference, never in the URL ----------------------------------------------------------
def test_search_by_name_goes_through_the_session_not_the_url(client, session_of_five):
    session = session_of_five["session"]
    wanted = session_of_five["candidates"][2]
    client.force_login(session_of_five["juror"])
    response = client.post(board_url(session, "state=todo"), {"q": wanted.birth_name})
    assert response.status_code == 302
    location = response["Location"]
    assert wanted.birth_name not in location and "search=1" in location and "state=todo" in location
    page = client.get(location)
    assert references_on(page) == [wanted.reference]
    body = page.content.decode()
    assert f'value="{wanted.birth_name}"' in body and "Effacer la recherche" in body
    # the pagination and filter links keep the search flag, never the text
    assert "search=1" in body and f"q={wanted.birth_name}" not in body
    # by reference, on every state
    client.post(board_url(session), {"q": wanted.reference.lower()})
    assert references_on(client.get(board_url(session, "search=1"))) == [wanted.reference]
    # no match: an empty state that says what to do
    client.post(board_url(session), {"q": "personne-de-ce-nom"})
    empty = client.get(board_url(session, "search=1"))
    assert empty.context["rows"] == [] and "Voir tous les candidats" in empty.content.decode()
    # an empty search clears it; without search=1 the stored text is ignored
    assert references_on(client.get(board_url(session))) == session_of_five["references"]
    client.post(board_url(session), {"q": ""})
    assert len(client.get(board_url(session, "search=1")).context["rows"]) == 5


@pytest.mark.parametrize("method", ["get", "post"])
def test_board_and_its_search_stay_in_scope(client, session_of_five, method):
    session = session_of_five["session"]
    other_centre = CentreFactory(code="OTH")
    outsiders = [StaffFactory(centres=[other_centre]), JuryUserFactory(centres=[session.centre])]
    for user in outsiders:  # staff of another centre; a jury member who does not sit on this jury
        client.force_login(user)
        response = getattr(client, method)(board_url(session), {"q": "x"} if method == "post" else None)
        assert response.status_code == 404


@pytest.mark.parametrize("size", [5, 50])
def test_board_page_queries_do_not_grow_with_the_session(django_assert_max_num_queries, size):
    centre = CentreFactory(code=f"BQ{size}")
    session = ready_session(centre=centre, n=size)
    for entry in session.entries.all()[:3]:
        services.record_decisions(actor=None, session=session, candidate=entry.candidate, choices={})
    for state in selectors.BOARD_STATES:
        with django_assert_max_num_queries(13):
            board = selectors.board_page(session, state=state, search="candidat")
        assert board.counts["all"] == size
        expected = {"": min(size, 25), "todo": min(size - 3, 25), "decided": 3, "review": 0}[state]
        assert len(board.lines) == expected


# --- Back to the same place after a decision ----------------------------------------------------------------
def test_a_decision_brings_the_jury_back_to_its_page_and_filter(client, session_of_five, small_pages):
    """Deciding the fifth candidate from page 2 of « À décider » comes back there, not to page 1 of
    every candidate (with 300 candidates the jury would otherwise page again after each decision)."""
    session, refs = session_of_five["session"], session_of_five["references"]
    fifth = session_of_five["candidates"][4]
    client.force_login(session_of_five["juror"])
    board = client.get(board_url(session, "state=todo&page=2"))
    assert references_on(board) == [refs[4]]
    decide_url = reverse("deliberations:candidate_decide", args=[session.pk, fifth.pk])
    assert f'href="{decide_url}?state=todo&amp;page=2">Décider</a>' in board.content.decode()
    page = client.get(f"{decide_url}?state=todo&page=2")
    assert f'href="{board_url(session, "state=todo&amp;page=2")}">Annuler</a>' in page.content.decode()
    data = {f"decided_{c.pk}": "acquired" for c in session.certification.competencies.all()}
    response = client.post(f"{decide_url}?state=todo&page=2", data)
    assert response.status_code == 302
    assert response["Location"] == board_url(session, "state=todo&page=2")
    assert session.outcomes.filter(candidate=fifth).exists()
    # the page emptied by the decision shows the last page left, with the remaining candidates
    assert references_on(client.get(response["Location"])) == [refs[0], refs[2]]


def test_the_way_back_to_the_board_carries_only_known_values(client, session_of_five):
    session = session_of_five["session"]
    candidate = session_of_five["candidates"][0]
    client.force_login(session_of_five["juror"])
    decide_url = reverse("deliberations:candidate_decide", args=[session.pk, candidate.pk])
    hostile = "state=https://evil.example&page=//evil.example&search=1&next=https://evil.example"
    body = client.get(f"{decide_url}?{hostile}").content.decode()
    assert "evil.example" not in body
    assert f'href="{board_url(session, "search=1")}">Annuler</a>' in body
    data = {f"decided_{c.pk}": "acquired" for c in session.certification.competencies.all()}
    response = client.post(f"{decide_url}?state=decided&page=0", data)
    assert response["Location"] == board_url(session, "state=decided")


def test_staff_remove_an_undecided_candidate_and_stay_on_their_page(client, session_of_five, small_pages):
    session, refs = session_of_five["session"], session_of_five["references"]
    fifth, decided = session_of_five["candidates"][4], session_of_five["candidates"][1]
    client.force_login(session_of_five["staff"])
    remove = reverse("deliberations:session_remove_candidate", args=[session.pk, fifth.pk])
    body = client.get(board_url(session, "state=todo&page=2")).content.decode()
    assert f'action="{remove}?state=todo&amp;page=2"' in body
    response = client.post(f"{remove}?state=todo&page=2")
    assert response["Location"] == board_url(session, "state=todo&page=2")
    assert not SessionCandidate.objects.filter(session=session, candidate=fifth).exists()
    assert references_on(client.get(response["Location"])) == [refs[0], refs[2]]
    # a decided candidate stays: the refusal is said, nothing changes
    response = client.post(
        reverse("deliberations:session_remove_candidate", args=[session.pk, decided.pk]), follow=True
    )
    assert SessionCandidate.objects.filter(session=session, candidate=decided).exists()
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
