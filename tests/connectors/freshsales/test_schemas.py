"""The connector's pydantic models read Freshsales' documented payloads (hand-written in fixtures/freshsales/)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from connectors.destinations.freshsales.schemas import (
    ErrorBody,
    FieldsResponse,
    JobStatusResponse,
    OwnersResponse,
    Record,
)
from connectors.destinations.freshsales.wire import flatten, to_dest_field

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "freshsales"


def _read(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_field_metadata_maps_custom_fields_choices_and_owners() -> None:
    fields = FieldsResponse.model_validate_json(_read("settings_contacts_fields.json")).fields
    dest = {f.api_name: f for f in (to_dest_field("contacts", meta) for meta in fields)}
    assert dest["last_name"].mandatory and not dest["last_name"].custom
    assert dest["cf_treatment_type"].custom and dest["cf_treatment_type"].type == "picklist"
    assert dest["cf_treatment_type"].picklist == ("Implant", "Orthodontics")
    assert dest["cf_recall_interval"].type == "decimal"
    assert dest["lifecycle_stage_id"].picklist == ("Lead", "Customer")
    assert dest["owner_id"].type == "owner"


def test_owners_job_results_and_errors_parse() -> None:
    owners = OwnersResponse.model_validate_json(_read("selector_owners.json")).users
    assert [(o.email, o.is_active) for o in owners][1] == ("former@example-dental.test", False)
    job = JobStatusResponse.model_validate_json(_read("job_status_completed.json")).job_status
    assert [r.status for r in job.results] == ["created", "updated", "failed"]
    assert job.results[2].errors is not None and job.results[2].errors.text() == "Email already exists"
    assert ErrorBody.model_validate_json(_read("error_duplicate_email.json")).errors.code == 400


def test_a_record_flattens_custom_fields_and_keeps_updated_at() -> None:
    import json

    raw = json.loads(_read("contact.json"))["contact"]
    record = Record.model_validate(raw)
    assert record.updated_at == datetime(2025, 1, 12, 13, 40, 5, tzinfo=UTC)
    data = flatten(record.model_dump())
    assert data["id"] == "16000000322" and data["cf_treatment_type"] == "Implant" and "custom_field" not in data
