"""Runs and their durable work units, the source→destination crosswalk, sample diffs and delta conflicts."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from migrator.models.clients import Migration
from migrator.models.mapping import ObjectMapping


class Run(models.Model):
    class Kind(models.TextChoices):
        SAMPLE = "sample", "Sample"
        FULL = "full", "Full"
        DELTA = "delta", "Delta"
        ROLLBACK = "rollback", "Rollback"
        RECONCILE = "reconcile", "Reconcile"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        PAUSED = "paused", "Paused"
        WAITING_BUDGET = "waiting_budget", "Waiting for API budget"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    migration = models.ForeignKey(Migration, on_delete=models.CASCADE, related_name="runs")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    state = models.CharField(max_length=20, choices=State.choices, default=State.PENDING, db_index=True)
    target_run = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="For a rollback limited to one run.",
    )
    options = models.JSONField(default=dict, blank=True)
    forecast = models.JSONField(default=dict, blank=True)
    watermark = models.DateTimeField(null=True, blank=True, help_text="Source changes up to here are loaded.")
    resume_at = models.DateTimeField(null=True, blank=True, help_text="When a budget-paused run may go on.")
    credits_used = models.PositiveBigIntegerField(default=0)
    api_calls = models.PositiveBigIntegerField(default=0)
    error = models.TextField(blank=True)
    followed_up = models.BooleanField(
        default=False, help_text="What a completed run sets off (the sample's field diff, the migration's next "
                                 "state) has been done; the workers' sweep does it for a run whose process died first.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["migration", "kind", "state"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} run #{self.pk}"


class WorkUnit(models.Model):
    """A durable chunk of a run: one object mapping × one slice of source records. Workers claim it with a
    conditional update; `checkpoint` is the source cursor after the last record fully accounted for."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        IN_FLIGHT = "in_flight", "In flight"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="work_units")
    object_mapping = models.ForeignKey(
        ObjectMapping, null=True, blank=True, on_delete=models.CASCADE, related_name="work_units"
    )
    source_object = models.CharField(max_length=100)
    level = models.PositiveSmallIntegerField(default=0, help_text="Load-order level: all of a lower level first.")
    slice_index = models.PositiveIntegerField(default=0)
    slice_start = models.CharField(max_length=200, blank=True, help_text="Cursor where the slice begins.")
    slice_end = models.CharField(max_length=200, blank=True, help_text="Cursor where the slice ends (exclusive).")
    checkpoint = models.CharField(max_length=200, blank=True)
    state = models.CharField(max_length=20, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    crashes = models.PositiveSmallIntegerField(
        default=0, help_text="Unexpected errors and lost workers since the unit last moved its checkpoint; at "
                             "WORK_UNIT_MAX_CRASHES the unit fails instead of being tried again.")
    bulk = models.BooleanField(
        default=False, help_text="Written through the destination's bulk jobs (Zoho Bulk Write), a slice of up to one "
                                 "job's records, because for this many records they cost fewer credits than batches "
                                 "of 100.")
    not_before = models.DateTimeField(null=True, blank=True)
    in_flight_since = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True)
    last_error = models.TextField(blank=True)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    credits_used = models.PositiveBigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["run", "level", "slice_index", "id"]
        indexes = [
            models.Index(fields=["run", "state", "level"]),
            models.Index(fields=["state", "in_flight_since"]),
        ]

    def __str__(self) -> str:
        return f"{self.source_object}#{self.slice_index} ({self.state})"


