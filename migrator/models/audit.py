"""The append-only audit: one row per record operation. No update or delete path exists for it."""

from __future__ import annotations

from typing import Any, NoReturn

from django.db import models

from migrator.models.clients import Migration
from migrator.models.runs import Run


class AppendOnlyError(Exception):
    pass


class AuditQuerySet(models.QuerySet["AuditEntry"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("audit entries are append-only")

    def delete(self) -> NoReturn:
        raise AppendOnlyError("audit entries are append-only")


class AuditEntry(models.Model):
    class Op(models.TextChoices):
        CREATE = "create", "Created"
        UPDATE = "update", "Updated"
        SKIP = "skip", "Skipped"
        FAIL = "fail", "Failed"
        DELETE = "delete", "Deleted"
        RESTORE = "restore", "Restored"
        ATTACH = "attach", "Attached"
        CONFLICT = "conflict", "Conflict opened"

    migration = models.ForeignKey(Migration, on_delete=models.PROTECT, related_name="audit_entries")
    run = models.ForeignKey(Run, on_delete=models.PROTECT, related_name="audit_entries")
    object_mapping = models.ForeignKey(
        "migrator.ObjectMapping", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The mapping whose load wrote this entry (one source record may feed several mappings).",
    )
    op = models.CharField(max_length=20, choices=Op.choices)
    source_object = models.CharField(max_length=100, blank=True)
    source_id = models.CharField(max_length=200, blank=True)
    destination_module = models.CharField(max_length=100, blank=True)
    destination_id = models.CharField(max_length=100, blank=True)
    payload_hash = models.CharField(max_length=64, blank=True)
    before_image = models.JSONField(null=True, blank=True)
    error_code = models.CharField(max_length=100, blank=True)
    error_field = models.CharField(max_length=200, blank=True)
    error_message = models.TextField(blank=True, help_text="May echo values: shown in the admin only.")
    at = models.DateTimeField(auto_now_add=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "audit entries"
        indexes = [
            models.Index(fields=["run", "op"]),
            models.Index(fields=["run", "error_code"]),
            models.Index(fields=["migration", "source_object", "source_id"]),
            models.Index(fields=["run", "object_mapping", "source_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.op} {self.source_object}:{self.source_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("audit entries are append-only")
