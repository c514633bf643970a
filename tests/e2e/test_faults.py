"""Faults: a full Dentrix → Zoho run while the CRM answers 5 % of calls with 5xx or 429 and lets 2 % time out (half
of those after doing the work, so only the answer is lost) completes, and ends exactly as an undisturbed run of the
same export: nothing lost, nothing written twice, and the export's deliberately bad data reported record by record
in the audit, the same as without faults."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.simulators.common import Faults
from connectors.sources.generate import generate
from migrator.models import AuditEntry, Run
from migrator.services.runs import run_start
from tests.e2e.loadcheck import (
    assert_accounted_once,
    assert_every_source_record_has_an_outcome,
    assert_no_duplicates,
    counts,
    destination_content,
    migration_to_loading,
    outcomes,
    rq_workers,
    run_ended,
    served_zoho,
    undisturbed,
    wait_for,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PATIENTS, SEED = 50, 23      # the chaos test's export: one undisturbed reference serves both
READ_TIMEOUT = 1.0           # the connector gives up on an answer after this long …
HANG = 1.6                   # … and a timed-out call hangs this long in the CRM
# From the sample run on (the steps before it are staff's, done once): 2.5 % 5xx, 2.5 % 429, 2 % timeouts.
FAULTS = {"fault_rate": 0.025, "rate_limit_rate": 0.025, "timeout_rate": 0.02, "late_timeout_share": 0.5,
          "timeout_seconds": HANG}


def test_a_full_run_through_5xx_429_and_timeouts_loses_and_duplicates_nothing(catalog: None, tmp_path: Path) -> None:
    export = tmp_path / "export"
    manifest = generate("dentrix", patients=PATIENTS, seed=SEED, out=export)
    with rq_workers(tmp_path / "logs", stuck_after=30) as workers:
        workers.start()
        expected = undisturbed(patients=PATIENTS, seed=SEED, export=export, manifest=manifest, workers=workers)

        faults = Faults(seed=5)
        with served_zoho(faults) as (sim, url):
            migration = migration_to_loading(sim=sim, url=url, export=export, manifest=manifest, workers=workers,
                                             destination={"read_timeout": READ_TIMEOUT}, faults=FAULTS)
            run = run_start(migration=migration, kind="full")
            wait_for("the full run through the faults", run_ended(run), timeout=240, workers=workers, run=run)
            faults.update({"fault_rate": 0, "rate_limit_rate": 0, "timeout_rate": 0})

    assert run.state == Run.State.COMPLETED, run.error
    assert counts(sim) == expected.counts
    assert destination_content(sim) == expected.content
    assert_no_duplicates(sim, migration)
    assert_accounted_once(run)
    assert_every_source_record_has_an_outcome(run)
    assert outcomes(run) == expected.audit

    hit = faults.injected
    assert all(hit.get(kind) for kind in ("5xx", "429", "timeout", "late timeout")), hit

    # The export's bad data (invalid emails and phones, orphans, oversize files …) is reported per record, with a
    # reason, and no fault of the CRM's is left among the failures.
    failed = AuditEntry.objects.filter(run__migration=migration, op=AuditEntry.Op.FAIL)
    assert failed.exists()
    assert not failed.filter(error_code="").exists()
    assert not failed.filter(error_code__in=["TOO_MANY_REQUESTS", "INTERNAL_ERROR", "RETRIES_EXHAUSTED",
                                             "OUTCOME_UNKNOWN"]).exists()


def test_a_plain_insert_whose_answer_is_lost_is_not_sent_again_but_a_refused_one_is() -> None:
    """The connector's side of "nothing duplicated": after a timeout Zoho may have written the record, so an insert
    is not resent (the engine finds it through its intent); a 429 was refused before any work and is resent."""
    from connectors.base import TemporaryError
    from connectors.destinations.zoho.connector import ZohoConnector

    with served_zoho(Faults(seed=1)) as (sim, url):
        cfg = sim.state.config
        conn = ZohoConnector.from_connection(
            {"api_base": url, "accounts_url": url, "read_timeout": READ_TIMEOUT, "backoff_base": 0.01,
             "backoff_cap": 0.05, "budget_key": "faults-unit"},
            {"client_id": cfg.client_id, "client_secret": cfg.client_secret, "refresh_token": cfg.refresh_token})
        with conn:
            conn.fields("Contacts")
            sim.faults.update({"timeout_rate": 1.0, "late_timeout_share": 1.0, "timeout_seconds": HANG})
            with pytest.raises(TemporaryError) as lost:
                conn.insert("Contacts", [{"Last_Name": "Answer lost"}])
            assert lost.value.code == "OUTCOME_UNKNOWN"
            assert [r["Last_Name"] for r in sim.state.records["Contacts"].values()] == ["Answer lost"]

            sim.faults.update({"timeout_rate": 0.0, "storm_remaining": 2})
            [refused_twice] = conn.insert("Contacts", [{"Last_Name": "Refused twice"}])
            assert refused_twice.ok
            assert sorted(r["Last_Name"] for r in sim.state.records["Contacts"].values()) == [
                "Answer lost", "Refused twice"]

