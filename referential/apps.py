from django.apps import AppConfig


class ReferentialConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "referential"
    verbose_name = "Référentiels"

    def ready(self):
        # The named rules (`referential.*`) exist before any view asks `require_permission`.
        from . import permissions  # noqa: F401
