"""What people read: reconciliation reports, the schema-setup plan, quotes and the pricing rules behind them."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from migrator.models.catalog import PlatformPair
from migrator.models.clients import Client, Migration
from migrator.models.runs import Run


class ReconciliationReport(models.Model):
    class Verdict(models.TextChoices):
        PASS = "pass", "Pass"
        FAIL = "fail", "Fail"

    migration = models.ForeignKey(Migration, on_delete=models.CASCADE, related_name="reconciliation_reports")
    run = models.ForeignKey(Run, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    verdict = models.CharField(max_length=10, choices=Verdict.choices)
    reasons = models.JSONField(default=list, blank=True)
    data = models.JSONField(default=dict, blank=True, help_text="Counts per object, owners, orphans, diffs.")
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    signed_off_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Reconciliation #{self.pk} ({self.verdict})"


class SchemaPlanItem(models.Model):
    """A custom module or field the destination needs before any record moves."""

    class Status(models.TextChoices):
        PLANNED = "planned", "To create"
        CREATED = "created", "Created by us"
        EXISTS = "exists", "Exists"
        MISSING = "missing", "Missing at preflight"

    migration = models.ForeignKey(Migration, on_delete=models.CASCADE, related_name="schema_plan")
    module = models.CharField(max_length=100)
    is_module = models.BooleanField(default=False, help_text="A custom module rather than a field.")
    label = models.CharField(max_length=200)
    api_name = models.CharField(max_length=200)
    type = models.CharField(max_length=30, blank=True)
    length = models.PositiveIntegerField(null=True, blank=True)
    picklist = models.JSONField(default=list, blank=True)
    lookup_module = models.CharField(max_length=100, blank=True)
    unique = models.BooleanField(default=False)
    why = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PLANNED)
    created_api_name = models.CharField(max_length=200, blank=True, help_text="The api_name the CRM gave it.")
    created_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["migration", "-is_module", "module", "label"]
        constraints = [
            models.UniqueConstraint(fields=["migration", "module", "label"], name="uniq_schema_plan_item"),
        ]

    def __str__(self) -> str:
        return f"{self.module}.{self.label}"


class PricingRule(models.Model):
    """Rule-based pricing, editable in the admin: volume bands plus add-ons. No per-record fee."""

    class Kind(models.TextChoices):
        BAND = "band", "Volume band"
        ADDON = "addon", "Add-on"

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    key = models.SlugField(max_length=100, help_text="Add-on key (e.g. attachments_gb, custom_object, delta_window).")
    min_records = models.PositiveBigIntegerField(null=True, blank=True)
    max_records = models.PositiveBigIntegerField(null=True, blank=True, help_text="Exclusive upper bound.")
    price = models.DecimalField(max_digits=12, decimal_places=2)
    unit = models.CharField(max_length=50, blank=True, help_text="For add-ons: per what (GB, object, window).")
    active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["kind", "position", "min_records"]

    def __str__(self) -> str:
        return self.name


class Quote(models.Model):
    client = models.ForeignKey(Client, null=True, blank=True, on_delete=models.SET_NULL, related_name="quotes")
    migration = models.ForeignKey(Migration, null=True, blank=True, on_delete=models.SET_NULL, related_name="quotes")
    pair = models.ForeignKey(PlatformPair, on_delete=models.PROTECT, related_name="quotes")
    edition = models.CharField(max_length=50)
    users = models.PositiveIntegerField(default=1)
    inputs = models.JSONField(default=dict, help_text="Record counts per object, attachments, custom objects, deltas.")
    result = models.JSONField(default=dict, help_text="Price lines, grade, timeline, API forecast.")
    total = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    scoped_individually = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Quote #{self.pk} — {self.pair}"
