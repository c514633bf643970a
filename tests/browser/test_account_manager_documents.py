"""Journey 2: an account manager creates a quote and downloads it, then the schema-setup checklist, as PDF."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from migrator.models import Migration, PlatformPair, Quote
from migrator.roles import ACCOUNT_MANAGERS
from migrator.services.mapping import mapping_confirm_above, mapping_propose
from migrator.services.pricing_defaults import pricing_rules_load
from tests.browser.helpers import admin_login, download_bytes, open_model_list, person_in, screenshot
from tests.factories import MigrationFactory
from tests.pdf_text import pdf_strings

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def dentrix_migration_with_a_confirmed_map() -> Migration:
    pair = PlatformPair.objects.get(source__slug="dentrix", destination__slug="zoho-crm")
    migration: Migration = MigrationFactory(name="Harbor Smiles move", client__name="Harbor Smiles", pair=pair)
    mapping_propose(migration=migration)
    mapping_confirm_above(migration=migration, threshold=0.0, user=None)
    return migration


def test_an_account_manager_creates_a_quote_and_downloads_it_and_the_schema_checklist(
    page: Page, catalog: None
) -> None:
    pricing_rules_load()
    migration = dentrix_migration_with_a_confirmed_map()
    manager = person_in(ACCOUNT_MANAGERS, "amir-accounts", staff=True)
    admin_login(page, manager)

    open_model_list(page, "quote")
    page.get_by_role("link", name="New quote").click()
    page.get_by_label("Pair").select_option(label="Dentrix to Zoho CRM")
    page.get_by_label("Edition").fill("professional")
    page.get_by_label("Users").fill("10")
    page.get_by_label("Counts").fill('{"patient": 60000, "appointment": 20000}')
    page.get_by_label("Attachments (GB)").fill("1.5")
    page.get_by_label("Custom objects").fill("1")
    page.get_by_role("button", name="Compute and save quote").click()

    quote = Quote.objects.get(created_by=manager)
    expect(page.locator(".messagelist .success")).to_have_text(f"Quote #{quote.pk} saved.")
    expect(page.locator(".quote")).to_contain_text("Dentrix to Zoho CRM")
    # The 50,000–250,000 band (3990.00) + 2 GB of attachments at 15.00 + one custom object at 350.00.
    expect(page.locator(".quote tr", has_text="Total (USD)")).to_contain_text("4370.00")
    screenshot(page, "account-manager-quote")
    with page.expect_download() as quote_download:
        page.get_by_role("link", name="Download PDF").click()
    assert quote_download.value.suggested_filename == f"quote-{quote.pk}.pdf"
    quote_pdf = download_bytes(quote_download.value)
    assert quote_pdf.startswith(b"%PDF-")
    quote_text = " ".join(pdf_strings(quote_pdf))
    assert "Total" in quote_text and "4,370.00" in quote_text and "API forecast" in quote_text

    page.goto(f"/admin/migrator/objectmapping/checklist/{migration.pk}/")
    expect(page.locator("#content h1")).to_have_text("Schema setup checklist — Harbor Smiles — Harbor Smiles move")
    expect(page.locator("#content table")).to_contain_text("Insurance_Carrier")
    screenshot(page, "account-manager-schema-checklist")
    with page.expect_download() as checklist_download:
        page.get_by_role("link", name="PDF", exact=True).click()
    assert checklist_download.value.suggested_filename == f"schema-checklist-{migration.pk}.pdf"
    checklist_pdf = download_bytes(checklist_download.value)
    assert checklist_pdf.startswith(b"%PDF-")
    checklist_text = " ".join(pdf_strings(checklist_pdf))
    assert "Insurance_Carrier" in checklist_text and "Harbor Smiles" in checklist_text
