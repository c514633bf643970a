"""Routing rules the pair catalog names: responsible_party (Dentrix families), blocked_time (Dr.DENTES
appointments), recall_record (Dental-Exec recalls), and skipping statuses in the 18-month rule."""

from __future__ import annotations

from datetime import date

import pytest

from migrator.services.transforms import SKIP, route_record


@pytest.mark.parametrize(("status", "module"), [
    ("Non-Patient", "Contacts"), ("non-patient", "Contacts"), ("Patient", SKIP), ("Inactive", SKIP), ("", SKIP),
])
def test_only_non_patient_guarantors_become_the_responsible_party_contact(status, module):
    assert route_record("responsible_party", {"status": status}, {}) == module


def test_responsible_party_reads_the_status_field_and_values_it_is_given():
    params = {"status_field": "PatientType", "values": ["Responsible Party"], "module": "Contacts"}
    assert route_record("responsible_party", {"PatientType": "Responsible Party"}, params) == "Contacts"
    assert route_record("responsible_party", {"PatientType": "Patient"}, params) == SKIP


@pytest.mark.parametrize(("kind", "module"), [
    ("Blok", "Tasks"), ("BLOK", "Tasks"), ("Muayene", "Events"), ("Tedavi", "Events"), ("", "Events"),
])
def test_blocked_time_slots_become_tasks_and_appointments_events(kind, module):
    assert route_record("blocked_time", {"Tür": kind, "Hasta No": "7"}, {"type_field": "Tür"}) == module


def test_a_slot_without_a_patient_is_blocked_time_when_the_patient_field_is_named():
    params = {"type_field": "Tür", "patient_field": "Hasta No"}
    assert route_record("blocked_time", {"Tür": "Muayene", "Hasta No": ""}, params) == "Tasks"
    assert route_record("blocked_time", {"Tür": "Muayene", "Hasta No": "7"}, params) == "Events"


def test_blocked_time_takes_its_own_block_values_and_modules():
    params = {"type_field": "kind", "block_values": ["Lunch"], "task_module": "Calls"}
    assert route_record("blocked_time", {"kind": "lunch"}, params) == "Calls"
    assert route_record("blocked_time", {"kind": "Blok"}, params) == "Events"


@pytest.mark.parametrize(("kind", "module"), [
    ("Recall", "Tasks"), ("recall", "Tasks"), ("Hygiene", "Events"), ("Consultation", "Events"), (None, "Events"),
])
def test_recall_entries_become_tasks_and_scheduled_appointments_events(kind, module):
    assert route_record("recall_record", {"ApptType": kind}, {"type_field": "ApptType"}) == module


def test_the_18_month_rule_leaves_skipped_statuses_to_other_rows():
    params = {"as_of": date(2025, 6, 30), "skip_values": ["Non-Patient", "Archived"]}
    assert route_record("no_treatment_18_months", {"status": "Non-Patient", "last_visit_date": "2025-01-01"},
                        params) == SKIP
    assert route_record("no_treatment_18_months", {"status": "Patient", "last_visit_date": "2025-01-01"},
                        params) == "Contacts"
