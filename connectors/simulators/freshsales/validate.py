"""Write validation of the simulated Freshsales account: what the real service refuses, this refuses too.

Every check answers 400 with the observed error shape (reference/freshsales.md, "Errors"); messages name fields,
never values, so test logs stay free of patient data."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from connectors.simulators.freshsales.catalog import (
    CHOICE_SELECTORS,
    LOOKUPS,
    SELECTORS,
    STANDARD_FIELDS,
    TARGETABLE_TYPES,
)

if TYPE_CHECKING:
    from connectors.simulators.freshsales.state import SimState

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
READ_ONLY = frozenset({"id", "created_at", "updated_at", "email", "deleted"})
# reference/freshsales.md, "Limits": custom text 256 chars, text area 10,000, number 11+4 digits.
CUSTOM_TEXT_MAX = 256
CUSTOM_TEXTAREA_MAX = 10_000


class ApiError(Exception):
    def __init__(self, status: int, *messages: str, headers: dict[str, str] | None = None) -> None:
        super().__init__("; ".join(messages))
        self.status = status
        self.messages = list(messages)
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"errors": {"code": self.status, "message": self.messages}}


def _blank(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    if isinstance(value, str):
        return re.fullmatch(r"-?\d{1,11}(\.\d{1,4})?", value.strip()) is not None
    return False


def _is_date(value: Any, *, with_time: bool) -> bool:
    if not isinstance(value, str):
        return False
    try:
        if with_time:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        else:
            date.fromisoformat(value[:10])
    except ValueError:
        return False
    return True


def _as_id(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def normalize_emails(body: dict[str, Any]) -> None:
    """Accept `email` (primary, a string) and `emails` (a list of {value, is_primary}); store both forms."""
    emails = body.get("emails")
    if isinstance(emails, str):
        raise ApiError(400, "Emails must be a list")
    items: list[dict[str, Any]] = []
    for item in emails or []:
        if not isinstance(item, dict) or not isinstance(item.get("value"), str):
            raise ApiError(400, "Emails is invalid")
        items.append({"value": item["value"].strip(), "is_primary": bool(item.get("is_primary", False))})
    if isinstance(body.get("email"), str) and body["email"].strip():
        primary = body["email"].strip()
        items = [{"value": primary, "is_primary": True}] + [i for i in items if i["value"] != primary]
    if items and not any(i["is_primary"] for i in items):
        items[0]["is_primary"] = True
    if "emails" in body or "email" in body:
        body["emails"] = items
    body.pop("email", None)


def check_record(state: SimState, resource: str, record: dict[str, Any], record_id: int | None) -> None:
    """Validate a merged record (existing values overlaid with the request's) before it is stored."""
    std = {f.name: f for f in STANDARD_FIELDS[resource]}
    for spec in std.values():
        if spec.required and _blank(record.get(spec.name)):
            raise ApiError(400, f"{spec.label} can't be blank")
    for name, value in record.items():
        spec_ = std.get(name)
        if spec_ is None or _blank(value):
            continue
        if name in CHOICE_SELECTORS:
            ids = {item["id"] for item in SELECTORS[CHOICE_SELECTORS[name]]}
            if _as_id(value) not in ids:
                raise ApiError(400, f"Invalid {spec_.label.lower()}")
        elif name in LOOKUPS:
            if _as_id(value) not in state.records[LOOKUPS[name]]:
                raise ApiError(400, f"{spec_.label} does not exist")
        elif spec_.type == "number" and not _is_number(value):
            raise ApiError(400, f"{spec_.label} is not a number")
        elif spec_.type in ("date", "date_time") and not _is_date(value, with_time=spec_.type == "date_time"):
            raise ApiError(400, f"{spec_.label} is not a valid date")
    _check_links(state, resource, record)
    if resource == "contacts":
        _check_emails(state, record, record_id)
    if resource == "sales_accounts":
        name = str(record.get("name", "")).strip().lower()
        for other_id, other in state.records["sales_accounts"].items():
            if other_id != record_id and str(other.get("name", "")).strip().lower() == name:
                raise ApiError(400, "Name has already been taken")
    _check_unique_standard(state, resource, record, record_id, std)
    _check_custom(state, resource, record, record_id)


def _check_links(state: SimState, resource: str, record: dict[str, Any]) -> None:
    if "targetable_type" in record or "targetable_id" in record:
        target_type = record.get("targetable_type")
        if _blank(target_type) and _blank(record.get("targetable_id")):
            return
        target = TARGETABLE_TYPES.get(str(target_type))
        if target is None:
            raise ApiError(400, "Targetable type is invalid")
        if _as_id(record.get("targetable_id")) not in state.records[target]:
            raise ApiError(400, "Targetable does not exist")
    for item in record.get("sales_accounts") or []:
        if not isinstance(item, dict) or _as_id(item.get("id")) not in state.records["sales_accounts"]:
            raise ApiError(400, "Sales account does not exist")
    for contact_id in record.get("contacts_added_list") or []:
        if _as_id(contact_id) not in state.records["contacts"]:
            raise ApiError(400, "Contact does not exist")
    for attendee in record.get("appointment_attendees_attributes") or []:
        kind = attendee.get("attendee_type") if isinstance(attendee, dict) else None
        attendee_id = _as_id(attendee.get("attendee_id")) if isinstance(attendee, dict) else None
        if kind == "Contact":
            ok = attendee_id in state.records["contacts"]
        elif kind == "FdMultitenant::User":
            ok = attendee_id in {u["id"] for u in SELECTORS["owners"]}
        else:
            ok = False
        if not ok:
            raise ApiError(400, "Appointment attendee is invalid")
    for product in record.get("products") or []:
        if not isinstance(product, dict) or _as_id(product.get("id")) not in state.records["cpq/products"]:
            raise ApiError(400, "Product does not exist")


def _check_emails(state: SimState, record: dict[str, Any], record_id: int | None) -> None:
    values = [item["value"].lower() for item in record.get("emails") or []]
    for value in values:
        if not _EMAIL.match(value):
            raise ApiError(400, "Email is invalid")
    if not values:
        return
    taken = state.email_index(exclude=record_id)
    if any(value in taken for value in values):
        # reference/freshsales.md, "Errors": duplicate email -> 400 "... already exists".
        raise ApiError(400, "Email already exists")


def _check_unique_standard(
    state: SimState, resource: str, record: dict[str, Any], record_id: int | None, std: dict[str, Any]
) -> None:
    for name, spec in std.items():
        if not spec.unique or name in ("emails", "name") or _blank(record.get(name)):
            continue
        for other_id, other in state.records[resource].items():
            if other_id != record_id and other.get(name) == record[name]:
                raise ApiError(400, f"{spec.label} has already been taken")


def _check_custom(state: SimState, resource: str, record: dict[str, Any], record_id: int | None) -> None:
    custom = record.get("custom_field") or {}
    if not isinstance(custom, dict):
        raise ApiError(400, "Custom field must be an object")
    defined = {f["name"]: f for f in state.custom_fields.get(resource, [])}
    for name in custom:
        if name not in defined:
            raise ApiError(400, f"Invalid custom field {name}")
    for name, spec in defined.items():
        value = custom.get(name)
        if _blank(value):
            if spec.get("required"):
                raise ApiError(400, f"{spec['label']} can't be blank")
            continue
        _check_custom_value(spec, value)
        if spec.get("unique"):
            for other_id, other in state.records[resource].items():
                if other_id != record_id and (other.get("custom_field") or {}).get(name) == value:
                    raise ApiError(400, f"{spec['label']} has already been taken")


def _check_custom_value(spec: dict[str, Any], value: Any) -> None:
    kind, label = spec["type"], spec["label"]
    if kind == "text" and (not isinstance(value, str) or len(value) > CUSTOM_TEXT_MAX):
        raise ApiError(400, f"{label} is too long or not text")
    if kind == "textarea" and (not isinstance(value, str) or len(value) > CUSTOM_TEXTAREA_MAX):
        raise ApiError(400, f"{label} is too long or not text")
    if kind == "number" and not _is_number(value):
        raise ApiError(400, f"{label} is not a number")
    if kind in ("date", "date_time") and not _is_date(value, with_time=kind == "date_time"):
        raise ApiError(400, f"{label} is not a valid date")
    if kind == "checkbox" and not isinstance(value, bool):
        raise ApiError(400, f"{label} must be true or false")
    # reference/freshsales.md, "Field metadata": custom dropdowns accept the choice's text value.
    choices = {c["value"] for c in spec.get("choices", [])}
    if kind == "dropdown" and value not in choices:
        raise ApiError(400, f"Invalid value for {label}")
    if kind == "multi_select_dropdown":
        parts = value.split(";") if isinstance(value, str) else value
        if not isinstance(parts, list) or any(p not in choices for p in parts):
            raise ApiError(400, f"Invalid value for {label}")
