from django.apps import AppConfig


class CandidatesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "candidates"
    verbose_name = "Candidats"

    def ready(self):
        from . import (  # noqa: F401
            permissions,  # registers the rules permissions
            widgets,  # registers the home page's widgets (core.widgets)
        )
