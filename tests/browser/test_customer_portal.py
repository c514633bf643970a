"""Journey 3: a customer signs into the portal, downloads the reconciliation report, and cannot reach another
client's migration."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from migrator.models import Migration, PortalMembership, ReconciliationReport
from migrator.roles import CUSTOMERS
from migrator.services.downloads import download_token_make
from tests.browser.helpers import download_bytes, person_in, portal_login, screenshot
from tests.factories import MigrationFactory
from tests.pdf_text import pdf_strings

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def reconciled_practice(name: str) -> tuple[Migration, ReconciliationReport]:
    migration: Migration = MigrationFactory(name=f"{name} move", client__name=f"{name} Dental",
                                            state=Migration.State.RECONCILED)
    report = ReconciliationReport.objects.create(
        migration=migration, verdict=ReconciliationReport.Verdict.PASS, reasons=["every count adds up"],
        data={"objects": [{"object": "patient", "source": 120, "created": 118, "skipped": 2, "failed": 0}]},
    )
    return migration, report


def test_a_customer_downloads_their_reconciliation_report_and_cannot_reach_another_clients_migration(
    page: Page,
) -> None:
    ours, our_report = reconciled_practice("Maple")
    theirs, their_report = reconciled_practice("Birch")
    customer = person_in(CUSTOMERS, "carla-customer", staff=False)
    PortalMembership.objects.create(user=customer, client=ours.client)

    portal_login(page, customer)
    expect(page.get_by_role("heading", name="Your migrations")).to_be_visible()
    expect(page.locator("main table")).to_contain_text("Maple Dental")
    expect(page.locator("main")).not_to_contain_text("Birch")

    page.get_by_role("link", name="Maple move").click()
    expect(page.locator(".state")).to_have_text("Reconciled")
    report_row = page.locator("tr", has_text=f"Reconciliation report #{our_report.pk}")
    expect(report_row).to_contain_text("Pass")
    screenshot(page, "customer-portal-migration")
    with page.expect_download() as report_download:
        report_row.get_by_role("link", name="PDF", exact=True).click()
    assert report_download.value.suggested_filename == f"reconciliation-{our_report.pk}.pdf"
    pdf = download_bytes(report_download.value)
    assert pdf.startswith(b"%PDF-")
    text = " ".join(pdf_strings(pdf))
    assert f"Reconciliation report #{our_report.pk}" in text
    assert "Maple Dental" in text and "Verdict: Pass" in text and "Birch" not in text

    other_page = page.goto(f"/portal/migrations/{theirs.pk}/")
    assert other_page is not None and other_page.status == 404
    expect(page.locator("body")).not_to_contain_text("Birch")
    # Even a genuinely signed link, issued to this customer, for the other client's report leads nowhere.
    token = download_token_make(user_id=customer.pk, kind="reconciliation", object_id=their_report.pk, fmt="pdf")
    other_download = page.goto(f"/portal/download/{token}/")
    assert other_download is not None and other_download.status == 404
    expect(page.locator("body")).not_to_contain_text("Birch")
    screenshot(page, "customer-portal-other-client-refused")
