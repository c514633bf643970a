"""Shared by the rollback tests: simulators served over HTTP, migrations pointed at them, a tiny "migration" that
writes through the connector and records RecordLinks as the pipeline does, and the destination's state to compare."""

from __future__ import annotations

import io
import json
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from connectors.base import DestinationConnector
from connectors.simulators.common import start_server
from connectors.simulators.freshsales.app import BASE, DEFAULT_API_KEY, FreshsalesSimulator
from connectors.simulators.zoho.app import ZohoSimulator
from connectors.simulators.zoho.state import SimConfig
from migrator.models import Migration, RecordLink, Run
from migrator.services.connections import destination_connector
from tests.factories import DestinationPlatformFactory, MigrationFactory, PlatformPairFactory, SourcePlatformFactory

# Set by the destination on every write; never part of "the same state".
VOLATILE = {"Modified_Time", "Modified_By", "updated_at", "Created_Time", "created_at", "Created_By", "Owner",
            "Last_Activity_Time", "last_contacted", "updated_by", "creater_id", "updater_id"}


@contextmanager
def served_zoho() -> Iterator[tuple[ZohoSimulator, str]]:
    sim = ZohoSimulator(SimConfig(edition="enterprise", users=20))
    handle = start_server(sim)
    try:
        yield sim, handle.url
    finally:
        handle.stop()


@contextmanager
def served_freshsales() -> Iterator[tuple[FreshsalesSimulator, str]]:
    sim = FreshsalesSimulator()
    sim.state.job_seconds = 0.05
    handle = start_server(sim)
    try:
        yield sim, handle.url
    finally:
        handle.stop()


def migration_to(slug: str, url: str, sim: Any, *, state: str = Migration.State.LOADED) -> Migration:
    """A migration whose destination connection points at the simulator at `url` (in-process budget)."""
    destination = DestinationPlatformFactory(slug=slug, name=slug)
    pair = PlatformPairFactory(source=SourcePlatformFactory(), destination=destination)
    migration: Migration = MigrationFactory(pair=pair, state=state)
    conn = migration.destination_connection
    if slug == "zoho-crm":
        cfg = sim.state.config
        conn.config = {"api_base": url, "accounts_url": url, "content_url": url, "redis_url": None,
                       "budget_key": f"rollback-test-{uuid.uuid4().hex}", "backoff_base": 0.01, "backoff_cap": 0.05,
                       "read_timeout": 10.0}
        conn.set_secrets({"client_id": cfg.client_id, "client_secret": cfg.client_secret,
                          "refresh_token": cfg.refresh_token})
    else:
        conn.config = {"bundle_url": f"{url}{BASE}/", "redis_url": None,
                       "budget_key": f"rollback-test-{uuid.uuid4().hex}", "retry_base_seconds": 0.01,
                       "read_timeout": 10.0}
        conn.set_secrets({"api_key": DEFAULT_API_KEY})
    conn.save()
    return migration


