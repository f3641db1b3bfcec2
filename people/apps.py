from django.apps import AppConfig


class PeopleConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "people"
    verbose_name = "Personnes"

    def ready(self):
        from candidates.signals import dossier_validated

        from .services import on_dossier_validated

        dossier_validated.connect(on_dossier_validated, dispatch_uid="people.candidate_account")
