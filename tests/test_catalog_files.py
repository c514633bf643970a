"""The catalog files validate and carry every object-mapping row and custom field the seed pages promise."""

from __future__ import annotations

import copy
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from migrator.catalog_schema import (
    CatalogError,
    GotchaCheck,
    PairFile,
    PlatformFile,
    PlatformKind,
    Strategy,
    load_catalog_files,
)

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "fixtures" / "catalog"
# The seed pages are the public promise the catalog is checked against; they live beside the repository.
SEEDS = Path(os.environ.get("CATALOG_SEEDS_DIR", "/work/shared/seeds"))

EXPECTED_ROWS = {
    "drdentes__zoho-crm": 12,
    "dentrix__zoho-crm": 15,
    "dental-exec__zoho-crm": 12,
    "dent-o-soft__zoho-crm": 10,
    "drdentes__freshsales": 13,
}
SOURCE_OBJECT_KEYS = {
    "dentrix": {"patient", "provider", "appointment", "insurance_plan", "insured", "patient_insurance",
                "guarantor_balance", "recall", "note", "procedure", "prescription", "referral_source",
                "reminder_workflow", "image"},
    "drdentes": {"clinic", "user", "patient", "appointment", "treatment", "invoice", "payment", "insurance", "note",
                 "file", "recall", "product", "custom_record", "workflow", "integration"},
    "dental-exec": {"patient", "provider", "treatment_plan", "appointment", "insurance_carrier", "referral_source",
                    "production_goal", "note", "document", "ledger", "tooth_chart"},
    "dent-o-soft": {"practice", "patient", "provider", "treatment_plan", "appointment", "call_log",
                    "clinical_note", "insurance", "imaging_file", "reminder"},
}
TABLE_ROW = re.compile(r"^\| (?P<src>.+?) \| (?P<dest>.+?)(?P<card>1:1|1:many|many:1) \| (?P<compat>.+?) \|")


@pytest.fixture(scope="module")
def catalog() -> tuple[dict[str, PlatformFile], dict[str, PairFile]]:
    platforms, pairs = load_catalog_files(CATALOG)
    return {p.slug: p for p in platforms}, {p.key: p for p in pairs}


def seed_text(seed: str) -> str:
    path = SEEDS / seed
    assert path.is_file(), f"seed page {path} not found (set CATALOG_SEEDS_DIR to the seeds folder)"
    return path.read_text(encoding="utf-8")


def seed_table(seed: str) -> list[tuple[str, str, str, str]]:
    """The seed page's markdown mapping table, header row excluded: (source, destination, cardinality, compat)."""
    lines = seed_text(seed).splitlines()
    rows = [m.group("src", "dest", "card", "compat") for ln in lines if (m := TABLE_ROW.match(ln))]
    assert rows, f"{seed}: no mapping table found"
    return rows


def seed_custom_field_names(seed: str) -> set[str]:
    text = seed_text(seed)
    return {name.removesuffix("__c") for name in re.findall(r"\b[A-Za-z][A-Za-z0-9_]*__c\b", text)}


