"""Reconciliation against a migration with known outcomes (tests/services/reconcile_fakes.py tells the story)."""

from __future__ import annotations

import pytest

from migrator.models import AuditEntry, Migration, ReconciliationReport, Run
from migrator.services import runs  # noqa: F401  (registers the load-run gates, DELTA among them)
from migrator.services.lifecycle import TransitionRefused, migration_transition
from migrator.services.reconcile import ReconcileRefused, reconciliation_run, reconciliation_sign_off
from tests.factories import StaffUserFactory
from tests.services.reconcile_fakes import MB, Story

pytestmark = pytest.mark.django_db


@pytest.fixture
def story() -> Story:
    return Story()


def reconcile(story: Story, **kw) -> ReconciliationReport:
    return reconciliation_run(migration=story.migration, source=story.source, destination=story.dest, seed=1, **kw)


def rows_by(report: ReconciliationReport, key: str, name: str) -> dict[str, dict]:
    return {r[name]: r for r in report.data[key]}


def test_each_object_counts_source_expected_found_and_outcomes(story):
    objects = rows_by(reconcile(story), "objects", "object")
    patient = objects["patient"]
    assert (patient["source"], patient["created"], patient["updated"], patient["skipped"], patient["failed"]) == \
        (10, 8, 0, 1, 1)
    assert patient["expected_in_destination"] == 9      # the routed-out patient is not expected
    assert patient["found_in_destination"] == 7         # P9 failed, P6 was deleted in the CRM
    assert patient["unaccounted"] == 0
    assert patient["skip_reasons"] == "ROUTED_OUT 1"
    assert patient["fail_reasons"] == "MANDATORY_NOT_FOUND 1"
    assert patient["modules"] == "Contacts, Leads"
    appointment = objects["appointment"]
    assert (appointment["source"], appointment["created"], appointment["failed"],
            appointment["expected_in_destination"], appointment["found_in_destination"]) == (4, 3, 1, 4, 3)
    provider = objects["provider"]
    assert (provider["skipped"], provider["expected_in_destination"], provider["found_in_destination"]) == (2, 0, 0)


def test_a_record_loaded_in_the_sample_and_unchanged_later_counts_as_created(story):
    patient = rows_by(reconcile(story), "objects", "object")["patient"]
    assert patient["created"] == 8 and patient["skipped"] == 1


def test_notes_and_attachments_that_cannot_be_listed_are_counted_from_the_crosswalk_and_said_so(story):
    report = reconcile(story)
    objects = rows_by(report, "objects", "object")
    assert (objects["note"]["found_in_destination"], objects["note"]["counted_from"]) == (2, "crosswalk")
    assert objects["document"]["expected_in_destination"] == 1      # the file too large is skipped by design
    assert any("no API to list Notes" in n and "crosswalk" in n for n in report.data["notes"])
    modules = rows_by(report, "modules", "module")
    assert modules["Notes"]["counted_from"] == "crosswalk"
    assert (modules["Contacts"]["linked"], modules["Contacts"]["present"], modules["Contacts"]["missing"],
            modules["Contacts"]["module_total"]) == (7, 6, 1, 7)  # with one record not ours


def test_orphans_are_children_whose_parent_failed_or_whose_lookup_reads_back_empty(story):
    report = reconcile(story)
    orphans = {(o["object"], o["lookup"]): o for o in report.data["orphans"]}
    assert orphans[("note", "(parent record)")]["not_loaded"] == 1
    events = orphans[("appointment", "Events.Who_Id")]
    assert (events["not_loaded"], events["empty_in_destination"], events["orphans"]) == (1, 1, 2)
    assert report.data["summary"]["orphans"] == 3


def test_attachments_are_counted_with_their_bytes(story):
    assert reconcile(story).data["attachments"] == {
        "files_attached": 2, "bytes_attached": 1500, "files_too_large": 1, "bytes_too_large": 30 * MB,
        "records_failed": 0,
    }


