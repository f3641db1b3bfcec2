from django.apps import AppConfig


class ReferentialConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "referential"
    verbose_name = "Référentiels"
