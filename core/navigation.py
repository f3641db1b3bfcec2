"""The main navigation: each role sees only what it may use. Apps add their entries here.

Every page shows the menu, so its cost is part of the floor of every request. The entries of a role
(reversed URLs, translated labels) do not change while the process runs: they are computed once per
(role, language, script prefix) and kept in memory; only the "active" entry depends on the
request. `core.templatetags.chrome.main_menu` also keeps the rendered menu per (role, language, active
entry). Both caches are cleared when the URL configuration or the languages change (tests).
"""

from functools import lru_cache

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import NoReverseMatch, get_script_prefix, reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from .models import Role

STAFF, EVALUATOR, TUTOR, JURY = Role.STAFF, Role.EVALUATOR, Role.TUTOR, Role.JURY
CANDIDATE = Role.CANDIDATE

# (label, url name, roles allowed)
NAVIGATION = [
    (_("Tableau de bord"), "home", {STAFF, EVALUATOR, TUTOR, JURY}),
    (_("Mon espace"), "people:candidate_home", {CANDIDATE}),  # the candidate's own space (issue 23)
    (_("Candidats"), "candidates:list", {STAFF}),
    (_("Entreprises"), "candidates:company_list", {STAFF}),
    (_("Sessions d'évaluation"), "evaluations:session_list", {STAFF}),
    (_("À évaluer"), "evaluations:to_score", {EVALUATOR}),
    (_("Avis à donner"), "evaluations:opinions_todo", {TUTOR}),
    (_("Délibérations"), "deliberations:session_list", {STAFF, JURY}),
    (_("Référentiels"), "referential:list", {STAFF, EVALUATOR, JURY}),
    (_("Personnes"), "people:list", {STAFF}),
    (_("Statistiques"), "reporting:statistics", {STAFF}),
    (_("Déclarations CPF"), "reporting:accrochage", {STAFF}),
    (_("Journal d'audit"), "core:audit_log", {STAFF}),
]


def menu_role(user):
    """The role whose menu the user sees (a superuser is the national staff)."""
    return Role.STAFF if user.is_superuser else user.role


@lru_cache(maxsize=64)
def _entries(role, language, script_prefix):
    entries = []
    for label, url_name, roles in NAVIGATION:
        if role not in roles:
            continue
        try:
            url = reverse(url_name)
        except NoReverseMatch:  # the app providing it is not installed in this build
            continue
        entries.append((str(label), url))
    return tuple(entries)


def entries_for_role(role):
    """((label, url), ...) of a role's menu in the active language, computed once per process."""
    return _entries(role, get_language(), get_script_prefix())


def active_url(entries, current_path):
    """The url of the entry the current page belongs to, the most specific one (/candidats/entreprises/
    is « Entreprises », not « Candidats »); None when it belongs to none."""
    best = None
    for _label, url in entries:
        if (current_path == url if url == "/" else current_path.startswith(url)) and (
            best is None or len(url) > len(best)
        ):
            best = url
    return best


def navigation_for(user, current_path=""):
    if not user.is_authenticated:
        return []
    entries = entries_for_role(menu_role(user))
    active = active_url(entries, current_path)
    return [{"label": label, "url": url, "active": url == active} for label, url in entries]


def clear_caches():
    _entries.cache_clear()
    # core.templatetags.chrome imports this module (active_url).
    from .templatetags.chrome import clear_memos  # noqa: PLC0415 — cycle above

    clear_memos()


@receiver(setting_changed)
def _clear_on_setting_change(*, setting, **kwargs):
    if setting in {
        "ROOT_URLCONF",
        "LANGUAGES",
        "LANGUAGE_CODE",
        "FORCE_SCRIPT_NAME",
        "STORAGES",
        "STATIC_URL",
    }:
        clear_caches()
