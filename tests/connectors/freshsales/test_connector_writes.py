"""The connector against the simulator over real HTTP: writes, choice resolution, errors per record."""

from __future__ import annotations

import httpx
import pytest

from connectors.base import DestinationConnector, FieldSpec, PermanentError
from connectors.destinations.freshsales.connector import FreshsalesConnector

from .helpers import add_custom_field

pytestmark = pytest.mark.e2e


def test_connector_honours_the_destination_protocol(connector: FreshsalesConnector) -> None:
    assert isinstance(connector, DestinationConnector)


def test_from_connection_validates_settings_and_secrets(bundle_url: str) -> None:
    with FreshsalesConnector.from_connection({"bundle_url": bundle_url, "plan": "pro"}, {"api_key": "k"}) as c:
        assert c.budget.limits.allowance == 2000
        assert c.config.note_split_bytes == 32 * 1024
    with pytest.raises(PermanentError) as excinfo:
        FreshsalesConnector.from_connection({"bundle_url": "ftp://x", "plan": "gold"}, {})
    assert "bundle_url" in excinfo.value.message and "api_key" in excinfo.value.message


def test_fields_come_from_settings_with_custom_fields_flagged_and_choices_as_picklists(
    connector: FreshsalesConnector, admin: httpx.Client
) -> None:
    add_custom_field(admin, "contacts", label="Treatment type", type="dropdown", choices=["Implant", "Ortho"])
    fields = {f.api_name: f for f in connector.fields("contacts")}
    assert fields["last_name"].mandatory
    assert fields["emails"].unique
    assert fields["owner_id"].type == "owner"
    assert "Lead" in fields["lifecycle_stage_id"].picklist
    assert fields["cf_treatment_type"].custom and fields["cf_treatment_type"].picklist == ("Implant", "Ortho")
    assert fields["sales_accounts"].lookup_module == "sales_accounts"
    assert {f.api_name for f in connector.fields("notes")} >= {"description", "targetable_id"}


def test_users_come_from_the_owners_selector(connector: FreshsalesConnector) -> None:
    users = {u.email: u for u in connector.users()}
    assert users["admin@example-dental.test"].active
    assert not users["former@example-dental.test"].active


def test_create_field_says_freshsales_has_no_field_creation_api(connector: FreshsalesConnector) -> None:
    with pytest.raises(PermanentError) as excinfo:
        connector.create_field(FieldSpec(module="contacts", label="Recall interval", type="integer"))
    assert excinfo.value.code == "NO_FIELD_API"
    assert "admin" in excinfo.value.message


def test_a_lead_is_a_contact_with_the_lead_lifecycle_stage_resolved_from_its_text(
    connector: FreshsalesConnector, api: httpx.Client
) -> None:
    [result] = connector.insert("contacts", [{"last_name": "Yılmaz", "email": "lead@example.test",
                                              "lifecycle_stage": "Lead", "lead_source_id": "Referral",
                                              "owner_id": "70000000002"}])
    assert result.ok and result.action == "insert"
    contact = api.get(f"contacts/{result.id}").json()["contact"]
    assert contact["lifecycle_stage_id"] == 5001
    assert contact["lead_source_id"] == 3001
    assert contact["owner_id"] == 70000000002
    assert contact["email"] == "lead@example.test"


def test_bad_rows_fail_one_by_one_with_their_reason(connector: FreshsalesConnector, admin: httpx.Client) -> None:
    add_custom_field(admin, "contacts", label="Insurance", type="dropdown", choices=["SGK", "Private"])
    results = connector.insert("contacts", [
        {"last_name": "A", "email": "a@example.test"},
        {"last_name": "B", "email": "a@example.test"},                  # duplicate email (server)
        {"first_name": "C"},                                            # missing required last name
        {"last_name": "D", "lifecycle_stage_id": "Prospect"},           # no such choice
        {"last_name": "E", "cf_insurance": "Unknown Co"},               # custom dropdown value not a choice
        {"last_name": "F", "cf_not_created": "x"},                      # custom field not created by the admin
        {"last_name": "G", "cf_insurance": "SGK"},
    ])
    assert [r.ok for r in results] == [True, False, False, False, False, False, True]
    assert results[1].code == "DUPLICATE" and "already exists" in results[1].message
    assert (results[2].code, results[2].field) == ("MANDATORY_MISSING", "last_name")
    assert (results[3].code, results[3].field) == ("INVALID_CHOICE", "lifecycle_stage_id")
    assert (results[4].code, results[4].field) == ("INVALID_CHOICE", "cf_insurance")
    assert (results[5].code, results[5].field) == ("UNKNOWN_FIELD", "cf_not_created")
    assert all(r.permanent for r in results if not r.ok)
    assert [r.index for r in results] == list(range(7))


