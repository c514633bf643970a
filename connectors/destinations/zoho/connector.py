"""Zoho CRM v8 as a destination (connectors/base.py DestinationConnector).

Payloads are flat dicts of api_name -> value. Lookup and owner fields may be given as a plain id string; they are
wrapped as {"id": ...} from the field metadata. Notes take `Parent_Id` as {"module": "Contacts", "id": "..."}
(or the wire form {"module": {"api_name": "Contacts"}, "id": "..."}). Tasks/Events/Calls take `What_Id` with
`$se_module` naming its module, as Zoho does.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, BinaryIO, Self

import httpx

from connectors.base import (
    DestField,
    DestFieldType,
    DestModule,
    DestRecord,
    DestUser,
    FieldSpec,
    ModuleSpec,
    PermanentError,
    WriteResult,
)
from connectors.budget import Budget, BudgetLimits
from connectors.destinations.zoho import bulk
from connectors.destinations.zoho.client import ZohoClient
from connectors.destinations.zoho.schemas import (
    ActionResult,
    CountAnswer,
    FieldMeta,
    FieldsAnswer,
    ModulesAnswer,
    OrgAnswer,
    RecordResult,
    RecordsAnswer,
    UsersAnswer,
    WriteAnswer,
    ZohoConfig,
    ZohoSecrets,
    load_limits,
    parse_time,
)

# Zoho data_type -> our DestField.type
TYPE_MAP: dict[str, DestFieldType] = {
    "text": "text", "textarea": "textarea", "email": "email", "phone": "phone", "website": "text",
    "integer": "integer", "bigint": "integer", "double": "decimal", "percent": "decimal", "currency": "currency",
    "boolean": "boolean", "date": "date", "datetime": "datetime", "picklist": "picklist",
    "multiselectpicklist": "multiselect", "lookup": "lookup", "ownerlookup": "owner", "subform": "subform",
    "multi_module_lookup": "lookup", "autonumber": "autonumber",
}
# Our type -> the data_type Zoho creates.
CREATE_TYPES: dict[str, str] = {
    "text": "text", "textarea": "textarea", "email": "email", "phone": "phone", "integer": "integer",
    "decimal": "double", "currency": "currency", "boolean": "boolean", "date": "date", "datetime": "datetime",
    "picklist": "picklist", "multiselect": "multiselectpicklist", "lookup": "lookup",
}
# Per-record codes that a later retry can fix; all others (MANDATORY_NOT_FOUND, INVALID_DATA, DUPLICATE_DATA...)
# are permanent (reference, "Errors").
TEMPORARY_CODES = {"INTERNAL_ERROR", "TOO_MANY_REQUESTS", "RECORD_LOCKED"}


def to_result(index: int, item: RecordResult, default_action: str) -> WriteResult:
    details = item.details
    if item.status == "success":
        action = item.action or default_action
        return WriteResult(index=index, ok=True, id=str(details.get("id", "")),
                           action=action if action in ("insert", "update", "delete") else "",  # type: ignore[arg-type]
                           code=item.code, message=item.message,
                           modified_at=parse_time(details.get("Modified_Time")))
    return WriteResult(index=index, ok=False, code=item.code, field=str(details.get("api_name") or ""),
                       message=item.message, permanent=item.code not in TEMPORARY_CODES)


class ZohoConnector:
    slug = "zoho-crm"

    def __init__(self, config: ZohoConfig, secrets: ZohoSecrets, *, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep, transport: httpx.BaseTransport | None = None) -> None:
        self.config = config
        self.limits = load_limits()
        edition = self.limits.editions[config.edition]
        concurrency = config.concurrency or min(edition.concurrency, self.limits.sub_concurrency)
        budget_limits = BudgetLimits(
            concurrency=concurrency,
            allowance=self.limits.allowance(config.edition, config.users, config.addon_credits),
            window_seconds=self.limits.credit_window_seconds, reserve=config.reserve_credits,
        )
        self.budget = Budget(config.budget_key or f"zoho:{secrets.client_id}", budget_limits,
                             redis_url=config.redis_url, clock=clock, slot_timeout=config.read_timeout + 30)
        self.client = ZohoClient(config, secrets, self.limits, budget=self.budget, clock=clock, sleep=sleep,
                                 transport=transport)
        self._fields: dict[str, list[FieldMeta]] = {}
        self._zgid = ""
        self._sleep = sleep

    @classmethod
    def from_connection(cls, config: Mapping[str, Any], secrets: Mapping[str, str]) -> Self:
        return cls(ZohoConfig.model_validate(dict(config)), ZohoSecrets.model_validate(dict(secrets)))

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.client.close()

    def _url(self, path: str) -> str:
        return f"{self.config.api_base}{path}"

    # ------------------------------------------------------------------------------------------- costs

    def batch_size(self, module: str) -> int:
        return self.limits.batch_limit

    def cost(self, operation: str, n_records: int) -> int:
        costs = self.limits.costs
        if operation in ("insert", "update", "upsert"):
            return max(1, math.ceil(n_records / costs.records_per_credit))
        if operation in ("bulk_insert", "bulk_upsert", "bulk_job"):
            if operation == "bulk_job":
                return costs.bulk_job
            jobs = max(1, math.ceil(n_records / self.limits.bulk_rows_max))
            # Per job: the job itself, the upload, the result download and a few polls; then the records'
            # modified times read back, 100 a call (the result file has none; a delta's three-way check needs them).
            read_back = math.ceil(n_records / self.limits.batch_limit) * costs.call
            return jobs * (costs.bulk_job + 3 * costs.call) + read_back
        return costs.call

    def should_use_bulk(self, module: str, n_records: int) -> bool:
        """Yes when Bulk Write takes the module and costs fewer credits than batched REST calls."""
        if module not in self.limits.bulk_modules and module not in self._custom_modules():
            return False
        batches = math.ceil(n_records / self.limits.batch_limit)
        return self.cost("bulk_insert", n_records) < batches * self.cost("insert", self.limits.batch_limit)

    def bulk_rows(self, module: str, n_records: int) -> int:
        """Records per Bulk Write job when writing `n_records` of `module` in jobs costs fewer credits than batches
        of REST calls (about 5,600 records and up); 0 when it does not, or the module takes no bulk writes."""
        return self.limits.bulk_rows_max if self.should_use_bulk(module, n_records) else 0

    def _custom_modules(self) -> set[str]:
        return {m.api_name for m in self.modules() if m.custom}

    # ------------------------------------------------------------------------------------------- metadata

    def org_zgid(self) -> str:
        if not self._zgid:
            response = self.client.call("GET", self._url("/crm/v8/org"), cost=self.cost("get", 1))
            self.client.raise_for_envelope(response, "org")
            self._zgid = OrgAnswer.model_validate_json(response.content).org[0].zgid
        return self._zgid

    def modules(self) -> list[DestModule]:
        response = self.client.call("GET", self._url("/crm/v8/settings/modules"), cost=self.cost("get", 1))
        self.client.raise_for_envelope(response, "modules")
        out = []
        for m in ModulesAnswer.model_validate_json(response.content).modules:
            if not m.api_supported:
                continue
            custom = m.generated_type == "custom"
            out.append(DestModule(api_name=m.api_name, label=m.plural_label, custom=custom, creatable=m.creatable,
                                  supports_bulk=custom or m.api_name in self.limits.bulk_modules))
        return out

    def _field_meta(self, module: str) -> list[FieldMeta]:
        if module not in self._fields:
            response = self.client.call("GET", self._url("/crm/v8/settings/fields"), params={"module": module},
                                        cost=self.cost("get", 1))
            self.client.raise_for_envelope(response, f"fields of {module}")
            self._fields[module] = FieldsAnswer.model_validate_json(response.content).fields
        return self._fields[module]

    @staticmethod
    def _dest_field(f: FieldMeta) -> DestField:
        lookup_module = ""
        if f.lookup and f.lookup.module:
            lookup_module = str(f.lookup.module.get("api_name") or "")
        return DestField(
            api_name=f.api_name, label=f.field_label or f.display_label, type=TYPE_MAP.get(f.data_type, "other"),
            length=f.length or None, mandatory=f.system_mandatory, read_only=f.read_only,
            unique=f.unique is not None, custom=f.custom_field,
            picklist=tuple(p.actual_value for p in f.pick_list_values), lookup_module=lookup_module,
        )

    def fields(self, module: str) -> list[DestField]:
        return [self._dest_field(f) for f in self._field_meta(module)]

    def users(self) -> list[DestUser]:
        out: list[DestUser] = []
        page = 1
        while True:
            response = self.client.call("GET", self._url("/crm/v8/users"), cost=self.cost("get", 1),
                                        params={"type": "ActiveUsers", "page": page, "per_page": 200})
            if response.status_code == 204:
                break
            self.client.raise_for_envelope(response, "users")
            answer = UsersAnswer.model_validate_json(response.content)
            out += [DestUser(id=u.id, email=u.email, name=u.full_name, active=u.status == "active")
                    for u in answer.users]
            if not answer.info.more_records:
                break
            page += 1
        return out

    def create_field(self, spec: FieldSpec) -> DestField:
        data_type = CREATE_TYPES.get(spec.type)
        if data_type is None:
            raise PermanentError(f"Zoho cannot create a field of type {spec.type}", code="UNSUPPORTED_TYPE",
                                 field=spec.label)
        # Zoho derives the api_name from the label (reference, "Metadata and schema"): send the intended name as
        # the label when there is no separate label, and read back the real api_name.
        item: dict[str, Any] = {"field_label": spec.label or spec.api_name, "data_type": data_type}
        if spec.length:
            item["length"] = spec.length
        if spec.picklist:
            item["pick_list_values"] = [{"display_value": v, "actual_value": v} for v in spec.picklist]
        if spec.lookup_module:
            item["lookup"] = {"module": {"api_name": spec.lookup_module}}
        if spec.api_name == "Source_System_ID" or spec.label == "Source_System_ID":
            item["unique"] = {"casesensitive": "false"}
        response = self.client.call("POST", self._url("/crm/v8/settings/fields"), params={"module": spec.module},
                                    json={"fields": [item]}, cost=self.cost("create_field", 1))
        results = [ActionResult.model_validate(r) for r in (response.json().get("fields") or [])]
        if not results or results[0].status != "success":
            first = results[0] if results else ActionResult(code=str(response.status_code))
            raise PermanentError(f"Zoho refused field {spec.label!r} on {spec.module}: {first.code}",
                                 code=first.code, field=str(first.details.get("api_name") or ""))
        field_id = str(results[0].details.get("id"))
        self._fields.pop(spec.module, None)
        for f in self._field_meta(spec.module):
            if f.id == field_id:
                return self._dest_field(f)
        raise PermanentError(f"Zoho created field {field_id} on {spec.module} but does not list it",
                             code="FIELD_NOT_FOUND")

    def create_field_unique(self, spec: FieldSpec) -> DestField:
        """A unique text field (e.g. Source_System_ID), the key that makes upserts idempotent."""
        return self.create_field(FieldSpec(module=spec.module, label=spec.label or "Source_System_ID",
                                           type="text", api_name="Source_System_ID", length=spec.length or 64))

    def create_module(self, spec: ModuleSpec) -> DestModule:
        body = {"modules": [{"singular_label": spec.singular_label, "plural_label": spec.plural_label,
                             "profiles": [{"name": "Administrator"}]}]}
        response = self.client.call("POST", self._url("/crm/v8/settings/modules"), json=body,
                                    cost=self.cost("create_module", 1))
        results = [ActionResult.model_validate(r) for r in (response.json().get("modules") or [])]
        if not results or results[0].status != "success":
            first = results[0] if results else ActionResult(code=str(response.status_code))
            raise PermanentError(f"Zoho refused module {spec.plural_label!r}: {first.code}", code=first.code)
        module_id = str(results[0].details.get("id"))
        response = self.client.call("GET", self._url("/crm/v8/settings/modules"), cost=self.cost("get", 1))
        for m in ModulesAnswer.model_validate_json(response.content).modules:
            if m.id == module_id:
                return DestModule(api_name=m.api_name, label=m.plural_label, custom=True, creatable=True,
                                  supports_bulk=True)
        raise PermanentError(f"Zoho created module {module_id} but does not list it", code="MODULE_NOT_FOUND")

    # ------------------------------------------------------------------------------------------- writes

    def wire(self, module: str, record: Mapping[str, Any]) -> dict[str, Any]:
        """Our flat payload -> Zoho's: plain ids become {"id": ...} for lookup and owner fields."""
        kinds = {f.api_name: f.data_type for f in self._field_meta(module)}
        out: dict[str, Any] = {}
        for key, value in record.items():
            kind = kinds.get(key)
            if kind in ("lookup", "ownerlookup") and isinstance(value, str | int) and value != "":
                value = {"id": str(value)}
            elif kind == "subform" and isinstance(value, list):
                # Rows of a subform, each a flat dict; its lookups (a line item's Product_Name) take {"id"} too. A
                # subform's fields are listed under its api_name (reference, "Metadata and schema").
                inner = {f.api_name: f.data_type for f in self._field_meta(key)}
                value = [{k: {"id": str(v)} if inner.get(k) == "lookup" and isinstance(v, str | int) and v != ""
                          else v for k, v in row.items()} for row in value]
            elif kind == "multi_module_lookup" and isinstance(value, Mapping):
                parent = value.get("module")
                api = parent.get("api_name") if isinstance(parent, Mapping) else parent
                value = {"module": {"api_name": api}, "id": str(value.get("id"))}
            out[key] = value
        return out

    def _write(self, method: str, path: str, module: str, records: Sequence[Mapping[str, Any]], operation: str,
               extra: dict[str, Any] | None = None, *, idempotent: bool = True) -> list[WriteResult]:
        results: list[WriteResult] = []
        size = self.limits.batch_limit
        for start in range(0, len(records), size):
            chunk = records[start: start + size]
            body = {"data": [self.wire(module, r) for r in chunk], "trigger": [], **(extra or {})}
            response = self.client.call(method, self._url(path), json=body, cost=self.cost(operation, len(chunk)),
                                        idempotent=idempotent)
            payload = response.json() if response.content else {}
            if not isinstance(payload, dict) or "data" not in payload:
                self.client.raise_for_envelope(response, f"{operation} {module}")
                raise PermanentError(f"Zoho {operation} {module}: no per-record results", code="NO_RESULTS")
            # Never trust the status code alone: read every element (reference, "Records").
            answer = WriteAnswer.model_validate(payload)
            if len(answer.data) != len(chunk):
                raise PermanentError(f"Zoho {operation} {module}: {len(answer.data)} results for {len(chunk)}",
                                     code="RESULT_COUNT_MISMATCH")
            results += [to_result(start + i, item, operation if operation != "upsert" else "")
                        for i, item in enumerate(answer.data)]
        return results

    def insert(self, module: str, records: Sequence[Mapping[str, Any]]) -> list[WriteResult]:
        return self._write("POST", f"/crm/v8/{module}", module, records, "insert", idempotent=False)

    def upsert(self, module: str, records: Sequence[Mapping[str, Any]], *, key_field: str) -> list[WriteResult]:
        return self._write("POST", f"/crm/v8/{module}/upsert", module, records, "upsert",
                           {"duplicate_check_fields": [key_field]})

    def update(self, module: str, records: Sequence[Mapping[str, Any]]) -> list[WriteResult]:
        return self._write("PUT", f"/crm/v8/{module}", module, records, "update")

    def delete(self, module: str, ids: Sequence[str]) -> list[WriteResult]:
        results: list[WriteResult] = []
        size = self.limits.batch_limit
        for start in range(0, len(ids), size):
            chunk = list(ids[start: start + size])
            response = self.client.call("DELETE", self._url(f"/crm/v8/{module}"), cost=self.cost("delete", len(chunk)),
                                        params={"ids": ",".join(chunk), "wf_trigger": "false"})
            payload = response.json() if response.content else {}
            if "data" not in payload:
                self.client.raise_for_envelope(response, f"delete {module}")
            answer = WriteAnswer.model_validate(payload)
            results += [to_result(start + i, item, "delete") for i, item in enumerate(answer.data)]
        return results

    # ------------------------------------------------------------------------------------------- reads

    def get(self, module: str, ids: Sequence[str], *, fields: Sequence[str] | None = None) -> list[DestRecord]:
        """Records by id, 100 ids a call through the list endpoint's `ids` (reference, "Records"); `fields` is
        mandatory there and takes at most 50 names, so a wide module is read in several passes and merged. Every
        field unless `fields` names some; Modified_Time always."""
        names = [f.api_name for f in self._field_meta(module) if f.api_name not in ("id", "Modified_Time")] \
            if fields is None else [f for f in fields if f not in ("id", "Modified_Time")]
        passes = [names[i:i + 48] for i in range(0, len(names), 48)] or [[]]
        merged: dict[str, dict[str, Any]] = {}
        order: list[str] = []
        for start in range(0, len(ids), self.limits.batch_limit):
            chunk = [str(i) for i in ids[start:start + self.limits.batch_limit]]
            for fields in passes:
                params = {"ids": ",".join(chunk), "fields": ",".join([*fields, "Modified_Time"]),
                          "per_page": len(chunk)}
                response = self.client.call("GET", self._url(f"/crm/v8/{module}"), params=params,
                                            cost=self.cost("get", 1))
                if response.status_code == 204:
                    continue
                self.client.raise_for_envelope(response, f"get {module}")
                for data in RecordsAnswer.model_validate_json(response.content).data:
                    rid = str(data["id"])
                    if rid not in merged:
                        merged[rid] = {}
                        order.append(rid)
                    merged[rid].update(data)
        return [DestRecord(id=rid, data=merged[rid], modified_at=parse_time(merged[rid].get("Modified_Time")))
                for rid in order]

    def iter_records(self, module: str, fields: Sequence[str]) -> Iterator[DestRecord]:
        wanted = list(dict.fromkeys([*fields, "Modified_Time"]))
        if len(wanted) > 50:
            raise PermanentError(f"Zoho lists at most 50 fields a call, {len(wanted)} asked", code="LIMIT_EXCEEDED")
        params: dict[str, Any] = {"fields": ",".join(wanted), "per_page": 200, "page": 1}
        while True:
            response = self.client.call("GET", self._url(f"/crm/v8/{module}"), params=params, cost=self.cost("get", 1))
            if response.status_code == 204:
                return
            self.client.raise_for_envelope(response, f"list {module}")
            answer = RecordsAnswer.model_validate_json(response.content)
            for data in answer.data:
                yield DestRecord(id=str(data["id"]), data=data, modified_at=parse_time(data.get("Modified_Time")))
            if not answer.info.more_records:
                return
            # Past 2,000 records only page_token works (reference, "Records"); use it whenever given.
            if answer.info.next_page_token:
                params = {"fields": params["fields"], "per_page": 200, "page_token": answer.info.next_page_token}
            else:
                params = {**params, "page": int(params.get("page", 1)) + 1}

    def count(self, module: str) -> int:
        response = self.client.call("GET", self._url(f"/crm/v8/{module}/actions/count"), cost=self.cost("get", 1))
        self.client.raise_for_envelope(response, f"count {module}")
        return CountAnswer.model_validate_json(response.content).count

    # ------------------------------------------------------------------------------------------- files

    def attachment_cap(self) -> int:
        return self.limits.editions[self.config.edition].attachment_mb * 1024 * 1024

    def attach(self, module: str, record_id: str, *, file_name: str, stream: BinaryIO, size: int,
               content_type: str) -> WriteResult:
        cap = self.attachment_cap()
        if size > cap:
            return WriteResult(index=0, ok=False, code="FILE_TOO_LARGE", permanent=True,
                               message=f"skipped: too large ({size} bytes, the {self.config.edition} cap is {cap})")
        start = stream.tell() if stream.seekable() else None

        def rewind() -> None:
            if start is not None:
                stream.seek(start)

        # httpx streams a file object in the multipart body chunk by chunk; it is not read into memory at once.
        response = self.client.call("POST", self._url(f"/crm/v8/{module}/{record_id}/Attachments"),
                                    files={"file": (file_name, stream, content_type)}, cost=self.cost("attach", 1),
                                    rewind=rewind if start is not None else None, idempotent=False)
        payload = response.json() if response.content else {}
        if "data" not in payload:
            error = ActionResult.model_validate(payload)
            return WriteResult(index=0, ok=False, code=error.code, message=error.message, permanent=True)
        return to_result(0, RecordResult.model_validate(payload["data"][0]), "insert")

    def list_attachments(self, module: str, record_id: str) -> list[DestRecord]:
        """The files on one record, as DestRecords whose data holds `file_name` and `size` (bytes): how a loader
        interrupted between an upload and its bookkeeping finds what it uploaded. `GET /crm/v8/{module}/{id}/
        Attachments` takes a mandatory `fields`, pages of 200, and answers 204 when there is none (reference OAS,
        "Get Attachments")."""
        out: list[DestRecord] = []
        page = 1
        while True:
            response = self.client.call("GET", self._url(f"/crm/v8/{module}/{record_id}/Attachments"),
                                        params={"fields": "id,File_Name,Size,Modified_Time", "page": page,
                                                "per_page": 200}, cost=self.cost("get", 1))
            if response.status_code == 204:
                return out
            self.client.raise_for_envelope(response, f"attachments of {module}")
            answer = RecordsAnswer.model_validate_json(response.content)
            for data in answer.data:
                size = str(data.get("Size") or "0")
                out.append(DestRecord(id=str(data["id"]), data={"file_name": str(data.get("File_Name") or ""),
                                                                "size": int(size) if size.isdigit() else -1},
                                      modified_at=parse_time(data.get("Modified_Time"))))
            if not answer.info.more_records:
                return out
            page += 1

    def delete_attachments(self, module: str, record_id: str, ids: Sequence[str]) -> list[WriteResult]:
        """Remove files from one record (`DELETE /crm/v8/{module}/{id}/Attachments?ids=`, reference OAS
        "Delete Attachments"): what a rollback needs when the record itself stays."""
        results: list[WriteResult] = []
        size = self.limits.batch_limit
        for start in range(0, len(ids), size):
            chunk = list(ids[start: start + size])
            response = self.client.call("DELETE", self._url(f"/crm/v8/{module}/{record_id}/Attachments"),
                                        cost=self.cost("delete", len(chunk)), params={"ids": ",".join(chunk)})
            payload = response.json() if response.content else {}
            if "data" not in payload:
                self.client.raise_for_envelope(response, f"delete attachments of {module}")
            answer = WriteAnswer.model_validate(payload)
            results += [to_result(start + i, item, "delete") for i, item in enumerate(answer.data)]
        return results

    # ------------------------------------------------------------------------------------------- bulk

    def bulk_insert(self, module: str, records: Sequence[Mapping[str, Any]]) -> list[WriteResult]:
        return bulk.run(self, module, records, operation="insert", find_by="")

    def bulk_upsert(self, module: str, records: Sequence[Mapping[str, Any]], *, key_field: str) -> list[WriteResult]:
        return bulk.run(self, module, records, operation="upsert", find_by=key_field)
