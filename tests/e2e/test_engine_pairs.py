"""End to end, one test per seed pair besides Dentrix → Zoho (test_engine_dentrix_zoho.py): a generated sample export
(Dr.DENTES read through its REST API simulator) loaded over real HTTP into the seed's destination simulator through
the real lifecycle, the runs' work units taken by real RQ workers. Per pair:

- every confirmed seed row wrote what it promises (records, merged fields, notes, files) or, for rows that move no
  record (users, rebuild references), accounted each source record with its reason;
- per object, every source record ends created, skipped-with-reason or failed-with-reason in the full run's audit,
  each "created" has its RecordLink, and the destination holds exactly the records the links name;
- every lookup points at the parent's record (the one its RecordLink names), which exists in the simulator;
- every record with an owner field has the owner the owner matching resolves;
- one destination record per source id per module, and a second full run writes nothing new.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connectors.base import SourceRecord
from migrator.models import AuditEntry, MappingStrategy, ObjectMapping, RecordLink, ReviewStatus, Run, WorkUnit
from migrator.services import plan as plans
from migrator.services.connections import source_connector
from migrator.services.owners import owner_resolver
from tests.e2e import support

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Outcomes that are correct behaviour, each with its reason in the audit (anything else failing fails the test).
EXPECTED_SKIPS = {
    "ROUTED_OUT",             # archived duplicates: no routing rule loads them
    "NOT_MIGRATED",           # users (owner matching) and workflow/integration rows (rebuild reference)
    "FILE_TOO_LARGE",         # over the destination's file cap: listed for external storage
    "PARENT_IN_OTHER_MODULE",  # Contact-only fields of a patient who became a Lead (seed 000, row 6)
    "LOOKUP_IN_OTHER_MODULE",  # an invoice's optional Contact_Name when its patient became a Lead: loads without it
    "UNCHANGED",
}
EXPECTED_FAILURES = {
    "lookup_unresolved",      # the parent record was routed out (an archived duplicate's children)
    "PARENT_NOT_LOADED",
    "LOOKUP_IN_OTHER_MODULE",  # a Treatment's Patient looks up Contacts; a patient who became a Lead cannot be one
}
MISSING_PARENT = {"lookup_unresolved", "PARENT_NOT_LOADED"}
SOURCE_ID_FIELDS = ("Source_System_ID", "cf_source_system_id")


@contextmanager
def _pair(pair: str, export: Path, manifest: dict[str, Any]) -> Iterator[tuple[support.Destination, dict[str, Any],
                                                                               dict[str, str] | None]]:
    system, destination = pair.split(":")
    with ExitStack() as stack:
        dest = stack.enter_context(support.served_zoho(manifest) if destination == "zoho-crm"
                                   else support.served_freshsales())
        if system == "drdentes":
            url = stack.enter_context(support.served_drdentes(export))
            yield dest, {"base_url": url}, {"access_token": support.DRDENTES_TOKEN}
        else:
            yield dest, {"path": str(export)}, None


@pytest.mark.parametrize("pair", ["drdentes:zoho-crm", "dental-exec:zoho-crm", "dent-o-soft:zoho-crm",
                                  "drdentes:freshsales"])
def test_a_sample_export_loads_into_its_seed_destination_with_every_record_accounted_and_linked(
    pair: str, catalog: None, tmp_path: Path,
) -> None:
    manifest = support.export(pair.split(":")[0], tmp_path, patients=40, seed=11)
    with _pair(pair, tmp_path, manifest) as (dest, source_config, source_secrets):
        loaded = support.load(pair=pair, source_config=source_config, source_secrets=source_secrets, dest=dest,
                              as_of=date.fromisoformat(manifest["now"][:10]))
        migration = loaded.migration
        state = _State(dest)
        source = _source_records(migration)
        rows = support.confirmed_mappings(migration)
        assert {om.catalog_row.position for om in rows} == set(
            migration.pair.object_mappings.values_list("position", flat=True)), "a seed row was left out"

        _every_record_is_accounted(loaded, source, rows)
        _every_row_wrote_what_it_promises(migration, rows)
        _destination_holds_exactly_the_linked_records(migration, state)
        _lookups_point_at_their_parents(migration, state, source, rows)
        _owners_are_the_matched_ones(migration, state, source, rows)
        _folded_rows_hold_every_row_of_their_parent(pair, migration, state, source)
        if pair == "drdentes:freshsales":
            _billing_and_insurance_are_on_every_deal(migration, state, source)

        before = state.counts()
        again = support.rerun_full(loaded)
        assert state.counts() == before
        wrote = AuditEntry.objects.filter(run=again, op__in=[AuditEntry.Op.CREATE, AuditEntry.Op.UPDATE,
                                                             AuditEntry.Op.ATTACH])
        assert not wrote.exists(), list(wrote.values_list("source_object", "source_id", "op")[:10])


# --------------------------------------------------------------------------------------------------- the checks


def _every_record_is_accounted(loaded: support.Loaded, source: dict[str, dict[str, SourceRecord]],
                               rows: list[ObjectMapping]) -> None:
    """Per unit of the full run: the audit names every source record of its object once at least, each with an
    outcome, and every outcome other than a write carries a code and a reason."""
    migration, full = loaded.migration, loaded.full
    unit_mappings = ObjectMapping.objects.filter(pk__in=WorkUnit.objects.filter(run=full).values("object_mapping"))
    for om in unit_mappings:
        entries = list(AuditEntry.objects.filter(run=full, object_mapping=om))
        audited = {e.source_id.split("#")[0] for e in entries if e.source_id}
        ids = set(source[om.source_object])
        assert audited == ids, (f"row {om.catalog_row.position} {om.source_object}: {len(ids - audited)} "
                                f"unaccounted, {len(audited - ids)} unknown")
        tally = Counter(e.error_code or e.op for e in entries)
        for e in entries:
            if e.op in (AuditEntry.Op.SKIP, AuditEntry.Op.FAIL):
                assert e.error_code and e.error_message, e
                allowed = EXPECTED_SKIPS if e.op == AuditEntry.Op.SKIP else EXPECTED_FAILURES
                assert e.error_code in allowed, (om.catalog_row.position, e.source_object, e.error_code,
                                                 e.error_message, dict(tally))
        # A record the run left unchanged was written before: its link is there.
        unchanged = {e.source_id for e in entries if e.error_code == "UNCHANGED"}
        linked = set(RecordLink.objects.filter(migration=migration, source_object=om.source_object,
                                               source_id__in=unchanged).exclude(destination_id="")
                     .values_list("source_id", flat=True))
        assert unchanged <= linked
    # A record that failed because its parent is missing really has no parent in the destination.
    for e in AuditEntry.objects.filter(run=full, op=AuditEntry.Op.FAIL, error_code__in=MISSING_PARENT):
        ref = str(source[e.source_object][e.source_id].data.get(e.error_field) or "")
        parents = {om.parent_source_object if e.error_code == "PARENT_NOT_LOADED" else
                   _lookup_target(om, e.error_field) for om in rows if om.source_object == e.source_object} - {""}
        assert ref and parents, e
        assert not RecordLink.objects.filter(migration=migration, source_object__in=parents, source_id=ref,
                                             role=RecordLink.Role.RECORD).exclude(destination_id="").exists(), e


def _every_row_wrote_what_it_promises(migration: Any, rows: list[ObjectMapping]) -> None:
    links = RecordLink.objects.filter(migration=migration).exclude(destination_id="")
    for om in rows:
        where = f"row {om.catalog_row.position} {om.source_label} → {om.destination_module}"
        if om.strategy in plans.NO_WRITE_REASONS:
            continue  # accounted as NOT_MIGRATED above
        if om.strategy in plans.RECORD_STRATEGIES:
            assert links.filter(role=RecordLink.Role.RECORD, source_object=om.source_object,
                                destination_module=om.destination_module).exists(), where
        elif om.strategy in plans.MERGE_STRATEGIES:
            assert AuditEntry.objects.filter(migration=migration, object_mapping=om, op=AuditEntry.Op.UPDATE,
                                             run__kind=Run.Kind.FULL).exists() or links.filter(
                role=RecordLink.Role.MERGE, source_object=om.source_object).exists(), where
        elif om.strategy == MappingStrategy.NOTES:
            assert links.filter(role=RecordLink.Role.CHILD, source_object=om.source_object,
                                destination_module=om.destination_module).exists(), where
        elif om.strategy == MappingStrategy.ATTACHMENTS:
            assert links.filter(role=RecordLink.Role.CHILD, source_object=om.source_object).exists(), where
        else:
            pytest.fail(f"{where}: strategy {om.strategy} is not checked")


def _destination_holds_exactly_the_linked_records(migration: Any, state: _State) -> None:
    """The simulator started empty: each module holds the records our links name, one per source id."""
    links = RecordLink.objects.filter(migration=migration).exclude(destination_id="")
    for module, records in state.modules().items():
        if module == state.attachments_module:
            named = set(links.filter(role=RecordLink.Role.CHILD, destination_module__in=("Attachments",
                                                                                        "documents"))
                        .values_list("destination_id", flat=True))
        else:
            named = set(links.filter(destination_module=module).exclude(role=RecordLink.Role.MERGE)
                        .values_list("destination_id", flat=True))
        assert set(records) == named, f"{module}: {len(records)} in the CRM, {len(named)} linked"
        keys = Counter(state.source_id(r) for r in records.values())
        keys.pop("", None)
        assert all(n == 1 for n in keys.values()), f"{module}: duplicated source ids {keys.most_common(3)}"
    per_source = Counter(links.exclude(role=RecordLink.Role.MERGE).values_list("destination_module",
                                                                               "destination_id"))
    dup = [k for k, n in per_source.items() if n > 1]
    assert not dup, [(lk.source_object, lk.source_id, lk.role, lk.destination_module, lk.destination_id)
                     for lk in links.filter(destination_id__in=[d for _, d in dup[:3]])]
    # Merged fields landed on a record we hold.
    for link in links.filter(role=RecordLink.Role.MERGE):
        assert state.find(link.destination_id) is not None, link


def _lookups_point_at_their_parents(migration: Any, state: _State, source: dict[str, dict[str, SourceRecord]],
                                    rows: list[ObjectMapping]) -> None:
    record_links = {(lk.source_object, lk.source_id): lk.destination_id for lk in RecordLink.objects.filter(
        migration=migration, role=RecordLink.Role.RECORD).exclude(destination_id="")}
    checked = 0
    for om in rows:
        if om.strategy not in plans.RECORD_STRATEGIES:
            continue
        confirmed = list(om.field_maps.filter(status=ReviewStatus.CONFIRMED))
        lookups = [fm for fm in confirmed if (fm.transform or {}).get("kind") == "lookup"]
        line_maps = [fm for fm in confirmed if (fm.transform or {}).get("kind") == "line_items"]
        objects = _objects(migration) if line_maps else {}
        # Optional lookups left empty because the parent became a record the field cannot hold, as audited.
        dropped = set(AuditEntry.objects.filter(migration=migration, object_mapping=om, op=AuditEntry.Op.SKIP,
                                                error_code="LOOKUP_IN_OTHER_MODULE")
                      .values_list("source_id", "error_field"))
        for link in RecordLink.objects.filter(migration=migration, role=RecordLink.Role.RECORD,
                                              source_object=om.source_object,
                                              destination_module=om.destination_module).exclude(destination_id=""):
            record = state.records(om.destination_module)[link.destination_id]
            for fm in lookups:
                raw = str(source[om.source_object][link.source_id].data.get(fm.source_field) or "").strip()
                if not raw or (link.source_id, fm.destination_field) in dropped:
                    continue
                parent = record_links[(fm.transform["source_object"], raw)]
                assert parent in state.lookup_ids(record, fm.destination_field), (
                    f"row {om.catalog_row.position}: {om.destination_module}.{fm.destination_field} of "
                    f"{om.source_object} {link.source_id}")
                assert state.find(parent) is not None
                checked += 1
            for fm in line_maps:
                checked += _lines_are_the_billed_rows(objects, fm.transform, fm.destination_field, om.source_object,
                                                      link.source_id, record, source, record_links)
    # Notes and files hang on the parent record their link names, and that record exists.
    for link in RecordLink.objects.filter(migration=migration, role=RecordLink.Role.CHILD).exclude(destination_id=""):
        assert link.parent_id and state.find(link.parent_id) is not None, link
        child = state.find(link.destination_id)
        assert child is not None and state.parent_of(child) == link.parent_id, link
        checked += 1
    assert checked


def _lines_are_the_billed_rows(objects: dict[str, Any], spec: dict[str, Any], field: str, parent_object: str,
                               parent_id: str, record: dict[str, Any], source: dict[str, dict[str, SourceRecord]],
                               record_links: dict[tuple[str, str], str]) -> int:
    """An order's line items are the rows that name it (the treatments its invoice billed), in source order: each
    points at the loaded product of its code, at the row's amount."""
    ref = plans.reference_field(objects[spec["source_object"]], parent_object)
    billed = [r.data for r in source[spec["source_object"]].values() if str(r.data.get(ref) or "") == parent_id]
    held = record.get(field) or []
    assert len(held) == len(billed), (parent_object, parent_id, field)
    for row, line in zip(billed, held, strict=True):
        product = record_links[(spec["product_object"], str(row[spec["product_field"]]))]
        assert (line["Product_Name"]["id"], float(line["Quantity"])) == (product, 1.0), (parent_object, parent_id)
        assert Decimal(str(line["List_Price"])) == Decimal(str(row[spec["price_field"]])), (parent_object, parent_id)
    return len(held)


