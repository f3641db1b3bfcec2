"""Filters of the staff candidate list (django-filter), shared by the list page and its export.

Other apps add their own filters with `register_filter` from their AppConfig.ready — e.g. the
evaluations app adds « session d'évaluation »:

    from candidates.filters import register_filter
    register_filter("session", django_filters.ModelChoiceFilter(
        label=_("Session"), queryset=sessions_for_request, field_name="convocations__session"))

A filter's queryset may be a callable taking the request (django-filter), so it stays role-scoped.
"""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from referential.models import Certification

from . import selectors
from .models import Candidate, CandidateStatus, Company, Pathway


def companies_for_request(request):
    if request is None:
        return Company.objects.none()
    return selectors.companies_visible_to(request.user).order_by("name")


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
    status = django_filters.ChoiceFilter(label=_("Statut"), choices=CandidateStatus.choices)
    pathway = django_filters.ChoiceFilter(label=_("Parcours"), choices=Pathway.choices)
    company = django_filters.ModelChoiceFilter(label=_("Entreprise"), queryset=companies_for_request)
    certification = django_filters.ChoiceFilter(
        label=_("CQPM"), field_name="certification__code", choices=certification_codes
    )

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


def register_filter(name, filter_instance):
    """Add a filter to the candidate list and its export (call from an AppConfig.ready)."""
    CandidateFilter.base_filters[name] = filter_instance
