"""The API endpoints behind auth and limits: records, metadata, attachments (reference/zoho-crm-v8.md)."""

from __future__ import annotations

import base64
import copy
import json
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from connectors.simulators.zoho import editions
from connectors.simulators.zoho.metadata import (
    CREATABLE_TYPES,
    DEFAULT_LENGTHS,
    TEMPLATES,
    FieldDef,
    ModuleDef,
    api_name_from_label,
    field_json,
    module_json,
)
from connectors.simulators.zoho.records import RecordError, delete_one, insert_one, update_one, upsert_one

if TYPE_CHECKING:
    from connectors.simulators.zoho.app import ZohoSimulator


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


def _error(code: str, message: str, status: int = 400, details: dict[str, Any] | None = None) -> Response:
    return _json({"code": code, "details": details or {}, "message": message, "status": "error"}, status)


def _invalid_module() -> Response:
    return _error("INVALID_MODULE", "The module name given seems to be invalid")


def handle(sim: ZohoSimulator, endpoint: str, request: Request, **args: Any) -> Response:
    with sim.state.lock:
        if endpoint in ("upload", "bulk_create", "bulk_get", "bulk_result"):
            return sim.bulk.handle(endpoint, request, **args)
        return globals()[f"_{endpoint}"](sim, request, **args)  # type: ignore[no-any-return]


# --------------------------------------------------------------------------------------------------- metadata


def _org(sim: ZohoSimulator, request: Request) -> Response:
    state = sim.state
    org = copy.deepcopy(TEMPLATES["org"])
    org.update({"id": state.org_id, "zgid": state.zgid, "company_name": state.config.company,
                "primary_email": state.current_user["email"], "primary_zuid": state.current_user["zuid"],
                "time_zone": "Europe/Istanbul", "currency": "Turkish Lira - TRY", "iso_code": "TRY",
                "country_code": "TR", "max_per_page": editions.LIST_PER_PAGE_MAX, "type": "production"})
    org["license_details"] = {**(org.get("license_details") or {}), "paid_type": state.config.edition,
                              "users_license_purchased": state.config.users, "paid": state.config.edition != "free"}
    return _json({"org": [org]})


def _users(sim: ZohoSimulator, request: Request) -> Response:
    kind = request.args.get("type", "AllUsers")
    users = sim.state.users
    if kind == "ActiveUsers":
        users = [u for u in users if u["status"] == "active"]
    elif kind == "CurrentUser":
        users = [sim.state.current_user]
    page, per_page = int(request.args.get("page", 1)), min(int(request.args.get("per_page", 200)), 200)
    chunk = users[(page - 1) * per_page: page * per_page]
    return _json({"users": chunk, "info": {"per_page": per_page, "count": len(chunk), "page": page,
                                           "more_records": page * per_page < len(users)}})


def _modules(sim: ZohoSimulator, request: Request) -> Response:
    state = sim.state
    if request.method == "GET":
        return _json({"modules": [module_json(m) for m in state.modules.values()]})
    body = request.get_json(silent=True) or {}
    results = []
    limit = int(editions.EDITIONS[state.config.edition]["custom_modules"])
    for item in body.get("modules") or []:
        singular, plural = str(item.get("singular_label", "")), str(item.get("plural_label", ""))
        if not singular or not plural:
            results.append({"code": "MANDATORY_NOT_FOUND", "details": {"api_name": "singular_label"},
                            "message": "required field not found", "status": "error"})
            continue
        if len(singular) > 25 or len(plural) > 25:
            results.append({"code": "INVALID_DATA", "details": {"api_name": "singular_label",
                                                               "maximum_length": 25},
                            "message": "invalid data", "status": "error"})
            continue
        if sum(1 for m in state.modules.values() if m.custom) >= limit:
            results.append({"code": "LIMIT_EXCEEDED", "details": {"limit": limit},
                            "message": "custom module limit reached for this edition", "status": "error"})
            continue
        api = api_name_from_label(plural, set(state.modules))
        n = sum(1 for m in state.modules.values() if m.custom) + 1
        module = ModuleDef(api, singular, plural, {}, id=state.new_id(), custom=True,
                           display_field="Name", module_name=f"CustomModule{n}")
        for f in (FieldDef("Name", f"{singular} Name", "text", 120, mandatory=True),
                  FieldDef("Owner", "Owner", "ownerlookup"),
                  FieldDef("Created_Time", "Created Time", "datetime", read_only=True),
                  FieldDef("Modified_Time", "Modified Time", "datetime", read_only=True),
                  FieldDef("Created_By", "Created By", "ownerlookup", read_only=True),
                  FieldDef("Modified_By", "Modified By", "ownerlookup", read_only=True)):
            f.id = state.new_id()
            module.fields[f.api_name] = f
        state.modules[api] = module
        state.records[api], state.deleted[api] = {}, []
        results.append({"code": "SUCCESS", "details": {"id": module.id}, "message": "module created",
                        "status": "success"})
    return _json({"modules": results}, 201 if results and all(r["status"] == "success" for r in results) else 400)


