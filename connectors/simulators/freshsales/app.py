"""The Freshsales simulator as a WSGI app: the wire format of reference/freshsales.md under `/crm/sales/api/`,
plus test-only `/__sim__/` endpoints (state, clock, faults, request counter, recycle bin, custom fields, user edits).

Order of trouble, as a real front door would apply it: auth (401), injected 429 storm, the hourly limit (429 with
Retry-After), injected 5xx/timeouts, latency, then the handler."""

from __future__ import annotations

import copy
import hashlib
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from math import ceil
from pathlib import Path
from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from connectors.simulators.common import Faults, SimClock
from connectors.simulators.freshsales.catalog import (
    BULK_MAX_RECORDS,
    CHOICE_SELECTORS,
    FIELDS_ENDPOINT_MODULES,
    PAGE_LISTED,
    PER_PAGE_MAX,
    RESOURCES,
    SELECTOR_KEYS,
    SELECTORS,
    STANDARD_FIELDS,
    TARGETABLE_TYPES,
    UPSERTABLE,
    VIEW_LISTED,
)
from connectors.simulators.freshsales.state import SimState, iso
from connectors.simulators.freshsales.validate import ApiError

BASE = "/crm/sales/api"
DEFAULT_API_KEY = "sim-freshsales-admin-key"
_NAMES = ",".join(r for r in RESOURCES if "/" not in r)
_VIEWS = {1: "All {label}", 2: "My {label}"}


def _rules() -> list[Rule]:
    api = [
        Rule("/selector/<name>", endpoint="selector", methods=["GET"]),
        Rule("/settings/<module>/fields", endpoint="fields", methods=["GET"]),
        Rule("/job_statuses/<int:job_id>", endpoint="job_status", methods=["GET"]),
        Rule("/documents", endpoint="document_create", methods=["POST"]),
    ]
    for prefix, fixed in ((f"/<any({_NAMES}):res>", {}), ("/cpq/products", {"res": "cpq/products"})):
        api += [
            Rule(prefix, endpoint="create", methods=["POST"], defaults=fixed or None),
            Rule(prefix, endpoint="list", methods=["GET"], defaults=fixed or None),
            Rule(prefix + "/<int:rid>", endpoint="read", methods=["GET"], defaults=fixed or None),
            Rule(prefix + "/<int:rid>", endpoint="update", methods=["PUT"], defaults=fixed or None),
            Rule(prefix + "/<int:rid>", endpoint="delete", methods=["DELETE"], defaults=fixed or None),
            Rule(prefix + "/<int:rid>/forget", endpoint="forget", methods=["DELETE"], defaults=fixed or None),
            Rule(prefix + "/upsert", endpoint="upsert", methods=["POST"], defaults=fixed or None),
            Rule(prefix + "/bulk_upsert", endpoint="bulk_upsert", methods=["POST"], defaults=fixed or None),
            Rule(prefix + "/bulk_destroy", endpoint="bulk_destroy", methods=["POST"], defaults=fixed or None),
            Rule(prefix + "/filters", endpoint="filters", methods=["GET"], defaults=fixed or None),
            Rule(prefix + "/view/<int:view_id>", endpoint="view", methods=["GET"], defaults=fixed or None),
        ]
    sim = [
        Rule("/__sim__/state", endpoint="sim_state", methods=["GET"]),
        Rule("/__sim__/reset", endpoint="sim_reset", methods=["POST"]),
        Rule("/__sim__/clock", endpoint="sim_clock", methods=["POST", "GET"]),
        Rule("/__sim__/faults", endpoint="sim_faults", methods=["POST", "GET"]),
        Rule("/__sim__/plan", endpoint="sim_plan", methods=["POST"]),
        Rule("/__sim__/requests", endpoint="sim_requests", methods=["GET"]),
        Rule("/__sim__/recycle_bin", endpoint="sim_recycle_bin", methods=["GET"]),
        Rule("/__sim__/fields/<path:module>", endpoint="sim_field", methods=["POST"]),
        Rule("/__sim__/records/<path:res>/<int:rid>", endpoint="sim_edit", methods=["POST"]),
    ]
    return [Rule(BASE + r.rule, endpoint=r.endpoint, methods=r.methods, defaults=r.defaults) for r in api] + sim


