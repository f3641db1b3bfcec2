from django.apps import AppConfig


class DeliberationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "deliberations"
    verbose_name = "Jurys et délibérations"

    def ready(self):
        from candidates.hub import register_section
        from candidates.selectors import register_scope
        from core.models import Role

        from . import (  # noqa: F401 - permissions and widgets register themselves
            board_version,
            capitalisation,
            hub,
            permissions,
            selectors,
            signals,
            widgets,
        )

        signals.connect()
        board_version.connect()
        capitalisation.connect()
        register_section(hub.candidate_section)
        register_scope(Role.JURY, selectors.jury_candidates)
