"""Discovery: the source's profile becomes the stored inventory and the migration moves draft → discovered."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from connectors.base import SourceField, SourceIssue, SourceObject, SourceOwner, SourceRecord
from connectors.sources.hints import QualityHints
from migrator.models import DiscoveredField, DiscoveredObject, Migration
from migrator.services import discovery as svc
from tests.factories import MigrationFactory

pytestmark = pytest.mark.django_db

PATIENTS = [
    {"id": "1", "first_name": "Ayşe", "last_name": "Kaya", "birth_date": date(1980, 1, 2), "status": "Patient",
     "email": "ayse@example.com", "provider_id": "D1"},
    {"id": "2", "first_name": "Ayşe", "last_name": "Kaya", "birth_date": date(1980, 1, 2), "status": "Patient",
     "email": "not-an-email", "provider_id": "D2"},
    {"id": "3", "first_name": "Can", "last_name": "Öz", "birth_date": date(1975, 5, 6), "status": "Non-Patient",
     "email": "", "provider_id": "D1"},
    {"id": "4", "first_name": "Ece", "last_name": "Su", "birth_date": date(1990, 7, 8), "status": "Patient",
     "email": "ece@example.com", "provider_id": "D1"},
]
APPOINTMENTS = [{"id": "A1", "patient_id": "1", "provider_id": "D2"}, {"id": "A2", "patient_id": "99",
                                                                     "provider_id": "D1"}]


class ExportLikeSource:
    slug = "export-like"
    owner_object = "provider"
    quality = QualityHints(patient="patient", first_name="first_name", last_name="last_name",
                           birth_date="birth_date", status_field="status",
                           non_patient_values=frozenset({"Non-Patient"}))

    def __init__(self) -> None:
        self.objects = {
            "patient": (SourceObject("patient", "Patients", (
                SourceField("id", type="id"), SourceField("first_name", "First name"), SourceField("last_name"),
                SourceField("birth_date", type="date"), SourceField("status", type="code"),
                SourceField("email", type="email"), SourceField("provider_id", references="provider"),
            ), "id", owner_field="provider_id"), PATIENTS),
            "appointment": (SourceObject("appointment", "Appointments", (
                SourceField("id", type="id"), SourceField("patient_id", type="reference", references="patient"),
                SourceField("provider_id"),
            ), "id", owner_field="provider_id"), APPOINTMENTS),
            "provider": (SourceObject("provider", "Providers", (SourceField("id", type="id"),), "id"),
                         [{"id": "D1"}, {"id": "D2"}]),
        }

    def discover(self) -> list[SourceObject]:
        return [o for o, _ in self.objects.values()]

    def iter_records(self, object_name: str, **kwargs: Any) -> Iterator[SourceRecord | SourceIssue]:
        obj, rows = self.objects[object_name]
        for i, row in enumerate(rows):
            yield SourceRecord(object_name, row["id"], row, cursor=str(i + 1),
                               owner_id=row.get(obj.owner_field) if obj.owner_field else None)
        if object_name == "patient":
            yield SourceIssue("patient", "unparseable date", file="patients.csv", line=9, field="birth_date")

    def owners(self) -> list[SourceOwner]:
        return [SourceOwner("D1", "Dt. One"), SourceOwner("D2", "Dt. Two", active=False)]

    def close(self) -> None:
        pass


@pytest.fixture
def source(monkeypatch: pytest.MonkeyPatch) -> ExportLikeSource:
    source = ExportLikeSource()
    monkeypatch.setattr(svc, "source_connector", lambda connection: source)
    return source


def test_discovery_stores_counts_fields_and_flags_and_moves_to_discovered(source: ExportLikeSource) -> None:
    migration = MigrationFactory()
    svc.migration_discover(migration=migration)
    assert migration.state == Migration.State.DISCOVERED
    objects = {o.key: o for o in DiscoveredObject.objects.filter(migration=migration)}
    assert {k: o.record_count for k, o in objects.items()} == {"patient": 4, "appointment": 2, "provider": 2}
    patient = objects["patient"]
    assert (patient.label, patient.issues, patient.owner_field) == ("Patients", 1, "provider_id")
    assert patient.quality_flags == {"duplicate_patients_name_dob": 1, "invalid_email": 1, "missing_email": 1,
                                     "non_patient_guarantors": 1, "unreadable: unparseable date": 1}
    assert objects["appointment"].quality_flags == {"orphans": 1}
    assert objects["provider"].quality_flags == {"inactive_owner_records": 2}
    email = patient.fields.get(name="email")
    assert (email.inferred_type, email.fill_rate) == ("email", 0.75)
    assert patient.fields.get(name="first_name").label == "First name"
    assert abs(sum(patient.fields.get(name="birth_date").shapes.values()) - 1.0) < 0.01
    assert migration.events.get().note == "3 objects, 8 records"


def test_coded_values_are_kept_for_codes_and_never_for_names_or_emails(source: ExportLikeSource) -> None:
    migration = MigrationFactory()
    svc.migration_discover(migration=migration)
    kept = {name: values for name, values in DiscoveredField.objects.filter(
        discovered_object__migration=migration, discovered_object__key="patient").values_list("name", "coded_values")}
    assert kept["status"] == ["Non-Patient", "Patient"]
    assert kept["first_name"] == kept["email"] == kept["birth_date"] == []
    stored = json.dumps(list(DiscoveredField.objects.values("shapes", "coded_values", "label")))
    for value in ("Kaya", "ayse@example.com", "not-an-email", "1980"):
        assert value not in stored


def test_rediscovery_replaces_the_inventory(source: ExportLikeSource) -> None:
    migration = MigrationFactory()
    svc.migration_discover(migration=migration)
    del source.objects["appointment"]
    svc.migration_discover(migration=migration)
    keys = set(DiscoveredObject.objects.filter(migration=migration).values_list("key", flat=True))
    assert keys == {"patient", "provider"}
    assert migration.state == Migration.State.DISCOVERED


def test_rediscovery_of_a_later_migration_refreshes_without_moving_it(source: ExportLikeSource) -> None:
    migration = MigrationFactory(state=Migration.State.MAPPED)
    svc.migration_discover(migration=migration)
    migration.refresh_from_db()
    assert migration.state == Migration.State.MAPPED
    assert DiscoveredObject.objects.filter(migration=migration).count() == 3


def test_discover_command_prints_objects_counts_and_flags(source: ExportLikeSource) -> None:
    migration = MigrationFactory()
    out = io.StringIO()
    call_command("discover", str(migration.pk), "--json", stdout=out)
    result = json.loads(out.getvalue())
    assert result["state"] == "discovered"
    assert result["records"] == 8
    assert {o["key"]: o["records"] for o in result["objects"]} == {"patient": 4, "appointment": 2, "provider": 2}
    assert "Kaya" not in out.getvalue()


def test_discover_command_fails_in_one_line_for_a_missing_migration() -> None:
    with pytest.raises(CommandError, match="does not exist"):
        call_command("discover", "999999")
