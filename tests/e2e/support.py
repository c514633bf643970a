"""What the end-to-end engine tests share: simulators served over real HTTP, a migration taken through the real
lifecycle (discover → map → owners → schema → sample → approve → full) with real RQ workers, and the per-object
accounting the tests assert on."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import django_rq
from django.contrib.auth import get_user_model

from connectors.simulators.common import start_server
from connectors.sources.generate import generate
from migrator.models import AuditEntry, Migration, ObjectMapping, RecordLink, ReviewStatus, Run, WorkUnit
from migrator.services.autopilot import Autopilot
from migrator.services.clients import migration_create, pair_by_slug
from migrator.services.connections import destination_connector
from migrator.services.mapping import mapping_propose, mapping_reject
from migrator.services.runs import run_start

DRDENTES_TOKEN = "e2e-drdentes-token"


@dataclass
class Destination:
    slug: str
    sim: Any
    url: str
    config: dict[str, Any]
    secrets: dict[str, str]


@contextmanager
def served_zoho(manifest: dict[str, Any] | None = None) -> Iterator[Destination]:
    """The Zoho CRM simulator (Enterprise, 20 users); the export's providers get CRM logins, as the demo does."""
    from connectors.simulators.zoho.app import ZohoSimulator
    from connectors.simulators.zoho.state import SimConfig

    sim = ZohoSimulator(SimConfig(edition="enterprise", users=20))
    for user, crm in zip(sim.state.users[1:], (manifest or {}).get("crm_users", []), strict=False):
        user.update(email=crm["crm_email"], full_name=crm["name"])
    handle = start_server(sim)
    cfg = sim.state.config
    try:
        yield Destination(
            slug="zoho-crm", sim=sim, url=handle.url,
            config={"api_base": handle.url, "accounts_url": handle.url, "content_url": handle.url},
            secrets={"client_id": cfg.client_id, "client_secret": cfg.client_secret,
                     "refresh_token": cfg.refresh_token},
        )
    finally:
        handle.stop()


@contextmanager
def served_freshsales() -> Iterator[Destination]:
    from connectors.simulators.freshsales.app import BASE, FreshsalesSimulator

    sim = FreshsalesSimulator(plan="enterprise")
    sim.state.job_seconds = 0.05
    handle = start_server(sim)
    try:
        yield Destination(slug="freshsales", sim=sim, url=handle.url,
                          config={"bundle_url": f"{handle.url}{BASE}/", "plan": "enterprise"},
                          secrets={"api_key": sim.api_key})
    finally:
        handle.stop()


@contextmanager
def served_drdentes(export: Path) -> Iterator[str]:
    """The Dr.DENTES REST API simulator over the generated export; yields its base URL."""
    from connectors.simulators.drdentes.app import DrDentesSimulator

    handle = start_server(DrDentesSimulator(export, DRDENTES_TOKEN))
    try:
        yield handle.url
    finally:
        handle.stop()


def work(run: Run) -> Run:
    """Let real workers take the queued units (in-process mode already ran them)."""
    queue = django_rq.get_queue("migrations")
    if queue.is_async:
        django_rq.get_worker("migrations").work(burst=True)
    run.refresh_from_db()
    return run


@dataclass
class Loaded:
    migration: Migration
    staff: Any
    sample: Run
    full: Run


def load(*, pair: str, source_config: dict[str, Any], source_secrets: dict[str, str] | None = None,
         dest: Destination, as_of: date, sample_size: int = 20, reject: Iterable[int] = ()) -> Loaded:
    """One migration through the real lifecycle: sample, approval, full load (each run's units by RQ workers).
    `reject`: catalog positions staff reject before the autopilot confirms the rest (a re-proposal keeps them)."""
    migration = migration_create(
        client_name=f"E2E {pair}", pair=pair_by_slug(pair), source_config=source_config,
        source_secrets=source_secrets, destination_config=dest.config, destination_secrets=dest.secrets,
        edition="enterprise", users=20, sample_size=sample_size,
    )
    staff, _ = get_user_model().objects.get_or_create(username="e2e-ops", defaults={"is_staff": True})
    pilot = Autopilot(migration=migration, user=staff, say=lambda _line: None, threshold=0.9,
                      customer_admin=zoho_admin_builds(dest) if dest.slug == "zoho-crm" else None)
    pilot.discover(routing_as_of=as_of)
    if reject:
        dest_connector = destination_connector(migration.destination_connection)
        try:
            mapping_propose(migration=migration, destination=dest_connector)
        finally:
            dest_connector.close()
        rows = ObjectMapping.objects.filter(migration=migration, catalog_row__position__in=list(reject))
        mapping_reject(user=staff, object_mappings=list(rows))
    pilot.map()
    pilot.owners()
    if dest.slug == "freshsales":
        admin_creates_checklist_fields(migration, dest)
    pilot.schema()

    sample = work(run_start(migration=migration, kind="sample", user=staff))
    assert sample.state == Run.State.COMPLETED, unit_errors(sample)
    migration.refresh_from_db()
    assert migration.state == Migration.State.SAMPLE_LOADED
    pilot.approve()

    full = work(run_start(migration=migration, kind="full", user=staff))
    assert full.state == Run.State.COMPLETED, unit_errors(full)
    assert not WorkUnit.objects.filter(run=full).exclude(state=WorkUnit.State.DONE).exists()
    migration.refresh_from_db()
    assert migration.state == Migration.State.LOADED
    return Loaded(migration=migration, staff=staff, sample=sample, full=full)


