"""What the connector knows about Freshsales modules, and how a flat payload becomes a Freshsales body.

Payloads are flat dicts (connectors/base.py). Here `cf_*` keys move into `custom_field`, choice fields given as
text ("Lead") become ids (`lifecycle_stage_id`), lookups become ids in the vendor's shape. Anything that cannot be
sent raises PermanentError naming the field; messages never carry the record's values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from connectors.base import DestField, DestFieldType, DestModule, PermanentError
from connectors.destinations.freshsales.schemas import FieldMeta


@dataclass(frozen=True)
class ModuleInfo:
    path: str                 # under the bundle URL
    singular: str             # the body's wrapper key (reference: "bodies wrap the record in its singular name")
    label: str
    targetable_type: str      # the name notes, tasks and files use to point at a record of this module
    forget: bool = False      # DELETE is soft (recycle bin); `/forget` deletes for good
    bulk: bool = False        # upsert + bulk_upsert exist (reference: Contacts, Accounts)
    fields_endpoint: bool = False
    listing: str = ""         # "view" (filters + views), "page" (plain paged GET) or "" (no list API)


MODULES: dict[str, ModuleInfo] = {
    "contacts": ModuleInfo("contacts", "contact", "Contacts", "Contact", True, True, True, "view"),
    "sales_accounts": ModuleInfo("sales_accounts", "sales_account", "Accounts", "SalesAccount", True, True, True,
                                 "view"),
    "deals": ModuleInfo("deals", "deal", "Deals", "Deal", True, False, True, "view"),
    "tasks": ModuleInfo("tasks", "task", "Tasks", "Task", listing="page"),
    "appointments": ModuleInfo("appointments", "appointment", "Appointments", "Appointment", listing="page"),
    "sales_activities": ModuleInfo("sales_activities", "sales_activity", "Sales activities", "SalesActivity",
                                   fields_endpoint=True, listing="page"),
    "notes": ModuleInfo("notes", "note", "Notes", "Note"),
    "products": ModuleInfo("cpq/products", "product", "Products", "Product", listing="page"),
    "documents": ModuleInfo("documents", "document", "Documents", "Document"),
}
TARGETABLE = {name: info.targetable_type for name, info in MODULES.items()}

# Choice fields whose wire value is an id, and the selector that lists the ids (reference, "Owners" and
# "other selectors"). The payload may give the text ("Lead"); the connector resolves it.
CHOICE_SELECTORS = {
    "owner_id": "owners", "lead_source_id": "lead_sources", "contact_status_id": "contact_statuses",
    "lifecycle_stage_id": "lifecycle_stages", "deal_stage_id": "deal_stages", "deal_pipeline_id": "deal_pipelines",
    "sales_activity_type_id": "sales_activity_types", "sales_activity_outcome_id": "sales_activity_outcomes",
    "currency_id": "currencies", "territory_id": "territories",
}
LOOKUP_MODULES = {"sales_account_id": "sales_accounts", "parent_sales_account_id": "sales_accounts",
                  "sales_accounts": "sales_accounts", "contacts_added_list": "contacts"}
UNIQUE = {("contacts", "emails"), ("contacts", "external_id"), ("sales_accounts", "name")}

_TYPES: dict[str, DestFieldType] = {
    "text": "text", "textarea": "textarea", "paragraph": "textarea", "number": "decimal", "dropdown": "picklist",
    "radio": "picklist", "multi_select_dropdown": "multiselect", "date": "date", "date_time": "datetime",
    "checkbox": "boolean", "email": "email", "phone": "phone", "phone_number": "phone", "lookup": "lookup",
    "auto_complete": "lookup", "url": "text",
}


def _m(name: str, label: str, type_: str = "text", *, required: bool = False) -> FieldMeta:
    return FieldMeta(name=name, label=label, type=type_, required=required)


# Modules without `/settings/<module>/fields` (reference, "Field metadata"): their documented body fields.
STATIC_FIELDS: dict[str, list[FieldMeta]] = {
    "tasks": [_m("title", "Title", required=True), _m("due_date", "Due date", "date_time", required=True),
              _m("owner_id", "Owner", "dropdown"), _m("targetable_type", "Related to type"),
              _m("targetable_id", "Related to", "lookup"), _m("description", "Description", "textarea"),
              _m("status", "Status", "number")],
    "appointments": [_m("title", "Title", required=True), _m("from_date", "From", "date_time", required=True),
                     _m("end_date", "To", "date_time", required=True), _m("time_zone", "Time zone"),
                     _m("is_allday", "All day", "checkbox"), _m("location", "Location"),
                     _m("description", "Description", "textarea"), _m("targetable_type", "Related to type"),
                     _m("targetable_id", "Related to", "lookup"),
                     _m("appointment_attendees_attributes", "Attendees", "lookup")],
    "notes": [_m("description", "Description", "textarea", required=True),
              _m("targetable_type", "Related to type", required=True),
              _m("targetable_id", "Related to", "lookup", required=True)],
    "products": [_m("name", "Name", required=True), _m("description", "Description", "textarea"),
                 _m("unit_price", "Unit price", "number"), _m("product_code", "Product code")],
    "documents": [_m("file_name", "File name"), _m("is_shared", "Shared", "checkbox"),
                  _m("targetable_type", "Related to type", required=True),
                  _m("targetable_id", "Related to", "lookup", required=True)],
}


def module_info(module: str) -> ModuleInfo:
    try:
        return MODULES[module]
    except KeyError:
        raise PermanentError(f"Freshsales has no module {module!r}", code="UNKNOWN_MODULE") from None


def dest_modules() -> list[DestModule]:
    return [DestModule(api_name=name, label=info.label, creatable=True, supports_bulk=info.bulk)
            for name, info in MODULES.items()]


def to_dest_field(module: str, meta: FieldMeta) -> DestField:
    custom = meta.name.startswith("cf_")
    kind: DestFieldType = "owner" if meta.name == "owner_id" else _TYPES.get(meta.type, "other")
    if meta.name in LOOKUP_MODULES or meta.name == "targetable_id":
        kind = "lookup"
    return DestField(
        api_name=meta.name, label=meta.label or meta.name, type=kind, mandatory=meta.required,
        read_only=meta.name in ("id", "created_at", "updated_at"), unique=(module, meta.name) in UNIQUE,
        custom=custom, picklist=tuple(c.value for c in meta.choices), lookup_module=LOOKUP_MODULES.get(meta.name, ""),
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _as_id(value: Any, field: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise PermanentError(f"field {field}: expected a Freshsales record id", code="INVALID_LOOKUP", field=field)


@dataclass
class Resolver:
    """Field metadata of one module plus the selector choices, as the conversion needs them."""

    module: str
    fields: Mapping[str, FieldMeta]
    choices: Mapping[str, Mapping[str, int]]     # choice field -> lower-cased text -> id (selectors)

    def _choice_id(self, field: str, value: Any) -> int:
        known = self.choices.get(field, {})
        if isinstance(value, int | str) and not isinstance(value, bool) and str(value).strip().isdigit():
            wanted = int(str(value).strip())
            if known and wanted not in known.values():
                raise PermanentError(f"field {field}: no such choice id in Freshsales", code="INVALID_CHOICE",
                                     field=field)
            return wanted
        if isinstance(value, str) and value.strip().lower() in known:
            return known[value.strip().lower()]
        raise PermanentError(f"field {field}: value is not one of the Freshsales choices", code="INVALID_CHOICE",
                             field=field)

    def _custom(self, name: str, value: Any) -> Any:
        meta = self.fields.get(name)
        if meta is None:
            raise PermanentError(
                f"field {name}: no such custom field in Freshsales {self.module} (the schema checklist asks the "
                "customer's admin to create it)", code="UNKNOWN_FIELD", field=name)
        if meta.type in ("dropdown", "radio") and value not in (None, ""):
            # reference/freshsales.md, "Field metadata": custom dropdowns take the choice's text value.
            allowed = {c.value for c in meta.choices}
            if str(value) not in allowed:
                raise PermanentError(f"field {name}: value is not one of the field's choices",
                                     code="INVALID_CHOICE", field=name)
            return str(value)
        return _jsonable(value)

    def body(self, record: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
        """The wire body (without the wrapper) for a flat payload; raises PermanentError for this record."""
        body: dict[str, Any] = {}
        custom: dict[str, Any] = {}
        for key, value in record.items():
            if key == "id":
                continue
            if key.startswith("cf_"):
                custom[key] = self._custom(key, value)
            elif key in CHOICE_SELECTORS or f"{key}_id" in CHOICE_SELECTORS:
                field = key if key in CHOICE_SELECTORS else f"{key}_id"
                body[field] = None if value in (None, "") else self._choice_id(field, value)
            elif key in ("email", "emails"):
                values = [value] if isinstance(value, str) else list(value or [])
                body["emails"] = [v if isinstance(v, dict) else {"value": str(v), "is_primary": i == 0}
                                  for i, v in enumerate(values) if v not in (None, "")]
            elif key == "sales_account_id" and self.module == "contacts":
                body["sales_accounts"] = ([] if value in (None, "")
                                          else [{"id": _as_id(value, key), "is_primary": True}])
            elif key == "sales_accounts":
                # One lookup id (a patient's clinic) is the primary account; a list keeps its order.
                items = [] if value in (None, "") else value if isinstance(value, list | tuple) else [value]
                body[key] = [v if isinstance(v, dict) else {"id": _as_id(v, key), "is_primary": i == 0}
                             for i, v in enumerate(items)]
            elif key in ("sales_account_id", "parent_sales_account_id", "targetable_id"):
                body[key] = None if value in (None, "") else _as_id(value, key)
            elif key == "contacts_added_list":
                items = [] if value in (None, "") else value if isinstance(value, list | tuple) else [value]
                body[key] = [_as_id(v, key) for v in items]
            elif key == "targetable_type":
                body[key] = TARGETABLE.get(str(value), value)
            else:
                body[key] = _jsonable(value)
        if custom:
            body["custom_field"] = custom
        if creating:
            self._check_required(body)
        return body

    def _check_required(self, body: Mapping[str, Any]) -> None:
        for name, meta in self.fields.items():
            if not meta.required:
                continue
            value = (body.get("custom_field") or {}).get(name) if name.startswith("cf_") else body.get(name)
            if value in (None, "", [], {}):
                raise PermanentError(f"field {name}: required by Freshsales and missing", code="MANDATORY_MISSING",
                                     field=name)


def flatten(record: Mapping[str, Any]) -> dict[str, Any]:
    """A Freshsales record as a flat dict: custom fields back at the top level, ids as strings."""
    data = {k: v for k, v in record.items() if k != "custom_field"}
    data.update(record.get("custom_field") or {})
    data["id"] = str(record["id"])
    return data