def _module_param(sim: ZohoSimulator, request: Request) -> ModuleDef | Response:
    name = request.args.get("module")
    if not name:
        return _error("REQUIRED_PARAM_MISSING", "One of the expected parameter is missing",
                      details={"param_name": "module"})
    return sim.state.modules.get(name) or _subform_module(sim, name) or _invalid_module()


def _subform_module(sim: ZohoSimulator, name: str) -> ModuleDef | None:
    """A subform's fields are read with the subform's api_name as the module (its field's associated_module)."""
    for module in sim.state.modules.values():
        f = module.fields.get(name)
        if f is not None and f.data_type == "subform":
            return ModuleDef(f.api_name, f.label, f.label, {sub.api_name: sub for sub in f.subform}, id=f.id,
                             custom=f.custom, creatable=False, bulk=False)
    return None


# Our field types -> Zoho data types, for subforms a test stands up as the customer's admin would.
ADMIN_TYPES = {"text": "text", "textarea": "textarea", "integer": "integer", "decimal": "double",
               "currency": "currency", "percent": "percent", "date": "date", "datetime": "datetime",
               "picklist": "picklist", "boolean": "boolean", "email": "email", "phone": "phone"}


def admin_subform(sim: ZohoSimulator, module_name: str, spec: dict[str, Any]) -> dict[str, Any]:
    """Test-only: add a subform to a module's layout, as the customer's admin does in Setup (no API creates one).
    `spec`: {"label": "Insurance Benefits", "fields": [{"label", "type", "picklist"}]}. Returns its api names."""
    state = sim.state
    with state.lock:
        module = state.modules[module_name]
        label = str(spec["label"])
        sub = FieldDef(api_name_from_label(label, set(module.fields)), label, "subform", custom=True, id=state.new_id())
        for item in spec.get("fields") or []:
            dtype = ADMIN_TYPES.get(str(item.get("type") or "text"), "text")
            inner = FieldDef(api_name_from_label(str(item["label"]), {f.api_name for f in sub.subform}),
                             str(item["label"]), dtype, DEFAULT_LENGTHS.get(dtype), custom=True,
                             picklist=[str(v) for v in item.get("picklist") or []], id=state.new_id())
            sub.subform.append(inner)
        module.fields[sub.api_name] = sub
        return {"api_name": sub.api_name, "fields": [f.api_name for f in sub.subform]}


def _fields(sim: ZohoSimulator, request: Request) -> Response:
    module = _module_param(sim, request)
    if isinstance(module, Response):
        return module
    state = sim.state
    if request.method == "GET":
        return _json({"fields": [field_json(f, state.modules) for f in module.fields.values()]})
    body = request.get_json(silent=True) or {}
    results = []
    limit = int(editions.EDITIONS[state.config.edition]["custom_fields"])
    for item in body.get("fields") or []:
        label, dtype = str(item.get("field_label") or ""), str(item.get("data_type") or "")
        if not label or dtype not in CREATABLE_TYPES:
            results.append({"code": "INVALID_DATA", "details": {"api_name": "data_type" if label else "field_label"},
                            "message": "invalid data", "status": "error"})
            continue
        if sum(1 for f in module.fields.values() if f.custom) >= limit:
            results.append({"code": "LIMIT_EXCEEDED", "details": {"limit": limit},
                            "message": "custom field limit reached for this edition", "status": "error"})
            continue
        picks = [str(p.get("actual_value") or p.get("display_value")) for p in item.get("pick_list_values") or []]
        lookup = ((item.get("lookup") or {}).get("module") or {}).get("api_name", "")
        if (dtype in ("picklist", "multiselectpicklist") and not picks) or (
                dtype == "lookup" and lookup not in state.modules):
            results.append({"code": "INVALID_DATA", "details": {"api_name": "pick_list_values" if picks == []
                                                               and dtype != "lookup" else "lookup"},
                            "message": "invalid data", "status": "error"})
            continue
        length = item.get("length") or DEFAULT_LENGTHS.get(dtype)
        f = FieldDef(api_name_from_label(label, set(module.fields)), label, dtype, length, custom=True,
                     unique=bool(item.get("unique")), picklist=picks, lookup_module=lookup, id=state.new_id())
        module.fields[f.api_name] = f
        results.append({"code": "SUCCESS", "details": {"id": f.id}, "message": "field created",
                        "status": "success"})
    return _json({"fields": results}, 201 if results and all(r["status"] == "success" for r in results) else 400)


