"""The delta window page: per loaded migration, its window (start, end, every N minutes), the next delta, the last
one and the open conflicts; actions to set or cancel the window, run a delta now and cut over. Every action calls
services/delta_window.py or services/runs.py."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from migrator.models import Conflict, DeltaWindow, Migration, Run
from migrator.services.delta_window import (
    MIN_EVERY_MINUTES,
    NEEDS_WORKERS,
    WindowRefused,
    delta_cutover,
    delta_window_cancel,
    delta_window_set,
    delta_window_status,
    window_available,
)
from migrator.services.lifecycle import TransitionRefused
from migrator.services.runs import RunRefused, run_start

WINDOW_STATES = (Migration.State.LOADING, Migration.State.LOADED, Migration.State.DELTA, Migration.State.RECONCILED)


class WindowForm(forms.Form):
    start = forms.DateTimeField(help_text="UTC, e.g. 2026-03-02 18:00. The first delta runs then.")
    end = forms.DateTimeField(help_text="UTC. No window delta starts after this; the cutover comes next.")
    every_minutes = forms.IntegerField(min_value=MIN_EVERY_MINUTES, initial=60, label="Every (minutes)")


@admin.register(DeltaWindow)
class DeltaWindowAdmin(admin.ModelAdmin):
    list_display = ["name", "client", "state", "window", "next_delta", "last_delta", "open_conflicts"]
    list_filter = ["state"]
    list_select_related = ["client"]
    search_fields = ["name", "client__name"]
    fields = ["name", "client", "state", "window", "next_delta", "last_delta", "open_conflicts", "cutover"]
    readonly_fields = fields
    actions = ["set_window", "cancel_window", "run_delta_now", "cut_over"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[DeltaWindow]:
        return (super().get_queryset(request)
                .filter(Q(state__in=WINDOW_STATES) | ~Q(delta_job_id="") | Q(delta_cutover_at__isnull=False))
                .annotate(open_conflict_count=Count("conflicts", filter=Q(conflicts__status=Conflict.Status.OPEN))))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        if not window_available() and request.method == "GET":
            self.message_user(request, NEEDS_WORKERS, messages.WARNING)
        return super().changelist_view(request, extra_context)

    # ------------------------------------------------------------------ columns

    @admin.display(description="window")
    def window(self, obj: Migration) -> str:
        if obj.delta_cutover_at is not None:
            return "over (cut over)"
        if not obj.delta_job_id or obj.delta_window_start is None or obj.delta_window_end is None:
            return "not set"
        return (f"{obj.delta_window_start:%Y-%m-%d %H:%M} → {obj.delta_window_end:%Y-%m-%d %H:%M} UTC, "
                f"every {obj.delta_interval_minutes} min")

    @admin.display(description="next delta")
    def next_delta(self, obj: Migration) -> str:
        status = delta_window_status(migration=obj)
        if status.next_at is None:
            return "—"
        note = {True: "", False: " (not in the scheduler: set the window again)", None: ""}[status.scheduled]
        return f"{status.next_at:%Y-%m-%d %H:%M} UTC{note}"

    @admin.display(description="last delta")
    def last_delta(self, obj: Migration) -> str:
        run = Run.objects.filter(migration=obj, kind=Run.Kind.DELTA).order_by("-created_at", "-id").first()
        if run is None:
            return "—"
        return format_html('<a href="{}">{}</a>: {}', reverse("admin:migrator_run_change", args=[run.pk]), run,
                           run.get_state_display())

    @admin.display(description="open conflicts")
    def open_conflicts(self, obj: Migration) -> str:
        count = getattr(obj, "open_conflict_count", None)
        if count is None:
            count = obj.conflicts.filter(status=Conflict.Status.OPEN).count()
        if not count:
            return "0"
        url = reverse("admin:migrator_conflict_changelist")
        return format_html('<a href="{}?migration__id__exact={}&status__exact=open">{}</a>', url, obj.pk, count)

    @admin.display(description="cutover")
    def cutover(self, obj: Migration) -> str:
        return f"{obj.delta_cutover_at:%Y-%m-%d %H:%M} UTC" if obj.delta_cutover_at else "not yet"

    # ------------------------------------------------------------------ actions

    @admin.action(description="Set the delta window…", permissions=["change"])
    def set_window(self, request: HttpRequest, queryset: QuerySet[DeltaWindow]) -> TemplateResponse | None:
        if not window_available():
            self.message_user(request, NEEDS_WORKERS, messages.ERROR)
            return None
        if queryset.count() != 1:
            self.message_user(request, "Set the window of one migration at a time.", messages.WARNING)
            return None
        migration = queryset.get()
        now = timezone.now().replace(second=0, microsecond=0)
        form = WindowForm(request.POST if "apply" in request.POST else None,
                          initial={"start": migration.delta_window_start or now,
                                   "end": migration.delta_window_end or now + timedelta(days=1),
                                   "every_minutes": migration.delta_interval_minutes})
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            try:
                delta_window_set(migration=migration, start=data["start"], end=data["end"],
                                 every_minutes=data["every_minutes"], user=request.user)
            except WindowRefused as exc:
                form.add_error(None, str(exc))
            else:
                migration.refresh_from_db()
                self.message_user(request, f"{migration}: delta window set; the first delta is due "
                                           f"{migration.delta_next_at:%Y-%m-%d %H:%M} UTC.", messages.SUCCESS)
                return None
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "title": f"Delta window of "
                   f"{migration}", "migration": migration, "form": form, "queryset": queryset,
                   "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME}
        return TemplateResponse(request, "admin/migrator/conflict_delta_window.html", context)

    @admin.action(description="Cancel the delta window", permissions=["change"])
    def cancel_window(self, request: HttpRequest, queryset: QuerySet[DeltaWindow]) -> None:
        cancelled = sum(delta_window_cancel(migration=m, user=request.user) for m in queryset)
        self.message_user(request, f"{cancelled} delta window(s) cancelled.", messages.SUCCESS)

    @admin.action(description="Run a delta now", permissions=["change"])
    def run_delta_now(self, request: HttpRequest, queryset: QuerySet[DeltaWindow]) -> None:
        started = 0
        for migration in queryset:
            try:
                run_start(migration=migration, kind=Run.Kind.DELTA, user=request.user)
                started += 1
            except (RunRefused, TransitionRefused) as exc:
                self.message_user(request, f"{migration}: {exc}", messages.ERROR)
        verb = "started" if window_available() else "run (in this process)"
        self.message_user(request, f"{started} delta run(s) {verb}.", messages.SUCCESS if started else messages.WARNING)

    @admin.action(description="Cut over: the final delta, and the window ends", permissions=["change"])
    def cut_over(self, request: HttpRequest, queryset: QuerySet[DeltaWindow]) -> None:
        for migration in queryset:
            try:
                run = delta_cutover(migration=migration, user=request.user)
            except (RunRefused, TransitionRefused) as exc:
                self.message_user(request, f"{migration}: {exc}", messages.ERROR)
            else:
                self.message_user(request, f"{migration}: final delta {run} started; the window is over.",
                                  messages.SUCCESS)
