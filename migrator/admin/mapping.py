"""The mapping workbench: object mappings with their field maps inline, confidence and origin shown, type
mismatches highlighted; confirm actions; transform specs validated in place; value maps; CSV/XLSX import-export;
the schema-setup checklist page and its downloads."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from import_export import resources
from import_export.admin import ImportExportModelAdmin

from migrator.models import DiscoveredField, DiscoveredObject, FieldMap, Migration, ObjectMapping, Origin, ValueMap
from migrator.services.checklist import checklist_build, checklist_rows
from migrator.services.checklist_export import checklist_csv, checklist_pdf, checklist_xlsx
from migrator.services.mapping import MappingError, mapping_confirm, mapping_confirm_above, transform_problem


class DiscoveredFieldInline(admin.TabularInline):
    model = DiscoveredField
    extra = 0
    fields = ["name", "inferred_type", "fill_rate", "max_length", "custom", "references", "coded_values"]
    readonly_fields = fields
    can_delete = False


@admin.register(DiscoveredObject)
class DiscoveredObjectAdmin(admin.ModelAdmin):
    list_display = ["key", "label", "migration", "record_count", "issues", "discovered_at"]
    list_filter = ["migration"]
    list_select_related = ["migration__client"]
    search_fields = ["key", "label"]
    inlines = [DiscoveredFieldInline]


@admin.register(DiscoveredField)
class DiscoveredFieldAdmin(admin.ModelAdmin):
    list_display = ["name", "discovered_object", "inferred_type", "fill_rate", "custom"]
    list_filter = ["inferred_type", "custom"]
    list_select_related = ["discovered_object"]
    search_fields = ["name", "label"]


class FieldMapForm(forms.ModelForm):
    """Validates the transform spec when saved; an edit by a person makes the row manual."""

    class Meta:
        model = FieldMap
        fields = ["source_field", "destination_field", "transform", "status", "create_field"]

    def clean_transform(self) -> Any:
        spec = self.cleaned_data.get("transform")
        problem = transform_problem(spec)
        if problem:
            raise forms.ValidationError(f"Invalid transform: {problem}")
        return spec

    def save(self, commit: bool = True) -> Any:
        edited = {"source_field", "destination_field", "transform", "create_field"} & set(self.changed_data)
        if self.instance.pk and edited:
            self.instance.origin = Origin.MANUAL
        return super().save(commit)


class FieldMapInline(admin.TabularInline):
    model = FieldMap
    form = FieldMapForm
    extra = 0
    fields = ["source_field", "destination_field", "transform", "status", "origin", "confidence_shown",
              "create_field", "mismatch"]
    readonly_fields = ["origin", "confidence_shown", "mismatch"]
    show_change_link = True

    @admin.display(description="confidence")
    def confidence_shown(self, obj: FieldMap) -> str:
        return f"{obj.confidence:.2f}" if obj.pk else ""

    @admin.display(description="type")
    def mismatch(self, obj: FieldMap) -> str:
        if obj.type_mismatch:
            return format_html('<strong style="color:#ba2121">{}</strong>', "type mismatch")
        return ""


class ThresholdForm(forms.Form):
    threshold = forms.FloatField(min_value=0.0, max_value=1.0, initial=0.9,
                                 help_text="Catalog rows and suggestions at or above this confidence are confirmed.")


@admin.register(ObjectMapping)
class ObjectMappingAdmin(admin.ModelAdmin):
    list_display = ["__str__", "migration", "strategy", "cardinality", "load_order", "status", "origin",
                    "confidence"]
    list_filter = ["status", "origin", "strategy", "migration"]
    list_select_related = ["migration__client"]
    search_fields = ["source_label", "destination_module"]
    inlines = [FieldMapInline]
    actions = ["confirm_selected", "confirm_above_threshold"]

    @admin.action(description="Confirm selected object mappings", permissions=["change"])
    def confirm_selected(self, request: HttpRequest, queryset: QuerySet[ObjectMapping]) -> None:
        done = mapping_confirm(user=request.user, object_mappings=queryset)
        self.message_user(request, f"{len(done.object_mappings)} object mappings confirmed.", messages.SUCCESS)

    @admin.action(description="Confirm all at or above a confidence threshold…", permissions=["change"])
    def confirm_above_threshold(self, request: HttpRequest,
                                queryset: QuerySet[ObjectMapping]) -> TemplateResponse | None:
        migrations = Migration.objects.filter(pk__in=queryset.values("migration"))
        form = ThresholdForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            total = 0
            for migration in migrations:
                total += mapping_confirm_above(migration=migration, threshold=form.cleaned_data["threshold"],
                                               user=request.user).as_dict()["count"]
            self.message_user(request, f"{total} mappings confirmed at or above "
                                       f"{form.cleaned_data['threshold']:.2f}.", messages.SUCCESS)
            return None
        context = {**self.admin_site.each_context(request), "title": "Confirm at or above a threshold",
                   "form": form, "queryset": queryset, "migrations": migrations,
                   "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME, "opts": self.model._meta}
        return TemplateResponse(request, "admin/migrator/confirm_threshold.html", context)

    def get_urls(self) -> list[URLPattern]:
        extra = [path("checklist/<int:migration_id>/", self.admin_site.admin_view(self.checklist_view),
                      name="migrator_schema_checklist")]
        return extra + super().get_urls()

    def checklist_view(self, request: HttpRequest, migration_id: int) -> HttpResponse:
        """The schema-setup checklist an account manager hands over, with its downloads."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        migration = get_object_or_404(Migration.objects.select_related("client", "pair"), pk=migration_id)
        if not migration.schema_plan.exists():
            checklist_build(migration=migration)
        fmt = request.GET.get("format", "")
        writers = {"csv": (checklist_csv, "text/csv"),
                   "xlsx": (checklist_xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
                   "pdf": (checklist_pdf, "application/pdf")}
        if fmt in writers:
            write, content_type = writers[fmt]
            response = HttpResponse(write(migration), content_type=content_type)
            response["Content-Disposition"] = f'attachment; filename="schema-checklist-{migration.pk}.{fmt}"'
            return response
        base = reverse("admin:migrator_schema_checklist", args=[migration.pk])
        context = {**self.admin_site.each_context(request), "title": f"Schema setup checklist — {migration}",
                   "migration": migration, "rows": checklist_rows(migration), "base": base,
                   "opts": self.model._meta}
        return TemplateResponse(request, "admin/migrator/schema_checklist.html", context)


class FieldMapResource(resources.ModelResource):
    class Meta:
        model = FieldMap
        fields = ["id", "object_mapping", "source_field", "destination_field", "transform", "status", "origin",
                  "confidence", "create_field", "create_spec", "type_mismatch"]

    def before_save_instance(self, instance: FieldMap, row: Any, **kwargs: Any) -> None:
        problem = transform_problem(instance.transform)
        if problem:
            raise MappingError(f"field map {instance.pk or 'new'}: invalid transform: {problem}")


class ValueMapResource(resources.ModelResource):
    class Meta:
        model = ValueMap
        fields = ["id", "field_map", "source_value", "destination_value", "origin", "confidence"]


class ValueMapInline(admin.TabularInline):
    model = ValueMap
    extra = 0
    fields = ["source_value", "destination_value", "origin", "confidence"]


@admin.register(FieldMap)
class FieldMapAdmin(ImportExportModelAdmin):
    resource_classes = [FieldMapResource]
    form = FieldMapForm
    list_display = ["__str__", "object_mapping", "status", "origin", "confidence", "create_field", "type_mismatch"]
    list_filter = ["status", "origin", "create_field", "type_mismatch"]
    list_select_related = ["object_mapping__migration"]
    search_fields = ["source_field", "destination_field"]
    inlines = [ValueMapInline]
    actions = ["confirm_selected"]

    @admin.action(description="Confirm selected field maps", permissions=["change"])
    def confirm_selected(self, request: HttpRequest, queryset: QuerySet[FieldMap]) -> None:
        try:
            done = mapping_confirm(user=request.user, field_maps=queryset)
        except MappingError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        self.message_user(request, f"{len(done.field_maps)} field maps confirmed.", messages.SUCCESS)


@admin.register(ValueMap)
class ValueMapAdmin(ImportExportModelAdmin):
    resource_classes = [ValueMapResource]
    list_display = ["source_value", "destination_value", "field_map", "origin", "confidence"]
    list_editable = ["destination_value"]
    list_select_related = ["field_map__object_mapping"]
    search_fields = ["source_value", "destination_value"]
