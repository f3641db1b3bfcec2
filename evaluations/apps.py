from django.apps import AppConfig


class EvaluationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "evaluations"
    verbose_name = "Évaluations"

    def ready(self):
        from candidates.hub import register_section
        from candidates.selectors import register_scope
        from core.models import Role

        from . import (
            hub,
            permissions,  # noqa: F401 - registers the rules permissions
            selectors,
            widgets,  # noqa: F401 - registers the home page's widgets (core.widgets)
        )

        register_section(hub.candidate_section)
        register_scope(Role.EVALUATOR, selectors.candidates_for_evaluator)
