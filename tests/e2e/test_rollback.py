"""End to end over real HTTP: a migration loaded into a simulator, rolled back by `manage.py rollback --wait` in a
separate process that is SIGKILLed after its first batch commits, then run again: the destination ends as it was
before the migration (records, restored fields, notes, attachments), with no step done twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from migrator.models import AuditEntry, Migration, RecordLink, Run
from tests.services.rollback_support import (
    Loader,
    engine_load,
    freshsales_state,
    migration_to,
    served_freshsales,
    served_zoho,
    zoho_state,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
ROOT = Path(settings.BASE_DIR)


def _database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"] != "django.db.backends.postgresql":
        pytest.fail("this test runs the rollback in another process: it needs PostgreSQL (set DATABASE_URL)")
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _command(migration: Migration) -> list[str]:
    return [sys.executable, str(ROOT / "manage.py"), "rollback", str(migration.pk), "--wait", "--json"]


def _env() -> dict[str, str]:
    # No REDIS_URL: the rollback's jobs run in that process (the embedded default), nothing is queued.
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "config.test_settings", "DATABASE_URL": _database_url(),
            "REDIS_URL": ""}


def kill_after_first_batch(migration: Migration) -> int:
    """Start the rollback in a subprocess, SIGKILL it once a batch has committed; the links it left."""
    total = RecordLink.objects.filter(migration=migration).count()
    proc = subprocess.Popen(_command(migration), env=_env(), cwd=ROOT, stdout=subprocess.PIPE,  # noqa: S603 (our own manage.py)
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            if AuditEntry.objects.filter(migration=migration, run__kind=Run.Kind.ROLLBACK).exists():
                break
            if proc.poll() is not None:
                pytest.fail(f"the rollback ended before it could be killed: {proc.stderr.read()[-2000:]!r}")
            time.sleep(0.01)
        else:
            pytest.fail("no rollback batch committed within 60 s")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
    left = RecordLink.objects.filter(migration=migration).count()
    assert 0 < left < total, "the kill must land midway for this test to mean anything"
    return left


def run_again(migration: Migration) -> dict[str, Any]:
    done = subprocess.run(_command(migration), env=_env(), cwd=ROOT, capture_output=True, text=True, timeout=300,  # noqa: S603
                          check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def no_step_twice(migration: Migration) -> None:
    ops = AuditEntry.objects.filter(migration=migration, run__kind=Run.Kind.ROLLBACK,
                                    op__in=[AuditEntry.Op.DELETE, AuditEntry.Op.RESTORE])
    keys = list(ops.values_list("destination_module", "destination_id"))
    assert len(keys) == len(set(keys))


def test_zoho_engine_load_rolled_back_and_killed_midway_ends_as_before(
        catalog: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from migrator import jobs

    monkeypatch.setattr(jobs, "enqueue_units", lambda run, unit_ids: 0)   # the test drives the load runs
    with served_zoho() as (sim, url):
        before = zoho_state(sim)
        migration = engine_load(url=url, sim=sim, out=tmp_path / "dentrix", patients=40)
        assert RecordLink.objects.filter(migration=migration).exclude(destination_id="").count() > 100
        assert zoho_state(sim) != before
        sim.faults.update({"latency_ms": 20})   # each batch takes a while: the kill lands midway

        kill_after_first_batch(migration)
        result = run_again(migration)

        assert result["state"] == Run.State.COMPLETED
        assert result["migration_state"] == Migration.State.ROLLED_BACK
        assert zoho_state(sim) == before
        assert not RecordLink.objects.filter(migration=migration).exclude(destination_id="").exists()
        no_step_twice(migration)


def test_freshsales_rollback_killed_midway_restores_records_notes_and_documents() -> None:
    with served_freshsales() as (sim, url):
        migration = migration_to("freshsales", url, sim)
        loader = Loader(migration)
        [existing] = loader.dest.insert("contacts", [{"last_name": "Existing", "mobile_number": "+1 212 555 0000"}])
        before = freshsales_state(sim)
        sim.clock.advance(2)
        account = loader.create("sales_accounts", "clinic", "C1", {"name": "Smile Clinic"})
        loader.create_many("contacts", "patient", [{"last_name": f"P{i}", "sales_account_id": account}
                                                   for i in range(180)])
        loader.update_existing("contacts", "patient", "P-existing", existing.id,
                               {"mobile_number": "+1 212 555 1111", "job_title": "Patient"})
        loader.child("notes", "note", "N1", {"description": "called back", "targetable_type": "Contact",
                                             "targetable_id": existing.id},
                     parent_module="contacts", parent_id=existing.id)
        loader.attach("IMG1", "contacts", existing.id, b"%PDF-1.4 x-ray")
        loader.close()
        assert freshsales_state(sim) != before

        kill_after_first_batch(migration)
        result = run_again(migration)

        assert result["migration_state"] == Migration.State.ROLLED_BACK
        assert result["needs_review"] == 0 and result["failed"] == 0
        after = freshsales_state(sim)
        assert after["records"] == before["records"]
        assert not after["recycle_bin"]                    # hard deletes: nothing waits in the recycle bin
        no_step_twice(migration)
