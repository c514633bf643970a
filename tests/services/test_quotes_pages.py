"""The quote page and PDF in the admin, and `manage.py quote`."""

import json
from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.urls import reverse

from migrator.models import Quote
from migrator.roles import ACCOUNT_MANAGERS, OPERATIONS
from migrator.services.catalog import catalog_load
from migrator.services.pricing_defaults import pricing_rules_load
from tests.factories import UserFactory
from tests.pdf_text import pdf_strings

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog():
    catalog_load()
    pricing_rules_load()


def staff_in(group_name):
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=group_name))
    return user


def test_an_account_manager_creates_a_quote_and_reads_its_page_and_pdf(client, catalog):
    client.force_login(staff_in(ACCOUNT_MANAGERS))
    response = client.post(reverse("admin:migrator_quote_estimate"), {
        "pair": Quote._meta.get_field("pair").related_model.objects.get(
            source__slug="dentrix", destination__slug="zoho-crm").pk,
        "edition": "professional", "users": 10, "counts": '{"patient": 60000, "appointment": 20000}',
        "attachments_gb": "1.5", "custom_objects": 1, "delta_windows": 0,
    })
    quote = Quote.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:migrator_quote_sheet", args=[quote.pk])
    page = client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    assert "3990.00" in html and "Bulk" in html and "Complexity" in html
    pdf = client.get(reverse("admin:migrator_quote_pdf", args=[quote.pk]))
    assert pdf["Content-Type"] == "application/pdf"
    text = "".join(pdf_strings(pdf.content))
    assert "Total" in text and "3,990.00" in text and "API forecast" in text


def test_bad_counts_are_shown_on_the_form_not_a_crash(client, catalog):
    client.force_login(staff_in(ACCOUNT_MANAGERS))
    response = client.post(reverse("admin:migrator_quote_estimate"), {
        "pair": Quote._meta.get_field("pair").related_model.objects.first().pk, "edition": "nonexistent",
        "users": 1, "counts": '{"patient": -5}', "attachments_gb": "0", "custom_objects": 0, "delta_windows": 0,
    })
    assert response.status_code == 200
    assert Quote.objects.count() == 0
    assert "errorlist" in response.content.decode()


def test_operations_staff_without_quote_permissions_are_refused(client, catalog):
    client.force_login(staff_in(OPERATIONS))
    assert client.get(reverse("admin:migrator_quote_estimate")).status_code == 403


def test_a_scoped_individually_quote_shows_no_price(client, catalog):
    out = StringIO()
    call_command("quote", "--pair", "drdentes:zoho-crm", "--edition", "enterprise", "--users", "5", "--save",
                 "--json", stdout=out)
    quote = Quote.objects.get(pk=json.loads(out.getvalue())["id"])
    quote.result["total_records"] = 2_000_000
    quote.result["scoped_individually"] = True
    quote.save()
    client.force_login(staff_in(ACCOUNT_MANAGERS))
    html = client.get(reverse("admin:migrator_quote_sheet", args=[quote.pk])).content.decode()
    assert "Scoped individually" in html


def test_the_quote_command_prints_json(catalog, tmp_path):
    counts = tmp_path / "counts.json"
    counts.write_text(json.dumps({"patient": 12000, "appointment": 40000, "note": 8000}))
    out = StringIO()
    call_command("quote", "--pair", "dentrix:zoho-crm", "--counts", str(counts), "--edition", "professional",
                 "--users", "10", "--json", stdout=out)
    result = json.loads(out.getvalue())
    assert result["total_records"] == 60000
    assert result["total"] == "3990.00"
    assert result["forecast"]["per_day"] == 55000
    assert result["grade"]["grade"] in {"A", "B", "C"}
    assert Quote.objects.count() == 0


def test_the_quote_command_writes_a_pdf_and_a_summary(catalog, tmp_path):
    counts = tmp_path / "counts.json"
    counts.write_text(json.dumps({"counts": {"patient": 2_500_000}, "custom_objects": 1}))
    out = StringIO()
    call_command("quote", "--pair", "dentrix:zoho-crm", "--counts", str(counts), "--edition", "enterprise",
                 "--pdf", str(tmp_path / "q.pdf"), stdout=out)
    assert "scoped individually" in out.getvalue()
    assert "are scoped individually" in "".join(pdf_strings((tmp_path / "q.pdf").read_bytes()))


def test_the_quote_command_refuses_an_unknown_pair(catalog):
    with pytest.raises(CommandError, match="No platform pair"):
        call_command("quote", "--pair", "nope:zoho-crm", "--edition", "enterprise")
