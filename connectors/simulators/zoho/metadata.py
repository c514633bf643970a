"""Modules and fields of the simulated org: the standard ones Zoho ships, custom ones created through the API, and
their wire shapes (the full documented objects, defaults from templates.json built from Zoho's OpenAPI files)."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

TEMPLATES: dict[str, Any] = json.loads((Path(__file__).with_name("templates.json")).read_text())

JSON_TYPES = {
    "integer": "integer", "bigint": "integer", "double": "double", "currency": "double", "percent": "double",
    "boolean": "boolean", "lookup": "jsonobject", "ownerlookup": "jsonobject", "subform": "jsonarray",
    "multiselectpicklist": "jsonarray", "multi_module_lookup": "jsonobject",
}
DEFAULT_LENGTHS = {"text": 255, "textarea": 32000, "email": 100, "phone": 30, "website": 255, "integer": 9,
                   "bigint": 18, "double": 16, "currency": 16, "percent": 5, "picklist": 120,
                   "multiselectpicklist": 2000}
CREATABLE_TYPES = {"text", "textarea", "email", "phone", "website", "integer", "bigint", "double", "currency",
                   "percent", "boolean", "date", "datetime", "picklist", "multiselectpicklist", "lookup"}


@dataclass
class FieldDef:
    api_name: str
    label: str
    data_type: str
    length: int | None = None
    mandatory: bool = False
    read_only: bool = False
    unique: bool = False
    custom: bool = False
    picklist: list[str] = field(default_factory=list)
    lookup_module: str = ""
    subform: list[FieldDef] = field(default_factory=list)
    id: str = ""

    def to_state(self) -> dict[str, Any]:
        data = self.__dict__.copy()
        data["subform"] = [sub.to_state() for sub in self.subform]
        return data

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> FieldDef:
        values = dict(data)
        values["subform"] = [cls.from_state(sub) for sub in values.get("subform", [])]
        return cls(**values)


@dataclass
class ModuleDef:
    api_name: str
    singular_label: str
    plural_label: str
    fields: dict[str, FieldDef]
    id: str = ""
    custom: bool = False
    creatable: bool = True           # records can be created through /crm/v8/{module}
    bulk: bool = True                # Bulk Write supports it
    duplicate_check: tuple[str, ...] = ()
    display_field: str = ""
    module_name: str = ""

    def to_state(self) -> dict[str, Any]:
        data = self.__dict__.copy()
        data["fields"] = [f.to_state() for f in self.fields.values()]
        data["duplicate_check"] = list(self.duplicate_check)
        return data

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> ModuleDef:
        values = dict(data)
        values["fields"] = {f["api_name"]: FieldDef.from_state(f) for f in values["fields"]}
        values["duplicate_check"] = tuple(values.get("duplicate_check", ()))
        return cls(**values)


def _f(api: str, dtype: str, length: int | None = None, *, m: bool = False, u: bool = False, ro: bool = False,
       pick: tuple[str, ...] = (), lookup: str = "", label: str = "") -> FieldDef:
    return FieldDef(api, label or api.replace("_", " "), dtype, length or DEFAULT_LENGTHS.get(dtype), m, ro, u,
                    picklist=list(pick), lookup_module=lookup)


LEAD_SOURCES = ("-None-", "Advertisement", "Cold Call", "Employee Referral", "External Referral", "Online Store",
                "Partner", "Public Relations", "Sales Email Alias", "Seminar Partner", "Internal Seminar",
                "Trade Show", "Web Download", "Web Research", "Chat")
SYSTEM: tuple[Callable[[], FieldDef], ...] = (
    lambda: _f("Owner", "ownerlookup", label="Owner"),
    lambda: _f("Created_By", "ownerlookup", ro=True),
    lambda: _f("Modified_By", "ownerlookup", ro=True),
    lambda: _f("Created_Time", "datetime", ro=True),
    lambda: _f("Modified_Time", "datetime", ro=True),
)
ADDRESS = ("Street", "City", "State", "Zip", "Country")
SALUTATIONS = ("-None-", "Mr.", "Mrs.", "Ms.", "Dr.", "Prof.")


def _address(prefix: str) -> list[FieldDef]:
    lengths = {"Street": 250, "City": 100, "State": 100, "Zip": 30, "Code": 30, "Zip_Code": 30, "Country": 100}
    # Zoho names the postal code Zip_Code on Leads, Mailing_Zip on Contacts, Billing_Code on Accounts
    # (reference/zoho-crm-v8.md, "Standard field names").
    renamed = {"Billing": "Code", "": "Zip_Code"}
    parts = [renamed.get(prefix, p) if p == "Zip" else p for p in ADDRESS]
    return [_f(f"{prefix}_{p}" if prefix else p, "text", lengths[p]) for p in parts]


def _line_items() -> list[FieldDef]:
    return [_f("Product_Name", "lookup", m=True, lookup="Products"), _f("Quantity", "double", m=True),
            _f("List_Price", "currency"), _f("Discount", "currency"), _f("Total", "currency", ro=True)]


def _standard_fields() -> dict[str, list[FieldDef]]:
    tasks_status = ("Not Started", "Deferred", "In Progress", "Completed", "Waiting for input")
    what = _f("What_Id", "lookup", lookup="$se_module", label="Related To")
    who = _f("Who_Id", "lookup", lookup="Contacts", label="Contact Name")
    return {
        "Leads": [_f("Salutation", "picklist", pick=SALUTATIONS), _f("First_Name", "text", 40),
                  _f("Last_Name", "text", 80, m=True), _f("Company", "text", 200),
                  _f("Email", "email"), _f("Phone", "phone"), _f("Mobile", "phone"),
                  _f("Lead_Source", "picklist", pick=LEAD_SOURCES),
                  _f("Lead_Status", "picklist", pick=("-None-", "Attempted to Contact", "Contact in Future",
                                                      "Contacted", "Junk Lead", "Lost Lead", "Not Contacted",
                                                      "Pre-Qualified", "Not Qualified")),
                  *_address(""), _f("Website", "website"), _f("Email_Opt_Out", "boolean"),
                  _f("Description", "textarea")],
        "Contacts": [_f("Salutation", "picklist", pick=SALUTATIONS), _f("First_Name", "text", 40),
                     _f("Last_Name", "text", 80, m=True), _f("Email", "email"),
                     _f("Secondary_Email", "email"), _f("Phone", "phone"), _f("Mobile", "phone"),
                     _f("Home_Phone", "phone"), *_address("Mailing"), _f("Date_of_Birth", "date"),
                     _f("Account_Name", "lookup", lookup="Accounts"), _f("Title", "text", 100),
                     _f("Lead_Source", "picklist", pick=LEAD_SOURCES), _f("Email_Opt_Out", "boolean"),
                     _f("Description", "textarea")],
        "Accounts": [_f("Account_Name", "text", 200, m=True), _f("Phone", "phone"), _f("Website", "website"),
                     *_address("Billing"), _f("Parent_Account", "lookup", lookup="Accounts"),
                     _f("Employees", "integer"), _f("Annual_Revenue", "currency"),
                     _f("Industry", "picklist", pick=("-None-", "Healthcare", "Services", "Other")),
                     _f("Description", "textarea")],
        "Deals": [_f("Deal_Name", "text", 120, m=True),
                  _f("Stage", "picklist", m=True, pick=("Qualification", "Needs Analysis", "Value Proposition",
                                                        "Identify Decision Makers", "Proposal/Price Quote",
                                                        "Negotiation/Review", "Closed Won", "Closed Lost",
                                                        "Closed Lost to Competition")),
                  _f("Closing_Date", "date", m=True), _f("Amount", "currency"),
                  _f("Contact_Name", "lookup", lookup="Contacts"), _f("Account_Name", "lookup", lookup="Accounts"),
                  _f("Pipeline", "picklist", pick=("Standard (Standard)",)), _f("Probability", "integer", 3),
                  _f("Description", "textarea")],
        "Tasks": [_f("Subject", "text", 255, m=True), _f("Due_Date", "date"),
                  _f("Status", "picklist", pick=tasks_status),
                  _f("Priority", "picklist", pick=("High", "Highest", "Low", "Lowest", "Normal")),
                  what, who, _f("Description", "textarea")],
        "Events": [_f("Event_Title", "text", 255, m=True), _f("Start_DateTime", "datetime", m=True),
                   _f("End_DateTime", "datetime", m=True), _f("Venue", "text", 255), _f("All_day", "boolean"),
                   copy.deepcopy(what), copy.deepcopy(who), _f("Description", "textarea")],
        "Calls": [_f("Subject", "text", 255, m=True),
                  _f("Call_Type", "picklist", m=True, pick=("Outbound", "Inbound", "Missed")),
                  _f("Call_Start_Time", "datetime", m=True), _f("Call_Duration", "text", 10),
                  copy.deepcopy(what), copy.deepcopy(who), _f("Description", "textarea")],
        "Notes": [_f("Note_Title", "text", 120), _f("Note_Content", "textarea", m=True),
                  _f("Parent_Id", "multi_module_lookup", m=True, label="Parent Id")],
        "Attachments": [_f("File_Name", "text", 255, ro=True), _f("Size", "text", ro=True),
                        _f("Parent_Id", "multi_module_lookup", ro=True)],
        "Products": [_f("Product_Name", "text", 120, m=True), _f("Product_Code", "text", 40),
                     _f("Unit_Price", "currency"), _f("Product_Active", "boolean"),
                     _f("Product_Category", "picklist", pick=("-None-", "Hardware", "Software", "Service")),
                     _f("Qty_in_Stock", "double"), _f("Description", "textarea")],
        "Sales_Orders": [_f("Subject", "text", 255, m=True), _f("Account_Name", "lookup", m=True, lookup="Accounts"),
                         _f("Contact_Name", "lookup", lookup="Contacts"), _f("Deal_Name", "lookup", lookup="Deals"),
                         _f("Status", "picklist", pick=("Created", "Approved", "Delivered", "Cancelled")),
                         _f("Due_Date", "date"), _subform("Ordered_Items"), _f("Grand_Total", "currency", ro=True),
                         _f("Description", "textarea")],
        "Invoices": [_f("Subject", "text", 255, m=True), _f("Account_Name", "lookup", m=True, lookup="Accounts"),
                     _f("Contact_Name", "lookup", lookup="Contacts"),
                     _f("Sales_Order", "lookup", lookup="Sales_Orders"), _f("Invoice_Date", "date"),
                     _f("Due_Date", "date"),
                     _f("Status", "picklist", pick=("Created", "Approved", "Delivered", "Cancelled", "Paid")),
                     _subform("Invoiced_Items"), _f("Grand_Total", "currency", ro=True),
                     _f("Description", "textarea")],
    }


def _subform(api: str) -> FieldDef:
    sub = _f(api, "subform", m=True)
    sub.subform = _line_items()
    return sub


# api_name -> (singular, plural, display field, default duplicate-check fields, bulk write supported)
STANDARD_MODULES: dict[str, tuple[str, str, str, tuple[str, ...], bool]] = {
    "Leads": ("Lead", "Leads", "Last_Name", ("Email",), True),
    "Contacts": ("Contact", "Contacts", "Last_Name", ("Email",), True),
    "Accounts": ("Account", "Accounts", "Account_Name", ("Account_Name",), True),
    "Deals": ("Deal", "Deals", "Deal_Name", ("Deal_Name",), True),
    "Tasks": ("Task", "Tasks", "Subject", (), True),
    # Bulk Write is not for Notes, Attachments, Events, Calls (reference, "Bulk Write").
    "Events": ("Meeting", "Meetings", "Event_Title", (), False),
    "Calls": ("Call", "Calls", "Subject", (), False),
    "Notes": ("Note", "Notes", "Note_Title", (), False),
    "Attachments": ("Attachment", "Attachments", "File_Name", (), False),
    "Products": ("Product", "Products", "Product_Name", ("Product_Name",), True),
    "Sales_Orders": ("Sales Order", "Sales Orders", "Subject", ("Subject",), True),
    "Invoices": ("Invoice", "Invoices", "Subject", ("Subject",), True),
}


def standard_modules(new_id: Callable[[], str]) -> dict[str, ModuleDef]:
    modules: dict[str, ModuleDef] = {}
    for api, fields in _standard_fields().items():
        singular, plural, display, dup, bulk = STANDARD_MODULES[api]
        system = [make() for make in SYSTEM]
        if api in ("Notes", "Attachments"):
            system = [f for f in system if f.api_name != "Owner"] + [_f("Owner", "ownerlookup")]
        all_fields = {f.api_name: f for f in [*system, *fields]}
        for f in all_fields.values():
            f.id = new_id()
            for sub in f.subform:
                sub.id = new_id()
        modules[api] = ModuleDef(api, singular, plural, all_fields, id=new_id(), creatable=api != "Attachments",
                                 bulk=bulk, duplicate_check=dup, display_field=display, module_name=api)
    return modules


def api_name_from_label(label: str, taken: set[str]) -> str:
    """Zoho derives a custom field's api_name from its label: non-alphanumerics become one underscore; a clash
    gets a number (reference, "Metadata and schema": no `__c` suffix)."""
    base = re.sub(r"_+", "_", re.sub(r"[^0-9A-Za-z]+", "_", label)).strip("_") or "Field"
    if base[0].isdigit():
        base = f"Field_{base}"
    name, n = base, 1
    lowered = {t.lower() for t in taken}
    while name.lower() in lowered:
        name, n = f"{base}{n}", n + 1
    return name


# --------------------------------------------------------------------------------------------- wire shapes


def field_json(f: FieldDef, modules: dict[str, ModuleDef]) -> dict[str, Any]:
    out = cast(dict[str, Any], copy.deepcopy(TEMPLATES["field"]))
    out.update({
        "api_name": f.api_name, "field_label": f.label, "display_label": f.label, "column_name": f.api_name.upper(),
        "data_type": f.data_type, "json_type": JSON_TYPES.get(f.data_type, "string"), "id": f.id,
        "length": f.length or 0, "system_mandatory": f.mandatory, "read_only": f.read_only,
        "field_read_only": f.read_only, "custom_field": f.custom, "visible": True, "sortable": True,
        "filterable": True, "searchable": True, "mass_update": not f.read_only, "available_in_user_layout": True,
        "created_source": "crm" if f.custom else "default", "unique": {"casesensitive": "false"} if f.unique
        else None,
    })
    if f.picklist:
        values = []
        for seq, value in enumerate(f.picklist, start=1):
            item = copy.deepcopy(TEMPLATES["pick_list_value"])
            item.update({"display_value": value, "actual_value": value, "sequence_number": seq, "type": "used",
                         "id": f"{f.id}{seq:03d}"})
            values.append(item)
        out["pick_list_values"] = values
    if f.data_type == "lookup" and f.lookup_module and f.lookup_module != "$se_module":
        target = modules.get(f.lookup_module)
        lookup = copy.deepcopy(TEMPLATES["lookup"])
        lookup["module"] = {"api_name": f.lookup_module, "id": target.id if target else None}
        lookup["display_label"] = f.label
        lookup["api_name"] = f.api_name
        out["lookup"] = lookup
    if f.data_type == "subform":
        out["associated_module"] = {"api_name": f.api_name, "id": f.id}
    return out


def module_json(m: ModuleDef) -> dict[str, Any]:
    out = cast(dict[str, Any], copy.deepcopy(TEMPLATES["module"]))
    out.update({
        "api_name": m.api_name, "module_name": m.module_name or m.api_name, "id": m.id,
        "singular_label": m.singular_label, "plural_label": m.plural_label,
        "generated_type": "custom" if m.custom else "default", "api_supported": True, "creatable": m.creatable,
        "editable": True, "deletable": True, "viewable": True, "visible": True, "visibility": 1,
        "show_as_tab": True, "status": "visible",
    })
    return out
