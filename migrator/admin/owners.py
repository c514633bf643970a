"""Owners in the back office: destination users, source owners and the matches staff confirm.

Actions and forms call migrator.services.owners; nothing here decides anything on its own."""

from __future__ import annotations

import re
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.db.models.fields.related import ForeignKey
from django.forms import ModelChoiceField
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from import_export import fields, resources
from import_export.admin import ImportExportMixin

from migrator.models import DestinationUser, Migration, OwnerMatch, SourceOwner
from migrator.services.owners import (
    OwnerError,
    owner_match_assign,
    owner_match_assign_fallback,
    owner_match_confirm,
)
from migrator.services.reports_owners import unmatched_report_csv, unmatched_report_pdf

_MATCH_CHANGE_URL = re.compile(r"/ownermatch/(\d+)/change/")


@admin.register(DestinationUser)
class DestinationUserAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "active", "connection", "dest_id"]
    list_filter = ["active", "connection"]
    list_select_related = ["connection"]
    search_fields = ["name", "email"]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[DestinationUser], search_term: str
    ) -> tuple[QuerySet[DestinationUser], bool]:
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        # The autocomplete of an owner match offers only the users of that migration's destination. The
        # autocomplete request names the field, not the match, so the match comes from the page that asked.
        if request.GET.get("model_name") == "ownermatch" and request.GET.get("field_name") == "destination_user":
            found = _MATCH_CHANGE_URL.search(request.headers.get("referer", ""))
            if found is None:
                return queryset.none(), may_have_duplicates
            match = OwnerMatch.objects.select_related("migration").filter(pk=int(found.group(1))).first()
            if match is None:
                return queryset.none(), may_have_duplicates
            queryset = queryset.filter(connection_id=match.migration.destination_connection_id)
        return queryset, may_have_duplicates


@admin.register(SourceOwner)
class SourceOwnerAdmin(admin.ModelAdmin):
    list_display = ["name", "source_id", "email", "role", "active", "migration", "records"]
    list_filter = ["role", "active", "migration"]
    list_select_related = ["migration"]
    search_fields = ["name", "email", "source_id"]

    @admin.display(description="records owned")
    def records(self, obj: SourceOwner) -> str:
        return _counts(obj.record_counts)


def _counts(record_counts: dict[str, Any]) -> str:
    return ", ".join(f"{name}: {count}" for name, count in sorted(record_counts.items())) or "—"


class OwnerMatchResource(resources.ModelResource):
    """Export the matches; import a reviewed sheet back. Import only assigns users to existing matches (by
    migration and source owner id) through the same service as the admin form; it never creates owners."""

    migration = fields.Field(attribute="migration_id", column_name="migration", readonly=True)
    source_owner_id = fields.Field(attribute="source_owner__source_id", column_name="source_owner_id", readonly=True)
    source_owner_name = fields.Field(attribute="source_owner__name", column_name="source_owner_name", readonly=True)
    source_owner_email = fields.Field(attribute="source_owner__email", column_name="source_owner_email",
                                      readonly=True)
    destination_user_email = fields.Field(attribute="destination_user__email", column_name="destination_user_email",
                                          readonly=True)
    method = fields.Field(attribute="method", column_name="method", readonly=True)
    status = fields.Field(attribute="status", column_name="status", readonly=True)
    record_count = fields.Field(attribute="record_count", column_name="record_count", readonly=True)

    class Meta:
        model = OwnerMatch
        fields = ("migration", "source_owner_id", "source_owner_name", "source_owner_email",
                  "destination_user_email", "method", "status", "record_count")
        import_id_fields = ("migration", "source_owner_id")
        use_transactions = True
        skip_diff = True

    def get_queryset(self) -> QuerySet[OwnerMatch]:
        return OwnerMatch.objects.select_related("source_owner", "destination_user")

    def get_instance(self, instance_loader: Any, row: Any) -> OwnerMatch | None:
        try:
            migration_id = int(row.get("migration") or 0)
        except ValueError:
            raise ValueError(f"migration must be a number, got {row.get('migration')!r}") from None
        source_id = str(row.get("source_owner_id") or "").strip()
        return (OwnerMatch.objects.select_related("migration", "destination_user")
                .filter(migration_id=migration_id, source_owner__source_id=source_id).first())

    def init_instance(self, row: Any = None) -> OwnerMatch:
        raise ValueError(f"no owner match for migration {row.get('migration')} and source owner "
                         f"{row.get('source_owner_id')!r}: import only updates extracted owners")

    def import_instance(self, instance: OwnerMatch, row: Any, **kwargs: Any) -> None:
        email = str(row.get("destination_user_email") or "").strip()
        instance._import_user = None  # type: ignore[attr-defined]
        if not email:
            return
        user = (DestinationUser.objects.filter(connection_id=instance.migration.destination_connection_id,
                                               email__iexact=email).order_by("-active", "pk").first())
        if user is None:
            raise ValueError(f"source owner {instance.source_owner.source_id}: no user with that email in the "
                             "migration's destination")
        instance._import_user = user  # type: ignore[attr-defined]

    def skip_row(self, instance: OwnerMatch, original: Any, row: Any, import_validation_errors: Any = None) -> bool:
        if import_validation_errors:
            return False
        chosen = getattr(instance, "_import_user", None)
        return chosen is None or (chosen.pk == instance.destination_user_id
                                  and instance.status == OwnerMatch.Status.CONFIRMED)

    def save_instance(self, instance: OwnerMatch, is_create: bool, row: Any, **kwargs: Any) -> None:
        try:
            owner_match_assign(match=instance, destination_user=instance._import_user,  # type: ignore[attr-defined]
                               user=kwargs.get("user"))
        except OwnerError as exc:
            raise ValueError(str(exc)) from exc