def _owners_are_the_matched_ones(migration: Any, state: _State, source: dict[str, dict[str, SourceRecord]],
                                 rows: list[ObjectMapping]) -> None:
    resolve = owner_resolver(migration=migration)
    checked = 0
    for om in rows:
        owner_maps = [fm for fm in om.field_maps.filter(status=ReviewStatus.CONFIRMED)
                      if (fm.transform or {}).get("kind") == "owner"]
        if om.strategy not in plans.RECORD_STRATEGIES or not owner_maps:
            continue
        for link in RecordLink.objects.filter(migration=migration, role=RecordLink.Role.RECORD,
                                              source_object=om.source_object,
                                              destination_module=om.destination_module).exclude(destination_id=""):
            record = state.records(om.destination_module)[link.destination_id]
            raw = source[om.source_object][link.source_id].data.get(owner_maps[0].source_field)
            assert state.owner(record) == resolve(str(raw) if raw not in (None, "") else None), link
            checked += 1
    assert checked


def _folded_rows_hold_every_row_of_their_parent(pair: str, migration: Any, state: _State,
                                                source: dict[str, dict[str, SourceRecord]]) -> None:
    """Rows folded into their parent (seed 002 row 12: a plan's tooth chart) land whole on the parent's record:
    every entry of the plan in one JSON list, and the latest recorded entry's condition."""
    if pair != "dental-exec:zoho-crm":
        return
    plans_by_id = {lk.source_id: lk.destination_id for lk in RecordLink.objects.filter(
        migration=migration, role=RecordLink.Role.RECORD, source_object="treatment_plan").exclude(destination_id="")}
    entries: dict[str, list[SourceRecord]] = {}
    for entry in source["tooth_chart"].values():
        entries.setdefault(str(entry.data.get("PlanID") or ""), []).append(entry)
    checked = 0
    for plan_id, dest_id in plans_by_id.items():
        record = state.records("Treatment_Plans")[dest_id]
        charted = entries.get(plan_id, [])
        if not charted:
            assert not record.get("Tooth_Chart_Snapshot"), plan_id
            continue
        snapshot = json.loads(record["Tooth_Chart_Snapshot"])
        assert sorted(str(e["ToothNumber"]) for e in snapshot) == sorted(str(e.data["ToothNumber"])
                                                                        for e in charted), plan_id
        latest = max(charted, key=lambda e: (e.data["RecordedDate"], e.source_id))
        assert snapshot[-1]["RecordedDate"] == latest.data["RecordedDate"].isoformat()
        assert record["Tooth_Condition"] == {"Restoration": "Filled"}.get(latest.data["Condition"],
                                                                          latest.data["Condition"])
        checked += 1
    assert checked