class Loader:
    """Writes like a migration does and keeps the RecordLinks the pipeline would keep."""

    def __init__(self, migration: Migration, run: Run | None = None) -> None:
        self.migration = migration
        self.run = run or Run.objects.create(migration=migration, kind=Run.Kind.FULL, state=Run.State.COMPLETED)
        self.dest: DestinationConnector = destination_connector(migration.destination_connection)

    def close(self) -> None:
        self.dest.close()

    def _link(self, **kw: Any) -> RecordLink:
        return RecordLink.objects.create(migration=self.migration, created_run=self.run, last_run=self.run, **kw)

    def create(self, module: str, source_object: str, source_id: str, payload: dict[str, Any]) -> str:
        [r] = self.dest.insert(module, [payload])
        assert r.ok, (r.code, r.field, r.message)
        self._link(source_object=source_object, source_id=source_id, destination_module=module,
                   destination_id=r.id, destination_modified_at=r.modified_at)
        return r.id

    def create_many(self, module: str, source_object: str, payloads: list[dict[str, Any]]) -> list[str]:
        results = self.dest.insert(module, payloads)
        assert all(r.ok for r in results)
        RecordLink.objects.bulk_create([
            RecordLink(migration=self.migration, source_object=source_object, source_id=f"{source_object}-{r.id}",
                       destination_module=module, destination_id=r.id, destination_modified_at=r.modified_at,
                       created_run=self.run, last_run=self.run)
            for r in results])
        return [r.id for r in results]

    def update_existing(self, module: str, source_object: str, source_id: str, dest_id: str,
                        payload: dict[str, Any]) -> None:
        [before] = self.dest.get(module, [dest_id])
        image = {k: before.data.get(k) for k in payload}
        [r] = self.dest.update(module, [{"id": dest_id, **payload}])
        assert r.ok, (r.code, r.message)
        self._link(source_object=source_object, source_id=source_id, destination_module=module,
                   destination_id=dest_id, created_by_us=False, before_image=image,
                   destination_modified_at=r.modified_at)

    def merge(self, module: str, source_object: str, source_id: str, dest_id: str, payload: dict[str, Any]) -> None:
        [r] = self.dest.update(module, [{"id": dest_id, **payload}])
        assert r.ok, (r.code, r.message)
        self._link(role=RecordLink.Role.MERGE, source_object=source_object, source_id=source_id,
                   destination_module=module, destination_id=dest_id, destination_modified_at=r.modified_at)

    def child(self, module: str, source_object: str, source_id: str, payload: dict[str, Any], *,
              parent_module: str, parent_id: str) -> str:
        [r] = self.dest.insert(module, [payload])
        assert r.ok, (r.code, r.field, r.message)
        self._link(role=RecordLink.Role.CHILD, source_object=source_object, source_id=source_id,
                   destination_module=module, destination_id=r.id, parent_module=parent_module,
                   parent_id=parent_id, destination_modified_at=r.modified_at)
        return r.id

    def attach(self, source_id: str, parent_module: str, parent_id: str, data: bytes) -> str:
        r = self.dest.attach(parent_module, parent_id, file_name=f"{source_id}.pdf", stream=io.BytesIO(data),
                             size=len(data), content_type="application/pdf")
        assert r.ok, (r.code, r.message)
        self._link(role=RecordLink.Role.CHILD, source_object="image", source_id=source_id,
                   destination_module="Attachments", destination_id=r.id, parent_module=parent_module,
                   parent_id=parent_id, destination_modified_at=r.modified_at)
        return r.id


def _clean(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in VOLATILE and v not in (None, "", [], {})}


def zoho_state(sim: ZohoSimulator) -> dict[str, Any]:
    """Records of every module and the attachments, without what the destination stamps on each write."""
    dump = json.loads(json.dumps(sim.state.dump(), default=str))
    records = {module: {rid: _clean(rec) for rid, rec in recs.items()} for module, recs in dump["records"].items()}
    files = {aid: _clean(a) for aid, a in dump["attachments"].items()}
    return {"records": {m: r for m, r in records.items() if r}, "attachments": files}


def freshsales_state(sim: FreshsalesSimulator) -> dict[str, Any]:
    dump = json.loads(json.dumps(sim.state.dump(), default=str))
    records = {res: {str(r["id"]): _clean(r) for r in recs} for res, recs in dump["records"].items()}
    return {"records": {m: r for m, r in records.items() if r},
            "recycle_bin": {m: r for m, r in dump["recycle_bin"].items() if r}}


def advance(sim: Any, seconds: float = 2.0) -> None:
    """Move the simulator's clock so a later write has a later modified time (times are in whole seconds)."""
    sim.clock.advance(seconds)


def later(a: datetime | None, b: datetime | None) -> bool:
    return a is not None and b is not None and a > b


