from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from migrator.models import AppendOnlyError, AuditEntry, RecordLink, Run
from tests.factories import MigrationFactory

pytestmark = pytest.mark.django_db


def test_a_second_record_link_for_the_same_source_record_is_refused():
    migration = MigrationFactory()
    RecordLink.objects.create(migration=migration, source_object="patient", source_id="42",
                              destination_module="Contacts", destination_id="9001")
    with pytest.raises(IntegrityError), transaction.atomic():
        RecordLink.objects.create(migration=migration, source_object="patient", source_id="42",
                                  destination_module="Contacts", destination_id="9002")


def test_the_same_source_record_may_link_to_another_module():
    migration = MigrationFactory()
    RecordLink.objects.create(migration=migration, source_object="patient", source_id="42",
                              destination_module="Contacts", destination_id="9001")
    RecordLink.objects.create(migration=migration, source_object="patient", source_id="42",
                              destination_module="Notes", destination_id="9002")
    assert RecordLink.objects.filter(source_id="42").count() == 2


def _entry() -> AuditEntry:
    migration = MigrationFactory()
    run = Run.objects.create(migration=migration, kind=Run.Kind.FULL)
    return AuditEntry.objects.create(migration=migration, run=run, op=AuditEntry.Op.CREATE,
                                     source_object="patient", source_id="1", destination_id="77")


def test_audit_entries_cannot_be_changed_or_deleted():
    entry = _entry()
    entry.op = AuditEntry.Op.DELETE
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(pk=entry.pk).update(op="delete")
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(pk=entry.pk).delete()
    assert AuditEntry.objects.get(pk=entry.pk).op == AuditEntry.Op.CREATE


def test_connection_secrets_are_stored_encrypted():
    migration = MigrationFactory()
    conn = migration.destination_connection
    conn.set_secrets({"client_secret": "s3cr3t-value-123", "refresh_token": "1000.refresh.abc"})
    conn.save()
    with connection.cursor() as cursor:
        cursor.execute("SELECT secrets_encrypted FROM migrator_connection WHERE id = %s", [conn.pk])
        (raw,) = cursor.fetchone()
    assert "s3cr3t-value-123" not in raw
    assert "refresh" not in raw
    conn.refresh_from_db()
    assert conn.get_secrets()["client_secret"] == "s3cr3t-value-123"
