from __future__ import annotations

import pytest
from django.core.management import call_command

from migrator.models import Edition, Gotcha, PairCustomField, PairObjectMapping, Platform, PlatformPair

pytestmark = pytest.mark.django_db


def test_catalog_has_every_seed_row_by_pair(catalog):
    counts = {p.slug: p.object_mappings.count()
              for p in PlatformPair.objects.select_related("source", "destination")}
    assert counts == {
        "drdentes:zoho-crm": 12,
        "dentrix:zoho-crm": 15,
        "dental-exec:zoho-crm": 12,
        "dent-o-soft:zoho-crm": 10,
        "drdentes:freshsales": 13,
    }
    assert PairObjectMapping.objects.count() == 62


def test_catalog_has_six_platforms_with_destination_editions(catalog):
    assert set(Platform.objects.values_list("slug", flat=True)) == {
        "drdentes", "dentrix", "dental-exec", "dent-o-soft", "zoho-crm", "freshsales"}
    zoho_editions = set(Edition.objects.filter(platform__slug="zoho-crm").values_list("slug", flat=True))
    assert {"standard", "professional", "enterprise"} <= zoho_editions
    enterprise = Edition.objects.get(platform__slug="zoho-crm", slug="enterprise")
    assert enterprise.limits["concurrency"] == 20
    assert enterprise.features["invoices"] is True
    assert Edition.objects.get(platform__slug="zoho-crm", slug="standard").features["sales_orders"] is False


def test_catalog_carries_the_seed_custom_fields_and_gotchas(catalog):
    dentrix_zoho = PlatformPair.objects.get(source__slug="dentrix", destination__slug="zoho-crm")
    labels = set(dentrix_zoho.custom_fields.values_list("label", flat=True))
    assert {"Insurance_Carrier", "Policy_Number", "Source_System_ID", "Balance_Due"} <= labels
    assert PairCustomField.objects.filter(label="Treatment_Plan_ID").exists()
    assert Gotcha.objects.filter(platform__slug="zoho-crm", check_name="zoho_edition_api_access").exists()
    assert Gotcha.objects.filter(check_name="dentrix_inflight_claims").exists()


def test_loading_the_catalog_twice_changes_nothing(catalog):
    before = {
        "rows": list(PairObjectMapping.objects.order_by("pk").values()),
        "fields": list(PairCustomField.objects.order_by("pk").values()),
        "gotchas": list(Gotcha.objects.order_by("pk").values()),
    }
    from migrator.services.catalog import catalog_load

    second = catalog_load()
    assert not second.changed
    after = {
        "rows": list(PairObjectMapping.objects.order_by("pk").values()),
        "fields": list(PairCustomField.objects.order_by("pk").values()),
        "gotchas": list(Gotcha.objects.order_by("pk").values()),
    }
    assert after == before


def test_loadcatalog_repairs_an_edited_row(catalog, capsys):
    row = PairObjectMapping.objects.get(pair__source__slug="dentrix", position=1)
    row.destination_module = "Leads"
    row.save()
    call_command("loadcatalog", "--json")
    row.refresh_from_db()
    assert row.destination_module == "Contacts"
    assert '"PairObjectMapping": 1' in capsys.readouterr().out
