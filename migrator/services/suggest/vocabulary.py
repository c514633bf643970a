"""Destination field vocabularies kept as data: Zoho CRM standard fields (reference/zoho-crm-v8.md, "Standard field
names", "Notes, attachments, activities") and Freshsales resources (reference/freshsales.md, "Resources").

They stand in for a live connector's `fields()` when a migration has no connection yet. `Source_System_ID` (Zoho)
is not standard but every migration creates it as the upsert key (seeds: "Source_System_ID__c"), so it is listed."""

from __future__ import annotations

from connectors.base import DestField, DestFieldType, DestModule

# (api_name, label, type, length, mandatory, lookup_module)
_Row = tuple[str, str, DestFieldType, int | None, bool, str]

_ZOHO_PERSON: list[_Row] = [
    ("Salutation", "Salutation", "picklist", None, False, ""),
    ("First_Name", "First Name", "text", 40, False, ""),
    ("Last_Name", "Last Name", "text", 80, True, ""),
    ("Email", "Email", "email", 100, False, ""),
    ("Secondary_Email", "Secondary Email", "email", 100, False, ""),
    ("Phone", "Phone", "phone", 30, False, ""),
    ("Mobile", "Mobile", "phone", 30, False, ""),
    ("Fax", "Fax", "phone", 30, False, ""),
    ("Title", "Title", "text", 100, False, ""),
    ("Lead_Source", "Lead Source", "picklist", None, False, ""),
    ("Description", "Description", "textarea", 32000, False, ""),
    ("Email_Opt_Out", "Email Opt Out", "boolean", None, False, ""),
    ("Owner", "Owner", "owner", None, False, ""),
    ("Source_System_ID", "Source System ID", "text", 100, False, ""),
]
_ZOHO_CONTACT_ONLY: list[_Row] = [
    ("Home_Phone", "Home Phone", "phone", 30, False, ""),
    ("Other_Phone", "Other Phone", "phone", 30, False, ""),
    ("Date_of_Birth", "Date of Birth", "date", None, False, ""),
    ("Mailing_Street", "Mailing Street", "text", 250, False, ""),
    ("Mailing_City", "Mailing City", "text", 100, False, ""),
    ("Mailing_State", "Mailing State", "text", 100, False, ""),
    ("Mailing_Zip", "Mailing Zip", "text", 30, False, ""),
    ("Mailing_Country", "Mailing Country", "text", 100, False, ""),
    ("Account_Name", "Account Name", "lookup", None, False, "Accounts"),
    ("Department", "Department", "text", 100, False, ""),
    ("Reports_To", "Reports To", "lookup", None, False, "Contacts"),
]
_ZOHO_LEAD_ONLY: list[_Row] = [
    ("Company", "Company", "text", 200, False, ""),
    ("Lead_Status", "Lead Status", "picklist", None, False, ""),
    ("Street", "Street", "text", 250, False, ""),
    ("City", "City", "text", 100, False, ""),
    ("State", "State", "text", 100, False, ""),
    ("Zip_Code", "Zip Code", "text", 30, False, ""),
    ("Country", "Country", "text", 100, False, ""),
    ("Website", "Website", "text", 255, False, ""),
]
_ZOHO_ACTIVITY_LINKS: list[_Row] = [
    ("Who_Id", "Contact Name", "lookup", None, False, "Contacts"),
    ("What_Id", "Related To", "lookup", None, False, ""),
    ("Owner", "Owner", "owner", None, False, ""),
    ("Description", "Description", "textarea", 32000, False, ""),
    ("Source_System_ID", "Source System ID", "text", 100, False, ""),
]

