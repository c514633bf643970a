"""Resolving delta conflicts through the destination simulators over HTTP: keep source, keep destination, per field;
what each leaves for the next delta; and the real delta opening (and not repeating) conflicts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from connectors.destinations.zoho.connector import parse_time
from connectors.simulators.zoho.records import edit_as_user
from migrator.models import AuditEntry, Conflict, Migration, RecordLink, Run
from migrator.services.conflicts import ConflictRefused, conflict_fields, conflict_resolve

from .conflict_support import change_in_source, contacts, delta, edit_in_crm, loaded_migration
from .rollback_support import Loader, advance, migration_to, served_freshsales, served_zoho

pytestmark = pytest.mark.django_db

Status = Conflict.Status


@pytest.fixture
def zoho() -> Iterator[Any]:
    with served_zoho() as served:
        yield served


@pytest.fixture
def staff() -> Any:
    return get_user_model().objects.create_user("resolver", is_staff=True)


def _open_conflict(sim: Any, url: str, slug: str = "zoho-crm") -> dict[str, Any]:
    """A record we loaded, edited in the CRM afterwards, and the conflict a delta opens for it (as the pipeline
    writes it: the new source payload, and per differing field our value beside the CRM's)."""
    migration = migration_to(slug, url, sim, state=Migration.State.DELTA)
    loader = Loader(migration)
    if slug == "zoho-crm":
        module, ours = "Contacts", {"Last_Name": "Yilmaz", "Phone": "+90 212 555 0101", "Email": "a@clinic.test"}
        theirs_edit = {"Phone": "+90 212 555 0202", "Email": "b@clinic.test"}
        source = {"Last_Name": "Yilmaz", "Phone": "+90 212 555 0303", "Email": "c@clinic.test"}
    else:
        module, ours = "contacts", {"last_name": "Yilmaz", "mobile_number": "+902125550101", "email": "a@clinic.test"}
        theirs_edit = {"mobile_number": "+902125550202", "email": "b@clinic.test"}
        source = {"last_name": "Yilmaz", "mobile_number": "+902125550303", "email": "c@clinic.test"}
    dest_id = loader.create(module, "patient", "P1", ours)
    advance(sim)
    if slug == "zoho-crm":
        edit_as_user(sim.state, module, dest_id, theirs_edit)
    else:
        import httpx

        httpx.post(f"{url}/__sim__/records/{module}/{dest_id}", json=theirs_edit, timeout=10).raise_for_status()
    advance(sim)
    link = RecordLink.objects.get(migration=migration, source_id="P1")
    run = Run.objects.create(migration=migration, kind=Run.Kind.DELTA, state=Run.State.COMPLETED)
    [current] = loader.dest.get(module, [dest_id])
    fields = {k: {"source": v, "theirs": current.data.get(k)} for k, v in source.items() if current.data.get(k) != v}
    conflict = Conflict.objects.create(migration=migration, run=run, record_link=link, fields=fields,
                                       source_payload=source, source_hash="new-source-hash",
                                       destination_modified_at=current.modified_at)
    return {"migration": migration, "loader": loader, "conflict": conflict, "link": link, "module": module,
            "dest_id": dest_id, "source": source, "theirs": theirs_edit, "edited_at": link.destination_modified_at}


def _record(sim: Any, module: str, dest_id: str) -> dict[str, Any]:
    return dict(sim.state.records[module][dest_id])


def test_the_detail_rows_put_each_differing_field_source_beside_destination(zoho: Any) -> None:
    world = _open_conflict(*zoho)
    rows = {r.name: (r.source, r.destination) for r in conflict_fields(conflict=world["conflict"])}
    assert rows == {"Phone": ("+90 212 555 0303", "+90 212 555 0202"), "Email": ("c@clinic.test", "b@clinic.test")}
    world["loader"].close()


def test_keep_source_writes_our_values_over_the_crm_and_the_record_counts_as_ours_again(zoho: Any, staff: Any) -> None:
    sim, _url = zoho
    world = _open_conflict(*zoho)

    resolved = conflict_resolve(conflict=world["conflict"], choice=Status.KEEP_SOURCE, user=staff)

    record = _record(sim, world["module"], world["dest_id"])
    assert {k: record[k] for k in world["source"]} == world["source"]
    assert resolved.status == Status.KEEP_SOURCE and resolved.resolved_by == staff and resolved.resolved_at
    assert resolved.resolution["written"] == sorted(world["source"]) and resolved.resolution["kept"] == []
    link = RecordLink.objects.get(pk=world["link"].pk)
    assert link.content_hash == "new-source-hash"
    # Our write is now the last one: the next delta updates the record without asking again.
    assert link.destination_modified_at == parse_time(record["Modified_Time"])
    audit = AuditEntry.objects.get(run=world["conflict"].run, error_code="CONFLICT_KEEP_SOURCE")
    assert audit.op == AuditEntry.Op.UPDATE and audit.destination_id == world["dest_id"]
    assert "resolver" in audit.error_message
    assert not any(str(v) in audit.error_message for v in world["source"].values())   # names, never values
    world["loader"].close()


def test_keep_destination_writes_nothing_and_the_record_still_counts_as_edited_in_the_crm(
        zoho: Any, staff: Any) -> None:
    sim, _url = zoho
    world = _open_conflict(*zoho)
    before = _record(sim, world["module"], world["dest_id"])
    credits = sim.state.credits_total

    conflict_resolve(conflict=world["conflict"], choice=Status.KEEP_DESTINATION, user=staff)

    assert _record(sim, world["module"], world["dest_id"]) == before
    assert sim.state.credits_total == credits       # no call at all
    link = RecordLink.objects.get(pk=world["link"].pk)
    # The next delta sees this source content as handled; a later source change asks again (still edited).
    assert link.content_hash == "new-source-hash"
    assert link.destination_modified_at == world["edited_at"]
    conflict = Conflict.objects.get(pk=world["conflict"].pk)
    assert conflict.status == Status.KEEP_DESTINATION and conflict.resolution["written"] == []
    assert sorted(conflict.resolution["kept"]) == ["Email", "Phone"]
    audit = AuditEntry.objects.get(run=conflict.run, error_code="CONFLICT_KEEP_DESTINATION")
    assert audit.op == AuditEntry.Op.SKIP
    world["loader"].close()


def test_per_field_writes_only_the_chosen_source_values(zoho: Any, staff: Any) -> None:
    sim, _url = zoho
    world = _open_conflict(*zoho)

    conflict_resolve(conflict=world["conflict"], choice=Status.PER_FIELD, user=staff, source_fields=["Phone"])

    record = _record(sim, world["module"], world["dest_id"])
    assert record["Phone"] == world["source"]["Phone"]
    assert record["Email"] == world["theirs"]["Email"]
    conflict = Conflict.objects.get(pk=world["conflict"].pk)
    assert conflict.status == Status.PER_FIELD
    assert conflict.resolution == {"written": ["Phone"], "kept": ["Email"], "by": "resolver"}
    # A CRM value was kept, so the record still holds a person's edit: the link keeps the older "our write".
    assert RecordLink.objects.get(pk=world["link"].pk).destination_modified_at == world["edited_at"]
    audit = AuditEntry.objects.get(run=conflict.run, error_code="CONFLICT_PER_FIELD")
    assert audit.op == AuditEntry.Op.UPDATE and audit.error_field == "Phone"
    world["loader"].close()


def test_a_conflict_is_resolved_once_and_only_with_its_own_fields(zoho: Any, staff: Any) -> None:
    world = _open_conflict(*zoho)
    with pytest.raises(ConflictRefused, match="not a differing field"):
        conflict_resolve(conflict=world["conflict"], choice=Status.PER_FIELD, source_fields=["Last_Name"])
    conflict_resolve(conflict=world["conflict"], choice=Status.KEEP_DESTINATION, user=staff)
    with pytest.raises(ConflictRefused, match="already resolved"):
        conflict_resolve(conflict=world["conflict"], choice=Status.KEEP_SOURCE, user=staff)
    assert AuditEntry.objects.filter(error_code__startswith="CONFLICT_").count() == 1
    world["loader"].close()


def test_a_write_the_crm_refuses_leaves_the_conflict_open_and_unaudited(zoho: Any, staff: Any) -> None:
    sim, _url = zoho
    world = _open_conflict(*zoho)
    conflict = world["conflict"]
    conflict.source_payload = {**conflict.source_payload, "Email": "not an email"}
    conflict.fields = {**conflict.fields, "Email": {"source": "not an email", "theirs": "b@clinic.test"}}
    conflict.save()

    with pytest.raises(ConflictRefused, match="refused the write"):
        conflict_resolve(conflict=conflict, choice=Status.KEEP_SOURCE, user=staff)

    assert Conflict.objects.get(pk=conflict.pk).status == Status.OPEN
    assert _record(sim, world["module"], world["dest_id"])["Email"] == "b@clinic.test"
    assert not AuditEntry.objects.filter(error_code__startswith="CONFLICT_").exists()
    world["loader"].close()


def test_keep_source_and_per_field_through_freshsales(staff: Any) -> None:
    with served_freshsales() as (sim, url):
        world = _open_conflict(sim, url, slug="freshsales")
        conflict_resolve(conflict=world["conflict"], choice=Status.PER_FIELD, user=staff,
                         source_fields=["mobile_number"])
        [record] = world["loader"].dest.get("contacts", [world["dest_id"]])
        assert record.data["mobile_number"] == world["source"]["mobile_number"]
        assert record.data["email"] == world["theirs"]["email"]
        world["loader"].close()


def test_a_delta_opens_one_conflict_per_edited_record_and_keep_destination_stops_it_coming_back(
        zoho: Any, staff: Any, tmp_path: Any) -> None:
    sim, url = zoho
    migration = loaded_migration(sim=sim, url=url, out=tmp_path)
    edited, plain = contacts(migration, 2)
    edit_in_crm(sim, edited, {"Description": "called: moved house"})
    change_in_source(tmp_path, [edited.source_id, plain.source_id])

    first = delta(migration)
    [conflict] = Conflict.objects.filter(migration=migration)
    assert conflict.record_link == edited and conflict.run == first and conflict.status == Status.OPEN
    assert "Mailing_Street" in conflict.fields and "Description" not in conflict.fields
    assert AuditEntry.objects.filter(run=first, op=AuditEntry.Op.UPDATE, source_id=plain.source_id).exists()
    assert AuditEntry.objects.get(run=first, op=AuditEntry.Op.CONFLICT).source_id == edited.source_id
    record = sim.state.records["Contacts"][edited.destination_id]
    assert record["Description"] == "called: moved house"      # not overwritten

    second = delta(migration)                                   # nothing new: the conflict is not opened again
    assert Conflict.objects.filter(migration=migration).count() == 1
    assert not AuditEntry.objects.filter(run=second).exists()

    conflict_resolve(conflict=conflict, choice=Status.KEEP_DESTINATION, user=staff)
    third = delta(migration)
    assert not Conflict.objects.filter(migration=migration, status=Status.OPEN).exists()
    assert not AuditEntry.objects.filter(run=third).exists()

    change_in_source(tmp_path, [edited.source_id])             # the source changes again: staff decide again
    delta(migration)
    assert Conflict.objects.filter(migration=migration, status=Status.OPEN, record_link=edited).count() == 1


def test_fields_merged_onto_a_record_edited_in_the_crm_open_a_conflict_and_resolve_onto_that_record(
        zoho: Any, staff: Any, tmp_path: Any) -> None:
    """The three-way check covers merged fields too (a guarantor's balance on the patient's Contact): the delta does
    not overwrite a Balance_Due someone corrected in the CRM; keep-source writes it onto the Contact."""
    sim, url = zoho
    migration = loaded_migration(sim=sim, url=url, out=tmp_path, keep=["guarantor_balance"])
    merged = (RecordLink.objects.filter(migration=migration, source_object="guarantor_balance",
                                        role=RecordLink.Role.MERGE).exclude(destination_id="").order_by("id").first())
    assert merged is not None
    contact = RecordLink.objects.get(migration=migration, role=RecordLink.Role.RECORD,
                                     destination_id=merged.destination_id)
    edit_in_crm(sim, contact, {"Balance_Due": 1.0})
    # The balance due is the sum of the ledger's aging buckets.
    for column, value in (("balance_0_30_days", "4000.00"), ("balance_31_60_days", "300.00"),
                          ("balance_61_90_days", "21.00"), ("balance_91_plus_days", "0.00")):
        change_in_source(tmp_path, [merged.source_id], column=column, value=value, file="v_guarantor_balance.csv",
                         id_column="guar_id")

    first = delta(migration)
    [conflict] = Conflict.objects.filter(migration=migration, status=Status.OPEN)
    assert conflict.record_link == merged and set(conflict.fields) == {"Balance_Due"}
    assert AuditEntry.objects.get(run=first, op=AuditEntry.Op.CONFLICT).source_id == merged.source_id
    assert sim.state.records["Contacts"][merged.destination_id]["Balance_Due"] == 1.0   # not overwritten

    delta(migration)                                              # same content: not opened again
    assert Conflict.objects.filter(migration=migration).count() == 1

    conflict_resolve(conflict=conflict, choice=Status.KEEP_SOURCE, user=staff)
    assert float(sim.state.records["Contacts"][merged.destination_id]["Balance_Due"]) == 4321.0
    third = delta(migration)                                      # our own write is not taken for an edit
    assert not Conflict.objects.filter(migration=migration, status=Status.OPEN).exists()
    assert not AuditEntry.objects.filter(run=third, op=AuditEntry.Op.CONFLICT).exists()
