"""Owners: source providers and staff, destination users, and the matches between them."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from migrator.models.clients import Connection, Migration


class DestinationUser(models.Model):
    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="destination_users")
    dest_id = models.CharField(max_length=100)
    email = models.EmailField()
    name = models.CharField(max_length=200, blank=True)
    active = models.BooleanField(default=True)
    fetched_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "email"]
        constraints = [models.UniqueConstraint(fields=["connection", "dest_id"], name="uniq_destination_user")]

    def __str__(self) -> str:
        status = "" if self.active else " (inactive)"
        return f"{self.name or self.email} <{self.email}>{status}"


class SourceOwner(models.Model):
    migration = models.ForeignKey(Migration, on_delete=models.CASCADE, related_name="source_owners")
    source_id = models.CharField(max_length=100)
    name = models.CharField(max_length=200, blank=True)
    email = models.CharField(max_length=254, blank=True)
    role = models.CharField(max_length=50, blank=True)
    active = models.BooleanField(default=True)
    record_counts = models.JSONField(default=dict, blank=True, help_text="Source object → records owned.")

    class Meta:
        ordering = ["migration", "name"]
        constraints = [models.UniqueConstraint(fields=["migration", "source_id"], name="uniq_source_owner")]

    def __str__(self) -> str:
        return self.name or self.source_id

    @property
    def record_count(self) -> int:
        return sum(int(v) for v in self.record_counts.values())


class OwnerMatch(models.Model):
    class Method(models.TextChoices):
        EXACT_EMAIL = "exact_email", "Exact email"
        NORMALIZED_EMAIL = "normalized_email", "Normalised email"
        NAME_SUGGESTION = "name_suggestion", "Name suggestion"
        MANUAL = "manual", "Manual"
        FALLBACK = "fallback", "Fallback owner"
        NONE = "none", "No match"

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        NEEDS_REVIEW = "needs_review", "Needs review"
        CONFIRMED = "confirmed", "Confirmed"
        UNMATCHED = "unmatched", "Unmatched"

    migration = models.ForeignKey(Migration, on_delete=models.CASCADE, related_name="owner_matches")
    source_owner = models.OneToOneField(SourceOwner, on_delete=models.CASCADE, related_name="match")
    destination_user = models.ForeignKey(
        DestinationUser, null=True, blank=True, on_delete=models.PROTECT, related_name="matches"
    )
    method = models.CharField(max_length=30, choices=Method.choices, default=Method.NONE)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.UNMATCHED, db_index=True)
    score = models.FloatField(default=0.0)
    flags = models.JSONField(default=list, blank=True, help_text="e.g. shared_user, inactive_user.")
    record_count = models.PositiveIntegerField(default=0)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["migration", "-record_count"]
        verbose_name_plural = "owner matches"
        indexes = [models.Index(fields=["migration", "status"])]

    def __str__(self) -> str:
        return f"{self.source_owner} → {self.destination_user or '—'}"
