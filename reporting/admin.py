from django.contrib import admin

from .models import AccrochageBatch, AccrochageRecord, ProcessingReport


class AccrochageRecordInline(admin.TabularInline):
    model = AccrochageRecord
    extra = 0
    can_delete = False
    fields = (
        "candidate",
        "id_technique",
        "issued_on",
        "reported_at",
        "is_late",
        "status",
        "reason",
        "answered_at",
    )
    readonly_fields = fields
    raw_id_fields = ("candidate",)

    def has_add_permission(self, request, obj=None):
        return False


class ProcessingReportInline(admin.TabularInline):
    model = ProcessingReport
    extra = 0
    can_delete = False
    fields = ("uploaded_at", "uploaded_by", "original_name", "accepted_count", "rejected_count", "sha256")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(AccrochageBatch)
class AccrochageBatchAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "flux_id",
        "centre",
        "session",
        "period_start",
        "period_end",
        "record_count",
        "created_at",
    )
    list_filter = ("centre",)
    # The XML sits in the private storage (no URL): downloaded from the staff page, audited.
    exclude = ("file",)
    readonly_fields = [f.name for f in AccrochageBatch._meta.fields if f.name != "file"]
    inlines = [AccrochageRecordInline, ProcessingReportInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
