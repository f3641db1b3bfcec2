from django.apps import AppConfig


class EvaluationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "evaluations"
    verbose_name = "Évaluations"

    def ready(self):
        from candidates.hub import register_section

        from . import (
            hub,
            permissions,  # noqa: F401 - registers the rules permissions
        )

        register_section(hub.candidate_section)
