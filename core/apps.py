from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django_otp.plugins.otp_totp import apps as otp_totp_apps


class CoreConfig(AppConfig):
    default = True  # the other configs below are named explicitly in INSTALLED_APPS
    default_auto_field = "django.db.models.BigAutoField"
    name = "core"
    verbose_name = "Plateforme"

    def ready(self):
        from django.db.models.signals import pre_save

        from . import checks, notifications, permissions, signals  # noqa: F401 — checks, widget, rules, receivers
        from .text import clean_model_text

        # Every model of the project: bidi controls stripped and lengths checked before each save.
        pre_save.connect(clean_model_text, dispatch_uid="core.text.clean_model_text")


class CQPMAdminConfig(admin_apps.AdminConfig):
    """The Django admin with our site: superusers only, French titles (core/admin_site.py)."""

    default = False
    default_site = "core.admin_site.CQPMAdminSite"


class TOTPConfig(otp_totp_apps.DefaultConfig):
    """django-otp's TOTP plugin, named in French in the admin (it ships « OTP_TOTP » and « TOTP devices »)."""

    default = False
    verbose_name = "Double authentification"

    def ready(self):
        super().ready()
        from django_otp.plugins.otp_totp.models import TOTPDevice

        # Display names only: migrations read the model's declared options (`original_attrs`), which
        # are left as shipped, so no migration of the third-party app is ever asked for.
        TOTPDevice._meta.verbose_name = "appareil d'authentification (TOTP)"
        TOTPDevice._meta.verbose_name_plural = "appareils d'authentification (TOTP)"
