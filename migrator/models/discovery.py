"""The source inventory found by discovery: counts, inferred types, fill rates, value *shapes* (never patient
values) and data-quality flags."""

from __future__ import annotations

from django.db import models

from migrator.models.clients import Migration


class DiscoveredObject(models.Model):
    migration = models.ForeignKey(Migration, on_delete=models.CASCADE, related_name="discovered_objects")
    key = models.CharField(max_length=100)
    label = models.CharField(max_length=200, blank=True)
    record_count = models.PositiveIntegerField(default=0)
    id_field = models.CharField(max_length=100, blank=True)
    owner_field = models.CharField(max_length=100, blank=True)
    modified_field = models.CharField(max_length=100, blank=True)
    has_attachments = models.BooleanField(default=False)
    issues = models.PositiveIntegerField(default=0, help_text="Rows that could not be read.")
    quality_flags = models.JSONField(default=dict, blank=True, help_text="Problem name → count.")
    discovered_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["migration", "key"]
        constraints = [models.UniqueConstraint(fields=["migration", "key"], name="uniq_discovered_object")]

    def __str__(self) -> str:
        return f"{self.key} ({self.record_count})"


class DiscoveredField(models.Model):
    discovered_object = models.ForeignKey(DiscoveredObject, on_delete=models.CASCADE, related_name="fields")
    name = models.CharField(max_length=200)
    label = models.CharField(max_length=200, blank=True)
    inferred_type = models.CharField(max_length=30, blank=True)
    references = models.CharField(max_length=100, blank=True)
    custom = models.BooleanField(default=False)
    fill_rate = models.FloatField(default=0.0)
    max_length = models.PositiveIntegerField(default=0)
    shapes = models.JSONField(default=dict, blank=True, help_text="Value shape → share, e.g. '9999-99-99'.")
    coded_values = models.JSONField(
        default=list, blank=True, help_text="Distinct values of low-cardinality coded fields (statuses, types) only."
    )

    class Meta:
        ordering = ["discovered_object", "name"]
        constraints = [models.UniqueConstraint(fields=["discovered_object", "name"], name="uniq_discovered_field")]

    def __str__(self) -> str:
        return f"{self.discovered_object.key}.{self.name}"