def test_owner_tallies_compare_what_each_user_should_own_with_what_they_own_in_the_crm(story):
    owners = rows_by(reconcile(story), "owners", "destination_user")
    assert (owners["one@crm.test"]["source_owners"], owners["one@crm.test"]["source_records"],
            owners["one@crm.test"]["destination_records"]) == ("Dr. One", 9, 7)
    assert (owners["two@crm.test"]["source_records"], owners["two@crm.test"]["destination_records"]) == (5, 3)
    assert owners["two@crm.test"]["difference"] == -2


def test_the_field_diff_of_a_sample_names_fields_and_record_ids_but_no_values(story):
    report = reconcile(story)
    summary = report.data["summary"]
    assert (summary["sampled_records"], summary["sampled_fields"], summary["differing_fields"]) == (10, 23, 2)
    different = {(m["source_id"], m["field"]) for m in report.data["mismatches"]}
    assert different == {("P2", "Last_Name"), ("A4", "Who_Id")}
    assert "Edited in CRM" not in str(report.data) and "Name2" not in str(report.data)


def test_a_smaller_sample_reads_fewer_records_back(story):
    assert reconcile(story, sample_size=3).data["summary"]["sampled_records"] <= 3


def test_the_verdict_fails_with_every_reason(story):
    report = reconcile(story)
    assert report.verdict == "fail"
    text = "\n".join(report.reasons)
    assert "patient: 1 record(s) failed (MANDATORY_NOT_FOUND 1)" in text
    assert "patient: 1 record(s) we wrote are not in the destination any more" in text
    assert "appointment: 1 record(s) failed (lookup_unresolved 1)" in text
    assert "3 child record(s) without their parent" in text
    assert "2 of 23 sampled fields differ" in text
    assert "1 sampled record(s) could not be read back" in text
    assert report.run.kind == Run.Kind.RECONCILE and report.run.state == Run.State.COMPLETED


def test_records_missing_from_the_audit_fail_the_verdict(story):
    story.source.records["patient"].append({"id": "P11", "last_name": "New", "status": "active", "prov": "DR1"})
    report = reconcile(story)
    assert rows_by(report, "objects", "object")["patient"]["unaccounted"] == 1
    assert "patient: 1 source record(s) have no outcome in the audit" in report.reasons


def clean(story: Story) -> Story:
    """Repair the story in a later run: only skips by design remain."""
    from migrator.models import AuditEntry

    Op = AuditEntry.Op
    full = Run.objects.create(migration=story.migration, kind=Run.Kind.DELTA, state=Run.State.COMPLETED)
    dest = story.dest
    dest.put("Contacts", "c6", Last_Name="Name6", Owner={"id": "u1"})
    dest.modules["Contacts"]["c2"]["Last_Name"] = "Name2"
    dest.put("Contacts", "c9", Last_Name="Name9", Owner={"id": "u2"})
    story.link("patient", "P9", "Contacts", "c9")
    story.audit(full, Op.CREATE, "patient", "P9", "Contacts", "c9")
    dest.modules["Events"]["e4"]["Who_Id"] = {"id": "c2"}
    dest.put("Events", "e3", Event_Title="Visit 3", Who_Id={"id": "c9"}, Owner={"id": "u1"})
    story.link("appointment", "A3", "Events", "e3")
    story.audit(full, Op.CREATE, "appointment", "A3", "Events", "e3")
    story.link("note", "N3", "Notes", "n3")
    story.audit(full, Op.CREATE, "note", "N3", "Notes", "n3")
    return story


def test_a_clean_migration_passes(story):
    report = reconcile(clean(story))
    assert report.verdict == "pass", report.reasons
    assert report.data["summary"]["differing_fields"] == 0


def test_a_retry_that_succeeds_replaces_the_earlier_failure(story):
    report = reconcile(clean(story))
    assert rows_by(report, "objects", "object")["patient"]["failed"] == 0


def test_sign_off_of_a_passing_report_moves_the_migration_to_reconciled(story):
    Migration.objects.filter(pk=story.migration.pk).update(state=Migration.State.LOADED)
    report = reconcile(clean(story))
    staff = StaffUserFactory()
    signed = reconciliation_sign_off(report=report, user=staff)
    assert signed.signed_off_by == staff and signed.signed_off_at is not None
    story.migration.refresh_from_db()
    assert story.migration.state == Migration.State.RECONCILED
    assert story.migration.events.first().note == f"reconciliation report #{report.pk} signed off"


