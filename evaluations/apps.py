from django.apps import AppConfig


class EvaluationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "evaluations"
    verbose_name = "Évaluations"

    def ready(self):
        from candidates.hub import register_section
        from candidates.selectors import register_scope
        from candidates.services import register_first_evaluation_date, register_reopen_check
        from core.models import Role

        from . import (
            hub,
            permissions,  # noqa: F401 - registers the rules permissions
            selectors,
            services,
            widgets,  # noqa: F401 - registers the home page's widgets (core.widgets)
        )

        register_section(hub.candidate_section)
        register_scope(Role.EVALUATOR, selectors.candidates_for_evaluator)
        register_reopen_check(services.opinions.opinion_requested_reason)
        register_first_evaluation_date(selectors.first_evaluation_date)
