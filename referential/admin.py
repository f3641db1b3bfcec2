"""Read-only admin: the referential changes only through its services (import, drafts, publication),
which enforce the immutability of published versions and write the audit journal."""

from django.contrib import admin

from .models import (
    AssociatedKnowledge,
    Block,
    Certification,
    Competency,
    Criterion,
    EvaluationModality,
    ExpectedResult,
    RealisationCondition,
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
    show_change_link = True


class BlockInline(ReadOnlyInline):
    model = Block
    fields = ("number", "title")


class ModalityInline(ReadOnlyInline):
    model = EvaluationModality
    fields = ("order", "code", "label")


@admin.register(Certification)
class CertificationAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("code", "title", "version", "status", "published_at", "archived_at")
    list_filter = ("status", "code")
    search_fields = ("code", "title", "rncp_number")
    inlines = [BlockInline, ModalityInline]


class KnowledgeInline(ReadOnlyInline):
    model = AssociatedKnowledge
    fields = ("order", "text")


class CompetencyInline(ReadOnlyInline):
    model = Competency
    fields = ("number", "title")
    fk_name = "block"


@admin.register(Block)
class BlockAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("__str__", "certification")
    list_filter = ("certification",)
    inlines = [KnowledgeInline, CompetencyInline]


class ConditionInline(ReadOnlyInline):
    model = RealisationCondition
    fields = ("order", "text")


class CriterionInline(ReadOnlyInline):
    model = Criterion
    fields = ("order", "category", "text")


class ExpectedResultInline(ReadOnlyInline):
    model = ExpectedResult
    fields = ("order", "text")


@admin.register(Competency)
class CompetencyAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("number", "title", "block", "certification")
    list_filter = ("certification",)
    search_fields = ("title", "evaluation_title")
    inlines = [ConditionInline, CriterionInline, ExpectedResultInline]


@admin.register(Criterion)
class CriterionAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("competency", "order", "category", "text")
    list_filter = ("category", "competency__certification")
    search_fields = ("text",)
