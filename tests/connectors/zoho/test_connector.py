"""Every connector operation against the simulator over real HTTP."""

from __future__ import annotations

import io

import pytest

from connectors.base import DestinationConnector, FieldSpec, ModuleSpec, PermanentError
from connectors.destinations.zoho.connector import ZohoConnector

from .conftest import Served, connection_config, secrets_of

pytestmark = pytest.mark.e2e


def test_from_connection_builds_a_destination_connector(served: Served) -> None:
    with ZohoConnector.from_connection(connection_config(served.url), secrets_of(served.sim)) as conn:
        assert isinstance(conn, DestinationConnector)
        assert conn.count("Contacts") == 0


def test_wrong_client_secret_is_a_permanent_error(served: Served) -> None:
    secrets = secrets_of(served.sim) | {"client_secret": "wrong"}
    with ZohoConnector.from_connection(connection_config(served.url), secrets) as conn:
        with pytest.raises(PermanentError) as caught:
            conn.count("Contacts")
    assert caught.value.code == "invalid_client"


def test_metadata_lists_modules_fields_and_active_users(served: Served) -> None:
    with served.connector() as conn:
        modules = {m.api_name: m for m in conn.modules()}
        assert {"Leads", "Contacts", "Accounts", "Notes", "Sales_Orders", "Invoices"} <= set(modules)
        assert modules["Contacts"].supports_bulk and not modules["Notes"].supports_bulk
        fields = {f.api_name: f for f in conn.fields("Contacts")}
        assert fields["Last_Name"].mandatory and fields["Last_Name"].length == 80
        assert fields["Account_Name"].type == "lookup" and fields["Account_Name"].lookup_module == "Accounts"
        assert fields["Owner"].type == "owner"
        assert "Chat" in fields["Lead_Source"].picklist
        users = conn.users()
        assert len(users) == 20 and all(u.active and u.email for u in users)


def test_professional_edition_has_sales_orders_but_no_invoices(make_served) -> None:  # type: ignore[no-untyped-def]
    served = make_served(edition="professional")
    with served.connector() as conn:
        names = {m.api_name for m in conn.modules()}
    assert "Sales_Orders" in names and "Invoices" not in names


def test_create_field_and_module_read_back_the_real_api_name(served: Served) -> None:
    with served.connector() as conn:
        created = conn.create_field(FieldSpec(module="Contacts", label="Insurance_Carrier__c", type="text", length=80))
        assert created.api_name == "Insurance_Carrier_c" and created.custom
        key = conn.create_field(FieldSpec(module="Contacts", label="Source_System_ID", type="text", length=64))
        assert key.unique
        module = conn.create_module(ModuleSpec(singular_label="Treatment", plural_label="Treatments"))
        assert module.api_name == "Treatments" and module.custom
        results = conn.insert("Treatments", [{"Name": "Crown 16"}, {}])
        assert results[0].ok and (results[1].code, results[1].field) == ("MANDATORY_NOT_FOUND", "Name")


def test_insert_update_get_iterate_count_delete(served: Served) -> None:
    with served.connector() as conn:
        [account] = conn.insert("Accounts", [{"Account_Name": "Smile Clinic"}])
        owner = conn.users()[1].id
        results = conn.insert("Contacts", [
            {"Last_Name": f"Patient{i}", "Account_Name": account.id, "Owner": owner} for i in range(5)
        ])
        assert all(r.ok and r.action == "insert" and r.modified_at for r in results)
        ids = [r.id for r in results]
        updated = conn.update("Contacts", [{"id": ids[0], "First_Name": "Ayse"}])
        assert updated[0].ok and updated[0].action == "update"
        [record] = conn.get("Contacts", [ids[0]])
        assert record.data["First_Name"] == "Ayse" and record.data["Account_Name"]["id"] == account.id
        assert record.data["Owner"]["id"] == owner
        assert [r.id for r in conn.iter_records("Contacts", ["Last_Name"])] == ids
        assert conn.count("Contacts") == 5
        deleted = conn.delete("Contacts", [*ids[:2], "5725767999999999999"])
        assert [d.ok for d in deleted] == [True, True, False] and deleted[2].code == "INVALID_DATA"
        assert conn.count("Contacts") == 3
        assert conn.get("Contacts", [ids[0]]) == []


def test_iterating_past_two_thousand_records_uses_page_token(served: Served) -> None:
    with served.connector() as conn:
        for start in range(0, 2300, 100):
            assert all(r.ok for r in conn.insert("Leads", [{"Last_Name": f"L{i}"} for i in range(start, start + 100)]))
        names = [r.data["Last_Name"] for r in conn.iter_records("Leads", ["Last_Name"])]
    assert names == [f"L{i}" for i in range(2300)]


