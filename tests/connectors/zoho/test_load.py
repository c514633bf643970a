"""The promises of a real load: per-record failures reported exactly, the credit budget paused and resumed,
faults survived without loss or duplicates, and four worker processes sharing one budget."""

from __future__ import annotations

import multiprocessing
from typing import Any

import pytest
import redis

from connectors.base import BudgetExhausted, FieldSpec
from connectors.destinations.zoho.connector import ZohoConnector

from .conftest import Served, connection_config, redis_url_for_tests

pytestmark = pytest.mark.e2e

BROKEN = {  # kind -> (how to break a record, expected code, expected field)
    "missing last name": (lambda r: r.pop("Last_Name"), "MANDATORY_NOT_FOUND", "Last_Name"),
    "bad email": (lambda r: r.update(Email="not-an-email"), "INVALID_DATA", "Email"),
    "over-length text": (lambda r: r.update(First_Name="x" * 41), "INVALID_DATA", "First_Name"),
    "unknown picklist value": (lambda r: r.update(Lead_Source="Billboard"), "INVALID_DATA", "Lead_Source"),
    "dangling lookup": (lambda r: r.update(Account_Name="5725767999999999999"), "INVALID_DATA", "Account_Name"),
}


def contacts(n: int, account_id: str) -> list[dict[str, Any]]:
    return [{"Last_Name": f"Patient{i}", "First_Name": "Test", "Email": f"p{i}@example.com",
             "Lead_Source": "Web Research", "Account_Name": account_id, "Source_System_ID": f"DD-{i}"}
            for i in range(n)]


def test_a_thousand_contacts_with_thirty_invalid_report_exactly_those_thirty(served: Served) -> None:
    with served.connector() as conn:
        conn.create_field(FieldSpec(module="Contacts", label="Source_System_ID", type="text"))
        [account] = conn.insert("Accounts", [{"Account_Name": "Clinic"}])
        records = contacts(1000, account.id)
        expected: dict[int, tuple[str, str]] = {}
        for n, (breaker, code, field) in enumerate(BROKEN.values()):
            for index in range(n * 6 * 31 + 7, 1000, 31)[:6]:
                breaker(records[index])
                expected[index] = (code, field)
        assert len(expected) == 30
        results = []
        for start in range(0, 1000, 100):
            batch = conn.upsert("Contacts", records[start: start + 100], key_field="Source_System_ID")
            assert [r.index for r in batch] == list(range(len(batch))), "one result per record, in input order"
            results += [(start + r.index, r) for r in batch]
        failed = {index: (r.code, r.field) for index, r in results if not r.ok}
        assert failed == expected
        assert all(r.permanent for _, r in results if not r.ok)
        assert conn.count("Contacts") == 970
    stored = [r["Source_System_ID"] for r in served.sim.state.records["Contacts"].values()]
    assert len(stored) == len(set(stored)) == 970, "every valid contact created exactly once"


def test_a_run_out_of_credits_pauses_and_resumes_once_the_window_moves(make_served) -> None:  # type: ignore[no-untyped-def]
    served = make_served(edition="free")
    with served.connector() as conn:
        conn.fields("Contacts")
        # Most of the day's 5,000 credits are spent, by this run and (identically) as seen by Zoho.
        assert served.sim.state.try_charge(4985)
        conn.budget.spend(4985)
        records = [{"Last_Name": f"N{i}"} for i in range(200)]
        first = conn.insert("Contacts", records[:100])
        assert all(r.ok for r in first)
        with pytest.raises(BudgetExhausted) as caught:
            conn.insert("Contacts", records[100:])
        assert caught.value.resume_at.timestamp() > served.sim.clock.now()
        served.admin("POST", "clock", json={"seconds": caught.value.resume_at.timestamp() - served.sim.clock.now()})
        second = conn.insert("Contacts", records[100:])
        assert all(r.ok for r in second)
        assert conn.count("Contacts") == 200
        assert served.admin("GET", "credits")["rejected"] == 0, "the run paused before Zoho had to refuse it"


def test_a_429_storm_and_five_percent_5xx_lose_nothing_and_duplicate_nothing(make_served) -> None:  # type: ignore[no-untyped-def]
    served = make_served(seed=7)
    # A storm of 12 refusals in a row outlasts the default 6 retries of one call; a run allows more.
    with served.connector(max_retries=15) as conn:
        conn.create_field(FieldSpec(module="Contacts", label="Source_System_ID", type="text"))
        served.admin("POST", "faults", json={"storm_remaining": 12, "fault_rate": 0.05})
        records = [{"Last_Name": f"S{i}", "Source_System_ID": f"SRC-{i}"} for i in range(600)]
        results = []
        for start in range(0, 600, 50):
            results += conn.upsert("Contacts", records[start: start + 50], key_field="Source_System_ID")
        assert served.sim.faults.storm_remaining == 0, "the whole storm hit the run"
        served.admin("POST", "faults", json={"storm_remaining": 0, "fault_rate": 0})
        assert all(r.ok for r in results)
        assert conn.count("Contacts") == 600
        assert conn.budget.used() == served.admin("GET", "credits")["used"]
    stored = [r["Source_System_ID"] for r in served.sim.state.records["Contacts"].values()]
    assert sorted(stored) == sorted(r["Source_System_ID"] for r in records)


def _worker(url: str, config: dict[str, Any], secrets: dict[str, str], worker: int) -> None:
    with ZohoConnector.from_connection(config, secrets) as conn:
        for start in range(0, 200, 20):
            batch = [{"Last_Name": f"W{worker}-{i}"} for i in range(start, start + 20)]
            results = conn.insert("Contacts", batch)
            assert all(r.ok for r in results)


def test_four_worker_processes_never_exceed_the_concurrency_limit_and_count_credits_alike(
    make_served,  # type: ignore[no-untyped-def]
) -> None:
    served = make_served(edition="free", latency_ms=15)
    redis_url = redis_url_for_tests()
    config = connection_config(served.url, edition="free", redis_url=redis_url)
    secrets = {"client_id": served.sim.state.config.client_id,
               "client_secret": served.sim.state.config.client_secret,
               "refresh_token": served.sim.state.config.refresh_token}
    client = redis.Redis.from_url(redis_url)
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_worker, args=(served.url, config, secrets, n)) for n in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [w.exitcode for w in workers] == [0, 0, 0, 0]
    stats = served.admin("GET", "credits")
    assert stats["rejected"] == 0, "no call was refused for concurrency or credits"
    assert 2 <= stats["max_in_flight"] <= 5, "the free edition allows 5 concurrent calls"
    assert stats["token_mints"] == 1, "one access token shared by all workers"
    with ZohoConnector.from_connection(config, secrets) as conn:
        assert conn.budget.used() == stats["used"] == 4 * (1 + 10 * 2)
        token_key = conn.client.tokens.key
    client.delete(f"zoho-token:{token_key}", f"zoho-token-mints:{token_key}")
    assert len(served.sim.state.records["Contacts"]) == 800
    for key in client.scan_iter(match=f"budget:{config['budget_key']}:*"):
        client.delete(key)
