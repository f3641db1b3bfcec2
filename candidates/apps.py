from django.apps import AppConfig


class CandidatesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "candidates"
    verbose_name = "Candidats"

    def ready(self):
        from . import permissions  # noqa: F401 - registers the rules permissions