def test_a_failed_report_cannot_be_signed_off(story):
    report = reconcile(story)
    with pytest.raises(ReconcileRefused, match="failed"):
        reconciliation_sign_off(report=report, user=StaffUserFactory())


def test_an_older_report_cannot_be_signed_off(story):
    clean(story)
    older, _newer = reconcile(story), reconcile(story)
    with pytest.raises(ReconcileRefused, match="not the latest"):
        reconciliation_sign_off(report=older, user=StaffUserFactory())


def test_the_reconciled_gate_needs_a_signed_off_passing_report(story):
    Migration.objects.filter(pk=story.migration.pk).update(state=Migration.State.LOADED)
    story.migration.refresh_from_db()
    with pytest.raises(TransitionRefused, match="no reconciliation report"):
        migration_transition(migration=story.migration, to_state=Migration.State.RECONCILED)
    reconcile(clean(story))
    with pytest.raises(TransitionRefused, match="is not signed off"):
        migration_transition(migration=story.migration, to_state=Migration.State.RECONCILED)


def test_a_load_run_after_the_report_reopens_the_gate(story):
    Migration.objects.filter(pk=story.migration.pk).update(state=Migration.State.LOADED)
    report = reconcile(clean(story))
    reconciliation_sign_off(report=report, user=StaffUserFactory())
    story.migration.refresh_from_db()
    Run.objects.create(migration=story.migration, kind=Run.Kind.DELTA, state=Run.State.COMPLETED)
    migration_transition(migration=story.migration, to_state=Migration.State.DELTA)
    with pytest.raises(TransitionRefused, match="reconcile again"):
        migration_transition(migration=story.migration, to_state=Migration.State.RECONCILED)


def test_a_reconciliation_stopped_by_the_destination_marks_its_run_failed(story):
    from connectors.base import TemporaryError

    def unavailable(module, ids):
        raise TemporaryError("Name2 service unavailable", code="503")

    story.dest.get = unavailable
    with pytest.raises(TemporaryError):
        reconcile(story)
    run = Run.objects.get(migration=story.migration, kind=Run.Kind.RECONCILE)
    assert run.state == Run.State.FAILED and run.error == "reconciliation stopped: TemporaryError 503"
    assert not ReconciliationReport.objects.filter(migration=story.migration).exists()


def test_a_record_through_two_mappings_in_one_run_counts_once_at_its_worst(story):
    full = story.full_run
    # The merge lane of the same object skipped P1 (its parent is a Lead) and failed nothing.
    story.audit(full, "skip", "patient", "P1", "Leads", code="PARENT_IN_OTHER_MODULE")
    story.audit(full, "fail", "patient", "P3", "Contacts", code="INVALID_DATA")
    patient = rows_by(reconcile(story), "objects", "object")["patient"]
    assert (patient["created"], patient["skipped"], patient["failed"]) == (7, 1, 2)
    assert patient["unaccounted"] == 0


def test_the_parts_of_a_split_note_are_one_record(story):
    story.link("note", "N1#2", "Notes", "n1b")
    story.audit(story.full_run, "create", "note", "N1#2", "Notes", "n1b")
    note = rows_by(reconcile(story), "objects", "object")["note"]
    assert (note["source"], note["created"], note["unaccounted"], note["found_in_destination"]) == (3, 2, 0, 2)


def test_merge_links_kept_apart_per_mapping_still_name_their_crm_module():
    from migrator.services.reconcile_scan import base_module, record_id

    assert base_module("Contacts~15") == "Contacts" and base_module("Events") == "Events"
    assert record_id("6#2") == "6" and record_id("P#1x") == "P#1x"


def test_a_lookup_re_targeted_to_what_id_is_neither_an_orphan_nor_a_difference(story):
    story.dest.modules["Events"]["e4"]["What_Id"] = {"id": "c2"}    # as links.py writes it for a Lead parent
    report = reconcile(story)
    events = {o["lookup"]: o for o in report.data["orphans"]}["Events.Who_Id"]
    assert (events["not_loaded"], events["empty_in_destination"]) == (1, 0)
    assert ("A4", "Who_Id") not in {(m["source_id"], m["field"]) for m in report.data["mismatches"]}


