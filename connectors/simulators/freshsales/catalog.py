"""The simulated account's fixed data: plans, selectors (owners, stages, sources...) and standard fields.

Editable data, not logic: tests and the CLI pick a plan and may override its numbers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# reference/freshsales.md, "Limits": requests per account per hour, by plan.
PLAN_HOURLY_LIMITS: dict[str, int] = {"free": 1000, "growth": 1000, "pro": 2000, "enterprise": 5000}
# reference/freshsales.md, "Limits": custom fields per module, by plan.
PLAN_CUSTOM_FIELDS: dict[str, int] = {"free": 150, "growth": 150, "pro": 250, "enterprise": 630}
MAX_FILE_BYTES = 150 * 1024 * 1024
BULK_MAX_RECORDS = 100  # reference: "practical batch 100 (official maximum unconfirmed)"
PER_PAGE_MAX = 100

# resource path -> singular wrapper key, targetable type, whether DELETE goes to the recycle bin (and /forget).
RESOURCES: dict[str, tuple[str, str, bool]] = {
    "contacts": ("contact", "Contact", True),
    "sales_accounts": ("sales_account", "SalesAccount", True),
    "deals": ("deal", "Deal", True),
    "tasks": ("task", "Task", False),
    "appointments": ("appointment", "Appointment", False),
    "sales_activities": ("sales_activity", "SalesActivity", False),
    "notes": ("note", "Note", False),
    "cpq/products": ("product", "Product", False),
    "documents": ("document", "Document", False),
}
TARGETABLE_TYPES = {"Contact": "contacts", "SalesAccount": "sales_accounts", "Deal": "deals"}
# Only these expose bulk_upsert / upsert with a unique identifier (reference: Contacts, Accounts).
UPSERTABLE = ("contacts", "sales_accounts")
# Lists: contacts/accounts/deals through filters + views; the others through a plain paged GET.
VIEW_LISTED = ("contacts", "sales_accounts", "deals")
PAGE_LISTED = ("tasks", "appointments", "sales_activities", "cpq/products")

SELECTORS: dict[str, list[dict[str, Any]]] = {
    "owners": [
        {"id": 70000000001, "display_name": "Ayla Admin", "email": "admin@example-dental.test", "is_active": True},
        {"id": 70000000002, "display_name": "Deniz Dentist", "email": "deniz@example-dental.test",
         "is_active": True},
        {"id": 70000000003, "display_name": "Hale Hygienist", "email": "hale@example-dental.test",
         "is_active": True},
        {"id": 70000000004, "display_name": "Former Staff", "email": "former@example-dental.test",
         "is_active": False},
    ],
    "deal_pipelines": [{"id": 1001, "name": "Treatment", "is_default": True}],
    "deal_stages": [
        {"id": 2001, "name": "New Appointment", "deal_pipeline_id": 1001, "position": 1},
        {"id": 2002, "name": "In Treatment", "deal_pipeline_id": 1001, "position": 2},
        {"id": 2003, "name": "Invoiced", "deal_pipeline_id": 1001, "position": 3},
        {"id": 2004, "name": "Won", "deal_pipeline_id": 1001, "position": 4},
        {"id": 2005, "name": "Lost", "deal_pipeline_id": 1001, "position": 5},
    ],
    "lead_sources": [
        {"id": 3001, "name": "Referral"}, {"id": 3002, "name": "Walk-in"}, {"id": 3003, "name": "Marketing"},
        {"id": 3004, "name": "Web"},
    ],
    "contact_statuses": [{"id": 4001, "name": "New"}, {"id": 4002, "name": "Active"}, {"id": 4003, "name": "Inactive"}],
    "lifecycle_stages": [
        {"id": 5001, "name": "Lead"}, {"id": 5002, "name": "Sales Qualified Lead"}, {"id": 5003, "name": "Customer"},
    ],
    "sales_activity_types": [
        {"id": 6001, "name": "Appointment"}, {"id": 6002, "name": "Call"}, {"id": 6003, "name": "Meeting"},
    ],
    "sales_activity_outcomes": [
        {"id": 6101, "name": "Completed", "sales_activity_type_id": 6001},
        {"id": 6102, "name": "Cancelled", "sales_activity_type_id": 6001},
        {"id": 6103, "name": "No show", "sales_activity_type_id": 6001},
    ],
    "currencies": [{"id": 7001, "currency_code": "TRY", "name": "TRY"}, {"id": 7002, "currency_code": "USD",
                                                                          "name": "USD"}],
    "territories": [{"id": 8001, "name": "Istanbul"}, {"id": 8002, "name": "Ankara"}],
}
# Owners answer under "users" (reference: `GET /selector/owners → {"users":[…]}`); the rest under their name.
SELECTOR_KEYS = {"owners": "users"}

# A choice field's id -> the selector holding its valid ids (validated on every write).
CHOICE_SELECTORS = {
    "owner_id": "owners",
    "lead_source_id": "lead_sources",
    "contact_status_id": "contact_statuses",
    "lifecycle_stage_id": "lifecycle_stages",
    "deal_stage_id": "deal_stages",
    "deal_pipeline_id": "deal_pipelines",
    "sales_activity_type_id": "sales_activity_types",
    "sales_activity_outcome_id": "sales_activity_outcomes",
    "currency_id": "currencies",
    "territory_id": "territories",
}
# Lookup fields -> the resource their id must exist in.
LOOKUPS = {"sales_account_id": "sales_accounts", "parent_sales_account_id": "sales_accounts"}


@dataclass(frozen=True)
class StdField:
    name: str
    label: str
    type: str                 # text, textarea, number, dropdown, date, date_time, checkbox, email, phone, lookup
    required: bool = False
    unique: bool = False


def _f(name: str, label: str, type_: str = "text", *, required: bool = False, unique: bool = False) -> StdField:
    return StdField(name, label, type_, required, unique)


# Standard fields per module, served by `/settings/<module>/fields` (reference: contacts, sales_accounts, deals,
# sales_activities) and enforced on every write for all modules.
STANDARD_FIELDS: dict[str, tuple[StdField, ...]] = {
    "contacts": (
        _f("first_name", "First name"), _f("last_name", "Last name", required=True),
        _f("emails", "Emails", "email", unique=True), _f("mobile_number", "Mobile", "phone"),
        _f("work_number", "Work", "phone"), _f("job_title", "Job title"), _f("address", "Address", "textarea"),
        _f("city", "City"), _f("state", "State"), _f("zipcode", "Zipcode"), _f("country", "Country"),
        _f("owner_id", "Sales owner", "dropdown"), _f("lead_source_id", "Source", "dropdown"),
        _f("contact_status_id", "Status", "dropdown"), _f("lifecycle_stage_id", "Lifecycle stage", "dropdown"),
        _f("territory_id", "Territory", "dropdown"), _f("external_id", "External ID", unique=True),
        _f("sales_accounts", "Accounts", "lookup"),
    ),
    "sales_accounts": (
        _f("name", "Name", required=True, unique=True), _f("address", "Address", "textarea"), _f("city", "City"),
        _f("state", "State"), _f("zipcode", "Zipcode"), _f("country", "Country"), _f("phone", "Phone", "phone"),
        _f("website", "Website"), _f("industry_type", "Industry type"), _f("owner_id", "Sales owner", "dropdown"),
        _f("territory_id", "Territory", "dropdown"), _f("parent_sales_account_id", "Parent account", "lookup"),
    ),
    "deals": (
        _f("name", "Name", required=True), _f("amount", "Deal value", "number"),
        _f("sales_account_id", "Account", "lookup"), _f("deal_stage_id", "Deal stage", "dropdown"),
        _f("deal_pipeline_id", "Deal pipeline", "dropdown"), _f("expected_close", "Expected close date", "date"),
        _f("owner_id", "Sales owner", "dropdown"), _f("currency_id", "Currency", "dropdown"),
        _f("contacts_added_list", "Contacts", "lookup"),
    ),
    "sales_activities": (
        _f("title", "Title", required=True), _f("sales_activity_type_id", "Activity type", "dropdown",
                                                required=True),
        _f("owner_id", "Owner", "dropdown"), _f("start_date", "Start date", "date_time", required=True),
        _f("end_date", "End date", "date_time", required=True), _f("targetable_type", "Related to type"),
        _f("targetable_id", "Related to", "lookup"), _f("notes", "Notes", "textarea"),
        _f("sales_activity_outcome_id", "Outcome", "dropdown"),
    ),
    "tasks": (
        _f("title", "Title", required=True), _f("due_date", "Due date", "date_time", required=True),
        _f("owner_id", "Owner", "dropdown"), _f("targetable_type", "Related to type"),
        _f("targetable_id", "Related to", "lookup"), _f("description", "Description", "textarea"),
        _f("status", "Status", "number"),
    ),
    "appointments": (
        _f("title", "Title", required=True), _f("from_date", "From", "date_time", required=True),
        _f("end_date", "To", "date_time", required=True), _f("time_zone", "Time zone"),
        _f("is_allday", "All day", "checkbox"), _f("location", "Location"),
        _f("description", "Description", "textarea"), _f("targetable_type", "Related to type"),
        _f("targetable_id", "Related to", "lookup"), _f("owner_id", "Owner", "dropdown"),
        _f("appointment_attendees_attributes", "Attendees", "lookup"),
    ),
    "notes": (
        _f("description", "Description", "textarea", required=True),
        _f("targetable_type", "Related to type", required=True), _f("targetable_id", "Related to", "lookup",
                                                                     required=True),
    ),
    "cpq/products": (
        _f("name", "Name", required=True), _f("description", "Description", "textarea"),
        _f("unit_price", "Unit price", "number"), _f("product_code", "Product code"),
    ),
    "documents": (),
}
# reference/freshsales.md, "Field metadata": served only for these modules.
FIELDS_ENDPOINT_MODULES = ("contacts", "sales_accounts", "deals", "sales_activities")
