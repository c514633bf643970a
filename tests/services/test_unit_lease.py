"""The lease on a work unit: a worker busy with a long batch keeps renewing it, so its unit is not taken for a
dead worker's; a worker whose unit was taken back meanwhile (its lease ran out) commits nothing of the batch it
held, and the worker that goes on loads the same records without a duplicate."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from migrator.models import AuditEntry, Migration, RecordLink, Run, WorkUnit
from migrator.services import runs
from migrator.services.pipeline import LeaseLost
from tests.factories import MigrationFactory

from .notes_support import FakeSource, load, map_objects, new_run
from .rollback_support import migration_to, served_zoho


@pytest.mark.django_db(transaction=True)
def test_a_worker_busy_past_the_lease_keeps_its_unit(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.WORK_UNIT_STUCK_AFTER = 1.5       # renewed every 0.5 s
    run = Run.objects.create(migration=MigrationFactory(), kind=Run.Kind.FULL, state=Run.State.RUNNING)
    unit = WorkUnit.objects.create(run=run, source_object="patient", total=10)
    swept: list[int] = []

    def long_batch(*, unit: WorkUnit, should_stop: Any) -> None:
        time.sleep(2.5)                        # one batch longer than the lease, no commit in between
        swept.append(runs._stuck_reset(run))

    monkeypatch.setattr(runs, "work_unit_load", long_batch)
    assert runs.work_unit_execute(unit_id=unit.pk, worker="host:1")

    unit.refresh_from_db()
    assert swept == [0]
    assert unit.state == WorkUnit.State.DONE and unit.crashes == 0


class StealingLease:
    """The destination connector of a worker whose unit is taken back (by the sweep, after its lease ran out)
    while its batch is being written."""

    def __init__(self, dest: Any, unit: WorkUnit) -> None:
        self._dest, self._unit = dest, unit

    def __getattr__(self, name: str) -> Any:
        real = getattr(self._dest, name)
        if name not in ("insert", "upsert"):
            return real

        def call(*args: Any, **kwargs: Any) -> Any:
            WorkUnit.objects.filter(pk=self._unit.pk).update(worker="host:2")
            return real(*args, **kwargs)

        return call


@pytest.fixture
def zoho() -> Iterator[dict[str, Any]]:
    with served_zoho() as (sim, url):
        migration = migration_to("zoho-crm", url, sim, state=Migration.State.LOADED)
        yield {"sim": sim, "migration": migration, "maps": map_objects(migration)}


@pytest.mark.django_db
def test_a_worker_that_lost_its_unit_commits_nothing_and_the_next_loads_without_duplicates(
        zoho: dict[str, Any]) -> None:
    sim, migration, maps = zoho["sim"], zoho["migration"], zoho["maps"]
    source = FakeSource(patients=[{"id": "P1", "last_name": "Yilmaz", "history": ""},
                                  {"id": "P2", "last_name": "Demir", "history": ""}])
    run = new_run(migration)
    unit = WorkUnit.objects.create(run=run, object_mapping=maps["patient"], source_object="patient", total=2,
                                   state=WorkUnit.State.IN_FLIGHT)

    with pytest.raises(LeaseLost):
        load(run, maps["patient"], source, dest=lambda real: StealingLease(real, unit))

    unit.refresh_from_db()
    assert (unit.worker, unit.processed, unit.checkpoint) == ("host:2", 0, "")
    # Only the intents written before the insert (what lets the next worker find these records) are kept.
    assert not RecordLink.objects.filter(migration=migration).exclude(destination_id="").exists()
    assert not AuditEntry.objects.filter(run=run).exists()
    assert len(sim.state.records["Contacts"]) == 2          # the CRM has them; this worker never recorded it

    WorkUnit.objects.filter(pk=unit.pk).update(worker="")   # the worker that goes on (the helper runs as "")
    unit = load(run, maps["patient"], source)

    assert unit.processed == 2
    assert len(sim.state.records["Contacts"]) == 2
    assert RecordLink.objects.filter(migration=migration, role=RecordLink.Role.RECORD).count() == 2