def _field(sim: ZohoSimulator, request: Request, field_id: str) -> Response:
    module = _module_param(sim, request)
    if isinstance(module, Response):
        return module
    for f in module.fields.values():
        if f.id == field_id:
            return _json({"fields": [field_json(f, sim.state.modules)]})
    return Response(status=204)


# --------------------------------------------------------------------------------------------------- records


def _module(sim: ZohoSimulator, name: str, *, write: bool = False) -> ModuleDef | Response:
    module = sim.state.modules.get(name)
    if module is None:
        return _invalid_module()
    if write and not module.creatable:
        return _error("NOT_SUPPORTED", "The module name given seems to be invalid")
    return module


def _data(request: Request) -> list[Any] | Response:
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("data"), list) or not body["data"]:
        return _error("INVALID_DATA", "body", details={"expected_data_type": "jsonarray", "api_name": "data"})
    if len(body["data"]) > editions.BATCH_LIMIT:
        return _error("LIMIT_EXCEEDED", "Record count exceeded", details={"limit": editions.BATCH_LIMIT})
    return list(body["data"])


def _results(sim: ZohoSimulator, data: list[Any], one: Any, ok_status: int) -> Response:
    out = []
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            out.append({"code": "INVALID_DATA", "details": {"json_path": f"$.data[{index}]"},
                        "message": "invalid data", "status": "error"})
            continue
        if sim.faults.roll(sim.faults.partial_rate):
            out.append({"code": "INTERNAL_ERROR", "details": {}, "message": "Internal server error occurred.",
                        "status": "error"})
            continue
        try:
            out.append(one(index, item))
        except RecordError as exc:
            out.append(exc.body)
    good = sum(1 for r in out if r["status"] == "success")
    # All succeeded: 201 (insert) / 200; mixed: 207 (reference, "Records"); none: 400 with the same body.
    status = ok_status if good == len(out) else 207 if good else 400
    return _json({"data": out}, status)


def _records(sim: ZohoSimulator, request: Request, module: str) -> Response:
    mod = _module(sim, module, write=request.method != "GET")
    if isinstance(mod, Response):
        return mod
    state = sim.state
    if request.method == "GET":
        return _list(sim, request, mod)
    if request.method == "DELETE":
        ids = [i for i in (request.args.get("ids") or "").split(",") if i]
        if not ids:
            return _error("REQUIRED_PARAM_MISSING", "One of the expected parameter is missing",
                          details={"param_name": "ids"})
        if len(ids) > editions.BATCH_LIMIT:
            return _error("LIMIT_EXCEEDED", "Record count exceeded", details={"limit": editions.BATCH_LIMIT})
        return _json({"data": [delete_one(state, mod, rid) for rid in ids]})
    data = _data(request)
    if isinstance(data, Response):
        return data
    if request.method == "POST":
        return _results(sim, data, lambda i, item: insert_one(state, mod, item, i), 201)

    def update(i: int, item: dict[str, Any]) -> dict[str, Any]:
        if not item.get("id"):
            raise RecordError("MANDATORY_NOT_FOUND", "required field not found",
                              {"api_name": "id", "json_path": f"$.data[{i}].id"})
        return update_one(state, mod, item, i, str(item["id"]))

    return _results(sim, data, update, 200)


def _upsert(sim: ZohoSimulator, request: Request, module: str) -> Response:
    mod = _module(sim, module, write=True)
    if isinstance(mod, Response):
        return mod
    data = _data(request)
    if isinstance(data, Response):
        return data
    body = request.get_json(silent=True) or {}
    check = [str(f) for f in body.get("duplicate_check_fields") or mod.duplicate_check]
    check += [f.api_name for f in mod.fields.values() if f.unique and f.api_name not in check]
    return _results(sim, data, lambda i, item: upsert_one(sim.state, mod, item, i, check), 200)


