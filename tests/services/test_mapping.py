from __future__ import annotations

import pytest

from migrator.models import FieldMap, Migration, ObjectMapping, Origin, ReviewStatus, ValueMap
from migrator.services.lifecycle import TransitionRefused, migration_transition
from migrator.services.mapping import (
    MappingError,
    mapping_confirm,
    mapping_confirm_above,
    mapping_problems,
    mapping_propose,
    mapping_reject,
)
from tests.factories import StaffUserFactory
from tests.services.mapping_fakes import FakeSuggester, discover, migration_for

pytestmark = pytest.mark.django_db

PATIENT = {"patient_id": "id", "last_name": "string", "first_name": "string", "email": "email",
           "mobile_phone": "phone", "preferred_name": "string", "gender": "code", "vip_status": "code"}


@pytest.fixture
def dentrix(catalog: object) -> Migration:
    migration = migration_for("dentrix", "zoho-crm")
    discover(migration, "patient", PATIENT, id_field="patient_id", custom=["vip_status"])
    appointment = {"appointment_id": "id", "status_id": "code", "operatory_id": "code", "room_name": "string"}
    discover(migration, "appointment", appointment,
             id_field="appointment_id", coded={"status_id": ["1", "2"]})
    return migration


def fake() -> FakeSuggester:
    return FakeSuggester({"preferred_name": ("Nickname", 0.95), "gender": ("Salutation", 0.6),
                          "vip_status": (None, 0.0), "room_name": ("Venue", 0.92)})


def test_propose_instantiates_every_catalog_row_with_catalog_origin(dentrix: Migration) -> None:
    mapping_propose(migration=dentrix, suggester=fake())

    oms = ObjectMapping.objects.filter(migration=dentrix)
    rows = {om.catalog_row.position for om in oms}
    assert rows == set(range(1, 16))
    assert all(om.origin == Origin.CATALOG and om.confidence == 1.0 for om in oms)
    # Row 9 carries a companion (images as attachments), so it gives two mappings.
    assert oms.filter(catalog_row__position=9).count() == 2


def test_default_field_maps_come_from_the_pair_file_with_transforms(dentrix: Migration) -> None:
    mapping_propose(migration=dentrix, suggester=fake())

    contacts = ObjectMapping.objects.get(migration=dentrix, catalog_row__position=1)
    maps = {fm.destination_field: fm for fm in contacts.field_maps.all()}
    assert maps["Last_Name"].source_field == "last_name"
    assert maps["Date_of_Birth"].transform == {"kind": "date"}
    assert maps["Mobile"].transform == {"kind": "phone"}
    assert maps["Source_System_ID"].create_field is True
    assert maps["Source_System_ID"].create_spec["unique"] is True
    assert maps["Last_Name"].origin == Origin.CATALOG and maps["Last_Name"].confidence == 1.0


def test_suggester_completes_uncovered_discovered_fields_only(dentrix: Migration) -> None:
    suggester = fake()
    mapping_propose(migration=dentrix, suggester=suggester)

    # Rows 1 (patients), 13 (guarantors) and 14 (custom practice fields) all write Contacts, in that order.
    contacts_asked, _guarantors_asked, custom_asked = [
        names for obj, module, names in suggester.asked if (obj, module) == ("patient", "Contacts")
    ]
    assert "last_name" not in contacts_asked and "patient_id" not in contacts_asked
    assert "preferred_name" in contacts_asked
    # The practice's own field goes to the custom-fields row, not to the records rows.
    assert "vip_status" not in contacts_asked
    assert custom_asked == ["vip_status"]

    contacts = ObjectMapping.objects.get(migration=dentrix, catalog_row__position=1)
    nick = contacts.field_maps.get(source_field="preferred_name")
    assert (nick.destination_field, nick.origin, nick.confidence) == ("Nickname", Origin.SUGGESTED, 0.95)
    assert nick.alternatives == [{"target": "Description", "confidence": 0.2}]


def test_a_field_with_no_good_target_becomes_a_custom_field_proposal(dentrix: Migration) -> None:
    mapping_propose(migration=dentrix, suggester=fake())

    custom_row = ObjectMapping.objects.get(migration=dentrix, catalog_row__position=14)
    vip = custom_row.field_maps.get(source_field="vip_status")
    assert vip.create_field is True
    assert vip.destination_field == "Vip_Status"
    assert vip.create_spec["module"] == "Contacts" and vip.create_spec["type"] == "text"


def test_value_map_proposals_for_coded_fields_become_value_map_rows(catalog: object) -> None:
    migration = migration_for("dentrix", "zoho-crm")
    discover(migration, "referral_source", {"referral_id": "id", "referral_type": "code"}, id_field="referral_id",
             coded={"referral_type": ["Patient", "Radio"]})
    suggester = FakeSuggester({}, values={"Radio": ("Advertisement", 0.7)})

    mapping_propose(migration=migration, suggester=suggester)

    fm = FieldMap.objects.get(object_mapping__migration=migration, destination_field="Lead_Source")
    rows = {v.source_value: (v.destination_value, v.origin) for v in ValueMap.objects.filter(field_map=fm)}
    assert rows["Patient"] == ("External Referral", Origin.CATALOG)
    assert rows["Radio"] == ("Advertisement", Origin.SUGGESTED)


