"""Quotes: each pricing band, the 2M rule, add-ons, grade/timeline moves and edition findings, on the real catalog."""

from decimal import Decimal

import pytest

from migrator.models import PricingRule, Quote
from migrator.services.catalog import catalog_load
from migrator.services.pricing_defaults import pricing_rules_load
from migrator.services.quotes import (
    SCOPED_INDIVIDUALLY_FROM,
    QuoteError,
    QuoteInputs,
    pair_get,
    pricing_rules_check,
    quote_create,
    quote_estimate,
    quote_price,
    quote_result,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog():
    catalog_load()
    pricing_rules_load()


def inputs(**values):
    values.setdefault("edition", "enterprise")
    values.setdefault("users", 20)
    return QuoteInputs.model_validate(values)


@pytest.mark.parametrize(
    ("records", "band", "price"),
    [
        (0, "up-to-10k", "1490.00"),
        (9_999, "up-to-10k", "1490.00"),
        (10_000, "10k-50k", "2490.00"),
        (49_999, "10k-50k", "2490.00"),
        (50_000, "50k-250k", "3990.00"),
        (249_999, "50k-250k", "3990.00"),
        (250_000, "250k-1m", "6490.00"),
        (999_999, "250k-1m", "6490.00"),
        (1_000_000, "1m-2m", "9900.00"),
        (1_999_999, "1m-2m", "9900.00"),
    ],
)
def test_each_volume_band_prices_the_whole_migration_not_each_record(catalog, records, band, price):
    pricing = quote_price(inputs=inputs(counts={"patient": records}))
    assert pricing.band is not None and pricing.band.key == band
    assert [line.amount for line in pricing.lines] == [Decimal(price)]
    assert pricing.total == Decimal(price)


@pytest.mark.parametrize("records", [SCOPED_INDIVIDUALLY_FROM, 5_000_000])
def test_two_million_records_or_more_are_scoped_individually_with_no_price(catalog, records):
    pricing = quote_price(inputs=inputs(counts={"patient": records - 1, "note": 1}, custom_objects=2))
    assert pricing.scoped_individually
    assert pricing.total is None
    assert pricing.lines == []


def test_add_ons_are_priced_per_gb_object_and_window(catalog):
    pricing = quote_price(inputs=inputs(counts={"patient": 100}, attachments_gb=Decimal("2.2"), custom_objects=2,
                                        delta_windows=1))
    amounts = {line.key: (line.quantity, line.amount) for line in pricing.lines}
    assert amounts["attachments_gb"] == (Decimal(3), Decimal("45.00"))
    assert amounts["custom_object"] == (Decimal(2), Decimal("700.00"))
    assert amounts["delta_window"] == (Decimal(1), Decimal("250.00"))
    assert pricing.total == Decimal("2485.00")


def test_prices_edited_in_the_admin_are_used_and_inactive_rules_ignored(catalog):
    PricingRule.objects.filter(key="up-to-10k").update(price=Decimal("999.00"))
    PricingRule.objects.filter(key="custom_object").update(active=False)
    pricing = quote_price(inputs=inputs(counts={"patient": 10}, custom_objects=4))
    assert pricing.total == Decimal("999.00")


def test_a_gap_in_the_bands_is_refused_with_a_clear_message(catalog):
    PricingRule.objects.filter(key="10k-50k").update(active=False)
    with pytest.raises(QuoteError, match="No active pricing band covers 20,000 records"):
        quote_price(inputs=inputs(counts={"patient": 20_000}))
    assert any("10,000–50,000" in p for p in pricing_rules_check(PricingRule.objects.all()))


def test_the_default_rules_are_coherent_and_loading_them_twice_changes_nothing(catalog):
    assert pricing_rules_check(PricingRule.objects.all()) == []
    assert pricing_rules_load() == 0
    assert PricingRule.objects.count() == 8


def test_a_small_dentrix_quote_keeps_the_catalog_grade_and_timeline(catalog):
    result = quote_estimate(pair=pair_get(slug="dentrix:zoho-crm"),
                            inputs=inputs(counts={"patient": 4000, "appointment": 12000, "note": 3000}))
    assert result.grade.grade == "B"
    assert result.timeline.text == "2–4 weeks"
    assert {r.key for r in result.grade.reasons} == {
        "object_compatibility", "mapping_clarity", "timeline", "api_constraints", "data_volume"}
    assert all(r.text for r in result.grade.reasons)
    assert result.total == Decimal("2490.00")
    assert result.forecast["unit"] == "credits"
    assert result.forecast["per_day"] == 70000


def test_volume_and_custom_objects_raise_the_grade_and_say_why(catalog):
    result = quote_estimate(pair=pair_get(slug="drdentes:zoho-crm"),
                            inputs=inputs(counts={"patient": 600_000, "appointment": 600_000}, custom_objects=3))
    assert result.grade.grade == "C"
    adjustments = {r.key: r.adjustments for r in result.grade.reasons}
    assert any("1,200,000 records" in a for a in adjustments["data_volume"])
    assert any("3 custom objects" in a for a in adjustments["mapping_clarity"])
    assert result.timeline.min_weeks > 2
    assert result.timeline.why


def test_the_forecast_shows_the_bulk_write_saving_for_large_plain_objects(catalog):
    result = quote_estimate(pair=pair_get(slug="dentrix:zoho-crm"),
                            inputs=inputs(counts={"patient": 100_000, "appointment": 100_000}))
    loads = {load["name"]: load for load in result.forecast["loads"]}
    assert loads["patient"]["method"] == "bulk"
    # 4 jobs × (500 credits + 3 calls) + 1,000 calls reading back what they wrote, instead of 10,000.
    assert loads["patient"]["cost"] == 3012
    assert loads["appointment"]["method"] == "rest"   # Events: not through Bulk Write
    assert result.forecast["saving"] == 6988


def test_an_edition_without_api_access_is_a_blocker_and_grade_c(catalog):
    result = quote_estimate(pair=pair_get(slug="dentrix:zoho-crm"),
                            inputs=inputs(counts={"patient": 100}, edition="standard", users=5))
    blockers = [f for f in result.findings if f.severity == "blocker" and f.origin == "edition"]
    assert blockers and "Professional" in blockers[0].title
    assert result.grade.grade == "C"


def test_sales_orders_need_professional_and_invoices_enterprise(catalog):
    pair = pair_get(slug="drdentes:zoho-crm")
    professional = quote_estimate(pair=pair, inputs=inputs(counts={"invoice": 100}, edition="professional"))
    keys = {f.key: f.severity for f in professional.findings}
    assert keys.get("invoices-edition") == "warning"
    assert "sales-orders-edition" not in keys
    enterprise = quote_estimate(pair=pair, inputs=inputs(counts={"invoice": 100}))
    assert not {"invoices-edition", "sales-orders-edition"} & {f.key for f in enterprise.findings}


def test_freshsales_forecasts_requests_per_hour(catalog):
    result = quote_estimate(pair=pair_get(slug="drdentes:freshsales"),
                            inputs=inputs(counts={"patient": 20_000, "appointment": 60_000}, edition="pro"))
    assert result.forecast["unit"] == "requests"
    assert result.forecast["per_day"] == 48000
    assert result.forecast["days"] == 2
    assert result.timeline.catalog_text == "24–72 hours"


def test_objects_that_ride_on_a_parent_cost_no_calls_and_unknown_objects_are_named(catalog):
    result = quote_estimate(pair=pair_get(slug="dentrix:zoho-crm"),
                            inputs=inputs(counts={"patient": 10, "guarantor_balance": 10, "lab_case": 5}))
    assert result.riding_objects == ["guarantor_balance"]
    assert result.unknown_objects == ["lab_case"]


def test_an_unknown_edition_names_the_known_ones(catalog):
    with pytest.raises(QuoteError, match="professional"):
        quote_estimate(pair=pair_get(slug="dentrix:zoho-crm"), inputs=inputs(edition="platinum"))


def test_quote_create_saves_the_inputs_and_result(catalog):
    quote = quote_create(pair=pair_get(slug="dentrix:zoho-crm"), inputs=inputs(counts={"patient": 2_500_000}))
    quote.refresh_from_db()
    assert quote.scoped_individually and quote.total is None
    assert quote.inputs["counts"] == {"patient": 2_500_000}
    assert quote_result(quote).total_records == 2_500_000
    assert Quote.objects.count() == 1


def test_the_zoho_forecast_adds_up_each_objects_credits_and_spreads_them_over_the_days_allowance(catalog):
    # Enterprise, 20 users: 50,000 + 20 × 1,000 = 70,000 credits a day (reference/zoho-crm-v8.md, "Limits").
    # REST costs 1 credit per 10 records of each call of 100: 4,000 patients 400 (a bulk job would cost 500),
    # 12,000 appointments 1,200 (Events: never bulk), 3,005 notes 301.
    counts = {"patient": 4000, "appointment": 12000, "note": 3005}
    result = quote_estimate(pair=pair_get(slug="dentrix:zoho-crm"), inputs=inputs(counts=counts))
    loads = {load["name"]: load for load in result.forecast["loads"]}
    assert {name: (load["method"], load["cost"]) for name, load in loads.items()} == {
        "patient": ("rest", 400), "appointment": ("rest", 1200), "note": ("rest", 301)}
    assert (result.forecast["cost"], result.forecast["per_day"], result.forecast["days"]) == (1901, 70000, 1)
    # Add-on credits count, the reserve is kept back: 70,000 + 5,000 - 74,000 = 1,000 a day → 2 days.
    tight = quote_estimate(pair=pair_get(slug="dentrix:zoho-crm"),
                           inputs=inputs(counts=counts, addon_credits=5000, reserve=74000))
    assert (tight.forecast["per_day"], tight.forecast["days"]) == (1000, 2)
    # Files are uploaded one call each: 37 files, 37 credits (Dr.DENTES files → Attachments).
    files = quote_estimate(pair=pair_get(slug="drdentes:zoho-crm"), inputs=inputs(counts={"file": 37}))
    assert [(load["name"], load["rest_calls"], load["cost"]) for load in files.forecast["loads"]] == [("file", 37, 37)]


def test_the_freshsales_forecast_counts_requests_and_bulk_upserts_contacts(catalog):
    # Pro: 2,000 requests an hour, 48,000 a day (reference/freshsales.md, "Limits"). Patients go through
    # bulk_upsert, 100 a job at 2 requests (the POST and one status poll); appointments one request each.
    result = quote_estimate(pair=pair_get(slug="drdentes:freshsales"),
                            inputs=inputs(counts={"patient": 20_000, "appointment": 60_000}, edition="pro"))
    loads = {load["name"]: load for load in result.forecast["loads"]}
    assert (loads["patient"]["method"], loads["patient"]["bulk_jobs"], loads["patient"]["cost"]) == ("bulk", 200, 400)
    assert (loads["appointment"]["method"], loads["appointment"]["cost"]) == ("rest", 60_000)
    assert (result.forecast["cost"], result.forecast["saving"]) == (60_400, 19_600)
    assert result.forecast["days"] == 2 and result.forecast["rest_only_days"] == 2
    reserved = quote_estimate(pair=pair_get(slug="drdentes:freshsales"),
                              inputs=inputs(counts={"patient": 20_000, "appointment": 60_000}, edition="pro",
                                            reserve=500))
    assert (reserved.forecast["per_day"], reserved.forecast["days"]) == (36_000, 2)