def test_custom_fields_travel_inside_custom_field(connector: FreshsalesConnector, admin: httpx.Client,
                                                  api: httpx.Client) -> None:
    add_custom_field(admin, "contacts", label="Source system id", type="text", unique=True)
    [result] = connector.insert("contacts", [{"last_name": "K", "cf_source_system_id": "drd-1"}])
    contact = api.get(f"contacts/{result.id}").json()["contact"]
    assert contact["custom_field"] == {"cf_source_system_id": "drd-1"}
    [record] = connector.get("contacts", [result.id])
    assert record.data["cf_source_system_id"] == "drd-1" and record.modified_at is not None


def test_upsert_creates_then_updates_the_same_contact(connector: FreshsalesConnector) -> None:
    [first] = connector.upsert("contacts", [{"last_name": "U", "email": "u@example.test"}], key_field="emails")
    [second] = connector.upsert("contacts", [{"last_name": "U2", "email": "u@example.test"}], key_field="emails")
    assert (first.action, second.action) == ("insert", "update")
    assert first.id == second.id
    assert connector.count("contacts") == 1


def test_bulk_upsert_runs_as_a_job_with_per_record_results(connector: FreshsalesConnector, sim: object) -> None:
    records = [{"name": f"Clinic {i}", "city": "Izmir"} for i in range(3)] + [{"name": "Clinic 1"}, {"city": "x"}]
    results = connector.upsert("sales_accounts", records, key_field="name")
    assert [r.action for r in results[:4]] == ["insert", "insert", "insert", "update"]
    assert results[1].id == results[3].id
    assert not results[4].ok and results[4].field == "name"
    assert connector.count("sales_accounts") == 3


def test_upsert_is_refused_where_freshsales_has_none(connector: FreshsalesConnector) -> None:
    with pytest.raises(PermanentError):
        connector.upsert("deals", [{"name": "x"}], key_field="name")


def test_update_get_and_lookups_as_ids(connector: FreshsalesConnector, api: httpx.Client) -> None:
    [account] = connector.insert("sales_accounts", [{"name": "Main clinic"}])
    [contact] = connector.insert("contacts", [{"last_name": "L", "sales_account_id": account.id}])
    [deal] = connector.insert("deals", [{"name": "Implant", "amount": "1200.50", "sales_account_id": account.id,
                                         "deal_stage_id": "In Treatment", "contacts_added_list": [contact.id]}])
    assert deal.ok, deal.message
    [updated] = connector.update("deals", [{"id": deal.id, "deal_stage_id": "Invoiced"}])
    assert updated.ok and updated.action == "update"
    [record] = connector.get("deals", [deal.id])
    assert record.data["deal_stage_id"] == 2003 and record.data["sales_account_id"] == int(account.id)
    assert api.get(f"contacts/{contact.id}").json()["contact"]["sales_accounts"][0]["id"] == int(account.id)
    assert connector.get("deals", ["999"]) == []
    [missing] = connector.update("deals", [{"id": "999", "name": "x"}])
    assert not missing.ok and missing.code == "404"


def test_deal_products_are_set_with_include_products(connector: FreshsalesConnector, api: httpx.Client) -> None:
    [product] = connector.insert("products", [{"name": "Crown", "unit_price": 300, "product_code": "D2740"}])
    [deal] = connector.insert("deals", [{"name": "Crown case", "products": [
        {"id": int(product.id), "quantity": 2, "unit_price": 300}]}])
    assert deal.ok
    body = api.get(f"deals/{deal.id}", params={"include": "products"}).json()["deal"]
    assert body["products"] == [{"id": int(product.id), "quantity": 2, "unit_price": 300}]


