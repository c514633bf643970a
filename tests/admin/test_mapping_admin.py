from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from migrator.models import FieldMap, Origin, ReviewStatus
from migrator.services.mapping import mapping_confirm_above, mapping_propose
from tests.factories import StaffUserFactory
from tests.services.mapping_fakes import FakeSuggester, migration_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client() -> Client:
    client = Client()
    client.force_login(StaffUserFactory())
    return client


def test_an_invalid_transform_is_shown_in_place_and_not_saved(catalog: object, staff_client: Client) -> None:
    migration = migration_for("dentrix", "zoho-crm")
    mapping_propose(migration=migration, suggester=FakeSuggester({}))
    fm = FieldMap.objects.filter(object_mapping__migration=migration).first()
    assert fm is not None
    url = reverse("admin:migrator_fieldmap_change", args=[fm.pk])
    data = {"source_field": fm.source_field, "destination_field": fm.destination_field,
            "transform": '{"kind": "teleport"}', "status": fm.status,
            "value_maps-TOTAL_FORMS": "0", "value_maps-INITIAL_FORMS": "0"}

    response = staff_client.post(url, data)

    assert response.status_code == 200
    assert "Invalid transform: unknown transform kind" in response.content.decode()
    fm.refresh_from_db()
    assert fm.transform != {"kind": "teleport"}


def test_a_valid_edit_makes_the_field_map_manual(catalog: object, staff_client: Client) -> None:
    migration = migration_for("dentrix", "zoho-crm")
    mapping_propose(migration=migration, suggester=FakeSuggester({}))
    fm = FieldMap.objects.filter(object_mapping__migration=migration, transform__kind="phone").first()
    assert fm is not None
    data = {"source_field": fm.source_field, "destination_field": fm.destination_field,
            "transform": '{"kind": "phone", "region": "US"}', "status": fm.status,
            "value_maps-TOTAL_FORMS": "0", "value_maps-INITIAL_FORMS": "0"}

    response = staff_client.post(reverse("admin:migrator_fieldmap_change", args=[fm.pk]), data)

    assert response.status_code == 302
    fm.refresh_from_db()
    assert fm.origin == Origin.MANUAL and fm.transform == {"kind": "phone", "region": "US"}


def test_confirm_above_threshold_action_asks_then_confirms(catalog: object, staff_client: Client) -> None:
    migration = migration_for("dentrix", "zoho-crm")
    mapping_propose(migration=migration, suggester=FakeSuggester({}))
    om = migration.object_mappings.first()
    assert om is not None
    url = reverse("admin:migrator_objectmapping_changelist")
    base = {"action": "confirm_above_threshold", "_selected_action": [str(om.pk)]}

    asked = staff_client.post(url, base)
    assert asked.status_code == 200 and "threshold" in asked.content.decode()

    done = staff_client.post(url, {**base, "apply": "1", "threshold": "0.9"})
    assert done.status_code == 302
    assert not FieldMap.objects.filter(object_mapping__migration=migration, status=ReviewStatus.PROPOSED).exists()


def test_checklist_page_and_downloads(catalog: object, staff_client: Client) -> None:
    migration = migration_for("dentrix", "zoho-crm")
    mapping_propose(migration=migration, suggester=FakeSuggester({}))
    mapping_confirm_above(migration=migration, threshold=0.9, user=None)
    url = reverse("admin:migrator_schema_checklist", args=[migration.pk])

    page = staff_client.get(url)
    assert page.status_code == 200 and "Insurance_Carrier" in page.content.decode()
    pdf = staff_client.get(url, {"format": "pdf"})
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert staff_client.get(url, {"format": "csv"}).content.decode("utf-8-sig").startswith("Module,What")


def test_checklist_page_needs_a_staff_login(catalog: object) -> None:
    migration = migration_for("dentrix", "zoho-crm")
    response = Client().get(reverse("admin:migrator_schema_checklist", args=[migration.pk]))
    assert response.status_code == 302 and "login" in response["Location"]