def pair_json(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((CATALOG / "pairs" / f"{name}.json").read_text(encoding="utf-8"))
    return data


# ------------------------------------------------------------------------------------------- the files as shipped


def test_catalog_has_six_platforms_two_of_them_destinations(catalog):
    platforms, _ = catalog
    assert set(platforms) == {"drdentes", "dentrix", "dental-exec", "dent-o-soft", "zoho-crm", "freshsales"}
    assert {s for s, p in platforms.items() if p.kind is PlatformKind.DESTINATION} == {"zoho-crm", "freshsales"}


def test_source_object_keys_are_exactly_the_ones_connectors_use(catalog):
    platforms, _ = catalog
    for slug, keys in SOURCE_OBJECT_KEYS.items():
        assert platforms[slug].object_keys == keys, slug
        assert platforms[slug].editions == []


def test_destination_modules_are_api_names(catalog):
    platforms, _ = catalog
    assert platforms["zoho-crm"].object_keys == {
        "Leads", "Contacts", "Accounts", "Deals", "Tasks", "Events", "Calls", "Notes", "Attachments", "Products",
        "Sales_Orders", "Invoices", "users"}
    assert platforms["freshsales"].object_keys == {
        "contacts", "sales_accounts", "deals", "tasks", "appointments", "sales_activities", "notes", "documents",
        "products", "users"}


def test_zoho_editions_follow_the_reference_credit_table(catalog):
    platforms, _ = catalog
    editions = {e.slug: e for e in platforms["zoho-crm"].editions}
    assert list(editions) == ["free", "standard", "professional", "enterprise", "ultimate"]
    # reference/zoho-crm-v8.md: Enterprise with 20 users has 70,000 credits a day.
    assert editions["enterprise"].limits.credits_for(20) == 70_000
    assert editions["standard"].limits.credits_for(1000) == 100_000  # capped
    assert editions["ultimate"].limits.credits_for(1000) == 2_050_000  # no cap
    assert [e.limits.concurrency for e in editions.values()] == [5, 10, 15, 20, 25]
    assert [e.api_access for e in editions.values()] == [False, False, True, True, True]
    assert [e.features.sales_orders for e in editions.values()] == [False, False, True, True, True]
    assert [e.features.invoices for e in editions.values()] == [False, False, False, True, True]
    assert {e.limits.attachment_max_bytes for e in editions.values()} == {25 * 1024 * 1024}


def test_freshsales_plans_are_metered_per_hour(catalog):
    platforms, _ = catalog
    plans = {e.slug: e.limits for e in platforms["freshsales"].editions}
    assert {s: p.requests_per_hour for s, p in plans.items()} == {
        "free": 1000, "growth": 1000, "pro": 2000, "enterprise": 5000}
    assert {p.window_seconds for p in plans.values()} == {3600}
    assert [plans[s].custom_fields_per_module for s in ("growth", "pro", "enterprise")] == [150, 250, 630]
    assert {p.file_max_bytes for p in plans.values()} == {150 * 1024 * 1024}
    assert {p.note_max_bytes for p in plans.values()} == {32 * 1024}


def test_every_platform_lists_the_gotchas_its_seed_pages_name(catalog):
    platforms, pairs = catalog
    heading = {"drdentes": "Dr.DENTES gotchas", "dentrix": "Dentrix gotchas", "dental-exec": "Dental-Exec gotchas",
               "dent-o-soft": "Dent-O-Soft gotchas", "zoho-crm": "Zoho CRM gotchas",
               "freshsales": "Freshsales gotchas"}
    for pair in pairs.values():
        lines = seed_text(pair.seed).splitlines()
        for slug in (pair.source, pair.destination):
            start = lines.index(heading[slug]) + 1
            titles = []
            for line in lines[start:]:
                if line.endswith(" gotchas") or line == "Pair-specific challenges":
                    break
                titles.append(line)
            assert set(titles) <= {g.title for g in platforms[slug].gotchas}, (pair.key, slug)


def test_the_pairs_carry_62_rows_split_as_the_seeds(catalog):
    _, pairs = catalog
    assert {k: len(p.object_mappings) for k, p in pairs.items()} == EXPECTED_ROWS
    assert sum(len(p.object_mappings) for p in pairs.values()) == 62


@pytest.mark.parametrize("pair_key", sorted(EXPECTED_ROWS))
def test_every_seed_table_row_appears_with_its_exact_labels(catalog, pair_key):
    _, pairs = catalog
    pair = pairs[pair_key]
    ours = [(r.source_label, r.destination_label, r.cardinality.value, r.compatibility)
            for r in sorted(pair.object_mappings, key=lambda r: r.position)]
    assert ours == seed_table(pair.seed)


@pytest.mark.parametrize("pair_key", sorted(EXPECTED_ROWS))
def test_every_custom_field_the_seed_names_is_declared(catalog, pair_key):
    _, pairs = catalog
    pair = pairs[pair_key]
    missing = seed_custom_field_names(pair.seed) - pair.declared_field_labels()
    assert not missing, f"{pair_key}: seed names undeclared custom fields {sorted(missing)}"


@pytest.mark.parametrize("pair_key", sorted(EXPECTED_ROWS))
def test_compatibility_and_timeline_match_the_seed_header(catalog, pair_key):
    _, pairs = catalog
    pair = pairs[pair_key]
    text = seed_text(pair.seed)
    assert f"{pair.compatibility.one_to_one} of {pair.compatibility.total}\n" in text
    assert f"Timeline\n{pair.timeline.text}\n" in text
    assert f"Complexity\n{pair.complexity.grade}{pair.complexity.label}\n" in text


def test_every_strategy_and_every_machine_check_is_used(catalog):
    platforms, pairs = catalog
    used = {r.strategy for p in pairs.values() for r in p.object_mappings}
    assert used == set(Strategy)
    gotchas = [g for p in platforms.values() for g in p.gotchas] + [g for p in pairs.values() for g in p.gotchas]
    assert {g.check for g in gotchas} - {GotchaCheck.NONE} <= set(GotchaCheck)
    # Every machine check the engine knows is attached to at least one gotcha.
    assert {g.check for g in gotchas} == set(GotchaCheck)


def test_each_pair_declares_its_source_id_field_on_every_module_it_creates_records_in(catalog):
    _, pairs = catalog
    creating = {Strategy.RECORDS, Strategy.ROUTED_RECORDS, Strategy.CUSTOM_MODULE}
    for pair in pairs.values():
        declared = {(f.module, f.label) for f in pair.custom_fields if f.unique}
        for row in pair.object_mappings:
            if row.strategy in creating:
                targets = set(row.route.targets) if row.route else {row.destination_module}
                # Freshsales tasks take no custom fields (reference/freshsales.md, field metadata resources):
                # their re-runs are keyed by the RecordLink alone.
                for module in targets - {"tasks"}:
                    assert (module, pair.source_id_field.label_for(module)) in declared, (pair.key, row.position)


# ------------------------------------------------------------------------------------------- the validators bite


def write_catalog(tmp_path: Path, pair_name: str, pair: dict[str, Any]) -> Path:
    (tmp_path / "pairs").mkdir()
    (tmp_path / "platforms.json").write_text((CATALOG / "platforms.json").read_text(encoding="utf-8"))
    (tmp_path / "pairs" / f"{pair_name}.json").write_text(json.dumps(pair), encoding="utf-8")
    return tmp_path


def test_an_unknown_source_object_is_refused_naming_the_row(tmp_path):
    pair = pair_json("dentrix__zoho-crm")
    pair["object_mappings"][5]["source_objects"] = ["appointments"]
    with pytest.raises(CatalogError, match=r"row 6: unknown source object 'appointments'"):
        load_catalog_files(write_catalog(tmp_path, "dentrix__zoho-crm", pair))


def test_an_unknown_destination_module_is_refused(tmp_path):
    pair = pair_json("dent-o-soft__zoho-crm")
    pair["object_mappings"][2]["destination_module"] = "Opportunities"
    with pytest.raises(CatalogError, match=r"row 3: unknown destination module 'Opportunities'"):
        load_catalog_files(write_catalog(tmp_path, "dent-o-soft__zoho-crm", pair))


def test_a_custom_module_row_makes_its_module_a_valid_target():
    pair = pair_json("dental-exec__zoho-crm")
    tooth_chart = pair["object_mappings"][11]
    assert tooth_chart["destination_module"] == "Treatment_Plans"
    pair["object_mappings"][2]["custom_module"]["api_name"] = "Plans"
    with pytest.raises(ValidationError, match="custom module's api_name"):
        PairFile.model_validate(pair)


def test_positions_must_run_from_one_without_gaps():
    pair = pair_json("drdentes__zoho-crm")
    pair["object_mappings"][3]["position"] = 40
    with pytest.raises(ValidationError, match=r"positions must run 1\.\.12"):
        PairFile.model_validate(pair)


def test_routed_rows_that_share_a_rule_may_not_claim_the_same_branch():
    pair = pair_json("dentrix__zoho-crm")
    pair["object_mappings"][1]["route"]["targets"] = {"Contacts": "also active patients"}
    pair["object_mappings"][1]["destination_module"] = "Contacts"
    with pytest.raises(ValidationError, match="route targets overlap"):
        PairFile.model_validate(pair)


def test_a_routed_row_without_a_route_is_refused():
    pair = pair_json("drdentes__zoho-crm")
    pair["object_mappings"][0]["route"] = None
    with pytest.raises(ValidationError, match="route is required"):
        PairFile.model_validate(pair)


def test_a_note_row_without_a_parent_is_refused():
    pair = pair_json("dent-o-soft__zoho-crm")
    pair["object_mappings"][5]["parent_source_object"] = ""
    with pytest.raises(ValidationError, match="needs parent_source_object"):
        PairFile.model_validate(pair)


def test_unknown_keys_and_check_names_are_typos():
    pair = pair_json("drdentes__freshsales")
    bad_key = copy.deepcopy(pair)
    bad_key["object_mappings"][0]["destination"] = "contacts"
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        PairFile.model_validate(bad_key)
    pair["gotchas"][0]["check"] = "freshsales_leads"
    with pytest.raises(ValidationError, match="check"):
        PairFile.model_validate(pair)


def test_a_picklist_custom_field_needs_values():
    pair = pair_json("dental-exec__zoho-crm")
    field = next(f for f in pair["custom_fields"] if f["label"] == "Referral_Source")
    field["picklist"] = []
    with pytest.raises(ValidationError, match="needs picklist values"):
        PairFile.model_validate(pair)


def test_a_credit_metered_edition_needs_its_credits():
    platforms = json.loads((CATALOG / "platforms.json").read_text(encoding="utf-8"))
    zoho = next(p for p in platforms if p["slug"] == "zoho-crm")
    zoho["editions"][0]["limits"]["credits_base"] = None
    with pytest.raises(ValidationError, match="needs credits_base"):
        PlatformFile.model_validate(zoho)


def test_a_pair_file_named_after_another_pair_is_refused(tmp_path):
    pair = pair_json("dent-o-soft__zoho-crm")
    with pytest.raises(CatalogError, match=r"file name must be dent-o-soft__zoho-crm\.json"):
        load_catalog_files(write_catalog(tmp_path, "dentrix__zoho-crm", pair))


def test_broken_json_names_the_file(tmp_path):
    (tmp_path / "platforms.json").write_text("[{", encoding="utf-8")
    with pytest.raises(CatalogError, match=r"platforms\.json: unreadable JSON"):
        load_catalog_files(tmp_path)
