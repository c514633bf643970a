"""Volume, rollback, retries and the hourly allowance, over real HTTP against the simulator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from connectors.base import BudgetExhausted, PermanentError, TemporaryError
from connectors.destinations.freshsales.connector import BatchInterrupted, FreshsalesConnector
from connectors.simulators.freshsales.app import FreshsalesSimulator

from .helpers import add_custom_field, fast_config

pytestmark = pytest.mark.e2e
MakeConnector = Callable[..., FreshsalesConnector]


def _patients(n: int) -> list[dict[str, Any]]:
    return [{"first_name": "Ada", "last_name": f"Hasta {i}", "email": f"patient{i}@example.test",
             "cf_source_system_id": f"drd-{i}", "lifecycle_stage": "Customer"} for i in range(n)]


def test_500_contacts_with_20_bad_rows_report_exactly_those_and_create_the_rest_once(
    connector: FreshsalesConnector, admin: httpx.Client
) -> None:
    add_custom_field(admin, "contacts", label="Source system id", type="text", unique=True)
    records = _patients(500)
    bad = {i: reason for i, reason in zip(range(7, 500, 25), ["blank"] * 5 + ["stage"] * 5 + ["email"] * 5
                                          + ["account"] * 5, strict=True)}
    for i, reason in bad.items():
        if reason == "blank":
            records[i]["last_name"] = ""
        elif reason == "stage":
            records[i]["lifecycle_stage"] = "Prospect"
        elif reason == "email":
            records[i]["email"] = f"patient{i}-at-example.test"
        else:
            records[i]["sales_account_id"] = "404404"
    before = admin.get("requests").json()["accepted"]

    results = connector.upsert("contacts", records, key_field="cf_source_system_id")

    assert [r.index for r in results] == list(range(500))
    failed = {r.index: r for r in results if not r.ok}
    assert set(failed) == set(bad)
    assert all(r.permanent and (r.field or r.message) for r in failed.values())
    assert {failed[i].field for i, why in bad.items() if why == "blank"} == {"last_name"}
    assert {failed[i].field for i, why in bad.items() if why == "stage"} == {"lifecycle_stage_id"}
    assert {failed[i].message for i, why in bad.items() if why == "email"} == {"Email is invalid"}
    assert {failed[i].code for i, why in bad.items() if why in ("email", "account")} == {"INVALID_VALUE"}
    assert {failed[i].message for i, why in bad.items() if why == "account"} == {"Sales account does not exist"}
    assert {r.action for r in results if r.ok} == {"insert"}
    assert connector.count("contacts") == 480
    assert admin.get("requests").json()["accepted"] - before < 30  # bulk jobs, not 500 single calls

    again = connector.upsert("contacts", records, key_field="cf_source_system_id")
    assert {r.action for r in again if r.ok} == {"update"}
    assert {r.id for r in again if r.ok} == {r.id for r in results if r.ok}
    assert connector.count("contacts") == 480


def test_rollback_deletes_with_forget_and_leaves_nothing_in_the_recycle_bin(
    connector: FreshsalesConnector, admin: httpx.Client
) -> None:
    [account] = connector.insert("sales_accounts", [{"name": "Clinic"}])
    contacts = connector.insert("contacts", [{"last_name": f"R{i}", "sales_account_id": account.id}
                                             for i in range(3)])
    [deal] = connector.insert("deals", [{"name": "Case", "sales_account_id": account.id}])
    [note] = connector.insert("notes", [{"description": "n", "targetable_type": "Deal", "targetable_id": deal.id}])
    [task] = connector.insert("tasks", [{"title": "Recall", "due_date": "2025-01-01T10:00:00Z",
                                         "targetable_type": "Contact", "targetable_id": contacts[0].id}])

    deleted = [
        *connector.delete("notes", [note.id]), *connector.delete("tasks", [task.id]),
        *connector.delete("deals", [deal.id]), *connector.delete("contacts", [c.id for c in contacts]),
        *connector.delete("sales_accounts", [account.id]),
    ]

    assert all(r.ok and r.action == "delete" for r in deleted)
    state = admin.get("state").json()
    assert all(records == [] for records in state["records"].values())
    assert all(items == [] for items in admin.get("recycle_bin").json().values())
    # Re-running a rollback is harmless: what is already gone counts as deleted.
    [again] = connector.delete("contacts", [contacts[0].id])
    assert again.ok and again.code == "NOT_FOUND"


def test_a_soft_delete_by_contrast_lands_in_the_recycle_bin(
    connector: FreshsalesConnector, admin: httpx.Client
) -> None:
    ids = [r.id for r in connector.insert("contacts", [{"last_name": "S1"}, {"last_name": "S2"}])]
    assert connector.soft_delete("contacts", ids) == ids
    assert sorted(str(c["id"]) for c in admin.get("recycle_bin").json()["contacts"]) == sorted(ids)
    connector.delete("contacts", ids)
    assert admin.get("recycle_bin").json()["contacts"] == []


def test_a_429_storm_is_waited_out_honouring_retry_after(
    connector: FreshsalesConnector, admin: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []
    monkeypatch.setattr(connector.client, "_sleep", waits.append)
    admin.post("faults", json={"storm_remaining": 3, "storm_retry_after": 2})
    [result] = connector.insert("sales_accounts", [{"name": "Storm clinic"}])
    assert result.ok
    assert waits == [2.0, 2.0, 2.0]
    assert admin.get("requests").json()["storm"] == 3


def test_a_create_hit_by_a_5xx_is_not_resent_but_reads_are_retried(
    make_connector: MakeConnector, admin: httpx.Client
) -> None:
    connector = make_connector(max_retries=2)
    connector.fields("sales_accounts")
    admin.post("faults", json={"fault_rate": 1.0})
    [result] = connector.insert("sales_accounts", [{"name": "Flaky"}])
    assert not result.ok and not result.permanent and result.code == "503"
    assert admin.get("requests").json()["faults"] == 1   # a create might have landed: never resent
    with pytest.raises(TemporaryError):
        connector.count("contacts")
    assert admin.get("requests").json()["faults"] == 1 + 3  # a read is retried (1 + max_retries)


def test_a_timeout_is_a_temporary_per_record_failure(make_connector: MakeConnector, admin: httpx.Client) -> None:
    connector = make_connector(read_timeout=0.2, max_retries=0)
    connector.fields("contacts")
    admin.post("faults", json={"timeout_rate": 1.0, "timeout_seconds": 0.6})
    [result] = connector.insert("contacts", [{"last_name": "Slow"}])
    assert not result.ok and not result.permanent and result.code == "TIMEOUT"


def test_partial_bulk_failures_are_temporary_per_record(connector: FreshsalesConnector, admin: httpx.Client) -> None:
    admin.post("faults", json={"partial_rate": 1.0})
    results = connector.upsert("sales_accounts", [{"name": "A"}, {"name": "B"}], key_field="name")
    assert [(r.ok, r.permanent, r.code) for r in results] == [(False, False, "503")] * 2


def test_a_wrong_api_key_stops_the_batch_instead_of_failing_each_record(bundle_url: str) -> None:
    with FreshsalesConnector(fast_config(bundle_url), "wrong-key") as connector, \
            pytest.raises(PermanentError) as excinfo:
        connector.insert("contacts", [{"last_name": "X"}])
    assert excinfo.value.code == "401"
    assert "wrong-key" not in str(excinfo.value)


def test_when_the_hour_is_spent_the_run_pauses_and_resumes_when_the_clock_moves(
    make_connector: MakeConnector, sim: FreshsalesSimulator, admin: httpx.Client
) -> None:
    connector = make_connector(requests_per_hour=10, reserve_requests=2)
    names = [{"name": f"Clinic {i}"} for i in range(12)]
    with pytest.raises(BudgetExhausted) as excinfo:
        connector.insert("sales_accounts", names)
    paused = excinfo.value
    assert isinstance(paused, BatchInterrupted)
    assert len(paused.results) == 7 and all(r.ok for r in paused.results)  # 8 spendable: 1 metadata + 7 writes
    assert paused.resume_at.timestamp() > sim.clock.now() + 3500
    assert admin.get("requests").json()["rate_limited"] == 0

    admin.post("clock", json={"seconds": 3601})
    rest = connector.insert("sales_accounts", names[len(paused.results):])
    assert all(r.ok for r in rest)
    assert connector.count("sales_accounts") == 12


def test_a_429_for_the_whole_hour_pauses_the_run_instead_of_failing_it(
    connector: FreshsalesConnector, sim: FreshsalesSimulator, admin: httpx.Client
) -> None:
    # Another integration of the clinic spent the account's hour: the server, not our budget, says stop.
    admin.post("plan", json={"hourly_limit": 3})
    with pytest.raises(BudgetExhausted) as excinfo:
        connector.insert("sales_accounts", [{"name": f"C{i}"} for i in range(5)])
    assert excinfo.value.retry_after is not None and excinfo.value.retry_after > 3000
    admin.post("clock", json={"seconds": 3600})
    assert connector.count("sales_accounts") == 2
