from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import (
    Commission,
    CommissionMember,
    CommissionProposal,
    CompanyOpinion,
    ConflictOfInterest,
    Convocation,
    EvaluationSession,
    ScoringSheet,
    TutorInvitation,
)


class ReadOnlyAdmin(SimpleHistoryAdmin):
    """State changes go through evaluations.services (rules, audit): the admin only reads."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class MemberInline(admin.TabularInline):
    model = CommissionMember
    extra = 0
    can_delete = False
    readonly_fields = ("user", "qualification", "college", "is_president")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Commission)
class CommissionAdmin(admin.ModelAdmin):
    list_display = ("name", "centre")
    list_filter = ("centre",)
    inlines = [MemberInline]
    readonly_fields = ("centre", "name")


@admin.register(ConflictOfInterest)
class ConflictOfInterestAdmin(admin.ModelAdmin):
    list_display = ("user", "candidate", "company", "declared_at")
    readonly_fields = ("user", "candidate", "company", "reason", "declared_at", "declared_by")


@admin.register(EvaluationSession)
class EvaluationSessionAdmin(admin.ModelAdmin):
    list_display = ("date", "commission", "place", "is_remote", "centre")
    list_filter = ("centre", "is_remote")


@admin.register(Convocation)
class ConvocationAdmin(admin.ModelAdmin):
    list_display = ("session", "candidate", "time_slot", "convened_at")
    readonly_fields = ("session", "candidate", "time_slot", "convened_at")


@admin.register(ScoringSheet)
class ScoringSheetAdmin(ReadOnlyAdmin):
    list_display = ("candidate", "competency", "evaluator", "status", "conclusion", "version")
    list_filter = ("status",)


@admin.register(CommissionProposal)
class CommissionProposalAdmin(ReadOnlyAdmin):
    list_display = ("candidate", "competency", "conclusion", "has_divergence", "recorded_at")


@admin.register(CompanyOpinion)
class CompanyOpinionAdmin(ReadOnlyAdmin):
    list_display = ("candidate", "competency", "tutor", "opinion", "signed_at")


@admin.register(TutorInvitation)
class TutorInvitationAdmin(admin.ModelAdmin):
    list_display = ("tutor", "candidate", "created_at", "expires_at", "used_at")
    exclude = ("token_hash",)
    readonly_fields = ("tutor", "candidate", "created_at", "expires_at", "used_at", "created_by")
