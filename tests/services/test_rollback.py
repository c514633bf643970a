"""Rollback on the Zoho simulator (over HTTP): preview, deletes, restores, notes and attachments, records edited
since our write, stopping midway, partial scopes, idempotence and the migration's state."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from connectors.simulators.zoho.records import edit_as_user
from migrator.models import AuditEntry, Migration, RecordLink, Run, WorkUnit
from migrator.services.lifecycle import migration_offers
from migrator.services.pipeline import UnitStopped
from migrator.services.rollback import (
    NEEDS_REVIEW,
    RollbackRefused,
    rollback_counts,
    rollback_preview,
    rollback_start,
    rollback_unit_run,
)
from migrator.services.runs import run_drive, work_unit_claim

from .rollback_support import Loader, advance, migration_to, served_zoho, zoho_state

pytestmark = pytest.mark.django_db


@pytest.fixture
def zoho() -> Iterator[Any]:
    with served_zoho() as served:
        yield served


@pytest.fixture
def world(zoho: Any) -> Iterator[dict[str, Any]]:
    """A CRM with one contact of its own, the state captured before the migration, then the migration's writes:
    an account and contacts created, the existing contact updated, notes on both, a file on the existing one."""
    sim, url = zoho
    migration = migration_to("zoho-crm", url, sim)
    loader = Loader(migration)
    [existing] = loader.dest.insert("Contacts", [{"Last_Name": "Existing", "Phone": "+90 212 555 0000",
                                                 "Description": "kept by the clinic"}])
    before = zoho_state(sim)
    advance(sim)
    account = loader.create("Accounts", "clinic", "C1", {"Account_Name": "Smile Clinic"})
    created = [loader.create("Contacts", "patient", f"P{i}", {"Last_Name": f"Patient {i}", "Account_Name": account})
               for i in range(3)]
    loader.update_existing("Contacts", "patient", "P-existing", existing.id,
                           {"Phone": "+90 212 555 1111", "Email": "new@clinic.test"})
    loader.child("Notes", "note", "N1", {"Note_Content": "first visit",
                                         "Parent_Id": {"module": "Contacts", "id": created[0]}},
                 parent_module="Contacts", parent_id=created[0])
    loader.child("Notes", "note", "N2", {"Note_Content": "called back",
                                         "Parent_Id": {"module": "Contacts", "id": existing.id}},
                 parent_module="Contacts", parent_id=existing.id)
    loader.attach("IMG1", "Contacts", existing.id, b"%PDF-1.4 x-ray")
    yield {"sim": sim, "migration": migration, "loader": loader, "before": before, "existing": existing.id,
           "created": created, "account": account}
    loader.close()


def drive(run: Run, django_capture_on_commit_callbacks: Any) -> Run:
    """Work the rollback here, as `--wait` does; the completion hook (migration state) runs on commit."""
    with django_capture_on_commit_callbacks(execute=True):
        return run_drive(run_id=run.pk, max_wait=60)


def test_preview_counts_records_to_delete_restore_and_review_per_module(world: dict[str, Any]) -> None:
    preview = rollback_preview(migration=world["migration"])

    by_module = {m.module: m for m in preview.modules}
    assert (by_module["Contacts"].delete, by_module["Contacts"].restore) == (3, 1)
    assert by_module["Accounts"].delete == 1
    assert by_module["Notes"].delete == 2
    assert by_module["Attachments"].delete == 1
    assert preview.totals.needs_review == 0
    assert preview.as_dict()["totals"]["delete"] == 7


def test_rollback_returns_the_destination_to_its_state_before_the_migration(
        world: dict[str, Any], django_capture_on_commit_callbacks: Any) -> None:
    migration = world["migration"]
    assert zoho_state(world["sim"]) != world["before"]

    run = drive(rollback_start(migration=migration), django_capture_on_commit_callbacks)

    assert run.state == Run.State.COMPLETED
    assert zoho_state(world["sim"]) == world["before"]
    assert rollback_counts(run=run) == {"deleted": 7, "restored": 1, "needs_review": 0, "failed": 0}
    assert not RecordLink.objects.filter(migration=migration).exists()
    migration.refresh_from_db()
    assert migration.state == Migration.State.ROLLED_BACK
    restored = AuditEntry.objects.get(run=run, op=AuditEntry.Op.RESTORE)
    assert restored.destination_id == world["existing"]
    assert restored.before_image["Phone"] == "+90 212 555 1111"     # what the restore overwrote, kept in the audit


def test_children_go_first_and_parents_after_their_dependents(world: dict[str, Any]) -> None:
    run = rollback_start(migration=world["migration"])

    levels = {(u.slice_end, u.slice_start): u.level for u in WorkUnit.objects.filter(run=run)}
    assert levels[("child", "Notes")] == levels[("child", "Attachments")] == 0
    assert levels[("record", "Contacts")] > 0 and levels[("record", "Accounts")] > 0


def test_a_record_edited_in_the_destination_since_our_write_is_kept_for_review(
        world: dict[str, Any], django_capture_on_commit_callbacks: Any) -> None:
    sim, edited = world["sim"], world["created"][1]
    advance(sim)
    edit_as_user(sim.state, "Contacts", edited, {"Description": "the clinic wrote here"})

    preview = rollback_preview(migration=world["migration"])
    assert {m.module: m.needs_review for m in preview.modules}["Contacts"] == 1

    run = drive(rollback_start(migration=world["migration"]), django_capture_on_commit_callbacks)

    assert edited in sim.state.records["Contacts"]
    review = AuditEntry.objects.get(run=run, error_code=NEEDS_REVIEW)
    assert review.destination_id == edited and review.op == AuditEntry.Op.SKIP
    kept = RecordLink.objects.get(migration=world["migration"])
    assert kept.destination_id == edited
    others = set(world["created"]) - {edited}
    assert not others & set(sim.state.records["Contacts"])


def test_a_restore_is_refused_when_the_clinic_edited_the_updated_record(
        world: dict[str, Any], django_capture_on_commit_callbacks: Any) -> None:
    sim = world["sim"]
    advance(sim)
    edit_as_user(sim.state, "Contacts", world["existing"], {"Phone": "+90 212 555 9999"})

    run = drive(rollback_start(migration=world["migration"]), django_capture_on_commit_callbacks)

    assert sim.state.records["Contacts"][world["existing"]]["Phone"] == "+90 212 555 9999"
    assert rollback_counts(run=run)["needs_review"] == 1


def test_a_rollback_stopped_after_its_first_batch_finishes_on_the_next_pass_without_repeating_work(
        zoho: Any, django_capture_on_commit_callbacks: Any) -> None:
    sim, url = zoho
    migration = migration_to("zoho-crm", url, sim)
    before = zoho_state(sim)
    loader = Loader(migration)
    loader.create_many("Contacts", "patient", [{"Last_Name": f"P{i}"} for i in range(100)])
    loader.create_many("Contacts", "patient", [{"Last_Name": f"Q{i}"} for i in range(50)])
    run = rollback_start(migration=migration)
    [unit_row] = WorkUnit.objects.filter(run=run)
    unit = work_unit_claim(unit_id=unit_row.pk, worker="test")
    assert unit is not None

    with pytest.raises(UnitStopped):
        rollback_unit_run(unit=unit, dest=loader.dest, should_stop=lambda: True)

    assert len(sim.state.records["Contacts"]) == 50
    assert RecordLink.objects.filter(migration=migration).count() == 50
    WorkUnit.objects.filter(pk=unit.pk).update(state=WorkUnit.State.PENDING, worker="")
    done = drive(run, django_capture_on_commit_callbacks)

    assert done.state == Run.State.COMPLETED
    assert zoho_state(sim) == before
    assert AuditEntry.objects.filter(run=run, op=AuditEntry.Op.DELETE).count() == 150
    assert WorkUnit.objects.get(pk=unit.pk).processed == 150
    loader.close()


def test_a_delete_interrupted_before_its_commit_counts_as_done_when_run_again(
        world: dict[str, Any], django_capture_on_commit_callbacks: Any) -> None:
    # The destination deleted the records but the process died before the links were removed.
    sim = world["sim"]
    world["loader"].dest.delete("Contacts", world["created"])

    run = drive(rollback_start(migration=world["migration"]), django_capture_on_commit_callbacks)

    assert run.state == Run.State.COMPLETED
    assert zoho_state(sim) == world["before"]
    assert AuditEntry.objects.filter(run=run, op=AuditEntry.Op.DELETE, error_code="NOT_FOUND").count() == 3


def test_a_second_rollback_finds_nothing_to_do(world: dict[str, Any],
                                               django_capture_on_commit_callbacks: Any) -> None:
    drive(rollback_start(migration=world["migration"]), django_capture_on_commit_callbacks)

    again = drive(rollback_start(migration=world["migration"]), django_capture_on_commit_callbacks)

    assert again.state == Run.State.COMPLETED
    assert not WorkUnit.objects.filter(run=again).exists()
    assert not AuditEntry.objects.filter(run=again).exists()
    assert zoho_state(world["sim"]) == world["before"]


def test_rolling_back_one_run_leaves_what_other_runs_created(
        world: dict[str, Any], django_capture_on_commit_callbacks: Any) -> None:
    sim, migration = world["sim"], world["migration"]
    delta = Loader(migration, Run.objects.create(migration=migration, kind=Run.Kind.DELTA,
                                                 state=Run.State.COMPLETED))
    late = delta.create("Contacts", "patient", "P-late", {"Last_Name": "Late"})

    run = drive(rollback_start(migration=migration, run=delta.run), django_capture_on_commit_callbacks)

    assert run.target_run == delta.run
    assert late not in sim.state.records["Contacts"]
    assert set(world["created"]) <= set(sim.state.records["Contacts"])
    assert RecordLink.objects.filter(migration=migration).count() == 8
    delta.close()


def test_rolling_back_one_object_leaves_the_others(world: dict[str, Any],
                                                   django_capture_on_commit_callbacks: Any) -> None:
    sim, migration = world["sim"], world["migration"]

    drive(rollback_start(migration=migration, source_object="note"), django_capture_on_commit_callbacks)

    assert not sim.state.records.get("Notes")
    assert set(world["created"]) <= set(sim.state.records["Contacts"])
    assert not RecordLink.objects.filter(migration=migration, source_object="note").exists()
    assert RecordLink.objects.filter(migration=migration, source_object="patient").count() == 4


def test_fields_merged_onto_a_record_are_cleared_when_only_the_merged_object_is_rolled_back(
        zoho: Any, django_capture_on_commit_callbacks: Any) -> None:
    from migrator.models import FieldMap, MappingStrategy, ObjectMapping, ReviewStatus

    sim, url = zoho
    migration = migration_to("zoho-crm", url, sim)
    loader = Loader(migration)
    contact = loader.create("Contacts", "patient", "P1", {"Last_Name": "Kaya"})
    mapping = ObjectMapping.objects.create(migration=migration, source_objects=["insurance"],
                                           strategy=MappingStrategy.MERGE_FIELDS, destination_module="Contacts",
                                           parent_source_object="patient", status=ReviewStatus.CONFIRMED)
    FieldMap.objects.create(object_mapping=mapping, source_field="carrier", destination_field="Description",
                            status=ReviewStatus.CONFIRMED)
    advance(sim)
    loader.merge("Contacts", "insurance", "I1", contact, {"Description": "Carrier: Acme"})

    run = drive(rollback_start(migration=migration, source_object="insurance"), django_capture_on_commit_callbacks)

    assert not sim.state.records["Contacts"][contact].get("Description")
    assert rollback_counts(run=run)["restored"] == 1
    # The merge's later write is "ours": the record itself is not taken for a clinic edit.
    whole = drive(rollback_start(migration=migration), django_capture_on_commit_callbacks)
    assert rollback_counts(run=whole)["deleted"] == 1
    loader.close()


def test_rollback_is_refused_before_anything_was_loaded_and_while_a_run_is_active(zoho: Any) -> None:
    sim, url = zoho
    draft = migration_to("zoho-crm", url, sim, state=Migration.State.MAPPED)
    with pytest.raises(RollbackRefused, match="cannot be rolled back"):
        rollback_start(migration=draft)

    loaded = migration_to("zoho-crm", url, sim)
    Run.objects.create(migration=loaded, kind=Run.Kind.DELTA, state=Run.State.RUNNING)
    with pytest.raises(RollbackRefused, match="still active"):
        rollback_start(migration=loaded)


def test_the_rolled_back_step_is_offered_only_after_a_completed_rollback(zoho: Any) -> None:
    sim, url = zoho
    migration = migration_to("zoho-crm", url, sim)
    offer = {o.to_state: o for o in migration_offers(migration=migration)}[Migration.State.ROLLED_BACK]
    assert offer.problems == ("no rollback run has been made",)

    Run.objects.create(migration=migration, kind=Run.Kind.ROLLBACK, state=Run.State.COMPLETED)
    offer = {o.to_state: o for o in migration_offers(migration=migration)}[Migration.State.ROLLED_BACK]
    assert offer.allowed
