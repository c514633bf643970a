from __future__ import annotations

import pytest

from migrator.models import FieldMap, Migration, ObjectMapping
from migrator.services.load_order import LoadOrderCycle, load_order, load_order_compute
from migrator.services.mapping import mapping_propose
from tests.factories import MigrationFactory
from tests.services.mapping_fakes import FakeSuggester, migration_for

pytestmark = pytest.mark.django_db


def _om(migration: Migration, objects: list[str], module: str, *, strategy: str = "records",
        parent: str = "") -> ObjectMapping:
    om: ObjectMapping = ObjectMapping.objects.create(migration=migration, source_objects=objects, strategy=strategy,
                                                     destination_module=module, parent_source_object=parent)
    return om


def _lookup(om: ObjectMapping, field: str, dest: str, target: str) -> FieldMap:
    fm: FieldMap = FieldMap.objects.create(object_mapping=om, source_field=field, destination_field=dest,
                                           transform={"kind": "lookup", "source_object": target})
    return fm


def test_parents_load_before_the_records_that_point_at_them() -> None:
    migration = MigrationFactory()
    notes = _om(migration, ["note"], "Notes", strategy="notes", parent="patient")
    events = _om(migration, ["appointment"], "Events")
    contacts = _om(migration, ["patient"], "Contacts")
    accounts = _om(migration, ["clinic"], "Accounts")
    _lookup(events, "patient_id", "Who_Id", "patient")
    _lookup(contacts, "clinic_id", "Account_Name", "clinic")

    levels = load_order([notes, events, contacts, accounts])

    assert [[om.destination_module for om in level] for level in levels] == [
        ["Accounts"], ["Contacts"], ["Notes", "Events"],
    ] or [[om.destination_module for om in level] for level in levels] == [
        ["Accounts"], ["Contacts"], ["Events", "Notes"],
    ]
    events.refresh_from_db()
    assert events.load_order == 2


def test_a_cycle_is_reported_with_the_lookups_that_break_it() -> None:
    migration = MigrationFactory()
    contacts = _om(migration, ["patient"], "Contacts")
    deals = _om(migration, ["treatment"], "Deals")
    _lookup(contacts, "last_treatment_id", "Last_Deal", "treatment")
    _lookup(deals, "patient_id", "Contact_Name", "patient")
    tasks = _om(migration, ["recall"], "Tasks")
    _lookup(tasks, "patient_id", "Who_Id", "patient")

    with pytest.raises(LoadOrderCycle) as cycle:
        load_order([contacts, deals, tasks])

    assert {om.pk for om in cycle.value.mappings} == {contacts.pk, deals.pk}
    message = str(cycle.value)
    assert "lookup Last_Deal → treatment" in message and "lookup Contact_Name → patient" in message
    assert "Tasks" not in message


def test_dentrix_catalog_map_orders_contacts_before_events_and_notes(catalog: object) -> None:
    migration = migration_for("dentrix", "zoho-crm")
    mapping_propose(migration=migration, suggester=FakeSuggester({}))

    levels = load_order_compute(migration=migration)

    level_of = {(om.catalog_row.position, om.strategy): i for i, lvl in enumerate(levels) for om in lvl}
    assert level_of[(13, "routed_records")] < level_of[(1, "routed_records")]   # guarantors before Related_Party
    assert level_of[(1, "routed_records")] < level_of[(6, "records")]           # patients before appointments
    assert level_of[(1, "routed_records")] < level_of[(9, "notes")]
    assert level_of[(1, "routed_records")] < level_of[(9, "attachments")]
