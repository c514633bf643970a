"""Every platform pair maps a generated export with no manual edit: the default field maps name the export's real
columns, propose + confirm gives a MAPPED gate that passes against the simulated destination, and the suggester's
choices for the remaining fields carry confidences.

No row is rejected: every seed row maps. Subform rows pass this gate: their subform is the customer admin's manual
checklist item, which the schema gate (preflight) waits for."""

from __future__ import annotations

import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connectors.simulators.common import start_server
from connectors.sources.generate import generate
from migrator.models import (
    DiscoveredObject,
    FieldMap,
    MappingStrategy,
    Migration,
    ObjectMapping,
    Origin,
    ReviewStatus,
)
from migrator.services.clients import migration_create, pair_by_slug
from migrator.services.connections import destination_connector
from migrator.services.discovery import migration_discover
from migrator.services.lifecycle import migration_transition
from migrator.services.mapping import (
    NO_CUSTOM_FIELD_MODULES,
    SOURCE_TIME_FIELD,
    mapping_confirm_above,
    mapping_problems,
    mapping_propose,
)
from migrator.services.mapping_defaults import default_fields
from migrator.services.plan import SOURCE_ID_LABELS
from tests.factories import StaffUserFactory

PAIRS = ["dentrix:zoho-crm", "drdentes:zoho-crm", "drdentes:freshsales", "dental-exec:zoho-crm",
         "dent-o-soft:zoho-crm"]
KEYED = {MappingStrategy.RECORDS, MappingStrategy.ROUTED_RECORDS, MappingStrategy.CUSTOM_MODULE}


@pytest.fixture(scope="module")
def zoho() -> Iterator[dict[str, Any]]:
    from connectors.simulators.zoho.app import ZohoSimulator
    from connectors.simulators.zoho.state import SimConfig

    sim = ZohoSimulator(SimConfig(edition="enterprise", users=5))
    handle = start_server(sim)
    cfg = sim.state.config
    yield {"config": {"api_base": handle.url, "accounts_url": handle.url, "content_url": handle.url},
           "secrets": {"client_id": cfg.client_id, "client_secret": cfg.client_secret,
                       "refresh_token": cfg.refresh_token}}
    handle.stop()


@pytest.fixture(scope="module")
def freshsales() -> Iterator[dict[str, Any]]:
    from connectors.simulators.freshsales.app import FreshsalesSimulator

    sim = FreshsalesSimulator(plan="enterprise")
    handle = start_server(sim)
    yield {"config": {"bundle_url": handle.url.rstrip("/") + "/crm/sales/api/", "plan": "enterprise"},
           "secrets": {"api_key": sim.api_key}}
    handle.stop()


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("exports")
    out = {}
    for system in {p.split(":")[0] for p in PAIRS}:
        out[system] = root / system
        generate(system, patients=30, seed=7, out=out[system])
    return out


def _proposed(pair_slug: str, exports: dict[str, Path], dest: dict[str, Any]) -> tuple[Migration, Any]:
    system = pair_slug.split(":")[0]
    migration = migration_create(client_name=f"Pairs {pair_slug}", pair=pair_by_slug(pair_slug),
                                 source_config={"path": str(exports[system])}, destination_config=dest["config"],
                                 destination_secrets=dest["secrets"], edition="enterprise", users=5)
    migration_discover(migration=migration)
    connector = destination_connector(migration.destination_connection)
    summary = mapping_propose(migration=migration, destination=connector)
    return migration, (connector, summary)


