"""How a child record (note, task, event, activity) points at its parent, per destination. Vendor knowledge, so
it lives beside the connectors; the loader only asks for the fields to add."""

from __future__ import annotations

from typing import Any

from connectors.destinations.freshsales.wire import TARGETABLE

# Zoho: Tasks/Events/Calls name a Contact in Who_Id and relate to any other record (Leads included) through
# What_Id + $se_module (reference/zoho-crm-v8.md, "Notes, attachments, activities").
ZOHO_WHO = {"Contacts"}
# The field that holds the parent when the lookup's own field cannot (read back by the diffs and reconciliation).
ALTERNATE_PARENT_FIELDS = {"zoho-crm": ("What_Id",), "freshsales": ("targetable_id",)}


def parent_fields(destination: str, child_module: str, parent_module: str, parent_id: str) -> dict[str, Any]:
    if destination == "zoho-crm":
        if child_module == "Notes":
            return {"Parent_Id": {"module": {"api_name": parent_module}, "id": parent_id}}
        if parent_module in ZOHO_WHO:
            return {"Who_Id": parent_id}
        return {"What_Id": parent_id, "$se_module": parent_module}
    if destination == "freshsales":
        return {"targetable_type": TARGETABLE.get(parent_module, "Contact"), "targetable_id": parent_id}
    raise ValueError(f"no parent link rule for destination {destination!r}")