ZOHO: dict[str, list[_Row]] = {
    "Contacts": _ZOHO_PERSON + _ZOHO_CONTACT_ONLY,
    "Leads": _ZOHO_PERSON + _ZOHO_LEAD_ONLY,
    "Accounts": [
        ("Account_Name", "Account Name", "text", 200, True, ""),
        ("Phone", "Phone", "phone", 30, False, ""),
        ("Fax", "Fax", "phone", 30, False, ""),
        ("Website", "Website", "text", 255, False, ""),
        ("Billing_Street", "Billing Street", "text", 250, False, ""),
        ("Billing_City", "Billing City", "text", 100, False, ""),
        ("Billing_State", "Billing State", "text", 100, False, ""),
        ("Billing_Code", "Billing Code", "text", 30, False, ""),
        ("Billing_Country", "Billing Country", "text", 100, False, ""),
        ("Parent_Account", "Parent Account", "lookup", None, False, "Accounts"),
        ("Employees", "Employees", "integer", None, False, ""),
        ("Description", "Description", "textarea", 32000, False, ""),
        ("Owner", "Owner", "owner", None, False, ""),
        ("Source_System_ID", "Source System ID", "text", 100, False, ""),
    ],
    "Deals": [
        ("Deal_Name", "Deal Name", "text", 120, True, ""),
        ("Stage", "Stage", "picklist", None, True, ""),
        ("Closing_Date", "Closing Date", "date", None, False, ""),
        ("Amount", "Amount", "currency", None, False, ""),
        ("Contact_Name", "Contact Name", "lookup", None, False, "Contacts"),
        ("Account_Name", "Account Name", "lookup", None, False, "Accounts"),
        ("Pipeline", "Pipeline", "picklist", None, False, ""),
        ("Description", "Description", "textarea", 32000, False, ""),
        ("Owner", "Owner", "owner", None, False, ""),
        ("Source_System_ID", "Source System ID", "text", 100, False, ""),
    ],
    "Tasks": [
        ("Subject", "Subject", "text", 255, True, ""),
        ("Due_Date", "Due Date", "date", None, False, ""),
        ("Status", "Status", "picklist", None, False, ""),
        ("Priority", "Priority", "picklist", None, False, ""),
        *_ZOHO_ACTIVITY_LINKS,
    ],
    "Events": [
        ("Event_Title", "Title", "text", 255, True, ""),
        ("Start_DateTime", "From", "datetime", None, True, ""),
        ("End_DateTime", "To", "datetime", None, True, ""),
        ("Venue", "Venue", "text", 255, False, ""),
        ("All_day", "All day", "boolean", None, False, ""),
        ("Participants", "Participants", "other", None, False, ""),
        *_ZOHO_ACTIVITY_LINKS,
    ],
    "Calls": [
        ("Subject", "Subject", "text", 255, True, ""),
        ("Call_Type", "Call Type", "picklist", None, True, ""),
        ("Call_Start_Time", "Call Start Time", "datetime", None, True, ""),
        ("Call_Duration", "Call Duration", "text", 10, False, ""),
        ("Call_Purpose", "Call Purpose", "picklist", None, False, ""),
        ("Call_Result", "Call Result", "picklist", None, False, ""),
        *_ZOHO_ACTIVITY_LINKS,
    ],
    "Notes": [
        ("Note_Title", "Note Title", "text", 120, False, ""),
        ("Note_Content", "Note Content", "textarea", 32000, True, ""),
        ("Parent_Id", "Parent ID", "lookup", None, True, ""),
        ("Owner", "Owner", "owner", None, False, ""),
    ],
}

_FS_LINKS: list[_Row] = [
    ("targetable_id", "Related to", "lookup", None, False, "contacts"),
    ("owner_id", "Owner", "owner", None, False, ""),
    ("description", "Description", "textarea", 10000, False, ""),
]