# --------------------------------------------------------------------------------------------------- reading


def _source_records(migration: Any) -> dict[str, dict[str, SourceRecord]]:
    connector = source_connector(migration.source_connection)
    try:
        return {o.name: {r.source_id: r for r in connector.iter_records(o.name) if isinstance(r, SourceRecord)}
                for o in connector.discover()}
    finally:
        connector.close()


def _billing_and_insurance_are_on_every_deal(migration: Any, state: _State,
                                             source: dict[str, dict[str, SourceRecord]]) -> None:
    """Seed 004, row 8: each treatment's deal holds the balance of the invoice that billed the treatment and the
    insurer and coverage of the treatment's patient, read here straight from the export."""
    insurance = {}
    for r in source["insurance"].values():
        insurance.setdefault(str(r.data["Hasta No"]), r.data)
    checked = 0
    for link in RecordLink.objects.filter(migration=migration, role=RecordLink.Role.RECORD, source_object="treatment",
                                          destination_module="deals").exclude(destination_id=""):
        treatment = source["treatment"][link.source_id].data
        deal = state.records("deals")[link.destination_id]
        held = {**deal, **(deal.get("custom_field") or {})}
        invoice = source["invoice"][str(treatment["Fatura No"])].data
        assert Decimal(str(held["cf_outstanding_balance"])) == Decimal(str(invoice["Kalan"])), link.source_id
        plan = insurance.get(str(treatment["Hasta No"]))
        assert held.get("cf_insurance_provider") == (plan["Kurum"] if plan else None), link.source_id
        if plan:
            assert Decimal(str(held["cf_coverage_percent"])) == Decimal(str(plan["Kapsam (%)"])), link.source_id
        checked += 1
    assert checked


