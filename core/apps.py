from django.apps import AppConfig


class CoreConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "core"
    verbose_name = "Plateforme"

    def ready(self):
        from . import checks, notifications, signals  # noqa: F401

        notifications.connect()

        from django.db.models.signals import pre_save

        from .text import clean_model_text

        # Every model of the project: bidi controls stripped and lengths checked before each save.
        pre_save.connect(clean_model_text, dispatch_uid="core.text.clean_model_text")
