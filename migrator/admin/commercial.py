from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from pydantic import ValidationError as PydanticValidationError

from migrator.models import Client, Migration, PlatformPair, PricingRule, Quote, ReconciliationReport, SchemaPlanItem
from migrator.services.quote_documents import quote_pdf
from migrator.services.quotes import (
    ADDON_KEYS,
    QuoteError,
    QuoteInputs,
    pricing_rules_check,
    quote_create,
    quote_inputs_from_migration,
    quote_result,
)
from migrator.services.reconcile import ReconcileRefused, reconciliation_sign_off  # (also registers its gate)


class PricingRuleForm(forms.ModelForm):
    class Meta:
        model = PricingRule
        fields = ["name", "kind", "key", "min_records", "max_records", "price", "unit", "active", "position"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind, key = data.get("kind"), data.get("key")
        if kind == PricingRule.Kind.ADDON and key and key not in ADDON_KEYS:
            raise ValidationError(f"Add-on key must be one of: {', '.join(ADDON_KEYS)}")
        if kind == PricingRule.Kind.BAND and data.get("min_records") is None:
            raise ValidationError("A volume band needs its lower bound (min records).")
        low, high = data.get("min_records"), data.get("max_records")
        if low is not None and high is not None and high <= low:
            raise ValidationError("Max records (exclusive) must be above min records.")
        return data


@admin.register(PricingRule)
class PricingRuleAdmin(admin.ModelAdmin):
    form = PricingRuleForm
    list_display = ["name", "kind", "key", "min_records", "max_records", "price", "unit", "active", "position"]
    list_filter = ["kind", "active"]
    list_editable = ["price", "active"]

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        # Bands with a gap or an overlap make some quotes fail: say so where the prices are edited.
        for problem in pricing_rules_check(PricingRule.objects.all()):
            messages.warning(request, problem)
        return super().changelist_view(request, extra_context)


class QuoteEstimateForm(forms.Form):
    pair = forms.ModelChoiceField(queryset=PlatformPair.objects.select_related("source", "destination"))
    migration = forms.ModelChoiceField(
        queryset=Migration.objects.select_related("client"), required=False,
        help_text="Optional: take record counts from this migration's discovery (and its client).",
    )
    client = forms.ModelChoiceField(queryset=Client.objects.all(), required=False)
    edition = forms.SlugField(help_text="Destination edition or plan slug, e.g. professional, enterprise, pro.")
    users = forms.IntegerField(min_value=1, initial=1)
    counts = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6, "cols": 60}), required=False,
        help_text='Record counts per source object as JSON, e.g. {"patient": 12000, "appointment": 40000}.',
    )
    attachments_gb = forms.DecimalField(min_value=0, initial=0, label="Attachments (GB)")
    custom_objects = forms.IntegerField(min_value=0, initial=0)
    delta_windows = forms.IntegerField(min_value=0, initial=0, help_text="Delta windows beyond the included one.")

    def clean_counts(self) -> dict[str, Any]:
        raw = self.cleaned_data["counts"].strip()
        if not raw:
            return {}
        try:
            counts = json.loads(raw)
        except ValueError as exc:
            raise ValidationError(f"Not valid JSON: {exc}") from exc
        if not isinstance(counts, dict):
            raise ValidationError("Give an object of source object → record count.")
        return counts


