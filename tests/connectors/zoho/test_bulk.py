"""Bulk Write through the connector: ZIP upload, jobs of at most 25,000 records, every record's result known."""

from __future__ import annotations

import pytest

from connectors.base import FieldSpec

from .conftest import Served

pytestmark = pytest.mark.e2e


def test_thirty_thousand_records_run_as_two_jobs_and_every_result_is_known(served: Served) -> None:
    with served.connector() as conn:
        conn.create_field(FieldSpec(module="Contacts", label="Source_System_ID", type="text"))
        records = [{"Last_Name": f"B{i}", "Source_System_ID": f"BULK-{i}"} for i in range(30000)]
        records[123].pop("Last_Name")
        records[29999]["Email"] = "broken"
        results = conn.bulk_insert("Contacts", records)
    assert len(served.sim.state.jobs) == 2
    assert [r.index for r in results] == list(range(30000))
    failed = {r.index: (r.code, r.field) for r in results if not r.ok}
    assert failed == {123: ("MANDATORY_NOT_FOUND", "Last_Name"), 29999: ("INVALID_DATA", "Email")}
    assert len({r.id for r in results if r.ok}) == 29998
    assert len(served.sim.state.records["Contacts"]) == 29998


def test_bulk_upsert_updates_records_found_by_the_key_field(served: Served) -> None:
    with served.connector() as conn:
        conn.create_field(FieldSpec(module="Contacts", label="Source_System_ID", type="text"))
        [existing] = conn.insert("Contacts", [{"Last_Name": "Old", "Source_System_ID": "K-1"}])
        results = conn.bulk_upsert("Contacts", [{"Last_Name": "New", "Source_System_ID": "K-1"},
                                                {"Last_Name": "Other", "Source_System_ID": "K-2"}],
                                   key_field="Source_System_ID")
        assert [(r.ok, r.action) for r in results] == [(True, "update"), (True, "insert")]
        assert results[0].id == existing.id
        [record, other] = conn.get("Contacts", [existing.id, results[1].id])
        assert record.data["Last_Name"] == "New"
        # The result file has no modified times: they are read back, as a REST write's answer gives them.
        assert [r.modified_at for r in results] == [record.modified_at, other.modified_at]
        assert record.modified_at is not None
    credits = served.admin("GET", "credits")
    assert credits["total"] >= 500, "a bulk job costs 500 credits"
