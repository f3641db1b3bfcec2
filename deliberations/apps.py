from django.apps import AppConfig


class DeliberationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "deliberations"
    verbose_name = "Jurys et délibérations"

    def ready(self):
        from . import signals

        signals.connect()