def test_reproposing_keeps_confirmed_rows_and_manual_edits(dentrix: Migration) -> None:
    mapping_propose(migration=dentrix, suggester=fake())
    contacts = ObjectMapping.objects.get(migration=dentrix, catalog_row__position=1)
    nick = contacts.field_maps.get(source_field="preferred_name")
    mapping_confirm(user=None, field_maps=[nick])
    gender = contacts.field_maps.get(source_field="gender")
    gender.transform = {"kind": "value_map", "map": {"F": "Ms."}}
    gender.origin = Origin.MANUAL
    gender.save()
    count = FieldMap.objects.filter(object_mapping__migration=dentrix).count()

    summary = mapping_propose(migration=dentrix, suggester=FakeSuggester({"preferred_name": ("Other_Name", 0.99),
                                                                          "gender": ("Title", 0.99)}))

    nick.refresh_from_db()
    gender.refresh_from_db()
    assert nick.status == ReviewStatus.CONFIRMED and nick.destination_field == "Nickname"
    assert gender.transform == {"kind": "value_map", "map": {"F": "Ms."}}
    assert summary.object_mappings_created == 0
    assert FieldMap.objects.filter(object_mapping__migration=dentrix).count() == count


def test_confirm_above_threshold_confirms_catalog_rows_and_confident_suggestions(dentrix: Migration) -> None:
    mapping_propose(migration=dentrix, suggester=fake())
    user = StaffUserFactory()

    confirmed = mapping_confirm_above(migration=dentrix, threshold=0.9, user=user)

    fms = FieldMap.objects.filter(object_mapping__migration=dentrix, object_mapping__catalog_row__position__in=[1, 6])
    assert fms.get(source_field="preferred_name").status == ReviewStatus.CONFIRMED
    assert fms.get(source_field="room_name").status == ReviewStatus.CONFIRMED
    gender = fms.get(source_field="gender")
    assert gender.status == ReviewStatus.PROPOSED
    assert gender.pk not in confirmed.field_maps
    last = fms.get(destination_field="Last_Name")
    assert last.status == ReviewStatus.CONFIRMED and last.confirmed_by == user and last.confirmed_at is not None
    assert len(confirmed.object_mappings) == ObjectMapping.objects.filter(migration=dentrix).count()


def test_confirm_refuses_an_invalid_transform_naming_the_field_map(dentrix: Migration) -> None:
    mapping_propose(migration=dentrix, suggester=fake())
    fm = FieldMap.objects.filter(object_mapping__migration=dentrix).first()
    assert fm is not None
    fm.transform = {"kind": "date", "pivot_year": 500}
    fm.save()

    with pytest.raises(MappingError, match=f"field map #{fm.pk}"):
        mapping_confirm(user=None, field_maps=[fm])
    fm.refresh_from_db()
    assert fm.status == ReviewStatus.PROPOSED


def test_mapped_gate_lists_unconfirmed_rows_then_passes_once_confirmed(dentrix: Migration) -> None:
    dentrix.state = Migration.State.DISCOVERED
    dentrix.save()
    mapping_propose(migration=dentrix, suggester=fake())

    with pytest.raises(TransitionRefused) as refused:
        migration_transition(migration=dentrix, to_state=Migration.State.MAPPED)
    assert any("is not confirmed" in r for r in refused.value.reasons)

    mapping_confirm_above(migration=dentrix, threshold=0.9, user=None)
    mapping_reject(user=None, field_maps=FieldMap.objects.filter(object_mapping__migration=dentrix,
                                                                 source_field="gender"))
    mapping_confirm(user=None, field_maps=FieldMap.objects.filter(object_mapping__migration=dentrix,
                                                                  source_field="vip_status"))

    migration_transition(migration=dentrix, to_state=Migration.State.MAPPED)
    assert dentrix.state == Migration.State.MAPPED


def test_mapped_gate_names_unmapped_mandatory_destination_fields(dentrix: Migration) -> None:
    mapping_propose(migration=dentrix, suggester=fake())
    mapping_confirm_above(migration=dentrix, threshold=0.0, user=None)
    FieldMap.objects.filter(object_mapping__migration=dentrix, destination_field="Last_Name",
                            object_mapping__catalog_row__position=2).update(status=ReviewStatus.REJECTED)

    problems = mapping_problems(dentrix)

    assert len(problems) == 1
    assert "mandatory Leads field(s) unmapped: Last_Name" in problems[0]


def test_rejected_object_mappings_do_not_count_for_the_gate(dentrix: Migration) -> None:
    mapping_propose(migration=dentrix, suggester=fake())
    mapping_confirm_above(migration=dentrix, threshold=0.0, user=None)
    leads = ObjectMapping.objects.get(migration=dentrix, catalog_row__position=2)
    leads.field_maps.update(status=ReviewStatus.PROPOSED)
    mapping_reject(user=None, object_mappings=[leads])

    assert mapping_problems(dentrix) == []


def test_gate_refuses_a_migration_with_no_mapping(catalog: object) -> None:
    migration = migration_for("dentrix", "zoho-crm")
    assert mapping_problems(migration) == [
        "no mapping has been proposed: run `manage.py propose_mapping` or the admin action"
    ]


def test_the_real_suggester_completes_a_dentrix_patient(dentrix: Migration) -> None:
    summary = mapping_propose(migration=dentrix)

    contacts = ObjectMapping.objects.get(migration=dentrix, catalog_row__position=1)
    suggested = contacts.field_maps.filter(origin=Origin.SUGGESTED)
    assert suggested.exists()
    assert all(0.0 <= fm.confidence <= 1.0 for fm in suggested)
    assert summary.suggestions and {"source", "target", "confidence"} <= set(summary.suggestions[0])
