"""What the workbench knows about a destination module's fields: from the live connector when one is at hand,
else from the catalog (PlatformField rows, the pair's custom fields) and a small table of the vendors' mandatory
fields. The gate, the checklist and preflight all ask here, so they agree on one answer."""

from __future__ import annotations

from collections.abc import Iterable

from connectors.base import DestField, DestFieldType, DestinationConnector, PermanentError
from migrator.models import MappingStrategy, Migration, PairCustomField, PlatformField

# Mandatory fields per standard module. reference/zoho-crm-v8.md "Standard field names" and
# reference/freshsales.md "Resources"; used only when the destination cannot be asked.
KNOWN_MANDATORY: dict[str, dict[str, tuple[str, ...]]] = {
    "zoho-crm": {
        "Contacts": ("Last_Name",),
        "Leads": ("Last_Name",),
        "Accounts": ("Account_Name",),
        "Deals": ("Deal_Name", "Stage", "Closing_Date"),
        "Tasks": ("Subject",),
        "Events": ("Event_Title", "Start_DateTime", "End_DateTime"),
        "Calls": ("Subject", "Call_Type", "Call_Start_Time"),
        "Products": ("Product_Name",),
        "Sales_Orders": ("Subject", "Account_Name", "Ordered_Items"),
        "Invoices": ("Subject", "Account_Name", "Invoiced_Items"),
    },
    "freshsales": {
        "contacts": ("last_name",),
        "sales_accounts": ("name",),
        "deals": ("name",),
        "tasks": ("title", "due_date"),
        "appointments": ("title", "from_date", "end_date"),
        "sales_activities": ("title", "start_date", "end_date"),
        "products": ("name",),
    },
}

# What the connectors answer for a module the destination does not have (yet): Zoho, Freshsales.
MODULE_MISSING_CODES: frozenset[str] = frozenset({"INVALID_MODULE", "UNKNOWN_MODULE"})

# A custom module's only mandatory field is its record name (reference/zoho-crm-v8.md, "Metadata and schema").
CUSTOM_MODULE_MANDATORY: tuple[str, ...] = ("Name",)

# Fields the load pipeline fills itself from the strategy, the owner match or the route, never from a field map.
ENGINE_FILLED: frozenset[str] = frozenset({
    "Owner", "Parent_Id", "$se_module", "What_Id", "Who_Id", "Layout", "Tag",
    "owner_id", "targetable_type", "targetable_id", "lifecycle_stage_id", "sales_activity_type_id",
})

# Strategies whose rows create records of their own, so the module's mandatory fields must be mapped.
RECORD_STRATEGIES: frozenset[str] = frozenset({
    MappingStrategy.RECORDS, MappingStrategy.ROUTED_RECORDS, MappingStrategy.CUSTOM_MODULE,
})

_CATALOG_TYPES: dict[str, DestFieldType] = {
    "text": "text", "textarea": "textarea", "email": "email", "phone": "phone", "integer": "integer",
    "decimal": "decimal", "percent": "decimal", "currency": "currency", "boolean": "boolean", "date": "date",
    "datetime": "datetime", "picklist": "picklist", "multiselect": "multiselect", "lookup": "lookup",
    "userlookup": "owner", "owner": "owner", "json": "json",
}


def dest_type(catalog_type: str) -> DestFieldType:
    """The connector vocabulary for a catalog field type ("percent" → decimal, "userlookup" → owner)."""
    return _CATALOG_TYPES.get(catalog_type, "other")


def catalog_fields(migration: Migration, module: str) -> list[DestField]:
    """The fields the catalog knows for `module`: PlatformField rows plus the pair's custom fields."""
    fields: dict[str, DestField] = {}
    known = PlatformField.objects.filter(
        platform_object__platform=migration.pair.destination, platform_object__key=module
    )
    for pf in known:
        fields[pf.name] = DestField(
            api_name=pf.name, label=pf.label or pf.name, type=dest_type(pf.type), length=pf.length,
            mandatory=pf.mandatory, custom=pf.custom,
        )
    names = set(fields)
    for name in KNOWN_MANDATORY.get(migration.pair.destination.slug, {}).get(module, ()):
        if name not in names:
            fields[name] = DestField(api_name=name, label=name.replace("_", " "), type="other", mandatory=True)
    for cf in PairCustomField.objects.filter(pair=migration.pair, module=module, subform=""):
        fields.setdefault(cf.api_name, DestField(
            api_name=cf.api_name, label=cf.label, type=dest_type(cf.type), length=cf.length, unique=cf.unique,
            custom=True, picklist=tuple(cf.picklist), lookup_module=cf.lookup_module,
        ))
    return list(fields.values())


def module_fields(
    migration: Migration, module: str, destination: DestinationConnector | None = None
) -> list[DestField]:
    """The live metadata when a connector is given, else the catalog's knowledge. A custom module the schema
    checklist has not created yet is not in the destination: the catalog describes what it will hold."""
    if destination is not None:
        try:
            return destination.fields(module)
        except PermanentError as exc:
            if exc.code not in MODULE_MISSING_CODES:
                raise
    return catalog_fields(migration, module)


def mandatory_fields(fields: Iterable[DestField], *, custom_module: bool = False) -> list[str]:
    """Mandatory fields a field map must fill (those the pipeline fills itself left out)."""
    names = [f.api_name for f in fields if f.mandatory and not f.read_only and f.api_name not in ENGINE_FILLED]
    if custom_module:
        names.extend(n for n in CUSTOM_MODULE_MANDATORY if n not in names)
    return names
