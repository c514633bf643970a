"""Routing rules and many:1 merges."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from migrator.services.transforms import (
    SKIP,
    TransformContext,
    merge_procedures,
    parse_transform,
    route_record,
    rows_to_subform,
)


@pytest.mark.parametrize(("status", "module"), [
    ("Active", "Contacts"), ("Inactive", "Leads"), ("prospect", "Leads"), ("Unconverted", "Leads"),
    ("PASİF", "Leads"), ("Aday", "Leads"), ("", "Contacts"), (None, "Contacts"),
])
def test_patient_status_routes_inactive_and_prospects_to_leads(status, module):
    assert route_record("patient_status", {"status": status}, {}) == module


def test_patient_status_can_skip_non_patients_and_use_another_field():
    params = {"status_field": "Durum", "skip_values": ["Non-Patient"]}
    assert route_record("patient_status", {"Durum": "non-patient"}, params) == SKIP
    assert route_record("patient_status", {"Durum": "Aktif"}, params) == "Contacts"


AS_OF = date(2025, 6, 30)


@pytest.mark.parametrize(("record", "module"), [
    ({"last_visit_date": "2024-12-01"}, "Contacts"),
    ({"last_visit_date": "2023-12-01"}, "Leads"),
    ({"last_visit_date": "2023-12-31"}, "Contacts"),            # exactly 18 months before as_of
    ({"last_visit_date": "2023-12-29"}, "Leads"),
    ({"last_visit_date": "2022-01-01", "next_appointment_date": "2025-07-15"}, "Contacts"),
    ({"last_visit_date": "2025-01-01", "recall_status": "Inactive"}, "Leads"),
    ({}, "Leads"),
])
def test_dentrix_no_treatment_in_18_months_routes_to_leads(record, module):
    assert route_record("no_treatment_18_months", record, {"as_of": AS_OF}) == module


def test_no_treatment_rule_needs_an_as_of_date_and_accepts_text():
    with pytest.raises(ValueError, match="as_of"):
        route_record("no_treatment_18_months", {}, {})
    assert route_record("no_treatment_18_months", {"last_visit_date": "2025-01-01"}, {"as_of": "2025-06-30"}) == \
        "Contacts"


def test_an_unknown_rule_is_refused():
    with pytest.raises(ValueError, match="unknown routing rule"):
        route_record("by_moon_phase", {}, {})


def test_insurance_rows_become_subform_rows_through_transforms():
    rows = [
        {"carrier": "Acme Dental", "group": "G-1", "effective": "01.02.2024", "max": "1.500,00"},
        {"carrier": "", "group": "", "effective": "", "max": ""},
    ]
    out = rows_to_subform(rows, {
        "Carrier": "carrier", "Group_Number": "group",
        "Effective_Date": ("effective", parse_transform({"kind": "date"})),
        "Annual_Maximum": ("max", parse_transform({"kind": "currency"})),
    }, context=TransformContext(region="TR"))
    assert out.error is None
    assert out.rows == [{"Carrier": "Acme Dental", "Group_Number": "G-1", "Effective_Date": "2024-02-01",
                         "Annual_Maximum": Decimal("1500.00")}]


def test_a_failing_subform_row_names_the_row_not_the_value():
    out = rows_to_subform([{"d": "x"}], {"D": ("d", parse_transform({"kind": "date", "on_invalid": "fail"}))},
                          context=TransformContext())
    assert out.error is not None and out.error.message.startswith("row 1: d:")


def test_procedures_merge_into_summary_fields_and_one_note_oldest_first():
    rows = [
        {"adacode": "D2391", "proc_date": "2024-05-02", "amt": "120.00", "toothrangestart": "14",
         "surfacestring": "MO"},
        {"adacode": "D1110", "proc_date": "2023-11-20", "amt": "85", "description": "cleaning"},
    ]
    merged = merge_procedures(rows, context=TransformContext(region="US"))
    assert merged.fields == {"Procedure_Count": 2, "CDT_Code": "D2391", "Last_Procedure_Date": "2024-05-02",
                             "Procedure_Fee": Decimal("205.00")}
    assert merged.note.splitlines() == ["2023-11-20 D1110 85.00 — cleaning", "2024-05-02 D2391 tooth 14 MO 120.00"]
