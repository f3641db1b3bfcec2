"""Filters of the staff candidate list (django-filter), shared by the list page and its export.

Other apps add their own filters with `register_filter` from their AppConfig.ready — e.g. the
evaluations app adds « session d'évaluation »:

    from candidates.filters import register_filter
    register_filter("session", django_filters.ModelChoiceFilter(
        label=_("Session"), queryset=sessions_for_request, field_name="convocations__session"))

A filter's queryset may be a callable taking the request (django-filter), so it stays role-scoped.

At national scale the list never renders a choice per company (2 500 `<option>`s): the company is
searched by name or SIRET (`company_search`, with suggestions from `candidates:company_search`), and
`company=<id>` (links, and a search that designates a single company) filters on one company of the
user's scope. The selects left (status, pathway, CQPM) are short lists, rendered by `core.forms.PlainSelect`
(one template per option cost the page 4–5 ms of CPU in `make bench`).
"""

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.forms import PlainSelect
from referential.models import Certification

from . import selectors
from .models import Candidate, CandidateStatus, Company, Pathway


def companies_for_request(request):
    if request is None:
        return Company.objects.none()
    return selectors.companies_visible_to(request.user)


def certification_codes():
    codes = Certification.objects.order_by("code").values_list("code", "title").distinct()
    seen = {}
    for code, title in codes:
        seen.setdefault(code, f"{code} — {title}")
    return list(seen.items())


class CandidateFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Recherche"), method="search", help_text=_("Référence, nom, prénom ou adresse électronique.")
    )
    status = django_filters.ChoiceFilter(
        label=_("Statut"),
        choices=CandidateStatus.choices,
        widget=PlainSelect(attrs={"class": "form-select"}),
    )
    pathway = django_filters.ChoiceFilter(
        label=_("Parcours"), choices=Pathway.choices, widget=PlainSelect(attrs={"class": "form-select"})
    )
    # One company of the user's scope, by id (links; a search naming a single company): never a
    # select of every company. Another centre's company is an invalid choice (form error).
    company = django_filters.ModelChoiceFilter(
        label=_("Entreprise"), queryset=companies_for_request, widget=forms.HiddenInput
    )
    company_search = django_filters.CharFilter(
        label=_("Entreprise"),
        method="search_company",
        help_text=_("Nom ou numéro SIRET (des suggestions s'affichent pendant la saisie)."),
    )
    certification = django_filters.ChoiceFilter(
        label=_("CQPM"),
        field_name="certification__code",
        choices=certification_codes,
        widget=PlainSelect(attrs={"class": "form-select"}),
    )

    # Filters the list template renders itself; the ones other apps register are rendered generically.
    BUILTIN = ("q", "status", "pathway", "company", "company_search", "certification")

    class Meta:
        model = Candidate
        fields = []

    def search(self, queryset, name, value):
        """Reference, names or email; several words must all match."""
        for word in value.split()[:5]:
            queryset = queryset.filter(
                Q(reference__icontains=word)
                | Q(birth_name__icontains=word)
                | Q(usage_name__icontains=word)
                | Q(first_names__icontains=word)
                | Q(email__icontains=word)
            )
        return queryset

    def search_company(self, queryset, name, value):
        """Candidates whose company matches the text as `selectors.companies_matching` reads it."""
        condition = selectors.company_condition(value, prefix="company__")
        return queryset if condition is None else queryset.filter(condition)

    def registered_fields(self):
        """Bound fields of the filters added by other apps (`register_filter`)."""
        return [field for field in self.form if field.name not in self.BUILTIN]

    def selected_company(self):
        """The company chosen by id (`company=<id>`), when valid, else None."""
        if not self.is_bound or not self.form.is_valid():
            return None
        return self.form.cleaned_data.get("company")


def register_filter(name, filter_instance):
    """Add a filter to the candidate list and its export (call from an AppConfig.ready)."""
    CandidateFilter.base_filters[name] = filter_instance
