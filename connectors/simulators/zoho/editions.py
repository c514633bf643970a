"""What each Zoho CRM edition allows, as data (reference/zoho-crm-v8.md, "Limits"). Zoho changes these over time:
edit the table, not the code."""

from __future__ import annotations

from typing import Any

EDITION_ORDER = ("free", "standard", "professional", "enterprise", "ultimate")

EDITIONS: dict[str, dict[str, Any]] = {
    "free": {"credits_base": 5000, "credits_per_user": 0, "credits_cap": 5000, "concurrency": 5,
             "attachment_mb": 20, "custom_modules": 0, "custom_fields": 10},
    "standard": {"credits_base": 50000, "credits_per_user": 250, "credits_cap": 100000, "concurrency": 10,
                 "attachment_mb": 25, "custom_modules": 10, "custom_fields": 100},
    "professional": {"credits_base": 50000, "credits_per_user": 500, "credits_cap": 3000000, "concurrency": 15,
                     "attachment_mb": 25, "custom_modules": 100, "custom_fields": 200},
    "enterprise": {"credits_base": 50000, "credits_per_user": 1000, "credits_cap": 5000000, "concurrency": 20,
                   "attachment_mb": 25, "custom_modules": 200, "custom_fields": 300},
    "ultimate": {"credits_base": 50000, "credits_per_user": 2000, "credits_cap": None, "concurrency": 25,
                 "attachment_mb": 25, "custom_modules": 500, "custom_fields": 500},
}

# Sales Orders need Professional or above, Invoices Enterprise or above (reference, "Notes, attachments...").
MODULE_MIN_EDITION = {"Sales_Orders": "professional", "Invoices": "enterprise"}

COSTS = {"call": 1, "records_per_credit": 10, "bulk_job": 500}
SUB_CONCURRENCY = 10            # writes of more than 10 records, second-hand (reference, "Limits")
BATCH_LIMIT = 100
LIST_PER_PAGE_MAX = 200
LIST_PAGE_RECORD_LIMIT = 2000   # past this, page_token (reference, "Records")
LIST_FIELDS_MAX = 50
BULK_ROWS_MAX = 25000
TOKENS_PER_WINDOW = 10
TOKEN_WINDOW_SECONDS = 600
CREDIT_WINDOW_SECONDS = 86400


def credit_allowance(edition: str, users: int, addon: int = 0) -> int:
    row = EDITIONS[edition]
    total = int(row["credits_base"]) + int(row["credits_per_user"]) * users
    cap = row["credits_cap"]
    return (min(total, int(cap)) if cap is not None else total) + addon


def module_available(module: str, edition: str) -> bool:
    needed = MODULE_MIN_EDITION.get(module)
    return needed is None or EDITION_ORDER.index(edition) >= EDITION_ORDER.index(needed)