@admin.register(Quote)
class QuoteAdmin(admin.ModelAdmin):
    list_display = ["__str__", "client", "pair", "edition", "users", "total", "scoped_individually", "created_at",
                    "sheet_link"]
    list_filter = ["pair", "scoped_individually"]
    list_select_related = ["client", "pair__source", "pair__destination"]
    readonly_fields = ["result", "total", "scoped_individually", "created_by", "created_at"]

    def get_urls(self) -> list[URLPattern]:
        custom = [
            path("estimate/", self.admin_site.admin_view(self.estimate_view), name="migrator_quote_estimate"),
            path("<int:quote_id>/sheet/", self.admin_site.admin_view(self.sheet_view), name="migrator_quote_sheet"),
            path("<int:quote_id>/pdf/", self.admin_site.admin_view(self.pdf_view), name="migrator_quote_pdf"),
        ]
        return custom + super().get_urls()

    @admin.display(description="Quote")
    def sheet_link(self, obj: Quote) -> str:
        return format_html('<a href="{}">View</a> · <a href="{}">PDF</a>',
                           reverse("admin:migrator_quote_sheet", args=[obj.pk]),
                           reverse("admin:migrator_quote_pdf", args=[obj.pk]))

    def estimate_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = QuoteEstimateForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            values = {k: data[k] for k in ("edition", "users", "attachments_gb", "custom_objects", "delta_windows")}
            try:
                if data["migration"] is not None and not data["counts"]:
                    inputs = quote_inputs_from_migration(migration=data["migration"], **values)
                else:
                    inputs = QuoteInputs.model_validate({**values, "counts": data["counts"]})
                quote = quote_create(pair=data["pair"], inputs=inputs, migration=data["migration"],
                                     client=data["client"], user=request.user)
            except (QuoteError, PydanticValidationError) as exc:
                form.add_error(None, str(exc))
            else:
                self.message_user(request, f"Quote #{quote.pk} saved.", messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:migrator_quote_sheet", args=[quote.pk]))
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "form": form,
                   "title": "New quote"}
        return TemplateResponse(request, "admin/migrator/quote_estimate.html", context)

    def _quote(self, request: HttpRequest, quote_id: int) -> Quote:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return get_object_or_404(Quote.objects.select_related("pair__source", "pair__destination", "client"),
                                 pk=quote_id)

    def sheet_view(self, request: HttpRequest, quote_id: int) -> HttpResponse:
        quote = self._quote(request, quote_id)
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "quote": quote,
                   "result": quote_result(quote), "title": str(quote)}
        return TemplateResponse(request, "admin/migrator/quote_sheet.html", context)

    def pdf_view(self, request: HttpRequest, quote_id: int) -> HttpResponse:
        quote = self._quote(request, quote_id)
        response = HttpResponse(quote_pdf(quote_result(quote), title=f"Quote #{quote.pk}"),
                                content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="quote-{quote.pk}.pdf"'
        return response


@admin.register(SchemaPlanItem)
class SchemaPlanItemAdmin(admin.ModelAdmin):
    list_display = ["label", "api_name", "module", "type", "length", "status", "created_api_name", "migration"]
    list_filter = ["status", "module", "migration"]
    list_select_related = ["migration"]
    search_fields = ["label", "api_name"]


@admin.register(ReconciliationReport)
class ReconciliationReportAdmin(admin.ModelAdmin):
    list_display = ["__str__", "migration", "verdict", "created_at", "signed_off_by", "signed_off_at", "files"]
    list_filter = ["verdict"]
    list_select_related = ["migration", "signed_off_by"]
    readonly_fields = ["migration", "run", "verdict", "reasons", "data", "signed_off_by", "signed_off_at"]
    actions = ["sign_off"]

    def get_urls(self) -> list[URLPattern]:
        custom = [path("<int:report_id>/file/<str:fmt>/", self.admin_site.admin_view(self.file_view),
                       name="migrator_reconciliationreport_file")]
        return custom + super().get_urls()

    @admin.display(description="Files")
    def files(self, obj: ReconciliationReport) -> str:
        from migrator.services.reconcile_report import FORMATS

        return format_html_join(" · ", '<a href="{}">{}</a>', (
            (reverse("admin:migrator_reconciliationreport_file", args=[obj.pk, fmt]), fmt.upper())
            for fmt in FORMATS))

    def file_view(self, request: HttpRequest, report_id: int, fmt: str) -> HttpResponse:
        from migrator.services.reconcile_report import FORMATS, render

        if not self.has_view_permission(request) or fmt not in FORMATS:
            raise PermissionDenied
        report = get_object_or_404(ReconciliationReport.objects.select_related("migration__client",
                                                                               "migration__pair"), pk=report_id)
        types = {"json": "application/json", "csv": "text/csv; charset=utf-8", "pdf": "application/pdf",
                 "html": "text/html; charset=utf-8",
                 "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
        response = HttpResponse(render(report, fmt), content_type=types[fmt])
        disposition = "inline" if fmt == "html" else "attachment"
        response["Content-Disposition"] = f'{disposition}; filename="reconciliation-{report.pk}.{fmt}"'
        return response

    @admin.action(description="Sign off (passing, latest report; moves the migration to reconciled)")
    def sign_off(self, request: HttpRequest, queryset: Any) -> None:
        signed = 0
        for report in queryset.select_related("migration"):
            try:
                reconciliation_sign_off(report=report, user=request.user)
                signed += 1
            except ReconcileRefused as exc:
                self.message_user(request, f"{report}: {exc}", messages.ERROR)
        if signed:
            self.message_user(request, f"{signed} report(s) signed off.", messages.SUCCESS)