@dataclass
class FreshsalesSimulator:
    """A WSGI app. `api_key` is the one key it accepts; `state_file`, when set, is saved after every write."""

    api_key: str = DEFAULT_API_KEY
    plan: str = "growth"
    clock: SimClock = field(default_factory=SimClock)
    faults: Faults = field(default_factory=Faults)
    state_file: Path | None = None
    storm_retry_after: int = 1
    state: SimState = field(init=False)

    def __post_init__(self) -> None:
        self.state = SimState(clock=self.clock, plan=self.plan)
        if self.state_file is not None and self.state_file.exists():
            self.state.load(self.state_file)
        self.url_map = Map(_rules(), strict_slashes=False)

    # ------------------------------------------------------------------ WSGI

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        try:
            response = self.dispatch(request)
        finally:
            request.close()  # closes uploaded files' spooled temporaries
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        adapter = self.url_map.bind_to_environ(request.environ)
        is_api = request.path.startswith(BASE + "/")
        headers: dict[str, str] = {}
        try:
            if is_api:
                headers = self._front_door(request)
            endpoint, args = adapter.match()
            handler = getattr(self, f"on_{endpoint}")
            if is_api:
                self.state.run_due_jobs(lambda: self.faults.roll(self.faults.partial_rate))
            status, body = handler(request, **args)
            if is_api and request.method != "GET" and self.state_file is not None:
                self.state.save(self.state_file)
        except ApiError as exc:
            status, body = exc.status, exc.body()
            headers.update(exc.headers)
        except HTTPException as exc:
            code = exc.code or 500
            status, body = code, ApiError(code, exc.name).body()
        return Response(json.dumps(body), status=status, headers=headers, content_type="application/json")

    def _front_door(self, request: Request) -> dict[str, str]:
        state = self.state
        with state.lock:
            state.counters.total += 1
        if request.headers.get("Authorization", "") != f"Token token={self.api_key}":
            with state.lock:
                state.counters.unauthorized += 1
            raise ApiError(401, "Incorrect or expired API key")
        if self.faults.take_storm():
            with state.lock:
                state.counters.storm += 1
            raise ApiError(429, "Too many requests", headers={"Retry-After": str(self.storm_retry_after)})
        admitted, remaining, retry_after = state.admit()
        limit_headers = {"x-ratelimit-limit": str(state.limit), "x-ratelimit-remaining": str(remaining)}
        if not admitted:
            # reference/freshsales.md, "Limits": over the hourly limit -> 429 with Retry-After.
            raise ApiError(429, "Rate limit exceeded for this hour",
                           headers={**limit_headers, "Retry-After": str(ceil(retry_after))})
        if self.faults.roll(self.faults.timeout_rate):
            with state.lock:
                state.counters.faults += 1
            time.sleep(self.faults.timeout_seconds)
            raise ApiError(504, "Gateway timeout")
        if self.faults.roll(self.faults.fault_rate):
            with state.lock:
                state.counters.faults += 1
            raise ApiError(503, "Service temporarily unavailable")
        self.faults.delay()
        return limit_headers

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _json(request: Request) -> dict[str, Any]:
        try:
            body = json.loads(request.get_data(as_text=True) or "null")
        except ValueError:
            raise ApiError(400, "Malformed JSON") from None
        if not isinstance(body, dict):
            raise ApiError(400, "Request body must be a JSON object")
        return body

    @staticmethod
    def _out(resource: str, record: dict[str, Any], *, include: str = "") -> dict[str, Any]:
        out = copy.deepcopy(record)
        if resource == "contacts":
            primary = next((i["value"] for i in out.get("emails") or [] if i["is_primary"]), None)
            out["email"] = primary
        if resource == "deals" and include != "products":
            out.pop("products", None)
        return out

    def _wrapped(self, request: Request, resource: str) -> Any:
        singular = RESOURCES[resource][0]
        body = self._json(request)
        if singular not in body:
            raise ApiError(400, f"{singular} is missing")
        return body[singular]

    # ------------------------------------------------------------------ API endpoints

    def on_selector(self, request: Request, name: str) -> tuple[int, Any]:
        if name not in SELECTORS:
            raise ApiError(404, "Unknown selector")
        return 200, {SELECTOR_KEYS.get(name, name): copy.deepcopy(SELECTORS[name])}

    def on_fields(self, request: Request, module: str) -> tuple[int, Any]:
        if module not in FIELDS_ENDPOINT_MODULES:
            raise ApiError(404, "Not found")
        fields: list[dict[str, Any]] = []
        for position, spec in enumerate(STANDARD_FIELDS[module], start=1):
            choices: list[dict[str, Any]] = []
            if spec.name in CHOICE_SELECTORS:
                choices = [{"id": item["id"], "value": item.get("name") or item.get("display_name")}
                           for item in SELECTORS[CHOICE_SELECTORS[spec.name]]]
            fields.append({"id": 90_000 + position, "name": spec.name, "label": spec.label, "type": spec.type,
                           "required": spec.required, "default": True, "choices": choices,
                           "position": position})
        with self.state.lock:
            fields += [{k: v for k, v in f.items() if k != "unique"} | {"position": len(fields) + i}
                       for i, f in enumerate(copy.deepcopy(self.state.custom_fields.get(module, [])), start=1)]
        return 200, {"fields": fields}

    def on_create(self, request: Request, res: str) -> tuple[int, Any]:
        body = self._wrapped(request, res)
        if isinstance(body, dict):
            body.pop("products", None)  # deal products are set by PUT ?include=products (reference, "Deals")
        record = self.state.create(res, body)
        return 201, {RESOURCES[res][0]: self._out(res, record)}

    def on_read(self, request: Request, res: str, rid: int) -> tuple[int, Any]:
        include = request.args.get("include", "")
        with self.state.lock:
            record = self.state.get(res, rid)
            body: dict[str, Any] = {RESOURCES[res][0]: self._out(res, record, include=include)}
            if "documents" in include.split(",") and RESOURCES[res][1] in TARGETABLE_TYPES:
                # Included objects are side-loaded beside the record, which lists their ids (the include name is
                # unconfirmed: reference/freshsales.md documents no file listing).
                documents = [copy.deepcopy(d) for _, d in sorted(self.state.records["documents"].items())
                             if d["targetable_type"] == RESOURCES[res][1] and d["targetable_id"] == rid]
                body[RESOURCES[res][0]]["document_ids"] = [d["id"] for d in documents]
                body["documents"] = documents
            return 200, body

    def on_update(self, request: Request, res: str, rid: int) -> tuple[int, Any]:
        body = self._wrapped(request, res)
        include = request.args.get("include", "")
        if isinstance(body, dict) and include != "products":
            body.pop("products", None)
        record = self.state.update(res, rid, body)
        return 200, {RESOURCES[res][0]: self._out(res, record, include=include)}

    def on_delete(self, request: Request, res: str, rid: int) -> tuple[int, Any]:
        self.state.soft_delete(res, rid)
        return 200, True

    def on_forget(self, request: Request, res: str, rid: int) -> tuple[int, Any]:
        if not RESOURCES[res][2]:
            raise ApiError(404, "Not found")
        self.state.forget(res, rid)
        return 200, True

    def on_upsert(self, request: Request, res: str) -> tuple[int, Any]:
        if res not in UPSERTABLE:
            raise ApiError(404, "Not found")
        body = self._json(request)
        unique = body.get("unique_identifier")
        singular = RESOURCES[res][0]
        if not isinstance(unique, dict) or len(unique) != 1 or singular not in body:
            raise ApiError(400, "unique_identifier (one field) and the record are required")
        ((key, value),) = unique.items()
        record, created = self.state.upsert(res, key, value, body[singular])
        return (201 if created else 200), {singular: self._out(res, record)}

    def on_bulk_upsert(self, request: Request, res: str) -> tuple[int, Any]:
        if res not in UPSERTABLE:
            raise ApiError(404, "Not found")
        items = self._json(request).get(res)
        if not isinstance(items, list) or not items:
            raise ApiError(400, f"{res} must be a non-empty list")
        if len(items) > BULK_MAX_RECORDS:
            raise ApiError(400, f"At most {BULK_MAX_RECORDS} records per request")
        job_id = self.state.add_job(res, items)
        url = f"{request.host_url.rstrip('/')}{BASE}/job_statuses/{job_id}"
        return 202, {"job_id": job_id, "job_status_url": url}

    def on_job_status(self, request: Request, job_id: int) -> tuple[int, Any]:
        with self.state.lock:
            job = self.state.jobs.get(job_id)
            if job is None:
                raise ApiError(404, "Job not found")
            results = copy.deepcopy(job["results"])
            failed = sum(1 for r in results if r["status"] == "failed")
            total = len(results) if job["status"] == "COMPLETED" else len(job.get("items", []))
            return 200, {"job_status": {"id": job_id, "status": job["status"], "total": total,
                                        "success": len(results) - failed, "failed": failed, "results": results}}

    def on_bulk_destroy(self, request: Request, res: str) -> tuple[int, Any]:
        ids = self._json(request).get("selected_ids")
        if not isinstance(ids, list) or not ids or len(ids) > BULK_MAX_RECORDS:
            raise ApiError(400, f"selected_ids must list 1 to {BULK_MAX_RECORDS} ids")
        deleted, failed = [], []
        for rid in ids:
            try:
                self.state.soft_delete(res, int(rid))
                deleted.append(int(rid))
            except (ApiError, ValueError, TypeError):
                failed.append(rid)
        return 200, {"deleted_ids": deleted, "failed_ids": failed}

    def on_filters(self, request: Request, res: str) -> tuple[int, Any]:
        if res not in VIEW_LISTED:
            raise ApiError(404, "Not found")
        label = res.replace("_", " ").title()
        return 200, {"filters": [{"id": vid, "name": name.format(label=label), "is_default": vid == 1}
                                 for vid, name in _VIEWS.items()]}

    def _page(self, request: Request, res: str, records: list[dict[str, Any]]) -> tuple[int, Any]:
        try:
            page = int(request.args.get("page", 1))
            per_page = int(request.args.get("per_page", 25))
        except ValueError:
            raise ApiError(400, "page and per_page must be numbers") from None
        if page < 1 or not 1 <= per_page <= PER_PAGE_MAX:
            raise ApiError(400, f"per_page must be between 1 and {PER_PAGE_MAX}")
        chunk = records[(page - 1) * per_page: page * per_page]
        key = res.split("/")[-1]
        return 200, {key: [self._out(res, r) for r in chunk],
                     "meta": {"total_pages": max(1, ceil(len(records) / per_page)), "total": len(records)}}

    def on_view(self, request: Request, res: str, view_id: int) -> tuple[int, Any]:
        if res not in VIEW_LISTED or view_id not in _VIEWS:
            raise ApiError(404, "Not found")
        with self.state.lock:
            records = [copy.deepcopy(r) for _, r in sorted(self.state.records[res].items())]
        if view_id == 2:
            owner = SELECTORS["owners"][0]["id"]  # the API key's user is the account admin
            records = [r for r in records if r.get("owner_id") == owner]
        return self._page(request, res, records)

    def on_list(self, request: Request, res: str) -> tuple[int, Any]:
        if res not in PAGE_LISTED:
            raise ApiError(404, "Not found")
        with self.state.lock:
            records = [copy.deepcopy(r) for _, r in sorted(self.state.records[res].items())]
        return self._page(request, res, records)

    def on_document_create(self, request: Request) -> tuple[int, Any]:
        upload = request.files.get("file")
        if upload is None:
            raise ApiError(400, "File can't be blank")
        digest, size = hashlib.sha256(), 0
        while chunk := upload.stream.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
        if size > self.state.max_file_bytes:
            # reference/freshsales.md, "Limits": 150 MB a file.
            raise ApiError(400, "File size exceeds the allowed limit")
        target_type = request.form.get("targetable_type", "")
        raw_target_id = request.form.get("targetable_id", "")
        body: dict[str, Any] = {"file_name": request.form.get("file_name") or upload.filename or "", "size": size,
                "content_type": upload.mimetype, "sha256": digest.hexdigest(),
                "is_shared": request.form.get("is_shared", "false").lower() == "true",
                "targetable_type": target_type}
        target = TARGETABLE_TYPES.get(target_type)
        target_id = int(raw_target_id) if raw_target_id.isdigit() else None
        with self.state.lock:
            if target is None or target_id not in self.state.records[target]:
                raise ApiError(400, "Targetable does not exist")
            now = self.state.clock.now()
            record = {**body, "targetable_id": target_id, "id": self.state.new_id(), "created_at": iso(now),
                      "updated_at": iso(now)}
            self.state.records["documents"][record["id"]] = record
        return 201, {"document": copy.deepcopy(record)}

    # ------------------------------------------------------------------ test-only endpoints

    def on_sim_state(self, request: Request) -> tuple[int, Any]:
        return 200, self.state.dump()

    def on_sim_reset(self, request: Request) -> tuple[int, Any]:
        self.state.reset()
        return 200, {"ok": True}

    def on_sim_clock(self, request: Request) -> tuple[int, Any]:
        if request.method == "POST":
            self.clock.advance(float(self._json(request).get("seconds", 0)))
        return 200, {"now": self.clock.now()}

    def on_sim_faults(self, request: Request) -> tuple[int, Any]:
        if request.method == "POST":
            values = self._json(request)
            self.faults.update(values)
            if "storm_retry_after" in values:
                self.storm_retry_after = int(values["storm_retry_after"])
        snapshot = {k: getattr(self.faults, k) for k in ("latency_ms", "fault_rate", "timeout_rate",
                                                         "timeout_seconds", "storm_remaining", "partial_rate")}
        return 200, snapshot

    def on_sim_plan(self, request: Request) -> tuple[int, Any]:
        values = self._json(request)
        with self.state.lock:
            if "plan" in values:
                self.state.plan = str(values["plan"])
            if "hourly_limit" in values:
                self.state.hourly_limit = None if values["hourly_limit"] is None else int(values["hourly_limit"])
            if "max_file_bytes" in values:
                self.state.max_file_bytes = int(values["max_file_bytes"])
            if "job_seconds" in values:
                self.state.job_seconds = float(values["job_seconds"])
            return 200, {"plan": self.state.plan, "hourly_limit": self.state.limit}

    def on_sim_requests(self, request: Request) -> tuple[int, Any]:
        with self.state.lock:
            return 200, {**self.state.counters.__dict__, "window_used": self.state.window_used(),
                         "limit": self.state.limit}

    def on_sim_recycle_bin(self, request: Request) -> tuple[int, Any]:
        with self.state.lock:
            return 200, {res: list(copy.deepcopy(items).values()) for res, items in self.state.recycle_bin.items()}

    def on_sim_field(self, request: Request, module: str) -> tuple[int, Any]:
        return 201, {"field": self.state.add_custom_field(module, self._json(request))}

    def on_sim_edit(self, request: Request, res: str, rid: int) -> tuple[int, Any]:
        res = "cpq/products" if res == "products" else res
        if res not in RESOURCES:
            raise ApiError(404, "Unknown resource")
        record = self.state.update(res, rid, self._json(request), as_user=True)
        return 200, {RESOURCES[res][0]: self._out(res, record)}
