"""The forecast arithmetic, with the numbers of reference/zoho-crm-v8.md and freshsales.md ("Limits")."""

import pytest

from migrator.services.forecast import (
    Allowance,
    Load,
    LoadKind,
    api_forecast,
    bulk_cost,
    module_supports_bulk,
    rest_cost,
)

ZOHO_ENTERPRISE = {
    "unit": "credits", "credits_base": 50000, "credits_per_user": 1000, "credits_cap": 5000000,
    "records_per_call": 100, "bulk_write_records_per_job": 25000, "bulk_job_credits": 500,
}
ZOHO_STANDARD = {**ZOHO_ENTERPRISE, "credits_per_user": 250, "credits_cap": 100000}
ZOHO_ULTIMATE = {**ZOHO_ENTERPRISE, "credits_per_user": 2000, "credits_cap": None}
FRESHSALES_PRO = {"unit": "requests", "requests_per_hour": 2000, "records_per_call": 100}
BULK = {"bulk_write": True}


@pytest.mark.parametrize(
    ("records", "calls", "credits"),
    [(0, 0, 0), (1, 1, 1), (10, 1, 1), (11, 1, 2), (100, 1, 10), (105, 2, 11), (250, 3, 25), (1000, 10, 100)],
)
def test_zoho_rest_writes_cost_one_credit_per_ten_records_of_each_call(records, calls, credits):
    assert rest_cost(records, batch=100, records_per_cost_unit=10) == (calls, credits)


def test_attachments_cost_one_call_per_file():
    assert rest_cost(37, batch=100, records_per_cost_unit=10, kind=LoadKind.ATTACHMENTS) == (37, 37)


def test_bulk_write_costs_500_credits_per_job_of_up_to_25000_records():
    assert bulk_cost(25000, batch=25000, job_cost=500) == (1, 500)
    assert bulk_cost(25001, batch=25000, job_cost=500) == (2, 1000)
    # With a call per 100 records reading back what the jobs wrote.
    assert bulk_cost(25001, batch=25000, job_cost=500, read_back=100) == (2, 1000 + 251)


def test_bulk_is_chosen_only_when_it_saves_credits():
    allowance = Allowance.from_limits(ZOHO_ENTERPRISE, BULK)
    forecast = api_forecast(
        loads=[Load("patient", 60000, bulk_capable=True), Load("clinic", 3000, bulk_capable=True)],
        allowance=allowance, users=20,
    )
    patient, clinic = forecast.loads
    # 3 jobs × (500 credits + upload, poll, result) + 600 read-back calls, against 600 calls × 10 credits.
    assert (patient.method, patient.rest_cost, patient.bulk_jobs, patient.cost) == ("bulk", 6000, 3, 2109)
    assert (clinic.method, clinic.cost) == ("rest", 300)
    assert forecast.rest_only_cost == 6300
    assert forecast.cost == 2409
    assert forecast.saving == 3891


def test_notes_and_non_bulk_modules_never_use_bulk_write():
    allowance = Allowance.from_limits(ZOHO_ENTERPRISE, BULK)
    forecast = api_forecast(
        loads=[Load("note", 100000, kind=LoadKind.NOTES, bulk_capable=True), Load("appointment", 100000)],
        allowance=allowance, users=20,
    )
    assert [f.method for f in forecast.loads] == ["rest", "rest"]
    assert forecast.saving == 0


def test_an_edition_without_bulk_write_pays_rest_prices():
    forecast = api_forecast(loads=[Load("patient", 60000, bulk_capable=True)],
                            allowance=Allowance.from_limits(ZOHO_ENTERPRISE, {"bulk_write": False}), users=20)
    assert forecast.cost == 6000
    assert forecast.loads[0].bulk_cost is None


def test_enterprise_with_20_users_loads_700000_records_a_day_by_batched_inserts():
    allowance = Allowance.from_limits(ZOHO_ENTERPRISE, BULK)
    assert allowance.credits_per_day(users=20) == 70000
    assert api_forecast(loads=[Load("appointment", 700000)], allowance=allowance, users=20).days == 1
    assert api_forecast(loads=[Load("appointment", 700001)], allowance=allowance, users=20).days == 2


def test_daily_credits_are_capped_by_edition_and_uncapped_on_ultimate():
    standard = Allowance.from_limits(ZOHO_STANDARD)
    assert standard.credits_per_day(users=10) == 52500
    assert standard.credits_per_day(users=1000) == 100000
    forecast = api_forecast(loads=[Load("x", 10)], allowance=standard, users=1000)
    assert any("capped" in n for n in forecast.notes)
    assert Allowance.from_limits(ZOHO_ULTIMATE).credits_per_day(users=1000) == 2050000


def test_addon_credits_add_and_the_reserve_is_kept_back():
    allowance = Allowance.from_limits(ZOHO_ENTERPRISE)
    assert allowance.credits_per_day(users=20, addon=10000, reserve=5000) == 75000
    forecast = api_forecast(loads=[Load("x", 1000)], allowance=allowance, users=0, reserve=60000)
    assert forecast.per_day == 0
    assert forecast.days is None
    assert forecast.notes


def test_freshsales_counts_requests_per_hour_and_bulk_upserts_contacts():
    allowance = Allowance.from_limits(FRESHSALES_PRO, BULK)
    assert allowance.requests_per_day() == 48000
    forecast = api_forecast(
        loads=[Load("patient", 10000, bulk_capable=True), Load("recall", 50000)], allowance=allowance,
    )
    patient, recall = forecast.loads
    assert (patient.method, patient.bulk_jobs, patient.cost, patient.rest_cost) == ("bulk", 100, 200, 10000)
    assert (recall.method, recall.cost) == ("rest", 50000)
    assert forecast.cost == 50200
    assert forecast.days == 2
    assert forecast.rest_only_days == 2
    assert allowance.requests_per_day(reserve=500) == 36000


def test_which_modules_take_bulk_jobs():
    assert module_supports_bulk("zoho-crm", "Contacts")
    assert not module_supports_bulk("zoho-crm", "Events")
    assert not module_supports_bulk("zoho-crm", "Notes")
    assert module_supports_bulk("freshsales", "contacts")
    assert not module_supports_bulk("freshsales", "tasks")


def test_an_empty_load_costs_nothing_and_takes_no_days():
    forecast = api_forecast(loads=[Load("patient", 0, bulk_capable=True)],
                            allowance=Allowance.from_limits(ZOHO_ENTERPRISE, BULK), users=3)
    assert (forecast.cost, forecast.days, forecast.loads[0].method) == (0, 0, "none")
