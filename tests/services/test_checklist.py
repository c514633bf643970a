from __future__ import annotations

import csv
import dataclasses
import io
import uuid
from collections.abc import Iterator

import pytest
from openpyxl import load_workbook

from connectors.base import DestField, DestModule, FieldSpec, ModuleSpec
from connectors.destinations.zoho.connector import ZohoConnector
from connectors.destinations.zoho.schemas import ZohoConfig, ZohoSecrets
from connectors.simulators.common import ServerHandle, start_server
from connectors.simulators.zoho.app import ZohoSimulator
from connectors.simulators.zoho.state import SimConfig
from migrator.models import FieldMap, Migration, ObjectMapping, SchemaPlanItem
from migrator.services.checklist import checklist_apply, checklist_build, checklist_rows
from migrator.services.checklist_export import checklist_csv, checklist_pdf, checklist_xlsx
from migrator.services.mapping import mapping_confirm_above, mapping_propose, mapping_reject
from tests.services.mapping_fakes import FakeSuggester, migration_for

pytestmark = pytest.mark.django_db


class ZohoSim:
    """A Zoho simulator on a free port and connectors pointed at it (the budget stays in-process)."""

    def __init__(self) -> None:
        self.sim = ZohoSimulator(SimConfig(edition="enterprise", users=5))
        self.handle: ServerHandle = start_server(self.sim)
        self._align_with_reference()

    def _align_with_reference(self) -> None:
        # reference/zoho-crm-v8.md "Standard field names": Leads have Zip_Code; the simulator calls it Zip (reported).
        with self.sim.state.lock:
            fields = self.sim.state.modules["Leads"].fields
            if "Zip" in fields and "Zip_Code" not in fields:
                fields["Zip_Code"] = dataclasses.replace(fields.pop("Zip"), api_name="Zip_Code", label="Zip Code")

    def connector(self) -> ZohoConnector:
        cfg = self.sim.state.config
        config = {"api_base": self.handle.url, "accounts_url": self.handle.url, "content_url": self.handle.url,
                  "edition": "enterprise", "users": 5, "budget_key": f"test-workbench-{uuid.uuid4().hex}",
                  "read_timeout": 10.0}
        return ZohoConnector(ZohoConfig.model_validate(config), ZohoSecrets.model_validate(
            {"client_id": cfg.client_id, "client_secret": cfg.client_secret, "refresh_token": cfg.refresh_token}))

    def drop_field(self, module: str, api_name: str) -> None:
        """As if the customer's admin deleted the field in the CRM."""
        with self.sim.state.lock:
            self.sim.state.modules[module].fields.pop(api_name)


@pytest.fixture
def zoho() -> Iterator[ZohoSim]:
    sim = ZohoSim()
    yield sim
    sim.handle.stop()


def confirmed_dentrix_map() -> Migration:
    migration = migration_for("dentrix", "zoho-crm")
    mapping_propose(migration=migration, suggester=FakeSuggester({}))
    mapping_confirm_above(migration=migration, threshold=0.0, user=None)
    # The Insurance Benefits subform is built by hand in Zoho (no field API for subforms): leave it out here.
    mapping_reject(user=None, object_mappings=ObjectMapping.objects.filter(migration=migration,
                                                                           catalog_row__position=4))
    return migration


def test_checklist_lists_every_field_to_create_with_type_and_why(catalog: object) -> None:
    migration = confirmed_dentrix_map()

    items = checklist_build(migration=migration)

    by_key = {(i.module, i.label): i for i in items}
    carrier = by_key[("Contacts", "Insurance_Carrier")]
    assert (carrier.type, carrier.length, carrier.status) == ("text", 255, SchemaPlanItem.Status.PLANNED)
    assert "carrier" in carrier.why.lower()
    assert by_key[("Contacts", "Source_System_ID")].unique is True
    assert by_key[("Contacts", "Related_Party")].lookup_module == "Contacts"
    assert "Restorative" in by_key[("Contacts", "Procedure_Description")].picklist
    assert ("Events", "Source_System_ID") in by_key and ("Tasks", "Source_System_ID") in by_key


def test_checklist_downloads_open_and_carry_the_rows(catalog: object) -> None:
    migration = confirmed_dentrix_map()
    checklist_build(migration=migration)
    expected = len(checklist_rows(migration))

    rows = list(csv.reader(io.StringIO(checklist_csv(migration).decode("utf-8-sig"))))
    assert rows[0][:3] == ["Module", "What", "Label"] and len(rows) == expected + 1

    sheet = load_workbook(io.BytesIO(checklist_xlsx(migration))).active
    assert sheet is not None and sheet.max_row == expected + 1

    pdf = checklist_pdf(migration)
    assert pdf.startswith(b"%PDF")
    # The rows are text in the page streams, not pictures of text.
    assert b"(Insurance_Carrier)" in pdf and b"(Procedure_Description)" in pdf


@pytest.mark.e2e
def test_apply_creates_fields_on_zoho_and_records_their_api_names(catalog: object, zoho: ZohoSim) -> None:
    migration = confirmed_dentrix_map()
    with zoho.connector() as destination:
        result = checklist_apply(migration=migration, destination=destination)
        assert result.errors == []
        created = {(i.module, i.created_api_name) for i in result.created}
        assert ("Contacts", "Insurance_Carrier") in created
        contacts = {f.api_name for f in destination.fields("Contacts")}
        assert {"Insurance_Carrier", "Balance_Due", "Related_Party", "Source_System_ID"} <= contacts

        again = checklist_apply(migration=migration, destination=destination)
    assert again.created == [] and again.errors == []
    assert not SchemaPlanItem.objects.filter(migration=migration, status=SchemaPlanItem.Status.PLANNED).exists()


def test_field_maps_follow_the_api_name_the_crm_derived(catalog: object) -> None:
    migration = confirmed_dentrix_map()
    item = checklist_build(migration=migration)[0]
    item_module, item_api = item.module, item.api_name

    class Renaming:
        def modules(self) -> list[object]:
            return []

        def create_field(self, spec: FieldSpec) -> DestField:
            return DestField(api_name=f"{spec.api_name}1", label=spec.label, type=spec.type)

        def create_module(self, spec: ModuleSpec) -> DestModule:
            return DestModule(api_name="X", label="X")

        def fields(self, module: str) -> list[object]:
            return []

    checklist_apply(migration=migration, destination=Renaming())  # type: ignore[arg-type]

    maps = FieldMap.objects.filter(object_mapping__migration=migration,
                                   object_mapping__destination_module=item_module)
    assert maps.filter(destination_field=f"{item_api}1").exists()
    assert not maps.filter(destination_field=item_api, create_field=True).exists()
