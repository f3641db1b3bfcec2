from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm

from .forms import ChooseEmptyChoices
from .models import AuditEvent, CertificationCentre, Notification, User


class UniqueEmailUserChangeForm(ChooseEmptyChoices, UserChangeForm):
    """The admin refuses an address another account uses (case-insensitive), as « Personnes » does: the
    address logs in like the login."""

    def clean_email(self):
        email = (self.cleaned_data.get("email") or "").strip()
        if email and User.objects.filter(email__iexact=email).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(
                "Un autre compte utilise déjà cette adresse e-mail (les majuscules ne comptent pas)."
            )
        return email


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UniqueEmailUserChangeForm
    fieldsets = BaseUserAdmin.fieldsets + (("Rôle", {"fields": ("role", "centres", "phone")}),)
    list_display = ("username", "first_name", "last_name", "role", "is_active")
    list_filter = ("role", "is_active", "centres")
    filter_horizontal = ("centres", "groups", "user_permissions")


@admin.register(CertificationCentre)
class CertificationCentreAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "city")


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "action", "actor", "target_type", "target_id")
    list_filter = ("action",)

    # Append-only: the admin can read the journal, never change it.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("created_at", "kind", "subject", "status")
    list_filter = ("kind", "status")