def _placeholders(spec: dict[str, Any]) -> list[str]:
    names = list(spec.get("fields") or [])
    names += [spec[k] for k in ("time_field", "hour_field", "minute_field", "plus_minutes_field") if spec.get(k)]
    if spec.get("kind") == "template":
        names += [n for _, n, _, _ in string.Formatter().parse(spec["template"]) if n]
    return names


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("pair_slug", PAIRS)
def test_a_generated_export_maps_with_no_manual_edit_and_passes_the_mapped_gate(
    pair_slug: str, catalog: None, exports: dict[str, Path], zoho: dict[str, Any], freshsales: dict[str, Any],
) -> None:
    migration, (connector, summary) = _proposed(pair_slug, exports, freshsales if "freshsales" in pair_slug else zoho)
    user = StaffUserFactory()
    try:
        mapping_confirm_above(migration=migration, threshold=0.0, user=user)

        assert mapping_problems(migration, connector) == []
        migration_transition(migration=migration, to_state=Migration.State.MAPPED, user=user)
        migration.refresh_from_db()
        assert migration.state == Migration.State.MAPPED
    finally:
        connector.close()

    # Every row that creates records is keyed on the pair's unique source-id field, so re-runs cannot duplicate
    # (modules that cannot hold custom fields are written through intents instead).
    unkeyable = NO_CUSTOM_FIELD_MODULES.get(pair_slug.split(":")[1], frozenset())
    for om in ObjectMapping.objects.filter(migration=migration, status=ReviewStatus.CONFIRMED, strategy__in=KEYED)\
            .exclude(destination_module__in=unkeyable):
        mapped = set(om.field_maps.values_list("destination_field", flat=True))
        assert mapped & set(SOURCE_ID_LABELS), f"{pair_slug} row {om.catalog_row.position} {om.destination_module}"

    # Records keep the source's last-modified time in a custom date-time field created by the schema checklist
    # (the CRM stamps its own times on import), wherever the source object has one and the module takes fields.
    label, api_name = SOURCE_TIME_FIELD[pair_slug.split(":")[1]]
    modified = {o.key: o.modified_field for o in DiscoveredObject.objects.filter(migration=migration)}
    for om in ObjectMapping.objects.filter(migration=migration, status=ReviewStatus.CONFIRMED, strategy__in=KEYED):
        fm = om.field_maps.filter(destination_field=api_name).first()
        elsewhere = om.field_maps.filter(source_field=modified.get(om.source_object)).exclude(
            destination_field=api_name).exists()   # a call's time is its start: already carried
        if modified.get(om.source_object) and om.destination_module not in unkeyable and not elsewhere:
            assert fm is not None, f"{pair_slug} {om.source_object} → {om.destination_module}"
            assert fm.source_field == modified[om.source_object]
            assert fm.create_field and fm.create_spec["type"] == "datetime" and fm.create_spec["label"] == label
        else:
            assert fm is None

    # Suggestions for what the defaults leave out carry a confidence between 0 and 1.
    suggested = FieldMap.objects.filter(object_mapping__migration=migration, origin=Origin.SUGGESTED)
    assert all(0.0 <= fm.confidence <= 1.0 for fm in suggested)
    assert all(0.0 <= s["confidence"] <= 1.0 for s in summary.suggestions)


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("pair_slug", PAIRS)
def test_default_field_maps_name_columns_the_generated_export_really_has(
    pair_slug: str, catalog: None, exports: dict[str, Path], zoho: dict[str, Any], freshsales: dict[str, Any],
) -> None:
    migration, (connector, _) = _proposed(pair_slug, exports, freshsales if "freshsales" in pair_slug else zoho)
    connector.close()
    columns = {o.key: {f.name for f in o.fields.all()}
               for o in DiscoveredObject.objects.filter(migration=migration).prefetch_related("fields")}
    unknown = []
    for fm in FieldMap.objects.filter(object_mapping__migration=migration, origin=Origin.CATALOG):
        objects = fm.object_mapping.source_objects
        known = set(columns.get(objects[0], set()))
        known |= {f"{o}.{c}" for o in objects[1:] for c in columns.get(o, set())}
        for name in [fm.source_field, *_placeholders(fm.transform or {})]:
            if name and name not in known:
                unknown.append(f"{fm.object_mapping.source_label}: {name}")
    assert unknown == []


@pytest.mark.parametrize("pair_slug", PAIRS)
def test_every_pair_has_a_default_field_map_file(pair_slug: str) -> None:
    source, destination = pair_slug.split(":")
    assert default_fields(source, destination) is not None
