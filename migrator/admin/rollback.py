"""The "Roll back…" action of MigrationAdmin: a confirmation page with the preview per module and a choice of
scope (the whole migration, one run, one source object), then rollback_start. The page holds no logic of its own."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from connectors.base import ConnectorError
from migrator.models import Migration, RecordLink, Run
from migrator.services.rollback import LOAD_KINDS, RollbackRefused, rollback_preview, rollback_start


class RollbackForm(forms.Form):
    run = forms.ChoiceField(required=False, label="Only what this run created")
    source_object = forms.ChoiceField(required=False, label="Only this source object")

    def __init__(self, *args: Any, migration: Migration, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        runs = Run.objects.filter(migration=migration, kind__in=LOAD_KINDS).order_by("-id")
        self.fields["run"].choices = [("", "every run"), *((str(r.pk), str(r)) for r in runs)]
        objects = (RecordLink.objects.filter(migration=migration).values_list("source_object", flat=True)
                   .distinct().order_by("source_object"))
        self.fields["source_object"].choices = [("", "every object"), *((o, o) for o in objects)]


def roll_back(modeladmin: admin.ModelAdmin[Migration], request: HttpRequest,
              queryset: QuerySet[Migration]) -> TemplateResponse | None:
    if queryset.count() != 1:
        modeladmin.message_user(request, "Roll back one migration at a time.", messages.WARNING)
        return None
    migration = queryset.get()
    form = RollbackForm(request.POST if "scope" in request.POST else None, migration=migration)
    run, source_object = None, None
    if form.is_bound and form.is_valid():
        run = Run.objects.filter(pk=form.cleaned_data["run"] or None, migration=migration).first()
        source_object = form.cleaned_data["source_object"] or None
    if "confirm" in request.POST and form.is_bound and form.is_valid():
        try:
            started = rollback_start(migration=migration, run=run, source_object=source_object, user=request.user)
        except RollbackRefused as exc:
            modeladmin.message_user(request, str(exc), messages.ERROR)
            return None
        modeladmin.message_user(request, f"Rollback run {started.pk} of {migration} started: "
                                         f"{started.work_units.count()} work unit(s).", messages.SUCCESS)
        return None
    preview, problem = None, ""
    try:
        preview = rollback_preview(migration=migration, run=run, source_object=source_object)
    except ConnectorError as exc:
        problem = f"The destination could not be read for the preview ({exc.code or 'error'})."
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": f"Roll back {migration}",
        "migration": migration,
        "queryset": queryset,
        "form": form,
        "preview": preview,
        "problem": problem,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "opts": modeladmin.model._meta,
    }
    return TemplateResponse(request, "admin/migrator/rollback_confirm.html", context)
