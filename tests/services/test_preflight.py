from __future__ import annotations

import pytest

from migrator.models import FieldMap, Migration, SchemaPlanItem, ValueMap
from migrator.services.checklist import checklist_apply
from migrator.services.lifecycle import TransitionRefused, migration_transition
from migrator.services.preflight import preflight_run
from tests.services.test_checklist import ZohoSim, confirmed_dentrix_map, zoho  # noqa: F401  (fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.e2e]


def applied(zoho: ZohoSim) -> Migration:  # noqa: F811
    migration = confirmed_dentrix_map()
    with zoho.connector() as destination:
        assert checklist_apply(migration=migration, destination=destination).errors == []
    return migration


def test_preflight_passes_after_apply_on_the_zoho_simulator(catalog: object, zoho: ZohoSim) -> None:  # noqa: F811
    migration = applied(zoho)

    with zoho.connector() as destination:
        report = preflight_run(migration=migration, destination=destination)

    assert report.problems == []
    assert report.checked_fields > 40 and report.checked_values > 0


def test_preflight_names_the_exact_field_deleted_in_the_crm(catalog: object, zoho: ZohoSim) -> None:  # noqa: F811
    migration = applied(zoho)
    zoho.drop_field("Contacts", "Insurance_Carrier")

    with zoho.connector() as destination:
        report = preflight_run(migration=migration, destination=destination)

    fm = FieldMap.objects.get(object_mapping__migration=migration, destination_field="Insurance_Carrier")
    assert report.problems == [f"Contacts.Insurance_Carrier (field map #{fm.pk}): field does not exist in the "
                               "destination"]
    item = SchemaPlanItem.objects.get(migration=migration, module="Contacts", label="Insurance_Carrier")
    assert item.status == SchemaPlanItem.Status.MISSING


def test_preflight_names_picklist_values_the_destination_does_not_offer(
    catalog: object, zoho: ZohoSim  # noqa: F811
) -> None:
    migration = applied(zoho)
    fm = FieldMap.objects.get(object_mapping__migration=migration, destination_field="Lead_Source")
    ValueMap.objects.create(field_map=fm, source_value="Radio", destination_value="Radio Spot")

    with zoho.connector() as destination:
        report = preflight_run(migration=migration, destination=destination)

    assert report.problems == [
        f"Contacts.Lead_Source (field map #{fm.pk}): picklist value 'Radio Spot' is not offered by the destination"
    ]


def test_schema_verified_gate_refuses_with_each_problem(
    catalog: object, zoho: ZohoSim, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    migration = applied(zoho)
    zoho.drop_field("Contacts", "Balance_Due")
    monkeypatch.setattr("migrator.services.connections.destination_connector", lambda _c: zoho.connector())
    Migration.objects.filter(pk=migration.pk).update(state=Migration.State.OWNERS_CONFIRMED)
    migration.refresh_from_db()

    with pytest.raises(TransitionRefused) as refused:
        migration_transition(migration=migration, to_state=Migration.State.SCHEMA_VERIFIED)

    assert len(refused.value.reasons) == 1 and "Contacts.Balance_Due" in refused.value.reasons[0]