@admin.register(OwnerMatch)
class OwnerMatchAdmin(ImportExportMixin, admin.ModelAdmin):
    resource_classes = [OwnerMatchResource]
    list_display = ["source_owner", "source_id", "records", "destination_user", "method", "status", "flags",
                    "score", "confirmed_by", "confirmed_at", "migration"]
    list_filter = ["status", "method", "migration"]
    list_select_related = ["source_owner", "destination_user", "confirmed_by", "migration__client"]
    search_fields = ["source_owner__name", "source_owner__email", "source_owner__source_id",
                     "destination_user__email"]
    autocomplete_fields = ["destination_user"]
    fields = ["migration", "source_owner", "records", "destination_user", "method", "status", "score", "flags",
              "confirmed_by", "confirmed_at", "reports"]
    readonly_fields = ["migration", "source_owner", "records", "method", "status", "score", "flags",
                       "confirmed_by", "confirmed_at", "reports"]
    actions = ["confirm_selected", "assign_fallback"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # matches come from extraction, never by hand

    @admin.display(description="source id", ordering="source_owner__source_id")
    def source_id(self, obj: OwnerMatch) -> str:
        return obj.source_owner.source_id

    @admin.display(description="records owned", ordering="record_count")
    def records(self, obj: OwnerMatch) -> str:
        return f"{obj.record_count} ({_counts(obj.source_owner.record_counts)})"

    @admin.display(description="unmatched report")
    def reports(self, obj: OwnerMatch) -> str:
        if not obj.pk:
            return "—"
        return format_html(
            '<a href="{}">CSV</a> · <a href="{}">PDF</a>',
            reverse("admin:migrator_ownermatch_unmatched", args=[obj.migration_id, "csv"]),
            reverse("admin:migrator_ownermatch_unmatched", args=[obj.migration_id, "pdf"]),
        )

    def formfield_for_foreignkey(self, db_field: ForeignKey[Any, Any], request: HttpRequest,
                                 **kwargs: Any) -> ModelChoiceField[Any] | None:
        if db_field.name == "destination_user":
            # A choice outside the migration's destination fails validation, whatever the browser sends.
            match = self._match_from(request)
            queryset = DestinationUser.objects.all()
            kwargs["queryset"] = (queryset.filter(connection_id=match.migration.destination_connection_id)
                                  if match else queryset.none())
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _match_from(self, request: HttpRequest) -> OwnerMatch | None:
        resolved = request.resolver_match
        object_id = resolved.kwargs.get("object_id") if resolved else None
        if not object_id:
            return None
        return OwnerMatch.objects.select_related("migration").filter(pk=object_id).first()

    def save_model(self, request: HttpRequest, obj: OwnerMatch, form: Any, change: bool) -> None:
        if "destination_user" not in form.changed_data or obj.destination_user is None:
            return
        try:
            owner_match_assign(match=obj, destination_user=obj.destination_user, user=request.user)
        except OwnerError as exc:
            self.message_user(request, str(exc), messages.ERROR)

    @admin.action(description="Confirm selected matches")
    def confirm_selected(self, request: HttpRequest, queryset: QuerySet[OwnerMatch]) -> None:
        try:
            count = owner_match_confirm(matches=list(queryset), user=request.user)
        except OwnerError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        self.message_user(request, f"{count} match(es) confirmed.", messages.SUCCESS)

    @admin.action(description="Assign the fallback owner to selected owners")
    def assign_fallback(self, request: HttpRequest, queryset: QuerySet[OwnerMatch]) -> None:
        try:
            count = owner_match_assign_fallback(matches=list(queryset), user=request.user)
        except OwnerError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        self.message_user(request, f"{count} owner(s) given to the fallback owner.", messages.SUCCESS)

    def get_urls(self) -> list[URLPattern]:
        return [
            path("unmatched/<int:migration_id>.<str:fmt>", self.admin_site.admin_view(self.unmatched_view),
                 name="migrator_ownermatch_unmatched"),
            *super().get_urls(),
        ]

    def unmatched_view(self, request: HttpRequest, migration_id: int, fmt: str) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        migration = get_object_or_404(Migration.objects.select_related("client", "fallback_owner"), pk=migration_id)
        name = f"unmatched-owners-migration-{migration.pk}"
        if fmt == "csv":
            response = HttpResponse(unmatched_report_csv(migration=migration), content_type="text/csv")
        elif fmt == "pdf":
            response = HttpResponse(unmatched_report_pdf(migration=migration), content_type="application/pdf")
        else:
            raise Http404("unknown report format")
        response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
        return response
