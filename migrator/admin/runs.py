from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from migrator.admin.paginators import CappedCountPaginator
from migrator.models import AuditEntry, RecordLink, Run, SampleDiff, WorkUnit


class WorkUnitInline(admin.TabularInline):
    model = WorkUnit
    extra = 0
    fields = ["source_object", "level", "slice_index", "bulk", "state", "attempts", "crashes", "processed", "total",
              "created", "updated", "skipped", "failed", "last_error"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Run)
class RunAdmin(admin.ModelAdmin):
    list_display = ["__str__", "migration", "kind", "state", "created_at", "started_at", "finished_at",
                    "credits_used"]
    list_filter = ["kind", "state"]
    list_select_related = ["migration__client"]
    readonly_fields = ["migration", "kind", "target_run", "options", "forecast", "watermark", "resume_at",
                       "credits_used", "api_calls", "error", "created_by", "created_at", "started_at",
                       "finished_at"]
    inlines = [WorkUnitInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # runs are started by the lifecycle actions, never typed in


@admin.register(WorkUnit)
class WorkUnitAdmin(admin.ModelAdmin):
    list_display = ["__str__", "run", "state", "bulk", "attempts", "crashes", "processed", "total", "in_flight_since",
                    "worker"]
    list_filter = ["state"]
    list_select_related = ["run"]
    readonly_fields = [f.name for f in WorkUnit._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(RecordLink)
class RecordLinkAdmin(admin.ModelAdmin):
    list_display = ["source_object", "source_id", "destination_module", "destination_id", "created_by_us",
                    "loaded_at"]
    list_filter = ["destination_module", "source_object", "created_by_us"]
    search_fields = ["=source_id", "=destination_id"]
    paginator = CappedCountPaginator
    show_full_result_count = False
    readonly_fields = [f.name for f in RecordLink._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(SampleDiff)
class SampleDiffAdmin(admin.ModelAdmin):
    list_display = ["source_object", "source_id", "field", "source_value", "expected", "actual", "equal"]
    list_filter = ["equal", "source_object", "field", "run"]
    search_fields = ["=source_id", "field"]
    readonly_fields = [f.name for f in SampleDiff._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: the audit is append-only. Big table: a capped count and no full-result count."""

    list_display = ["at", "op", "source_object", "source_id", "destination_module", "destination_id",
                    "error_code", "error_field", "run"]
    list_filter = ["op", "source_object", "destination_module", "error_code", "run"]
    search_fields = ["=source_id", "=destination_id"]
    paginator = CappedCountPaginator
    show_full_result_count = False
    list_select_related = ["run"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
