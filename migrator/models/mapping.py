"""The map: object mappings, field maps and value maps, each proposed (catalog or suggester) then confirmed."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from migrator.models.catalog import Cardinality, MappingStrategy, PairObjectMapping
from migrator.models.clients import Migration


class Origin(models.TextChoices):
    CATALOG = "catalog", "Catalog default"
    SUGGESTED = "suggested", "Suggested"
    MANUAL = "manual", "Manual"


class ReviewStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    CONFIRMED = "confirmed", "Confirmed"
    REJECTED = "rejected", "Rejected"


class Reviewed(models.Model):
    origin = models.CharField(max_length=20, choices=Origin.choices, default=Origin.MANUAL)
    status = models.CharField(max_length=20, choices=ReviewStatus.choices, default=ReviewStatus.PROPOSED,
                              db_index=True)
    confidence = models.FloatField(default=1.0)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


class ObjectMapping(Reviewed):
    migration = models.ForeignKey(Migration, on_delete=models.CASCADE, related_name="object_mappings")
    catalog_row = models.ForeignKey(
        PairObjectMapping, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source_label = models.CharField(max_length=200, blank=True)
    source_objects = models.JSONField(default=list)
    strategy = models.CharField(max_length=30, choices=MappingStrategy.choices)
    destination_module = models.CharField(max_length=100, blank=True)
    cardinality = models.CharField(max_length=10, choices=Cardinality.choices, default=Cardinality.ONE_TO_ONE)
    parent_source_object = models.CharField(max_length=100, blank=True)
    route = models.JSONField(null=True, blank=True)
    load_order = models.PositiveSmallIntegerField(default=0, help_text="Computed from lookups; parents first.")
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["migration", "load_order", "id"]
        indexes = [models.Index(fields=["migration", "status"])]

    def __str__(self) -> str:
        objects = "+".join(self.source_objects) or self.source_label
        return f"{objects} → {self.destination_module or self.get_strategy_display()}"

    @property
    def source_object(self) -> str:
        return self.source_objects[0] if self.source_objects else ""


class FieldMap(Reviewed):
    object_mapping = models.ForeignKey(ObjectMapping, on_delete=models.CASCADE, related_name="field_maps")
    source_field = models.CharField(max_length=200, blank=True, help_text="Empty for constants and templates.")
    destination_field = models.CharField(max_length=200, blank=True)
    transform = models.JSONField(default=dict, blank=True, help_text="A transform spec, validated when saved.")
    create_field = models.BooleanField(default=False, help_text="The destination field must be created first.")
    create_spec = models.JSONField(null=True, blank=True)
    alternatives = models.JSONField(default=list, blank=True)
    type_mismatch = models.BooleanField(default=False)

    class Meta:
        ordering = ["object_mapping", "destination_field", "source_field"]
        constraints = [
            models.UniqueConstraint(
                fields=["object_mapping", "source_field", "destination_field"], name="uniq_field_map"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source_field or '∅'} → {self.destination_field or '∅'}"


class ValueMap(models.Model):
    field_map = models.ForeignKey(FieldMap, on_delete=models.CASCADE, related_name="value_maps")
    source_value = models.CharField(max_length=200)
    destination_value = models.CharField(max_length=200)
    origin = models.CharField(max_length=20, choices=Origin.choices, default=Origin.MANUAL)
    confidence = models.FloatField(default=1.0)

    class Meta:
        ordering = ["field_map", "source_value"]
        constraints = [models.UniqueConstraint(fields=["field_map", "source_value"], name="uniq_value_map")]

    def __str__(self) -> str:
        return f"{self.source_value} → {self.destination_value}"