def _shape(record: dict[str, Any], fields: list[str] | None) -> dict[str, Any]:
    if fields is None:
        return dict(record)
    return {"id": record["id"], **{f: record.get(f) for f in fields if f != "id"}}


def _list(sim: ZohoSimulator, request: Request, module: ModuleDef) -> Response:
    fields_param = request.args.get("fields")
    if not fields_param:
        return _error("REQUIRED_PARAM_MISSING", "One of the expected parameter is missing",
                      details={"param_name": "fields"})
    fields = [f for f in fields_param.split(",") if f]
    if len(fields) > editions.LIST_FIELDS_MAX:
        return _error("LIMIT_EXCEEDED", "Max field limit exceeded", details={"limit": editions.LIST_FIELDS_MAX})
    per_page = int(request.args.get("per_page", 200))
    if not 1 <= per_page <= editions.LIST_PER_PAGE_MAX:
        return _error("INVALID_DATA", "invalid data", details={"param_name": "per_page"})
    records = list(sim.state.records[module.api_name].values())
    ids = request.args.get("ids")
    if ids:
        wanted = set(ids.split(","))
        records = [r for r in records if r["id"] in wanted]
    token = request.args.get("page_token")
    if token:
        try:
            cursor = json.loads(base64.urlsafe_b64decode(token.encode()))
            start, page = int(cursor["offset"]), int(cursor["page"])
        except (ValueError, KeyError, TypeError):
            return _error("INVALID_DATA", "invalid data", details={"param_name": "page_token"})
    else:
        page = int(request.args.get("page", 1))
        start = (page - 1) * per_page
        # Past 2,000 records, discrete pages stop working: page_token only (reference, "Records").
        if start + per_page > editions.LIST_PAGE_RECORD_LIMIT:
            return _error("DISCRETE_PAGINATION_LIMIT_EXCEEDED", "invalid data",
                          details={"limit": editions.LIST_PAGE_RECORD_LIMIT})
    chunk = records[start: start + per_page]
    if not chunk:
        return Response(status=204)
    more = start + per_page < len(records)
    info: dict[str, Any] = {"per_page": per_page, "count": len(chunk), "page": page, "sort_by": "id",
                            "sort_order": "asc", "more_records": more, "next_page_token": None,
                            "previous_page_token": None, "page_token_expiry": None}
    if more:
        info["next_page_token"] = base64.urlsafe_b64encode(
            json.dumps({"offset": start + per_page, "page": page + 1}).encode()).decode()
        info["page_token_expiry"] = sim.state.now_iso()
    return _json({"data": [_shape(r, fields) for r in chunk], "info": info})


def _record(sim: ZohoSimulator, request: Request, module: str, record_id: str) -> Response:
    mod = _module(sim, module, write=request.method != "GET")
    if isinstance(mod, Response):
        return mod
    state = sim.state
    if request.method == "GET":
        record = state.records[mod.api_name].get(record_id)
        return Response(status=204) if record is None else _json({"data": [_shape(record, None)]})
    if request.method == "DELETE":
        return _json({"data": [delete_one(state, mod, record_id)]})
    data = _data(request)
    if isinstance(data, Response):
        return data
    return _results(sim, data[:1], lambda i, item: update_one(state, mod, item, i, record_id), 200)


def _count(sim: ZohoSimulator, request: Request, module: str) -> Response:
    mod = _module(sim, module)
    if isinstance(mod, Response):
        return mod
    return _json({"count": len(sim.state.records[mod.api_name])})


def _deleted(sim: ZohoSimulator, request: Request, module: str) -> Response:
    mod = _module(sim, module)
    if isinstance(mod, Response):
        return mod
    items = sim.state.deleted[mod.api_name]
    return _json({"data": items, "info": {"count": len(items), "more_records": False}}) if items \
        else Response(status=204)