def test_fields_merged_onto_a_record_do_not_count_it_twice_for_its_owner(story):
    story.link("patient", "P1", "Contacts~99", "c1", role="merge")
    owners = rows_by(reconcile(story), "owners", "destination_user")
    assert owners["one@crm.test"]["destination_records"] == 7


def test_a_record_stays_created_when_only_its_own_fields_merge_is_skipped_in_a_later_run(story):
    # P10 was created in the sample and found UNCHANGED by the full run; the merge of its Contact-only fields was
    # skipped in both runs (its record is a Lead in this telling). The skip of one lane does not undo the record.
    merge = _self_merge(story)
    for run in (story.sample_run, story.full_run):
        _audit(story, run, "skip", "P10", mapping=merge, code="PARENT_IN_OTHER_MODULE")
    patient = rows_by(reconcile(story), "objects", "object")["patient"]
    assert (patient["created"], patient["skipped"], patient["skip_reasons"]) == (8, 1, "ROUTED_OUT 1")


def test_a_routed_out_record_has_no_record_to_merge_its_own_fields_onto_and_stays_skipped(story):
    _audit(story, story.full_run, "fail", "P8", mapping=_self_merge(story), code="PARENT_NOT_LOADED")
    patient = rows_by(reconcile(story), "objects", "object")["patient"]
    assert (patient["skipped"], patient["failed"], patient["fail_reasons"]) == (1, 1, "MANDATORY_NOT_FOUND 1")


def test_a_note_whose_parent_lookup_is_unresolved_is_an_orphan(story):
    story.source.records["note"].append({"id": "N4", "patient_id": "P404", "text": "..."})
    AuditEntry.objects.create(migration=story.migration, run=story.full_run, op="fail", source_object="note",
                              source_id="N4", destination_module="Notes", error_code="lookup_unresolved",
                              error_field="patient_id")
    orphans = {(o["object"], o["lookup"]): o for o in reconcile(story).data["orphans"]}
    assert orphans[("note", "(parent record)")]["not_loaded"] == 2        # N3 (PARENT_NOT_LOADED) and N4


def test_children_naming_a_parent_deleted_in_the_crm_are_orphans(story):
    del story.dest.modules["Contacts"]["c1"]          # A1 and A2 still name it
    report = reconcile(story)
    events = {o["lookup"]: o for o in report.data["orphans"] if o["object"] == "appointment"}["Events.Who_Id"]
    assert (events["not_loaded"], events["empty_in_destination"], events["parent_gone"], events["orphans"]) == (
        1, 1, 2, 4)
    assert report.data["summary"]["orphans"] == 5


def _self_merge(story):
    from migrator.models import MappingStrategy, ObjectMapping, ReviewStatus

    return ObjectMapping.objects.create(migration=story.migration, source_objects=["patient"],
                                        strategy=MappingStrategy.CUSTOM_FIELDS, destination_module="Contacts",
                                        parent_source_object="patient", status=ReviewStatus.CONFIRMED, load_order=2)


def _audit(story, run, op, sid, *, mapping, code=""):
    AuditEntry.objects.create(migration=story.migration, run=run, op=op, source_object="patient", source_id=sid,
                              destination_module="Contacts", error_code=code, object_mapping=mapping)


def test_one_field_of_an_unchanged_record_skipped_with_its_reason_does_not_skip_the_record(story):
    # P10: created in the sample; the full run found it UNCHANGED and, as every run does, skipped one relation the
    # CRM cannot hold (its guarantor is a Lead). The record stays created.
    story.audit(story.full_run, "skip", "patient", "P10", "Contacts", "c10", code="LOOKUP_IN_OTHER_MODULE")
    patient = rows_by(reconcile(story), "objects", "object")["patient"]
    assert (patient["created"], patient["skipped"], patient["skip_reasons"]) == (8, 1, "ROUTED_OUT 1")
