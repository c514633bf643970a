from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html_join

from migrator.admin.rollback import roll_back as roll_back_page  # also registers the rolled_back gate
from migrator.models import (
    Client,
    Connection,
    Migration,
    MigrationEvent,
    ObjectMapping,
    OwnerMatch,
    PortalMembership,
    Run,
)
from migrator.services.lifecycle import TransitionRefused, migration_offers, migration_transition


class ConnectionForm(forms.ModelForm):
    """Secrets are write-only: the field is always empty when shown; leaving it empty keeps what is stored."""

    new_secrets = forms.CharField(
        label="Secrets",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off"}),
        help_text='JSON object, e.g. {"client_id": "…", "client_secret": "…", "refresh_token": "…"}. '
                  "Stored encrypted and never shown again; leave empty to keep the stored secrets.",
    )

    class Meta:
        model = Connection
        fields = ["client", "platform", "role", "name", "config", "edition", "users", "addon_credits", "reserve"]

    def clean_new_secrets(self) -> dict[str, str] | None:
        raw = self.cleaned_data.get("new_secrets", "").strip()
        if not raw:
            return None
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"Not valid JSON (line {exc.lineno}, column {exc.colno}).") from None
        if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            raise forms.ValidationError("Give a JSON object of string names to string values.")
        return value

    def save(self, commit: bool = True) -> Connection:
        connection: Connection = super().save(commit=False)
        secrets = self.cleaned_data.get("new_secrets")
        if secrets is not None:
            connection.set_secrets(secrets)
        if commit:
            connection.save()
        return connection


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    form = ConnectionForm
    list_display = ["name", "client", "platform", "role", "edition", "users", "has_secrets"]
    list_filter = ["role", "platform"]
    list_select_related = ["client", "platform"]
    search_fields = ["name", "client__name"]
    readonly_fields = ["stored_secret_names"]

    @admin.display(boolean=True, description="secrets set")
    def has_secrets(self, obj: Connection) -> bool:
        return bool(obj.secrets_encrypted)

    @admin.display(description="stored secrets")
    def stored_secret_names(self, obj: Connection) -> str:
        names = obj.secret_names if obj.pk else []
        return ", ".join(names) + " (values are never shown)" if names else "none"


class ConnectionInline(admin.TabularInline):
    model = Connection
    form = ConnectionForm
    extra = 0
    fields = ["name", "platform", "role", "edition", "users"]
    show_change_link = True


class MembershipInline(admin.TabularInline):
    model = PortalMembership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "contact_email", "created_at"]
    search_fields = ["name", "slug", "contact_email"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [ConnectionInline, MembershipInline]


@admin.register(PortalMembership)
class PortalMembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "client", "created_at"]
    list_select_related = ["user", "client"]
    autocomplete_fields = ["user"]
    search_fields = ["user__username", "client__name"]


class ObjectMappingInline(admin.TabularInline):
    model = ObjectMapping
    extra = 0
    fields = ["load_order", "source_label", "strategy", "destination_module", "cardinality", "status", "origin",
              "confidence"]
    readonly_fields = ["source_label", "origin", "confidence"]
    show_change_link = True


class OwnerMatchInline(admin.TabularInline):
    model = OwnerMatch
    extra = 0
    fields = ["source_owner", "destination_user", "method", "status", "record_count", "confirmed_by"]
    readonly_fields = ["source_owner", "method", "record_count", "confirmed_by"]
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class RunInline(admin.TabularInline):
    model = Run
    extra = 0
    fields = ["kind", "state", "created_at", "started_at", "finished_at", "credits_used"]
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class EventInline(admin.TabularInline):
    model = MigrationEvent
    extra = 0
    fields = ["at", "from_state", "to_state", "by", "note"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Migration)
class MigrationAdmin(admin.ModelAdmin):
    list_display = ["name", "client", "pair", "state", "updated_at"]
    list_filter = ["state", "pair"]
    list_select_related = ["client", "pair__source", "pair__destination"]
    search_fields = ["name", "client__name"]
    readonly_fields = ["state", "next_steps"]
    autocomplete_fields = ["fallback_owner"]
    inlines = [ObjectMappingInline, OwnerMatchInline, RunInline, EventInline]
    actions = ["advance", "reconcile", "roll_back"]

    @admin.display(description="next steps")
    def next_steps(self, obj: Migration) -> str:
        if not obj.pk:
            return "—"
        offers = migration_offers(migration=obj)
        if not offers:
            return "none available"
        return format_html_join(
            "", "<div><b>{}</b>: {}</div>",
            ((o.label, "ready" if o.allowed else "; ".join(o.problems)) for o in offers),
        )

    @admin.action(description="Move to the next lifecycle step (when its check passes)")
    def advance(self, request: HttpRequest, queryset: QuerySet[Migration]) -> None:
        moved = 0
        for migration in queryset:
            forward = [o for o in migration_offers(migration=migration) if o.to_state != migration.state]
            if not forward:
                self.message_user(request, f"{migration}: no step is available.", messages.WARNING)
                continue
            try:
                migration_transition(migration=migration, to_state=forward[0].to_state, user=request.user)
                moved += 1
            except TransitionRefused as exc:
                self.message_user(request, str(exc), messages.ERROR)
        if moved:
            self.message_user(request, f"{moved} migration(s) moved on.", messages.SUCCESS)


    @admin.action(description="Roll back…", permissions=["change"])
    def roll_back(self, request: HttpRequest, queryset: QuerySet[Migration]) -> Any:
        return roll_back_page(self, request, queryset)

    @admin.action(description="Reconcile (counts, orphans, owners, sampled field diff, verdict)")
    def reconcile(self, request: HttpRequest, queryset: QuerySet[Migration]) -> None:
        from migrator import jobs

        queue = jobs._queue()
        for migration in queryset:
            # After commit (django-rq's default); without Redis the queue runs it here and now.
            queue.enqueue(jobs.reconcile_migration, migration.pk, request.user.pk, job_timeout=3600)
        verb = "queued" if queue.is_async else "done: see Reconciliation reports"
        self.message_user(request, f"Reconciliation of {queryset.count()} migration(s) {verb}.", messages.SUCCESS)


@admin.register(MigrationEvent)
class MigrationEventAdmin(admin.ModelAdmin):
    """The lifecycle history: read-only, written by the state machine."""

    list_display = ["at", "migration", "from_state", "to_state", "by", "note"]
    list_filter = ["to_state"]
    list_select_related = ["migration__client", "by"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