def test_tasks_appointments_and_sales_activities(connector: FreshsalesConnector) -> None:
    [contact] = connector.insert("contacts", [{"last_name": "T"}])
    target = {"targetable_type": "contacts", "targetable_id": contact.id}
    tasks = connector.insert("tasks", [{"title": "6-month checkup", "due_date": "2025-03-01T09:00:00+03:00",
                                        **target}, {"title": "no due date", **target}])
    assert tasks[0].ok and (tasks[1].code, tasks[1].field) == ("MANDATORY_MISSING", "due_date")
    [appointment] = connector.insert("appointments", [{
        "title": "Cleaning", "from_date": "2025-03-01T09:00:00+03:00", "end_date": "2025-03-01T09:30:00+03:00",
        "appointment_attendees_attributes": [{"attendee_type": "Contact", "attendee_id": int(contact.id)}],
        **target}])
    assert appointment.ok, appointment.message
    [activity] = connector.insert("sales_activities", [{
        "title": "Appointment", "sales_activity_type_id": "Appointment", "sales_activity_outcome_id": "Cancelled",
        "start_date": "2025-03-01T09:00:00+03:00", "end_date": "2025-03-01T09:45:00+03:00",
        "owner_id": "70000000003", **target}])
    assert activity.ok, activity.message
    assert connector.count("tasks") == 1
    assert [r.data["title"] for r in connector.iter_records("sales_activities", ["title"])] == ["Appointment"]


def test_attach_uploads_a_document_and_refuses_files_over_the_cap(
    connector: FreshsalesConnector, make_connector: object, api: httpx.Client, sim: object
) -> None:
    import io

    [contact] = connector.insert("contacts", [{"last_name": "F"}])
    data = b"%PDF-1.4 radiograph" * 100
    result = connector.attach("contacts", contact.id, file_name="xray.pdf", stream=io.BytesIO(data),
                              size=len(data), content_type="application/pdf")
    assert result.ok
    state = api.get(f"documents/{result.id}").json()["document"]
    assert state["size"] == len(data) and state["targetable_type"] == "Contact"
    too_big = connector.attach("contacts", contact.id, file_name="scan.zip", stream=io.BytesIO(b""),
                               size=150 * 1024 * 1024 + 1, content_type="application/zip")
    assert not too_big.ok and too_big.code == "FILE_TOO_LARGE"


def test_iter_records_pages_through_all_records(connector: FreshsalesConnector) -> None:
    results = connector.upsert("contacts", [{"last_name": f"P{i}", "email": f"p{i}@example.test"}
                                            for i in range(230)], key_field="emails")
    assert all(r.ok for r in results)
    seen = list(connector.iter_records("contacts", ["last_name"]))
    assert len(seen) == 230 == connector.count("contacts")
    assert {r.id for r in seen} == {r.id for r in results}
    assert set(seen[0].data) == {"id", "last_name"}


def test_notes_cannot_be_listed_and_say_so(connector: FreshsalesConnector) -> None:
    with pytest.raises(PermanentError) as excinfo:
        connector.count("notes")
    assert excinfo.value.code == "NO_LIST_API"


def test_a_users_edit_in_freshsales_shows_in_modified_at(connector: FreshsalesConnector, admin: httpx.Client) -> None:
    [written] = connector.insert("contacts", [{"last_name": "D"}])
    admin.post(f"records/contacts/{written.id}", json={"job_title": "Edited by the clinic"})
    [record] = connector.get("contacts", [written.id])
    assert written.modified_at is not None and record.modified_at is not None
    assert record.modified_at > written.modified_at


def test_cost_counts_requests_with_bulk_upsert_as_the_lever(connector: FreshsalesConnector) -> None:
    assert connector.cost("insert", 250) == 250
    assert connector.cost("upsert", 250) == 6      # 3 jobs: a submission and a poll each
    assert connector.cost("upsert", 1) == 1
    assert connector.batch_size("contacts") == 100
