"""A full run writes a large plain object through Zoho Bulk Write when a job costs fewer credits than batches of 100
(connector.bulk_rows, priced in tests/connectors/zoho/test_connector.py): its units are a job's worth of records,
every record is accounted for from the job's result file, with its CRM modified time for the delta's three-way
check, and a job written again after its commit was lost updates the same records instead of duplicating them."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.destinations.zoho.connector import ZohoConnector
from migrator.models import AuditEntry, RecordLink, Run, WorkUnit
from migrator.services import pipeline

from .conflict_support import loaded_migration
from .rollback_support import served_zoho

pytestmark = pytest.mark.django_db

JOB_ROWS = 20


def _small_jobs(self: ZohoConnector, module: str, n_records: int) -> int:
    """Bulk Write pays from 5,600 records on; here from 5, so a 60-patient export takes several jobs."""
    return JOB_ROWS if module in self.limits.bulk_modules and n_records >= 5 else 0


def test_bulk_units_account_for_every_record_once_even_after_a_lost_commit(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ZohoConnector, "bulk_rows", _small_jobs)
    lost: list[int] = []
    commit = pipeline.UnitLoader._commit

    def commit_lost_once(self: pipeline.UnitLoader, batch: list, result: pipeline.BatchResult, upto: int) -> None:
        # The first bulk unit's job ran, then its worker lost the unit before committing links and audit.
        if self.unit.bulk and upto and not lost:
            lost.append(self.unit.pk)
            raise pipeline.LeaseLost
        commit(self, batch, result, upto)

    monkeypatch.setattr(pipeline.UnitLoader, "_commit", commit_lost_once)
    with served_zoho() as (sim, url):
        migration = loaded_migration(sim=sim, url=url, out=tmp_path, patients=60)
        full = Run.objects.get(migration=migration, kind=Run.Kind.FULL)
        units = list(WorkUnit.objects.filter(run=full, source_object="patient").exclude(slice_end="relations"))
        assert len(units) > 1 and all(u.bulk and u.total <= JOB_ROWS for u in units)
        assert lost and all(u.state == WorkUnit.State.DONE for u in units)
        jobs = list(sim.state.jobs.values())
        assert jobs and {j["operation"] for j in jobs} == {"upsert"}
        # The lost unit's job ran again: its records were found by our source-id field and updated.
        assert sum(j["resource"][0]["file"]["updated_count"] for j in jobs) > 0

        total = sum(u.total for u in units)
        audited = AuditEntry.objects.filter(run=full, source_object="patient")
        assert audited.values("source_id").distinct().count() == total
        assert not audited.filter(op=AuditEntry.Op.FAIL).exists()
        links = RecordLink.objects.filter(migration=migration, source_object="patient", role=RecordLink.Role.RECORD)
        written, owners = 0, set()
        for module in ("Contacts", "Leads"):
            records = sim.state.records[module]
            keys = [r.get("Source_System_ID") for r in records.values()]
            assert len(keys) == len(set(keys)), f"duplicate {module} in the CRM"
            ours = links.filter(destination_module=module)
            assert set(ours.values_list("destination_id", flat=True)) == set(records)
            written += len(records)
            owners |= {r["Owner"]["id"] for r in records.values()}
        assert written > 2 * JOB_ROWS
        # Every job's file carried the owner column (here every patient goes to the fallback owner).
        assert all("Owner" in {m["api_name"] for m in j["resource"][0]["field_mappings"]} for j in jobs)
        assert owners and owners <= {u["id"] for u in sim.state.users}
        assert not links.filter(destination_modified_at=None).exists()
