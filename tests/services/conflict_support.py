"""Shared by the conflict tests: a small Dentrix export loaded into the Zoho simulator (over HTTP) by the real engine,
then records edited in the CRM and changed in the export, so the real delta opens real conflicts."""

from __future__ import annotations

import csv
import uuid
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model

from connectors.simulators.zoho.app import ZohoSimulator
from connectors.simulators.zoho.records import edit_as_user
from connectors.sources.generate import generate
from migrator.models import Migration, ObjectMapping, RecordLink, ReviewStatus, Run
from migrator.services.autopilot import Autopilot
from migrator.services.clients import migration_create, pair_by_slug
from migrator.services.mapping import mapping_reject
from migrator.services.runs import run_drive, run_start

MAIN_RULE = "no_treatment_18_months"   # active patients → Contacts, lapsed → Leads


def loaded_migration(*, sim: ZohoSimulator, url: str, out: Path, patients: int = 30,
                     keep: Iterable[str] = ()) -> Migration:
    """Generate, discover, map (the patients' main routing only, plus the mappings of the `keep` source objects),
    owners, schema, sample, approve, full load."""
    manifest = generate("dentrix", patients=patients, seed=5, out=out)
    cfg = sim.state.config
    migration = migration_create(
        client_name=f"Conflicts {uuid.uuid4().hex[:8]}", pair=pair_by_slug("dentrix:zoho-crm"),
        source_config={"path": str(out)},
        destination_config={"api_base": url, "accounts_url": url, "content_url": url, "redis_url": None,
                            "budget_key": f"conflicts-{uuid.uuid4().hex}"},
        destination_secrets={"client_id": cfg.client_id, "client_secret": cfg.client_secret,
                             "refresh_token": cfg.refresh_token},
        edition="enterprise", users=20, sample_size=10,
    )
    staff, _ = get_user_model().objects.get_or_create(username="conflict-ops", defaults={"is_staff": True})
    pilot = Autopilot(migration=migration, user=staff, say=lambda _line: None, threshold=0.9)
    pilot.discover(routing_as_of=date.fromisoformat(str(manifest["now"])[:10]))
    pilot.map()
    others = [m for m in ObjectMapping.objects.filter(migration=migration, status=ReviewStatus.CONFIRMED)
              if m.source_object not in keep
              and (m.source_object != "patient" or (m.route or {}).get("rule") != MAIN_RULE)]
    mapping_reject(user=staff, object_mappings=others)
    pilot.owners()
    pilot.schema()
    drive(run_start(migration=migration, kind="sample", user=staff))
    pilot.approve()
    full = drive(run_start(migration=migration, kind="full", user=staff))
    assert full.state == Run.State.COMPLETED, full.error
    migration.refresh_from_db()
    return migration


def drive(run: Run) -> Run:
    """Work the run here (as `--wait` does) and run what its completion hooks on commit (the migration's state)."""
    from django.db import transaction

    done = run_drive(run_id=run.pk, max_wait=120)
    assert done.state == Run.State.COMPLETED, done.error
    # Outside a committing transaction the completion hook is not called for us.
    from migrator.services.runs import run_completed

    if transaction.get_connection().in_atomic_block:
        run_completed(run_id=done.pk)
    return done


def contacts(migration: Migration, n: int) -> list[RecordLink]:
    """`n` patients loaded as Contacts."""
    links = list(RecordLink.objects.filter(migration=migration, source_object="patient", destination_module="Contacts",
                                           role=RecordLink.Role.RECORD).exclude(destination_id="").order_by("id")[:n])
    assert len(links) == n
    return links


def edit_in_crm(sim: ZohoSimulator, link: RecordLink, values: dict[str, Any]) -> None:
    """A person edits the record in the CRM, a little after our write (Modified_Time is in whole seconds)."""
    sim.clock.advance(2)
    assert edit_as_user(sim.state, link.destination_module, link.destination_id, values) is not None


def change_in_source(out: Path, source_ids: Iterable[str], *, column: str = "address_line1",
                     value: str = "", file: str = "v_patient.csv", id_column: str = "patient_id") -> None:
    """The practice changes these records in the export (the CSV rows are rewritten)."""
    wanted = set(source_ids)
    path = out / file
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        if row[id_column] in wanted:
            row[column] = value or f"{row[column]} Apt {uuid.uuid4().hex[:4]}".strip()
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def delta(migration: Migration) -> Run:
    return drive(run_start(migration=migration, kind="delta"))