def test_notes_take_parent_id_as_module_and_id(served: Served) -> None:
    with served.connector() as conn:
        [contact] = conn.insert("Contacts", [{"Last_Name": "Demir"}])
        results = conn.insert("Notes", [
            {"Note_Title": "Visit", "Note_Content": "checked", "Parent_Id": {"module": "Contacts", "id": contact.id}},
            {"Note_Content": "orphan", "Parent_Id": {"module": "Contacts", "id": "5725767999999999999"}},
        ])
    assert results[0].ok
    assert (results[1].ok, results[1].code, results[1].field) == (False, "INVALID_DATA", "Parent_Id")


def test_sales_orders_carry_ordered_items(served: Served) -> None:
    with served.connector() as conn:
        [account] = conn.insert("Accounts", [{"Account_Name": "Clinic"}])
        [product] = conn.insert("Products", [{"Product_Name": "Implant"}])
        good = {"Subject": "SO-1", "Account_Name": account.id,
                "Ordered_Items": [{"Product_Name": {"id": product.id}, "Quantity": 2, "List_Price": 100.0}]}
        bad = {"Subject": "SO-2", "Account_Name": account.id, "Ordered_Items": [{"Quantity": 1}]}
        results = conn.insert("Sales_Orders", [good, bad])
    assert results[0].ok
    assert (results[1].code, results[1].field) == ("MANDATORY_NOT_FOUND", "Product_Name")


def test_attach_streams_the_file_and_skips_one_over_the_cap(served: Served) -> None:
    with served.connector() as conn:
        [contact] = conn.insert("Contacts", [{"Last_Name": "Kaya"}])
        result = conn.attach("Contacts", contact.id, file_name="xray.png", stream=io.BytesIO(b"x" * 5000),
                             size=5000, content_type="image/png")
        assert result.ok and result.id
        before = served.admin("GET", "credits")["total"]
        too_big = conn.attach("Contacts", contact.id, file_name="scan.dcm", stream=io.BytesIO(b""),
                              size=26 * 1024 * 1024, content_type="application/dicom")
        assert (too_big.ok, too_big.code, too_big.permanent) == (False, "FILE_TOO_LARGE", True)
        assert too_big.message.startswith("skipped: too large")
        assert served.admin("GET", "credits")["total"] == before, "an oversize file never reaches the API"
    assert len(served.sim.state.attachments) == 1


def test_an_access_token_expiring_mid_run_is_refreshed_once(served: Served) -> None:
    with served.connector() as conn:
        first = conn.insert("Leads", [{"Last_Name": "A"}])
        served.admin("POST", "expire-tokens")
        second = conn.insert("Leads", [{"Last_Name": "B"}])
        assert first[0].ok and second[0].ok
        assert served.admin("GET", "credits")["token_mints"] == 2
        assert conn.budget.used() == served.admin("GET", "credits")["used"]


def test_upsert_updates_on_the_key_field_instead_of_duplicating(served: Served) -> None:
    with served.connector() as conn:
        conn.create_field(FieldSpec(module="Contacts", label="Source_System_ID", type="text"))
        first = conn.upsert("Contacts", [{"Last_Name": "Yilmaz", "Source_System_ID": "P-1"}],
                            key_field="Source_System_ID")
        again = conn.upsert("Contacts", [{"Last_Name": "Yilmaz2", "Source_System_ID": "P-1"}],
                            key_field="Source_System_ID")
        assert (first[0].action, again[0].action) == ("insert", "update") and first[0].id == again[0].id
        assert conn.count("Contacts") == 1


def test_cost_and_bulk_choice_follow_the_credit_table(served: Served) -> None:
    with served.connector() as conn:
        assert conn.cost("insert", 100) == 10 and conn.cost("insert", 1) == 1 and conn.cost("get", 1) == 1
        assert conn.batch_size("Contacts") == 100
        assert not conn.should_use_bulk("Contacts", 1000)
        assert conn.should_use_bulk("Contacts", 30000)
        assert not conn.should_use_bulk("Notes", 30000)
        # A job (500) + upload, polls, result (3) + the modified times read back (1 per 100 records), against
        # 1 credit per 10 records in batches: bulk pays from 5,600 records on.
        assert conn.cost("bulk_upsert", 25000) == 500 + 3 + 250
        assert conn.bulk_rows("Contacts", 5500) == 0 and conn.bulk_rows("Contacts", 5700) == 25000
        assert conn.bulk_rows("Events", 50000) == 0
