"""A whole migration as one script of service calls — what the demo, the end-to-end tests and the benchmarks run.
Every step is the same service staff trigger from the admin; nothing here bypasses a gate."""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from migrator.models import DestinationUser, Migration, ObjectMapping, OwnerMatch, Run, SchemaPlanItem
from migrator.services.checklist import checklist_apply, checklist_build
from migrator.services.connections import destination_connector
from migrator.services.discovery import migration_discover
from migrator.services.lifecycle import migration_transition
from migrator.services.mapping import mapping_confirm_above, mapping_propose, mapping_reject
from migrator.services.owners import (
    migration_set_fallback_owner,
    owner_match_assign_fallback,
    owner_matches_confirm_exact,
    owner_matches_propose,
    owners_extract,
)
from migrator.services.preflight import preflight_run
from migrator.services.runs import run_drive, run_start
from migrator.services.sample import sample_approve

State = Migration.State
# Rows whose destination structure no API creates (Zoho subforms): they load once the customer's admin has built it
# from the schema checklist. Unattended (no `customer_admin`), staff reject them.
MANUAL_STRATEGIES = ("subform",)

Say = Callable[[str], None]
# Stands in for the customer's CRM admin: builds the checklist's manual items (a subform and its fields) by hand.
CustomerAdmin = Callable[[Migration, list[SchemaPlanItem]], None]


@dataclass
class Autopilot:
    migration: Migration
    user: AbstractBaseUser
    say: Say = print
    threshold: float = 0.9
    confirmed: list[str] = field(default_factory=list)
    customer_admin: CustomerAdmin | None = None

    def discover(self, *, routing_as_of: date | None = None) -> None:
        if routing_as_of:
            Migration.objects.filter(pk=self.migration.pk).update(routing_as_of=routing_as_of)
            self.migration.refresh_from_db()
        result = migration_discover(migration=self.migration, user=self.user)
        objects = getattr(result, "objects", [])
        self.say(f"Discovered {len(objects)} objects, {sum(o.record_count for o in objects)} records.")

    def map(self) -> None:
        dest = destination_connector(self.migration.destination_connection)
        try:
            summary = mapping_propose(migration=self.migration, destination=dest)
        finally:
            dest.close()
        if self.customer_admin is None:
            manual = ObjectMapping.objects.filter(migration=self.migration, strategy__in=MANUAL_STRATEGIES)
            for om in manual:
                self.say(f"  left out: no API builds its destination and no admin follows the checklist: {om}")
            mapping_reject(user=self.user, object_mappings=list(manual))
        confirmed = mapping_confirm_above(migration=self.migration, threshold=self.threshold, user=self.user)
        self.say(f"Proposed {summary.field_maps_created} field maps; confirmed {len(confirmed.object_mappings)} "
                 f"object mappings and {len(confirmed.field_maps)} field maps at confidence ≥ {self.threshold}.")
        for s in summary.suggestions:
            if s.get("confidence", 0) >= self.threshold and not s.get("create"):
                self.confirmed.append(f"{s['module']}.{s['target']} ← {s['source']} ({s['confidence']:.2f})")
        for line in self.confirmed:
            self.say(f"  suggestion confirmed: {line}")
        # Whatever stayed below the threshold is rejected here so the demo can go on; staff would review it.
        from migrator.models import FieldMap, ReviewStatus

        below = FieldMap.objects.filter(object_mapping__migration=self.migration, status=ReviewStatus.PROPOSED)
        if below.exists():
            self.say(f"  {below.count()} suggestion(s) below the threshold left for review (rejected for the demo).")
            mapping_reject(user=self.user, field_maps=list(below))
        migration_transition(migration=self.migration, to_state=State.MAPPED, user=self.user)

    def owners(self, *, fallback_email: str | None = None) -> None:
        owners_extract(migration=self.migration)
        owner_matches_propose(migration=self.migration)
        exact = owner_matches_confirm_exact(migration=self.migration, user=self.user)
        users = DestinationUser.objects.filter(connection=self.migration.destination_connection, active=True)
        fallback = users.filter(email__iexact=fallback_email).first() if fallback_email else users.first()
        if fallback is None:
            raise ValueError("the destination has no active user to be the fallback owner")
        migration_set_fallback_owner(migration=self.migration, destination_user=fallback, user=self.user,
                                     assign_unmatched=True)
        rest = OwnerMatch.objects.filter(migration=self.migration).exclude(status=OwnerMatch.Status.CONFIRMED)
        assigned = owner_match_assign_fallback(matches=list(rest), user=self.user)
        self.say(f"Owners: {exact} matched by email, {assigned} assigned to the fallback owner {fallback.email}.")
        migration_transition(migration=self.migration, to_state=State.OWNERS_CONFIRMED, user=self.user)

    def schema(self) -> None:
        dest = destination_connector(self.migration.destination_connection)
        try:
            checklist_build(migration=self.migration, destination=dest)
            applied = checklist_apply(migration=self.migration, destination=dest)
            if applied.manual and self.customer_admin is not None:
                self.say(f"The customer's admin builds {len(applied.manual)} checklist item(s) by hand.")
                self.customer_admin(self.migration, applied.manual)
            report = preflight_run(migration=self.migration, destination=dest)
        finally:
            dest.close()
        self.say(f"Schema checklist applied: {len(applied.created)} custom fields created; "
                 f"preflight: {len(report.problems)} problem(s).")
        for problem in report.problems:
            self.say(f"  preflight: {problem}")
        migration_transition(migration=self.migration, to_state=State.SCHEMA_VERIFIED, user=self.user)

    def run(self, kind: str) -> Run:
        run = run_start(migration=self.migration, kind=kind, user=self.user)
        run = run_drive(run_id=run.pk)
        self.migration.refresh_from_db()
        if run.state != Run.State.COMPLETED:
            raise RuntimeError(f"{kind} run {run.pk} ended {run.state}: {run.error}")
        return run

    def approve(self) -> None:
        sample_approve(migration=self.migration, user=self.user)


def export_touch(path: Path, *, file_name: str, id_column: str, column: str, share: float, seed: int = 7) -> int:
    """Change `share` of the rows of one export file (what the practice does during cutover); returns how many."""
    target = path / file_name
    with target.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
        fields = list(rows[0].keys()) if rows else []
    rng = random.Random(seed)  # noqa: S311 — which rows change is a demo choice, not a secret
    chosen = rng.sample(range(len(rows)), max(1, round(len(rows) * share))) if rows else []
    for index in chosen:
        rows[index][column] = f"{rows[index][column]} (updated)".strip()
    with target.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return len(chosen)


def manifest_of(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    return data
