"""Read-only admin: candidates, dossiers and documents change only through `candidates.services`,
which enforce the lifecycle, the frozen dossier and the audit journal. Lists show references and
ids, not names (personal data stays on the permission-checked staff pages)."""

from django.contrib import admin

from .models import (
    Candidate,
    CandidateDocument,
    CandidateStatusChange,
    Company,
    Dossier,
    DossierCompetency,
    Tutor,
)


class ReadOnlyMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(ReadOnlyMixin, admin.TabularInline):
    extra = 0


@admin.register(Company)
class CompanyAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("name", "siret", "centre", "city")
    list_filter = ("centre",)
    search_fields = ("name", "siret")


@admin.register(Tutor)
class TutorAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("id", "company", "function", "user")
    list_filter = ("company__centre",)


class StatusChangeInline(ReadOnlyInline):
    model = CandidateStatusChange
    fields = ("from_status", "to_status", "by", "at", "reason")
    readonly_fields = fields


class DocumentInline(ReadOnlyInline):
    model = CandidateDocument
    fields = ("kind", "original_name", "size", "sha256", "uploaded_at", "is_late")
    readonly_fields = fields


@admin.register(Candidate)
class CandidateAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = (
        "reference",
        "centre",
        "certification",
        "pathway",
        "status",
        "registered_on",
        "anonymised_at",
    )
    list_filter = ("centre", "status", "pathway")
    search_fields = ("reference",)
    inlines = [StatusChangeInline, DocumentInline]


class DossierItemInline(ReadOnlyInline):
    model = DossierCompetency
    fields = ("competency", "modalities", "already_acquired", "acquired_until")
    readonly_fields = fields


@admin.register(Dossier)
class DossierAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("candidate", "report_due_date", "company_opinion_applies", "validated_at")
    inlines = [DossierItemInline]