def engine_load(*, url: str, sim: ZohoSimulator, out: Any, patients: int = 20) -> Migration:
    """A Dentrix → Zoho migration taken through the real lifecycle and engine (sample, approve, full), as the
    lead's flow does. The caller stubs job dispatch so the runs are driven here."""
    from django.contrib.auth import get_user_model

    from connectors.sources.generate import generate
    from migrator.models import DestinationUser, FieldMap, OwnerMatch, ReviewStatus
    from migrator.services.checklist import checklist_apply, checklist_build
    from migrator.services.clients import migration_create, pair_by_slug
    from migrator.services.discovery import migration_discover
    from migrator.services.lifecycle import migration_transition
    from migrator.services.mapping import mapping_confirm_above, mapping_propose
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

    generate("dentrix", patients=patients, seed=1, out=out)
    cfg = sim.state.config
    user, _ = get_user_model().objects.get_or_create(username="rollback-e2e", defaults={"is_staff": True})
    m = migration_create(
        client_name=f"Rollback {uuid.uuid4().hex[:8]}", pair=pair_by_slug("dentrix:zoho-crm"),
        source_config={"path": str(out)},
        destination_config={"api_base": url, "accounts_url": url, "content_url": url, "redis_url": None,
                            "budget_key": f"rollback-test-{uuid.uuid4().hex}", "backoff_base": 0.01,
                            "backoff_cap": 0.05},
        destination_secrets={"client_id": cfg.client_id, "client_secret": cfg.client_secret,
                             "refresh_token": cfg.refresh_token},
        edition="enterprise", users=20)
    migration_discover(migration=m)
    dest = destination_connector(m.destination_connection)
    try:
        mapping_propose(migration=m, destination=dest)
        mapping_confirm_above(migration=m, threshold=0.0, user=user)
        migration_transition(migration=m, to_state=Migration.State.MAPPED, user=user)
        owners_extract(migration=m)
        owner_matches_propose(migration=m)
        owner_matches_confirm_exact(migration=m, user=user)
        fallback = DestinationUser.objects.filter(connection=m.destination_connection, active=True).first()
        migration_set_fallback_owner(migration=m, destination_user=fallback, user=user, assign_unmatched=True)
        owner_match_assign_fallback(matches=OwnerMatch.objects.filter(migration=m).exclude(status="confirmed"),
                                    user=user)
        migration_transition(migration=m, to_state=Migration.State.OWNERS_CONFIRMED, user=user)
        checklist_build(migration=m, destination=dest)
        checklist_apply(migration=m, destination=dest)
        report = preflight_run(migration=m, destination=dest)
        # The catalog moves under us: set aside field maps the destination cannot hold (not what is tested here).
        unfit = {int(n) for p in report.problems for n in re.findall(r"field map #(\d+)", p)}
        if unfit:
            FieldMap.objects.filter(pk__in=unfit).update(status=ReviewStatus.REJECTED)
            preflight_run(migration=m, destination=dest)
        migration_transition(migration=m, to_state=Migration.State.SCHEMA_VERIFIED, user=user)
    finally:
        dest.close()
    _set_aside_unplannable(m)
    sample = run_start(migration=m, kind="sample", user=user)
    sample = run_drive(run_id=sample.pk, max_wait=120)
    assert sample.state == Run.State.COMPLETED, sample.error
    sample_approve(migration=m, user=user)
    full = run_start(migration=m, kind="full", user=user)
    assert run_drive(run_id=full.pk, max_wait=300).state == Run.State.COMPLETED
    m.refresh_from_db()
    return m


def _set_aside_unplannable(migration: Migration) -> None:
    """Mappings whose parent the engine cannot find in the source (the catalog is still moving) are set aside."""
    from migrator.models import ObjectMapping, ReviewStatus
    from migrator.services.connections import source_connector
    from migrator.services.plan import CHILD_STRATEGIES, MERGE_STRATEGIES, PlanError, reference_field

    source = source_connector(migration.source_connection)
    try:
        objects = {o.name: o for o in source.discover()}
    finally:
        source.close()
    for m in ObjectMapping.objects.filter(migration=migration, status=ReviewStatus.CONFIRMED,
                                          strategy__in=MERGE_STRATEGIES | CHILD_STRATEGIES):
        try:
            reference_field(objects[m.source_object], m.parent_source_object)
        except (PlanError, KeyError):
            ObjectMapping.objects.filter(pk=m.pk).update(status=ReviewStatus.REJECTED)
