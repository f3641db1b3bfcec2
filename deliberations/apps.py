from django.apps import AppConfig


class DeliberationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "deliberations"
    verbose_name = "Jurys et délibérations"

    def ready(self):
        from candidates.hub import register_section

        from . import hub, signals

        signals.connect()
        register_section(hub.candidate_section)