FRESHSALES: dict[str, list[_Row]] = {
    "contacts": [
        ("first_name", "First name", "text", 255, False, ""),
        ("last_name", "Last name", "text", 255, True, ""),
        ("emails", "Emails", "email", 255, False, ""),
        ("mobile_number", "Mobile", "phone", 255, False, ""),
        ("work_number", "Work", "phone", 255, False, ""),
        ("job_title", "Job title", "text", 255, False, ""),
        ("address", "Address", "text", 255, False, ""),
        ("city", "City", "text", 255, False, ""),
        ("state", "State", "text", 255, False, ""),
        ("zipcode", "Zipcode", "text", 255, False, ""),
        ("country", "Country", "text", 255, False, ""),
        ("owner_id", "Sales owner", "owner", None, False, ""),
        ("lead_source_id", "Source", "picklist", None, False, ""),
        ("contact_status_id", "Status", "picklist", None, False, ""),
        ("lifecycle_stage_id", "Lifecycle stage", "picklist", None, False, ""),
        ("external_id", "External ID", "text", 255, False, ""),
        ("sales_accounts", "Accounts", "lookup", None, False, "sales_accounts"),
    ],
    "sales_accounts": [
        ("name", "Name", "text", 255, True, ""),
        ("address", "Address", "text", 255, False, ""),
        ("city", "City", "text", 255, False, ""),
        ("state", "State", "text", 255, False, ""),
        ("zipcode", "Zipcode", "text", 255, False, ""),
        ("country", "Country", "text", 255, False, ""),
        ("phone", "Phone", "phone", 255, False, ""),
        ("website", "Website", "text", 255, False, ""),
        ("number_of_employees", "Number of employees", "integer", None, False, ""),
        ("parent_sales_account_id", "Parent account", "lookup", None, False, "sales_accounts"),
        ("owner_id", "Sales owner", "owner", None, False, ""),
    ],
    "deals": [
        ("name", "Name", "text", 255, True, ""),
        ("amount", "Deal value", "currency", None, False, ""),
        ("sales_account_id", "Account", "lookup", None, False, "sales_accounts"),
        ("deal_stage_id", "Deal stage", "picklist", None, False, ""),
        ("deal_pipeline_id", "Deal pipeline", "picklist", None, False, ""),
        ("expected_close", "Expected close date", "date", None, False, ""),
        ("owner_id", "Sales owner", "owner", None, False, ""),
    ],
    "tasks": [
        ("title", "Title", "text", 255, True, ""),
        ("due_date", "Due date", "datetime", None, True, ""),
        ("status", "Status", "picklist", None, False, ""),
        *_FS_LINKS,
    ],
    "appointments": [
        ("title", "Title", "text", 255, True, ""),
        ("from_date", "From", "datetime", None, True, ""),
        ("end_date", "To", "datetime", None, True, ""),
        ("time_zone", "Time zone", "text", 255, False, ""),
        ("is_allday", "All day", "boolean", None, False, ""),
        ("location", "Location", "text", 255, False, ""),
        *_FS_LINKS,
    ],
    "sales_activities": [
        ("title", "Title", "text", 255, True, ""),
        ("start_date", "Start date", "datetime", None, True, ""),
        ("end_date", "End date", "datetime", None, True, ""),
        ("notes", "Notes", "textarea", 10000, False, ""),
        ("sales_activity_type_id", "Activity type", "picklist", None, True, ""),
        ("targetable_id", "Related to", "lookup", None, False, "contacts"),
        ("owner_id", "Owner", "owner", None, False, ""),
    ],
    "notes": [
        ("description", "Description", "textarea", 10000, True, ""),
        ("targetable_id", "Related to", "lookup", None, True, "contacts"),
    ],
}

_MODULE_LABELS = {
    "sales_accounts": "Accounts", "sales_activities": "Sales activities",
}


def _vocabulary(destination: str) -> dict[str, list[_Row]]:
    if destination == "zoho-crm":
        return ZOHO
    if destination == "freshsales":
        return FRESHSALES
    raise ValueError(f"unknown destination {destination!r}; expected zoho-crm or freshsales")


def destination_modules(destination: str) -> list[DestModule]:
    return [DestModule(api_name=name, label=_MODULE_LABELS.get(name, name.replace("_", " ").title()))
            for name in _vocabulary(destination)]


def destination_fields(destination: str, module: str) -> list[DestField]:
    table = _vocabulary(destination)
    if module not in table:
        raise ValueError(f"no standard field list for {destination} module {module!r}; "
                         f"known: {', '.join(table)}")
    return [DestField(api_name=a, label=lab, type=t, length=n, mandatory=m, lookup_module=lk,
                      custom=a == "Source_System_ID")
            for a, lab, t, n, m, lk in table[module]]
