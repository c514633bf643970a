"""Delta conflicts: the list, a detail page with source and CRM values side by side, and the three resolutions
(keep source, keep destination, pick per field). Every button calls services/conflicts.py; nothing is decided here.
Values of patients are shown here and only here (the admin is staff-only)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from migrator.models import Conflict
from migrator.services.conflicts import ConflictRefused, conflict_fields, conflict_resolve, conflicts_resolve

Status = Conflict.Status
SOURCE, DESTINATION = "source", "destination"


class PerFieldForm(forms.Form):
    """One choice per differing field: the source's value or the CRM's."""

    def __init__(self, *args: Any, conflict: Conflict, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for row in conflict_fields(conflict=conflict):
            self.fields[f"field__{row.name}"] = forms.ChoiceField(
                label=row.name, choices=[(SOURCE, "source"), (DESTINATION, "CRM")], initial=DESTINATION,
                widget=forms.RadioSelect)

    def source_fields(self) -> list[str]:
        return [name.removeprefix("field__") for name, value in self.cleaned_data.items() if value == SOURCE]


@admin.register(Conflict)
class ConflictAdmin(admin.ModelAdmin):
    list_display = ["__str__", "migration", "status", "differing", "destination_modified_at", "created_at",
                    "resolved_by", "resolved_at", "review"]
    list_filter = ["status", "migration"]
    list_select_related = ["record_link", "migration__client", "resolved_by"]
    search_fields = ["=record_link__source_id", "=record_link__destination_id"]
    readonly_fields = ["migration", "run", "record_link", "status", "fields", "source_payload", "source_hash",
                       "destination_modified_at", "resolution", "resolved_by", "resolved_at", "created_at"]
    actions = ["keep_source", "keep_destination"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # deltas open conflicts

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a conflict is resolved, never dropped

    @admin.display(description="fields that differ")
    def differing(self, obj: Conflict) -> str:
        return ", ".join(sorted(obj.fields or {})) or "—"

    @admin.display(description="")
    def review(self, obj: Conflict) -> str:
        label = "Resolve…" if obj.status == Status.OPEN else "View"
        return format_html('<a href="{}">{}</a>', reverse("admin:migrator_conflict_resolve", args=[obj.pk]), label)

    # ------------------------------------------------------------------ bulk actions

    def _resolve_all(self, request: HttpRequest, queryset: QuerySet[Conflict], choice: str) -> None:
        done, problems = conflicts_resolve(conflicts=list(queryset.filter(status=Status.OPEN)), choice=choice,
                                           user=request.user)
        for problem in problems:
            self.message_user(request, problem, messages.ERROR)
        self.message_user(request, f"{done} conflict(s) resolved: {Status(choice).label.lower()}.",
                          messages.SUCCESS if done else messages.WARNING)

    @admin.action(description="Keep the source: write our values over the CRM's", permissions=["change"])
    def keep_source(self, request: HttpRequest, queryset: QuerySet[Conflict]) -> None:
        self._resolve_all(request, queryset, Status.KEEP_SOURCE)

    @admin.action(description="Keep the CRM's values (write nothing)", permissions=["change"])
    def keep_destination(self, request: HttpRequest, queryset: QuerySet[Conflict]) -> None:
        self._resolve_all(request, queryset, Status.KEEP_DESTINATION)

    # ------------------------------------------------------------------ the detail page

    def get_urls(self) -> list[URLPattern]:
        custom = [path("<int:conflict_id>/resolve/", self.admin_site.admin_view(self.resolve_view),
                       name="migrator_conflict_resolve")]
        return custom + super().get_urls()

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict[str, Any] | None = None) -> HttpResponse:
        if object_id.isdigit():
            return HttpResponseRedirect(reverse("admin:migrator_conflict_resolve", args=[int(object_id)]))
        return super().change_view(request, object_id, form_url, extra_context)

    def resolve_view(self, request: HttpRequest, conflict_id: int) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        conflict = get_object_or_404(
            Conflict.objects.select_related("record_link", "migration__client", "run", "resolved_by"), pk=conflict_id)
        form = PerFieldForm(request.POST if "per_field" in request.POST else None, conflict=conflict)
        if request.method == "POST":
            if not self.has_change_permission(request, conflict):
                raise PermissionDenied
            choice, fields = "", []
            if "keep_source" in request.POST:
                choice = Status.KEEP_SOURCE
            elif "keep_destination" in request.POST:
                choice = Status.KEEP_DESTINATION
            elif "per_field" in request.POST and form.is_valid():
                choice, fields = Status.PER_FIELD, form.source_fields()
            if choice:
                try:
                    conflict_resolve(conflict=conflict, choice=choice, user=request.user, source_fields=fields)
                except ConflictRefused as exc:
                    self.message_user(request, str(exc), messages.ERROR)
                else:
                    self.message_user(request, f"{conflict}: {Status(choice).label.lower()}.", messages.SUCCESS)
                    return HttpResponseRedirect(reverse("admin:migrator_conflict_changelist"))
        rows = [(row, form[f"field__{row.name}"]) for row in conflict_fields(conflict=conflict)]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Conflict on {conflict.record_link}",
            "conflict": conflict,
            "rows": rows,
            "form": form,
            "is_open": conflict.status == Status.OPEN,
            "can_change": self.has_change_permission(request, conflict),
        }
        return TemplateResponse(request, "admin/migrator/conflict_resolve.html", context)
