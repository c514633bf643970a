from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from migrator.models import (
    Edition,
    Gotcha,
    PairCustomField,
    PairObjectMapping,
    Platform,
    PlatformField,
    PlatformObject,
    PlatformPair,
)


class PlatformObjectInline(admin.TabularInline):
    model = PlatformObject
    extra = 0
    fields = ["key", "label", "description"]


class EditionInline(admin.TabularInline):
    model = Edition
    extra = 0
    fields = ["position", "slug", "name", "api_access", "limits", "features"]


class PlatformGotchaInline(admin.TabularInline):
    model = Gotcha
    fk_name = "platform"
    extra = 0
    fields = ["key", "title", "severity", "check_name", "detail"]


@admin.register(Platform)
class PlatformAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "kind", "object_count"]
    list_filter = ["kind"]
    search_fields = ["name", "slug"]
    inlines = [EditionInline, PlatformObjectInline, PlatformGotchaInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Platform]:
        return super().get_queryset(request).annotate(n_objects=Count("platform_objects"))

    @admin.display(description="objects", ordering="n_objects")
    def object_count(self, obj: Platform) -> int:
        return obj.n_objects  # type: ignore[attr-defined,no-any-return]


@admin.register(PlatformObject)
class PlatformObjectAdmin(admin.ModelAdmin):
    list_display = ["key", "label", "platform"]
    list_filter = ["platform"]
    list_select_related = ["platform"]
    search_fields = ["key", "label"]


@admin.register(PlatformField)
class PlatformFieldAdmin(admin.ModelAdmin):
    list_display = ["name", "label", "type", "mandatory", "custom", "platform_object"]
    list_filter = ["platform_object__platform", "type", "mandatory", "custom"]
    list_select_related = ["platform_object__platform"]
    search_fields = ["name", "label"]


@admin.register(Edition)
class EditionAdmin(admin.ModelAdmin):
    list_display = ["name", "platform", "slug", "api_access", "position"]
    list_filter = ["platform", "api_access"]
    list_select_related = ["platform"]


class PairObjectMappingInline(admin.TabularInline):
    model = PairObjectMapping
    extra = 0
    fields = ["position", "source_label", "destination_label", "cardinality", "compatibility", "strategy",
              "source_objects", "destination_module"]


class PairCustomFieldInline(admin.TabularInline):
    model = PairCustomField
    extra = 0
    fields = ["module", "subform", "label", "api_name", "type", "length", "unique"]


class PairGotchaInline(admin.TabularInline):
    model = Gotcha
    fk_name = "pair"
    extra = 0
    fields = ["key", "title", "severity", "check_name", "detail"]


@admin.register(PlatformPair)
class PlatformPairAdmin(admin.ModelAdmin):
    list_display = ["title", "source", "destination", "compatibility", "complexity_grade", "timeline_text",
                    "row_count"]
    list_filter = ["source", "destination", "complexity_grade"]
    list_select_related = ["source", "destination"]
    inlines = [PairObjectMappingInline, PairCustomFieldInline, PairGotchaInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[PlatformPair]:
        return super().get_queryset(request).annotate(n_rows=Count("object_mappings"))

    @admin.display(description="compatibility")
    def compatibility(self, obj: PlatformPair) -> str:
        return f"{obj.compatible_objects} of {obj.total_objects}"

    @admin.display(description="mapping rows", ordering="n_rows")
    def row_count(self, obj: PlatformPair) -> int:
        return obj.n_rows  # type: ignore[attr-defined,no-any-return]


@admin.register(PairObjectMapping)
class PairObjectMappingAdmin(admin.ModelAdmin):
    list_display = ["pair", "position", "source_label", "destination_label", "cardinality", "strategy",
                    "destination_module", "compatibility"]
    list_filter = ["pair", "strategy", "cardinality", "compatibility"]
    list_select_related = ["pair"]
    search_fields = ["source_label", "destination_label", "description"]


@admin.register(PairCustomField)
class PairCustomFieldAdmin(admin.ModelAdmin):
    list_display = ["label", "api_name", "module", "subform", "type", "length", "pair"]
    list_filter = ["pair", "module", "type"]
    list_select_related = ["pair"]
    search_fields = ["label", "api_name"]


@admin.register(Gotcha)
class GotchaAdmin(admin.ModelAdmin):
    list_display = ["title", "severity", "platform", "pair", "check_name"]
    list_filter = ["severity", "platform", "pair"]
    list_select_related = ["platform", "pair"]
    search_fields = ["title", "detail"]
