"""Record writes and reads with Zoho's validation: mandatory fields, types and lengths, restricted picklists,
lookups that must exist, unique fields, and one result per input record in input order
(reference/zoho-crm-v8.md, "Records" and "Errors")."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from connectors.simulators.zoho.metadata import FieldDef, ModuleDef
from connectors.simulators.zoho.state import OrgState

EMAIL_RE = re.compile(r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
EMPTY: tuple[Any, ...] = (None, "", [])


class RecordError(Exception):
    """One record's failure, already in Zoho's per-record error shape."""

    def __init__(self, code: str, message: str, details: dict[str, Any]) -> None:
        super().__init__(code)
        self.body: dict[str, Any] = {"code": code, "details": details, "message": message, "status": "error"}


def _path(index: int, api: str) -> str:
    return f"$.data[{index}].{api}"


def _invalid(f: FieldDef, index: int, **extra: Any) -> RecordError:
    details = {"api_name": f.api_name, "json_path": _path(index, f.api_name), **extra}
    return RecordError("INVALID_DATA", "invalid data", details)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _record_name(state: OrgState, module: str, record: dict[str, Any]) -> str:
    display = state.modules[module].display_field
    value = record.get(display)
    if module in ("Contacts", "Leads"):
        value = " ".join(str(v) for v in (record.get("First_Name"), record.get("Last_Name")) if v)
    return str(value or "")


def _lookup(state: OrgState, f: FieldDef, value: Any, index: int, module: str) -> dict[str, Any]:
    if not isinstance(value, dict) or not isinstance(value.get("id"), str | int):
        raise _invalid(f, index, expected_data_type="jsonobject")
    target_id = str(value["id"])
    target = state.records.get(module, {}).get(target_id)
    if target is None:
        raise RecordError("INVALID_DATA", "the id given seems to be invalid",
                          {"api_name": f.api_name, "json_path": _path(index, f.api_name), "id": target_id})
    return {"name": _record_name(state, module, target), "id": target_id}


def check_value(state: OrgState, f: FieldDef, value: Any, index: int, record: dict[str, Any]) -> Any:
    """The stored form of one value, or RecordError naming the field."""
    kind = f.data_type
    if kind in ("text", "textarea", "phone", "website", "email"):
        if not isinstance(value, str):
            raise _invalid(f, index, expected_data_type=kind)
        if f.length and len(value) > f.length:
            raise _invalid(f, index, maximum_length=str(f.length))
        if kind == "email" and value and not EMAIL_RE.match(value):
            raise _invalid(f, index, expected_data_type="email")
        return value
    if kind in ("integer", "bigint"):
        if not isinstance(value, int) or isinstance(value, bool):
            raise _invalid(f, index, expected_data_type="integer")
        if f.length and len(str(abs(value))) > f.length:
            raise _invalid(f, index, maximum_length=str(f.length))
        return value
    if kind in ("double", "currency", "percent"):
        if not _is_number(value):
            raise _invalid(f, index, expected_data_type="double")
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise _invalid(f, index, expected_data_type="boolean")
        return value
    if kind == "date":
        try:
            date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else int("x")
        except ValueError:
            raise _invalid(f, index, expected_data_type="date") from None
        return value
    if kind == "datetime":
        try:
            parsed = datetime.fromisoformat(value) if isinstance(value, str) and "T" in value else None
        except ValueError:
            parsed = None
        if parsed is None or parsed.tzinfo is None:
            raise _invalid(f, index, expected_data_type="datetime")
        return value
    if kind == "picklist":
        # Restricted picklist: a value outside the list is refused, not added.
        if not isinstance(value, str) or value not in f.picklist:
            raise _invalid(f, index, expected_data_type="picklist")
        return value
    if kind == "multiselectpicklist":
        if not isinstance(value, list) or any(v not in f.picklist for v in value):
            raise _invalid(f, index, expected_data_type="multiselectpicklist")
        return value
    if kind == "ownerlookup":
        user_id = value.get("id") if isinstance(value, dict) else None
        user = state.active_user(str(user_id)) if user_id is not None else None
        if user is None:
            raise RecordError("INVALID_DATA", "the id given seems to be invalid",
                              {"api_name": f.api_name, "json_path": _path(index, f.api_name), "id": str(user_id)})
        return state.user_ref(user)
    if kind == "lookup":
        target_module = f.lookup_module
        if target_module == "$se_module":
            target_module = str(record.get("$se_module") or "")
            if target_module not in state.modules:
                raise RecordError("INVALID_DATA", "invalid data",
                                  {"api_name": "$se_module", "json_path": _path(index, "$se_module")})
        return _lookup(state, f, value, index, target_module)
    if kind == "multi_module_lookup":
        # Notes: Parent_Id is {"module": {"api_name": ...}, "id": ...} (reference, "Notes, attachments").
        module = value.get("module", {}).get("api_name") if isinstance(value, dict) else None
        if not isinstance(module, str) or module not in state.modules:
            raise _invalid(f, index, expected_data_type="jsonobject")
        ref = _lookup(state, f, value, index, module)
        return {"module": {"api_name": module, "id": state.modules[module].id}, **ref}
    if kind == "subform":
        if not isinstance(value, list) or not all(isinstance(row, dict) for row in value):
            raise _invalid(f, index, expected_data_type="jsonarray")
        rows = []
        for row in value:
            clean: dict[str, Any] = {"id": state.new_id()}
            for sub in f.subform:
                if sub.read_only:
                    continue
                if row.get(sub.api_name) in EMPTY:
                    if sub.mandatory:
                        raise RecordError("MANDATORY_NOT_FOUND", "required field not found",
                                          {"api_name": sub.api_name, "parent_api_name": f.api_name,
                                           "json_path": f"{_path(index, f.api_name)}[].{sub.api_name}"})
                    continue
                clean[sub.api_name] = check_value(state, sub, row[sub.api_name], index, row)
            rows.append(clean)
        return rows
    return value


def _index(state: OrgState, module: str, api: str) -> dict[str, str]:
    key = (module, api)
    index = state.indexes.get(key)
    if index is None:
        index = {str(r[api]).lower(): rid for rid, r in state.records[module].items() if r.get(api) not in EMPTY}
        state.indexes[key] = index
    return index


def unindex(state: OrgState, module: str, record: dict[str, Any]) -> None:
    for (m, api), index in state.indexes.items():
        if m == module and record.get(api) not in EMPTY and index.get(str(record[api]).lower()) == record["id"]:
            del index[str(record[api]).lower()]


def reindex(state: OrgState, module: str, record: dict[str, Any]) -> None:
    for (m, api), index in state.indexes.items():
        if m == module and record.get(api) not in EMPTY:
            index.setdefault(str(record[api]).lower(), record["id"])


def _unique_conflict(state: OrgState, module: ModuleDef, f: FieldDef, value: Any, own_id: str) -> str | None:
    key = str(value).lower()
    if f.unique:
        found = _index(state, module.api_name, f.api_name).get(key)
        return found if found and found != own_id else None
    for rid, rec in state.records[module.api_name].items():
        if rid != own_id and rec.get(f.api_name) is not None and str(rec[f.api_name]).lower() == key:
            return rid
    return None


def _duplicate(state: OrgState, module: ModuleDef, f: FieldDef, index: int, dup_id: str) -> RecordError:
    owner = state.records[module.api_name][dup_id].get("Owner") or state.user_ref(state.current_user)
    return RecordError("DUPLICATE_DATA", "duplicate data", {
        "api_name": f.api_name, "json_path": _path(index, f.api_name),
        "duplicate_record": {"id": dup_id, "module": {"api_name": module.api_name, "id": module.id},
                             "Owner": {"name": owner["name"], "id": owner["id"]}},
    })


def clean_record(state: OrgState, module: ModuleDef, data: dict[str, Any], index: int, *, existing: dict[str, Any]
                 | None) -> dict[str, Any]:
    """Validate one input record; return the values to store. `existing` is the record being updated."""
    values: dict[str, Any] = {}
    for f in module.fields.values():
        present = f.api_name in data
        value = data.get(f.api_name)
        if f.read_only:
            continue
        if value in EMPTY:
            if f.mandatory and (existing is None or present):
                raise RecordError("MANDATORY_NOT_FOUND", "required field not found",
                                  {"api_name": f.api_name, "json_path": _path(index, f.api_name)})
            if present:
                values[f.api_name] = None
            continue
        values[f.api_name] = check_value(state, f, value, index, data)
    if "$se_module" in data and isinstance(data["$se_module"], str):
        values["$se_module"] = data["$se_module"]
    own_id = existing["id"] if existing else ""
    for f in module.fields.values():
        if f.unique and values.get(f.api_name) not in EMPTY:
            dup = _unique_conflict(state, module, f, values[f.api_name], own_id)
            if dup:
                raise _duplicate(state, module, f, index, dup)
    return values


def _stamp(state: OrgState, record: dict[str, Any], *, created: bool) -> None:
    now, me = state.now_iso(), state.user_ref(state.current_user)
    if created:
        record["Created_Time"], record["Created_By"] = now, me
        record.setdefault("Owner", me)
    record["Modified_Time"], record["Modified_By"] = now, me


def _success(record: dict[str, Any], message: str, **extra: Any) -> dict[str, Any]:
    details = {k: record[k] for k in ("Modified_Time", "Modified_By", "Created_Time", "Created_By", "id")}
    return {"code": "SUCCESS", "details": details, "message": message, "status": "success", **extra}


def insert_one(state: OrgState, module: ModuleDef, data: dict[str, Any], index: int) -> dict[str, Any]:
    values = clean_record(state, module, data, index, existing=None)
    record = {"id": state.new_id(), **values}
    _stamp(state, record, created=True)
    state.records[module.api_name][record["id"]] = record
    reindex(state, module.api_name, record)
    return _success(record, "record added")


def update_one(state: OrgState, module: ModuleDef, data: dict[str, Any], index: int, rid: str) -> dict[str, Any]:
    existing = state.records[module.api_name].get(rid)
    if existing is None:
        raise RecordError("INVALID_DATA", "the id given seems to be invalid",
                          {"api_name": "id", "json_path": _path(index, "id"), "id": rid})
    values = clean_record(state, module, data, index, existing=existing)
    unindex(state, module.api_name, existing)
    existing.update(values)
    reindex(state, module.api_name, existing)
    _stamp(state, existing, created=False)
    return _success(existing, "record updated")


def upsert_one(state: OrgState, module: ModuleDef, data: dict[str, Any], index: int,
               check_fields: list[str]) -> dict[str, Any]:
    for api in check_fields:
        f = module.fields.get(api)
        if f is None:
            raise RecordError("INVALID_DATA", "invalid data",
                              {"api_name": api, "json_path": "$.duplicate_check_fields"})
        value = data.get(api)
        if value in EMPTY:
            continue
        match = _unique_conflict(state, module, f, value, own_id="")
        if match:
            return {**update_one(state, module, data, index, match), "action": "update", "duplicate_field": api}
    return {**insert_one(state, module, data, index), "action": "insert", "duplicate_field": None}


def delete_one(state: OrgState, module: ModuleDef, rid: str) -> dict[str, Any]:
    record = state.records[module.api_name].pop(rid, None)
    if record is None:
        return {"code": "INVALID_DATA", "details": {"id": rid}, "message": "the id given seems to be invalid",
                "status": "error"}
    unindex(state, module.api_name, record)
    state.deleted[module.api_name].append({"id": rid, "deleted_time": state.now_iso()})
    return {"code": "SUCCESS", "details": {"id": rid}, "message": "record deleted", "status": "success"}


def edit_as_user(state: OrgState, module: str, rid: str, values: dict[str, Any]) -> dict[str, Any] | None:
    """Test-only: a person edits the record in the CRM (no validation beyond existence); Modified_Time moves."""
    record = state.records.get(module, {}).get(rid)
    if record is None:
        return None
    unindex(state, module, record)
    record.update(values)
    reindex(state, module, record)
    _stamp(state, record, created=False)
    return record