# Catalog field types → what a Freshsales admin picks under Admin Settings (simulator's custom field types).
FRESHSALES_ADMIN_TYPES = {"textarea": "textarea", "integer": "number", "decimal": "number", "percent": "number",
                          "currency": "number", "picklist": "dropdown", "multiselect": "multi_select_dropdown",
                          "date": "date", "datetime": "date_time", "boolean": "checkbox"}


def zoho_admin_builds(dest: Destination) -> Any:
    """Zoho has no API for subforms (reference/zoho-crm-v8.md): the customer's admin adds each subform the schema
    checklist lists, with its fields, in the layout editor; here through the simulator's test-only endpoint."""
    import httpx

    from migrator.models import SchemaPlanItem

    def build(migration: Migration, items: list[SchemaPlanItem]) -> None:
        with httpx.Client(base_url=dest.url, timeout=10) as admin:
            for sub in (i for i in items if i.type == "subform"):
                fields = [{"label": i.label, "type": i.type, "picklist": list(i.picklist)}
                          for i in items if i.module == f"{sub.module} > {sub.label}"]
                response = admin.post(f"/__sim__/subforms/{sub.module}", json={"label": sub.label, "fields": fields})
                assert response.status_code == 201, response.text

    return build


def admin_creates_checklist_fields(migration: Migration, dest: Destination) -> None:
    """Freshsales has no API to create fields (reference/freshsales.md): the customer's admin follows the schema
    checklist by hand; here through the simulator's test-only endpoint that stands in for Admin Settings."""
    import httpx

    from migrator.models import SchemaPlanItem
    from migrator.services.checklist import checklist_build

    connector = destination_connector(migration.destination_connection)
    try:
        checklist_build(migration=migration, destination=connector)
    finally:
        connector.close()
    with httpx.Client(base_url=dest.url, timeout=10) as admin:
        for item in SchemaPlanItem.objects.filter(migration=migration, status=SchemaPlanItem.Status.PLANNED):
            assert not item.is_module, f"Freshsales cannot hold a new module: {item.label}"
            spec = {"label": item.label, "name": item.api_name, "type": FRESHSALES_ADMIN_TYPES.get(item.type, "text"),
                    "choices": list(item.picklist), "unique": item.unique}
            response = admin.post(f"/__sim__/fields/{item.module}", json=spec)
            assert response.status_code == 201, response.text


def unit_errors(run: Run) -> str:
    """Why a run did not complete: its own error and its units' (for assertion messages)."""
    units = WorkUnit.objects.filter(run=run).exclude(state=WorkUnit.State.DONE)
    return "; ".join([f"{run.state} {run.error}".strip()] + [
        f"unit {u.pk} {u.source_object} {u.state}: {u.last_error}" for u in units])


def rerun_full(loaded: Loaded) -> Run:
    Migration.objects.filter(pk=loaded.migration.pk).update(state=Migration.State.LOADING)
    again = work(run_start(migration=loaded.migration, kind="full", user=loaded.staff))
    assert again.state == Run.State.COMPLETED, unit_errors(again)
    return again


def export(system: str, out: Path, *, patients: int = 40, seed: int = 11) -> dict[str, Any]:
    return generate(system, patients=patients, seed=seed, out=out)


# --------------------------------------------------------------------------------------------------- accounting


def confirmed_mappings(migration: Migration) -> list[ObjectMapping]:
    return list(ObjectMapping.objects.filter(migration=migration, status=ReviewStatus.CONFIRMED)
                .select_related("catalog_row").order_by("catalog_row__position", "id"))


def outcomes(migration: Migration, mapping: ObjectMapping) -> dict[str, Counter[str]]:
    """Per source id of `mapping`, the final outcomes over the load runs (op or op:code), UNCHANGED skips left out."""
    rows = (AuditEntry.objects.filter(migration=migration, object_mapping=mapping)
            .exclude(error_code="UNCHANGED").values_list("source_id", "op", "error_code"))
    out: dict[str, Counter[str]] = {}
    for source_id, op, code in rows:
        out.setdefault(source_id, Counter())[f"{op}:{code}" if code else op] += 1
    return out


def summary(migration: Migration) -> list[str]:
    """A readable per-mapping tally (for assertion messages)."""
    lines = []
    for om in confirmed_mappings(migration):
        tally: Counter[str] = Counter()
        for per_id in outcomes(migration, om).values():
            tally.update(per_id)
        lines.append(f"{om.catalog_row.position:>2} {om.source_label[:30]:<30} → {om.destination_module:<16} "
                     f"{om.strategy:<16} {dict(tally)}")
    return lines


def links(migration: Migration, module: str, role: str = RecordLink.Role.RECORD) -> list[RecordLink]:
    return list(RecordLink.objects.filter(migration=migration, destination_module=module, role=role)
                .exclude(destination_id=""))