class RecordLink(models.Model):
    """The crosswalk: one source record's destination record. What makes re-runs idempotent, deltas cheap,
    lookups resolvable and rollback exact."""

    class Role(models.TextChoices):
        RECORD = "record", "Record we loaded"
        MERGE = "merge", "Fields merged onto another record"
        CHILD = "child", "Note or attachment we added"

    migration = models.ForeignKey(Migration, on_delete=models.CASCADE, related_name="record_links")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.RECORD)
    source_object = models.CharField(max_length=100)
    source_id = models.CharField(max_length=200)
    destination_module = models.CharField(max_length=100)
    destination_id = models.CharField(
        max_length=100, blank=True, help_text="Empty while a write is in flight (an intent, resolved on resume)."
    )
    parent_module = models.CharField(max_length=100, blank=True)
    parent_id = models.CharField(max_length=100, blank=True)
    content_hash = models.CharField(max_length=64, blank=True)
    created_by_us = models.BooleanField(
        default=True, help_text="False when we updated a record that existed before the migration."
    )
    before_image = models.JSONField(null=True, blank=True, help_text="The destination record before our first update.")
    destination_modified_at = models.DateTimeField(
        null=True, blank=True, help_text="The destination's modified time right after our last write."
    )
    created_run = models.ForeignKey(Run, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    last_run = models.ForeignKey(Run, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    loaded_at = models.DateTimeField(auto_now=True)
    source_deleted_at = models.DateTimeField(null=True, blank=True)
    relations_pending = models.BooleanField(
        default=False, help_text="A lookup to a record of the same object waits for the relation pass."
    )
    folded = models.JSONField(
        null=True, blank=True,
        help_text="What this row contributes to its parent's folded fields (a subform row, a chart entry): a write "
                  "replaces the parent's whole list, so rows of earlier batches are sent again from here.",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["migration", "source_object", "source_id", "destination_module"], name="uniq_record_link"
            ),
        ]
        indexes = [
            models.Index(fields=["migration", "destination_module", "destination_id"]),
            models.Index(fields=["migration", "source_object", "source_id"]),
            models.Index(fields=["created_run"]),
        ]

    def __str__(self) -> str:
        return f"{self.source_object}:{self.source_id} → {self.destination_module}:{self.destination_id}"


class SampleDiff(models.Model):
    """One field of one sampled record: source value, what the transform should give, what the CRM holds."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="sample_diffs")
    object_mapping = models.ForeignKey(ObjectMapping, null=True, on_delete=models.CASCADE, related_name="+")
    source_object = models.CharField(max_length=100)
    source_id = models.CharField(max_length=200)
    destination_module = models.CharField(max_length=100)
    destination_id = models.CharField(max_length=100, blank=True)
    field = models.CharField(max_length=200)
    source_value = models.TextField(blank=True)
    expected = models.TextField(blank=True)
    actual = models.TextField(blank=True)
    equal = models.BooleanField(default=True, db_index=True)

    class Meta:
        ordering = ["run", "source_object", "source_id", "field"]
        indexes = [models.Index(fields=["run", "equal"])]

    def __str__(self) -> str:
        return f"{self.source_object}:{self.source_id}.{self.field}"


class Conflict(models.Model):
    """A delta found the destination record changed after our last write: staff decide, the delta does not."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        KEEP_SOURCE = "keep_source", "Kept source"
        KEEP_DESTINATION = "keep_destination", "Kept destination"
        PER_FIELD = "per_field", "Resolved per field"

    migration = models.ForeignKey(Migration, on_delete=models.CASCADE, related_name="conflicts")
    run = models.ForeignKey(Run, null=True, on_delete=models.SET_NULL, related_name="conflicts")
    record_link = models.ForeignKey(RecordLink, on_delete=models.CASCADE, related_name="conflicts")
    fields = models.JSONField(
        default=dict, help_text="The fields that differ: name → {source, theirs} (our new value, the CRM's value)."
    )
    source_payload = models.JSONField(default=dict, help_text="Everything the delta would have written.")
    source_hash = models.CharField(
        max_length=64, blank=True, help_text="The source content the conflict is about (RecordLink.content_hash)."
    )
    destination_modified_at = models.DateTimeField(
        null=True, blank=True, help_text="When the CRM record was last changed, as read by the delta."
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN, db_index=True)
    resolution = models.JSONField(default=dict, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["record_link", "status"])]

    def __str__(self) -> str:
        return f"Conflict on {self.record_link}"
