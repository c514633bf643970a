"""End to end: a generated Dentrix export into the Zoho simulator over real HTTP, through the real lifecycle,
with the runs' work units executed by real RQ workers when Redis is configured (the suite's default)."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from migrator.models import AuditEntry, RecordLink
from tests.e2e import support

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_dentrix_export_loads_into_zoho_with_every_record_accounted_and_no_duplicates(catalog, tmp_path):
    manifest = support.export("dentrix", tmp_path, patients=40, seed=11)
    with support.served_zoho(manifest) as dest:
        _loads_and_accounts(dest, manifest, tmp_path)


def _loads_and_accounts(dest: support.Destination, manifest: dict, tmp_path) -> None:
    sim = dest.sim
    # Sample, approval, full load by real workers; the customer's admin builds the Insurance Benefits subform from
    # the schema checklist (no API creates one).
    loaded = support.load(pair="dentrix:zoho-crm", source_config={"path": str(tmp_path)}, dest=dest,
                          as_of=date.fromisoformat(manifest["now"][:10]))
    migration, sample, full = loaded.migration, loaded.sample, loaded.full
    assert sample.sample_diffs.exists()
    # The field-level diff compares each record with the mapping that wrote it and folds re-targeted lookups
    # (a Lead's event names its patient in What_Id): what differs is only what the audit reports, field by field,
    # as failed or as left out with its reason (a guarantor who became a Lead cannot fill Related_Party).
    failed = set(AuditEntry.objects.filter(run=sample, op__in=[AuditEntry.Op.FAIL, AuditEntry.Op.SKIP])
                 .exclude(error_field="").values_list("source_id", "error_field"))
    differing = set(sample.sample_diffs.filter(equal=False).values_list("source_id", "field"))
    assert differing <= failed, sorted(differing - failed)[:10]

    # Every patient of the export is accounted for once by the patient routing (created in sample or full,
    # or failed/skipped with a reason).
    patient_ids = {str(p) for p in _ids(tmp_path / "v_patient.csv", "patient_id")}
    routed = AuditEntry.objects.filter(migration=migration, source_object="patient",
                                       object_mapping__strategy="routed_records")
    outcomes = {a.source_id for a in routed if a.error_code != "UNCHANGED"}
    assert outcomes == patient_ids

    # No duplicates in the CRM: one record per source id per module.
    for module in ("Contacts", "Leads", "Events", "Tasks"):
        ids = Counter(r.get("Source_System_ID") for r in sim.state.records[module].values())
        assert all(n == 1 for key, n in ids.items() if key), module
        linked = RecordLink.objects.filter(migration=migration, destination_module=module,
                                           role=RecordLink.Role.RECORD).exclude(destination_id="").count()
        assert linked == len(sim.state.records[module])

    # Owners assigned, lookups resolved: every contact has an owner; every event points at its patient.
    assert all(r.get("Owner") for r in sim.state.records["Contacts"].values())
    for event in sim.state.records["Events"].values():
        assert event.get("Who_Id") or event.get("What_Id")
        # The appointment's last-modified time in the source, kept in the custom field the checklist created.
        assert event.get("Source_Modified_Time")

    # Seed 001 row 4: every plan a contact subscribes to is one row of its Insurance Benefits subform, the carrier
    # from the plan; the list is written whole, so a contact holds exactly its plans.
    plans = {row["ins_id"]: row["ins_co_name"] for row in _rows(tmp_path / "v_insurance_plans.csv")}
    covered: dict[str, list[str]] = {}
    for row in _rows(tmp_path / "v_insured.csv"):
        covered.setdefault(row["ins_party_id"], []).append(plans[row["ins_plan_id"]])
    contacts = {lk.source_id: lk.destination_id for lk in RecordLink.objects.filter(
        migration=migration, source_object="patient", destination_module="Contacts", role=RecordLink.Role.RECORD)}
    checked = 0
    for patient_id, carriers in covered.items():
        if patient_id not in contacts:
            continue
        rows = sim.state.records["Contacts"][contacts[patient_id]].get("Insurance_Benefits") or []
        assert sorted(r.get("Carrier") for r in rows) == sorted(carriers), patient_id
        assert all(r.get("Plan_Type") == "Other" for r in rows)   # v_insured.ins_type says "Dental" only
        checked += 1
    assert checked
    subform = AuditEntry.objects.filter(migration=migration, run=full, object_mapping__strategy="subform")
    assert set(subform.values_list("source_id", flat=True)) == {r["insured_id"] for r in _rows(
        tmp_path / "v_insured.csv")}
    assert not subform.filter(op=AuditEntry.Op.FAIL).exists()

    # Re-running the full load writes nothing new: idempotent.
    before = {m: len(sim.state.records[m]) for m in ("Contacts", "Leads", "Events", "Tasks", "Notes")}
    again = support.rerun_full(loaded)
    assert {m: len(sim.state.records[m]) for m in before} == before
    # The subform lists are sent again only when a row changed: none did.
    assert not AuditEntry.objects.filter(run=again, object_mapping__strategy="subform",
                                         op=AuditEntry.Op.UPDATE).exists()


def _ids(path, column):
    return [row[column] for row in _rows(path)]


def _rows(path):
    import csv

    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))
