"""The shared list includes: pagination (templates/includes/pagination.html) and export buttons
(includes/export_buttons.html): Django's {% querystring %} keeps
the list's parameters and replaces only `page`; a view's own parameters when some must not travel."""

from django.core.paginator import Paginator
from django.http import QueryDict
from django.template.loader import render_to_string
from django.test import RequestFactory


def render(query, **context):
    request = RequestFactory().get(f"/liste/?{query}")
    page = Paginator(range(30), 10).get_page(request.GET.get("page"))
    return render_to_string("includes/pagination.html", {"page": page, **context}, request=request)


def test_the_links_keep_the_request_parameters_and_replace_the_page():
    html = render("periode=passees&page=2")
    assert 'href="?periode=passees&amp;page=1"' in html and "Précédente" in html
    assert 'href="?periode=passees&amp;page=3"' in html and "Suivante" in html
    assert "Page 2 sur 3" in html and 'aria-current="page"' in html and 'aria-label="Pagination"' in html


def test_a_view_may_give_the_parameters_the_links_keep():
    params = QueryDict("status=registered", mutable=True)  # the search (q) left out by the view
    html = render("status=registered&q=Durand&page=1", params=params)
    assert 'href="?status=registered&amp;page=2"' in html and "Durand" not in html


def test_labels_and_a_single_page():
    html = render("page=3", previous_label="Précédents", next_label="Suivants", label="Pages des messages")
    assert "Précédents" in html and "Suivants" not in html and 'aria-label="Pages des messages"' in html
    one_page = render_to_string(
        "includes/pagination.html",
        {"page": Paginator(range(3), 10).get_page(1)},
        request=RequestFactory().get("/"),
    )
    assert "<nav" not in one_page


def test_the_export_buttons_keep_the_list_parameters_without_the_page():
    request = RequestFactory().get("/liste/?periode=passees&page=2")
    html = render_to_string("includes/export_buttons.html", {}, request=request)
    assert (
        'href="?periode=passees&amp;format=csv"' in html and 'href="?periode=passees&amp;format=xlsx"' in html
    )
    html = render_to_string(
        "includes/export_buttons.html",
        {"url": "/candidats/export/", "params": QueryDict("status=registered&search=1")},
        request=RequestFactory().get("/candidats/?q=Durand"),
    )
    assert (
        'href="/candidats/export/?status=registered&amp;search=1&amp;format=csv"' in html
        and "Durand" not in html
    )