def _objects(migration: Any) -> dict[str, Any]:
    connector = source_connector(migration.source_connection)
    try:
        return {o.name: o for o in connector.discover()}
    finally:
        connector.close()


def _lookup_target(om: ObjectMapping, source_field: str) -> str:
    for fm in om.field_maps.filter(status=ReviewStatus.CONFIRMED, source_field=source_field):
        if (fm.transform or {}).get("kind") == "lookup":
            return str(fm.transform["source_object"])
    return ""


class _State:
    """The simulator's records, read the same way for Zoho (string ids, {"id"} lookups) and Freshsales (int ids)."""

    def __init__(self, dest: support.Destination) -> None:
        self.zoho = dest.slug == "zoho-crm"
        self.state = dest.sim.state
        self.attachments_module = "Attachments" if self.zoho else "documents"

    def modules(self) -> dict[str, dict[str, dict[str, Any]]]:
        names = [m.removeprefix("cpq/") for m in self.state.records]  # links say "products" for cpq/products
        out = {m: self.records(m) for m in names if self.records(m)}
        if self.zoho and self.state.attachments:
            out["Attachments"] = {str(k): v for k, v in self.state.attachments.items()}
        return out

    def records(self, module: str) -> dict[str, dict[str, Any]]:
        if self.zoho and module == "Attachments":
            return {str(k): v for k, v in self.state.attachments.items()}
        module = "cpq/products" if module == "products" else module
        return {str(k): v for k, v in self.state.records.get(module, {}).items()}

    def counts(self) -> dict[str, int]:
        return {m: len(r) for m, r in self.modules().items()}

    def find(self, record_id: str) -> dict[str, Any] | None:
        for records in self.modules().values():
            if record_id in records:
                return records[record_id]
        return None

    def source_id(self, record: dict[str, Any]) -> str:
        values = {**record, **(record.get("custom_field") or {})}
        return next((str(values[k]) for k in SOURCE_ID_FIELDS if values.get(k)), "")

    def lookup_ids(self, record: dict[str, Any], field: str) -> set[str]:
        """Ids a lookup field holds; on Zoho also What_Id, where a lookup to a Lead is re-expressed."""
        values = [record.get(field)] + ([record.get("What_Id")] if self.zoho else [])
        ids: set[str] = set()
        for value in values:
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, dict) and item.get("id"):
                    ids.add(str(item["id"]))
                elif isinstance(item, int | str) and str(item):
                    ids.add(str(item))
        return ids

    def parent_of(self, child: dict[str, Any]) -> str:
        parent = child.get("Parent_Id") if self.zoho else child.get("targetable_id")
        return str(parent["id"] if isinstance(parent, dict) else parent or "")

    def owner(self, record: dict[str, Any]) -> str:
        owner = record.get("Owner") if self.zoho else record.get("owner_id")
        return str(owner["id"] if isinstance(owner, dict) else owner or "")