def _attachments(sim: ZohoSimulator, request: Request, module: str, record_id: str) -> Response:
    mod = _module(sim, module)
    if isinstance(mod, Response):
        return mod
    state = sim.state
    if record_id not in state.records[mod.api_name]:
        return _error("INVALID_DATA", "the id given seems to be invalid", details={"id": record_id})
    if request.method == "DELETE":
        ids = [i for i in (request.args.get("ids") or "").split(",") if i]
        if not ids:
            return _error("REQUIRED_PARAM_MISSING", "One of the expected parameter is missing",
                          details={"param_name": "ids"})
        if len(ids) > editions.BATCH_LIMIT:
            return _error("LIMIT_EXCEEDED", "Record count exceeded", details={"limit": editions.BATCH_LIMIT})
        return _json({"data": [_attachment_delete(state, record_id, i) for i in ids]})
    if request.method == "GET":
        return _attachment_list(state, request, record_id)
    upload = request.files.get("file")
    if upload is None:
        return _error("REQUIRED_PARAM_MISSING", "One of the expected parameter is missing",
                      details={"param_name": "file"})
    cap = int(editions.EDITIONS[state.config.edition]["attachment_mb"]) * 1024 * 1024
    size = 0
    while chunk := upload.stream.read(1 << 16):
        size += len(chunk)
    if size > cap:
        return _error("FILE_SIZE_MORE_THAN_ALLOWED_SIZE", "invalid data", details={"maximum_size": cap})
    attachment_id = state.new_id()
    me = state.user_ref(state.current_user)
    state.attachments[attachment_id] = {
        "id": attachment_id, "File_Name": upload.filename, "Size": str(size), "Created_Time": state.now_iso(),
        "Modified_Time": state.now_iso(), "Created_By": me, "Modified_By": me, "Owner": me,
        "Parent_Id": {"module": {"api_name": mod.api_name, "id": mod.id}, "id": record_id},
        "$file_id": attachment_id, "$type": "Attachment", "$se_module": mod.api_name, "$editable": True,
        "$state": "save", "$link_url": None, "$attachment_type": 1, "$sharing_permission": "public",
    }
    details = {k: state.attachments[attachment_id][k] for k in ("Modified_Time", "Modified_By", "Created_Time",
                                                               "Created_By", "id")}
    return _json({"data": [{"code": "SUCCESS", "details": details, "message": "attachment uploaded",
                            "status": "success"}]})


def _attachment_list(state: Any, request: Request, record_id: str) -> Response:
    """GET /crm/v8/{module}/{record_id}/Attachments (reference OAS, "Get Attachments"): `fields` is mandatory, pages
    of at most 200, 204 when the record has no file."""
    fields = [f for f in (request.args.get("fields") or "").split(",") if f]
    if not fields:
        return _error("REQUIRED_PARAM_MISSING", "One of the expected parameter is missing",
                      details={"param_name": "fields"})
    try:
        page, per_page = int(request.args.get("page", 1)), int(request.args.get("per_page", 200))
    except ValueError:
        return _error("INVALID_DATA", "invalid data", details={"param_name": "page"})
    if page < 1 or not 1 <= per_page <= editions.LIST_PER_PAGE_MAX:
        return _error("INVALID_DATA", "invalid data", details={"param_name": "per_page"})
    items = [a for a in state.attachments.values() if a["Parent_Id"]["id"] == record_id]
    chunk = items[(page - 1) * per_page: page * per_page]
    if not chunk:
        return Response(status=204)
    return _json({"data": [_shape(a, fields) for a in chunk],
                  "info": {"per_page": per_page, "count": len(chunk), "page": page,
                           "more_records": page * per_page < len(items)}})


def _attachment(sim: ZohoSimulator, request: Request, module: str, record_id: str, attachment_id: str) -> Response:
    """DELETE /crm/v8/{module}/{record_id}/Attachments/{id} (reference OAS, "Delete Attachment")."""
    mod = _module(sim, module)
    if isinstance(mod, Response):
        return mod
    if record_id not in sim.state.records[mod.api_name]:
        return _error("INVALID_DATA", "the id given seems to be invalid", details={"id": record_id})
    return _json({"data": [_attachment_delete(sim.state, record_id, attachment_id)]})


def _attachment_delete(state: Any, record_id: str, attachment_id: str) -> dict[str, Any]:
    found = state.attachments.get(attachment_id)
    if found is None or found["Parent_Id"]["id"] != record_id:
        return {"code": "INVALID_DATA", "details": {"id": attachment_id}, "message": "the id given seems to be invalid",
                "status": "error"}
    del state.attachments[attachment_id]
    return {"code": "SUCCESS", "details": {"id": attachment_id}, "message": "record deleted", "status": "success"}
