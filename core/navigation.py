"""The main navigation: each role sees only what it may use. Apps add their entries here."""

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from .models import Role

STAFF, EVALUATOR, TUTOR, JURY = Role.STAFF, Role.EVALUATOR, Role.TUTOR, Role.JURY

# (label, url name, roles allowed)
NAVIGATION = [
    (_("Tableau de bord"), "home", {STAFF, EVALUATOR, TUTOR, JURY}),
    (_("Candidats"), "candidates:list", {STAFF}),
    (_("Entreprises"), "candidates:company_list", {STAFF}),
    (_("Sessions d'évaluation"), "evaluations:session_list", {STAFF}),
    (_("À évaluer"), "evaluations:to_score", {EVALUATOR}),
    (_("Avis à donner"), "evaluations:opinions_todo", {TUTOR}),
    (_("Délibérations"), "deliberations:session_list", {STAFF, JURY}),
    (_("Référentiels"), "referential:list", {STAFF, EVALUATOR, JURY}),
    (_("Statistiques"), "core:statistics", {STAFF}),
    (_("Déclarations CPF"), "reporting:accrochage", {STAFF}),
    (_("Journal d'audit"), "core:audit_log", {STAFF}),
]


def navigation_for(user, current_path=""):
    if not user.is_authenticated:
        return []
    role = Role.STAFF if user.is_superuser else user.role
    items = []
    for label, url_name, roles in NAVIGATION:
        if role not in roles:
            continue
        try:
            url = reverse(url_name)
        except NoReverseMatch:  # the app providing it is not installed in this build
            continue
        active = current_path == url if url == "/" else current_path.startswith(url)
        items.append({"label": label, "url": url, "active": active})
    return items
