"""Chaos: a full Dentrix → Zoho run whose only RQ worker is SIGKILLed (with its work horse) at five random moments
and restarted each time ends exactly as an undisturbed run of the same export into a fresh CRM: the same records
with the same values, notes and attachments per parent, no duplicate, every source record accounted once.

The simulator runs in this process (a thread serving real HTTP), the workers are `manage.py rqworker migrations`
processes on the test database. A killed worker's unit stays "in flight" until its lease (WORK_UNIT_STUCK_AFTER,
short here) runs out and a worker's sweep puts it back; the next worker resumes it from its checkpoint."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest
from django.db.models import Sum

from connectors.simulators.common import Faults
from connectors.sources.generate import generate
from migrator.models import Run, WorkUnit
from migrator.services.runs import run_start
from tests.e2e.loadcheck import (
    assert_accounted_once,
    assert_every_source_record_has_an_outcome,
    assert_no_duplicates,
    aware,
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

PATIENTS, SEED = 50, 23
KILLS = 5
LATENCY_MS = 40     # per API call
STUCK_AFTER = 4      # seconds without a lease renewal (one per batch) before a unit counts as a dead worker's


def test_a_full_run_whose_worker_is_killed_five_times_ends_as_an_undisturbed_one(catalog: None, tmp_path: Path) -> None:
    export = tmp_path / "export"
    manifest = generate("dentrix", patients=PATIENTS, seed=SEED, out=export)
    rng = random.Random(8)
    with rq_workers(tmp_path / "logs", stuck_after=STUCK_AFTER) as workers:
        worker = workers.start()
        expected = undisturbed(patients=PATIENTS, seed=SEED, export=export, manifest=manifest, workers=workers)

        # Every call takes a while, as a real CRM's does: a kill then lands mid-call or mid-batch, never only between
        # runs, and the run after the last kill mark is long enough on any machine for the kill to find it going.
        with served_zoho(Faults(latency_ms=LATENCY_MS)) as (sim, url):
            migration = migration_to_loading(sim=sim, url=url, export=export, manifest=manifest, workers=workers)
            run = run_start(migration=migration, kind="full")
            total = WorkUnit.objects.filter(run=run).aggregate(n=Sum("total"))["n"]
            # Kill moments are points of the run's progress (whatever the machine's speed), plus a random while.
            marks = sorted(rng.uniform(0.05, 0.75) * total for _ in range(KILLS))
            interrupted = []
            for mark in marks:
                started = aware(workers.started[-1])

                def due(mark: float = mark, started=started) -> bool:  # type: ignore[no-untyped-def]
                    done = WorkUnit.objects.filter(run=run).aggregate(n=Sum("processed"))["n"] or 0
                    held = WorkUnit.objects.filter(run=run, state=WorkUnit.State.IN_FLIGHT,
                                                   in_flight_since__gte=started).exists()
                    run.refresh_from_db()
                    assert run.state == Run.State.RUNNING, (
                        f"the run ended before all the kills: load more records ({done}/{total})",
                        list(WorkUnit.objects.filter(run=run).values_list("source_object", "processed", "total")))
                    return done >= mark and held

                wait_for(f"progress past {mark:.0f} records with a unit in hand", due, timeout=120, workers=workers,
                         run=run)
                time.sleep(rng.uniform(0.0, 2 * LATENCY_MS / 1000))
                run.refresh_from_db()
                assert run.state == Run.State.RUNNING, (
                    f"the run ended before kill {len(interrupted) + 1} (mark {mark:.0f} of {total} records)")
                interrupted.append(list(WorkUnit.objects.filter(run=run, state=WorkUnit.State.IN_FLIGHT,
                                                                in_flight_since__gte=started)
                                        .values_list("source_object", "processed")))
                workers.kill(worker)
                worker = workers.start()
            wait_for("the full run after the kills", run_ended(run), timeout=180, workers=workers, run=run)

    assert run.state == Run.State.COMPLETED, run.error
    assert sum(bool(held) for held in interrupted) >= 3, f"kills must land mid-unit: {interrupted}"
    assert counts(sim) == expected.counts
    assert destination_content(sim) == expected.content
    assert_no_duplicates(sim, migration)
    assert_accounted_once(run)
    assert_every_source_record_has_an_outcome(run)
    assert outcomes(run) == expected.audit
