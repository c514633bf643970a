"""Customers, their endpoints and their migration projects."""

from __future__ import annotations

import json

from django.conf import settings
from django.db import models

from migrator import crypto
from migrator.models.catalog import Platform, PlatformPair


class Client(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(unique=True)
    contact_email = models.EmailField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PortalMembership(models.Model):
    """A customer user's access to one client's portal. A customer sees their own client and nothing else."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="portal_memberships")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="memberships")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "client"], name="uniq_portal_membership")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.client}"


class Connection(models.Model):
    """A client's source or destination endpoint. Secrets are encrypted at rest and never rendered back."""

    class Role(models.TextChoices):
        SOURCE = "source", "Source"
        DESTINATION = "destination", "Destination"

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="connections")
    platform = models.ForeignKey(Platform, on_delete=models.PROTECT, related_name="connections")
    role = models.CharField(max_length=20, choices=Role.choices)
    name = models.CharField(max_length=200)
    config = models.JSONField(default=dict, blank=True, help_text="Non-secret settings: URLs, paths, timeouts.")
    edition = models.CharField(max_length=50, blank=True, help_text="Destination edition or plan slug.")
    users = models.PositiveIntegerField(default=1, help_text="Licensed CRM users (Zoho credits grow with them).")
    addon_credits = models.PositiveIntegerField(default=0)
    reserve = models.PositiveIntegerField(
        default=0, help_text="Credits or requests kept back for the clinic's other integrations."
    )
    secrets_encrypted = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["client", "role", "name"]

    def __str__(self) -> str:
        return f"{self.client}: {self.name}"

    def set_secrets(self, values: dict[str, str]) -> None:
        self.secrets_encrypted = crypto.encrypt(json.dumps(values, sort_keys=True)) if values else ""

    def get_secrets(self) -> dict[str, str]:
        if not self.secrets_encrypted:
            return {}
        data: dict[str, str] = json.loads(crypto.decrypt(self.secrets_encrypted))
        return data

    @property
    def secret_names(self) -> list[str]:
        """Which secrets are set — names only, for display."""
        return sorted(self.get_secrets())


class Migration(models.Model):
    """One client's migration project for one platform pair, moving through the lifecycle's states."""

    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        DISCOVERED = "discovered", "Discovered"
        MAPPED = "mapped", "Mapped"
        OWNERS_CONFIRMED = "owners_confirmed", "Owners confirmed"
        SCHEMA_VERIFIED = "schema_verified", "Schema verified"
        SAMPLE_LOADED = "sample_loaded", "Sample loaded"
        SAMPLE_APPROVED = "sample_approved", "Sample approved"
        LOADING = "loading", "Loading"
        LOADED = "loaded", "Loaded"
        DELTA = "delta", "Delta"
        RECONCILED = "reconciled", "Reconciled"
        CLOSED = "closed", "Closed"
        ROLLED_BACK = "rolled_back", "Rolled back"

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="migrations")
    pair = models.ForeignKey(PlatformPair, on_delete=models.PROTECT, related_name="migrations")
    name = models.CharField(max_length=200)
    source_connection = models.ForeignKey(Connection, on_delete=models.PROTECT, related_name="+")
    destination_connection = models.ForeignKey(Connection, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=30, choices=State.choices, default=State.DRAFT, db_index=True)
    fallback_owner = models.ForeignKey(
        "migrator.DestinationUser", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The destination user who receives records of source owners with no match.",
    )
    sample_size = models.PositiveIntegerField(default=100, help_text="Records in the sample run (50–500).")
    delta_interval_minutes = models.PositiveIntegerField(default=60)
    delta_window_start = models.DateTimeField(null=True, blank=True)
    delta_window_end = models.DateTimeField(null=True, blank=True)
    delta_next_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When the delta window's next delta is due."
    )
    delta_job_id = models.CharField(
        max_length=100, blank=True, editable=False,
        help_text="The scheduled RQ job of the window's next delta; a job whose id is not this one is stale.",
    )
    delta_cutover_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When the final delta of the cutover started."
    )
    routing_as_of = models.DateField(
        null=True, blank=True,
        help_text="The day routing rules measure from (e.g. 'no treatment in 18 months'); empty: the run's start.",
    )
    delete_on_source_delete = models.BooleanField(
        default=False, help_text="Delete destination records whose source record was deleted during the delta."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(sample_size__gte=1, sample_size__lte=500), name="migration_sample_size_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client} — {self.name}"


class DeltaWindow(Migration):
    """The delta window of a migration, as its own admin page (the same row)."""

    class Meta:
        proxy = True
        verbose_name = "delta window"

    def __str__(self) -> str:
        return f"Delta window of {self.client} — {self.name}"


class MigrationEvent(models.Model):
    """The history of a migration's state changes: who moved it, when, and from where."""

    migration = models.ForeignKey(Migration, on_delete=models.CASCADE, related_name="events")
    from_state = models.CharField(max_length=30)
    to_state = models.CharField(max_length=30)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.from_state} → {self.to_state}"
