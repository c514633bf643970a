"""The simulated account's data: records, recycle bin, custom fields, bulk jobs, the hourly request window.

One lock guards everything; requests are short, and a faithful simulator needs no more concurrency than that."""

from __future__ import annotations

import copy
import json
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connectors.simulators.common import SimClock
from connectors.simulators.freshsales.catalog import (
    MAX_FILE_BYTES,
    PLAN_CUSTOM_FIELDS,
    PLAN_HOURLY_LIMITS,
    RESOURCES,
    STANDARD_FIELDS,
    TARGETABLE_TYPES,
)
from connectors.simulators.freshsales.validate import ApiError, check_record, normalize_emails

WINDOW_SECONDS = 3600
CUSTOM_FIELD_TYPES = ("text", "textarea", "number", "dropdown", "multi_select_dropdown", "date", "date_time",
                      "checkbox")


def iso(ts: float) -> str:
    return datetime.fromtimestamp(int(ts), tz=UTC).isoformat()


@dataclass
class Counters:
    total: int = 0              # every request that reached the API (authenticated or not)
    accepted: int = 0           # requests counted against the hourly limit
    rate_limited: int = 0       # 429 because the hourly limit was spent
    storm: int = 0              # 429 injected by a storm
    faults: int = 0             # injected 5xx and timeouts
    unauthorized: int = 0


@dataclass
class SimState:
    clock: SimClock
    plan: str = "growth"
    hourly_limit: int | None = None          # overrides the plan's number when set
    max_file_bytes: int = MAX_FILE_BYTES
    job_seconds: float = 0.2                 # how long a bulk job stays IN_PROGRESS
    records: dict[str, dict[int, dict[str, Any]]] = field(default_factory=dict)
    recycle_bin: dict[str, dict[int, dict[str, Any]]] = field(default_factory=dict)
    custom_fields: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    jobs: dict[int, dict[str, Any]] = field(default_factory=dict)
    counters: Counters = field(default_factory=Counters)
    window: deque[float] = field(default_factory=deque)
    next_id: int = 16_000_000_001
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def __post_init__(self) -> None:
        for resource in RESOURCES:
            self.records.setdefault(resource, {})
            self.recycle_bin.setdefault(resource, {})

    # ------------------------------------------------------------------ limits

    @property
    def limit(self) -> int:
        return self.hourly_limit if self.hourly_limit is not None else PLAN_HOURLY_LIMITS[self.plan]

    def admit(self) -> tuple[bool, int, float]:
        """Count one request against the rolling hour: (admitted, remaining, retry_after seconds)."""
        with self.lock:
            now = self.clock.now()
            while self.window and self.window[0] <= now - WINDOW_SECONDS:
                self.window.popleft()
            if len(self.window) >= self.limit:
                self.counters.rate_limited += 1
                return False, 0, max(1.0, self.window[0] + WINDOW_SECONDS - now)
            self.window.append(now)
            self.counters.accepted += 1
            return True, self.limit - len(self.window), 0.0

    def window_used(self) -> int:
        with self.lock:
            now = self.clock.now()
            return sum(1 for ts in self.window if ts > now - WINDOW_SECONDS)

    # ------------------------------------------------------------------ records

    def new_id(self) -> int:
        with self.lock:
            self.next_id += 1
            return self.next_id

    def email_index(self, *, exclude: int | None) -> set[str]:
        return {
            item["value"].lower()
            for rid, rec in self.records["contacts"].items() if rid != exclude
            for item in rec.get("emails") or []
        }

    def get(self, resource: str, record_id: int) -> dict[str, Any]:
        record = self.records[resource].get(record_id)
        if record is None:
            raise ApiError(404, "Record not found")
        return record

    def _clean(self, resource: str, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise ApiError(400, f"{RESOURCES[resource][0]} must be an object")
        known = {f.name for f in STANDARD_FIELDS[resource]} | {"custom_field", "email", "products"}
        # Unknown attributes are dropped, as the real API's parameter filtering does; read-only ones too.
        cleaned = {k: copy.deepcopy(v) for k, v in body.items() if k in known}
        if resource == "contacts":
            normalize_emails(cleaned)
        return cleaned

    def create(self, resource: str, body: Any) -> dict[str, Any]:
        with self.lock:
            record = self._clean(resource, body)
            check_record(self, resource, record, None)
            now = self.clock.now()
            record_id = self.new_id()
            record.update(id=record_id, created_at=iso(now), updated_at=iso(now))
            record.setdefault("custom_field", {})
            self.records[resource][record_id] = record
            return copy.deepcopy(record)

    def update(self, resource: str, record_id: int, body: Any, *, as_user: bool = False) -> dict[str, Any]:
        with self.lock:
            existing = self.get(resource, record_id)
            changes = self._clean(resource, body)
            merged = {**copy.deepcopy(existing), **{k: v for k, v in changes.items() if k != "custom_field"}}
            merged["custom_field"] = {**(existing.get("custom_field") or {}), **(changes.get("custom_field") or {})}
            check_record(self, resource, merged, record_id)
            now = self.clock.now()
            if as_user:
                # A user's edit must move updated_at even within the second of our own write (test endpoint).
                previous = datetime.fromisoformat(existing["updated_at"]).timestamp()
                now = max(now, previous + 1)
            merged["updated_at"] = iso(now)
            self.records[resource][record_id] = merged
            return copy.deepcopy(merged)

    def find_unique(self, resource: str, key: str, value: Any) -> int | None:
        """The record whose unique field `key` equals `value` (emails: any of its addresses, case-insensitive)."""
        if resource == "contacts" and key == "emails":
            wanted = str(value).strip().lower()
            for rid, rec in self.records[resource].items():
                if any(i["value"].lower() == wanted for i in rec.get("emails") or []):
                    return rid
            return None
        if resource == "sales_accounts" and key == "name":
            wanted = str(value).strip().lower()
            return next((rid for rid, rec in self.records[resource].items()
                         if str(rec.get("name", "")).strip().lower() == wanted), None)
        std_unique = {f.name for f in STANDARD_FIELDS[resource] if f.unique}
        custom_unique = {f["name"] for f in self.custom_fields.get(resource, []) if f.get("unique")}
        if key in std_unique:
            return next((rid for rid, rec in self.records[resource].items() if rec.get(key) == value), None)
        if key in custom_unique:
            return next((rid for rid, rec in self.records[resource].items()
                         if (rec.get("custom_field") or {}).get(key) == value), None)
        raise ApiError(400, f"{key} is not a unique identifier")

    def upsert(self, resource: str, key: str, value: Any, body: Any) -> tuple[dict[str, Any], bool]:
        """(record, created). The unique value is written into the record too, so it can be found again."""
        with self.lock:
            if value in (None, ""):
                raise ApiError(400, "Unique identifier can't be blank")
            body = dict(body) if isinstance(body, dict) else body
            if isinstance(body, dict):
                self._put_unique(resource, key, value, body)
            existing = self.find_unique(resource, key, value)
            if existing is None:
                return self.create(resource, body), True
            return self.update(resource, existing, body), False

    def _put_unique(self, resource: str, key: str, value: Any, body: dict[str, Any]) -> None:
        if resource == "contacts" and key == "emails":
            if not body.get("email") and not body.get("emails"):
                body["email"] = value
        elif key.startswith("cf_"):
            body["custom_field"] = {**(body.get("custom_field") or {}), key: value}
        else:
            body.setdefault(key, value)

    def soft_delete(self, resource: str, record_id: int) -> None:
        with self.lock:
            record = self.records[resource].pop(record_id, None)
            if record is None:
                raise ApiError(404, "Record not found")
            if RESOURCES[resource][2]:
                # reference/freshsales.md, "Deleting": a soft delete sits in the recycle bin for 90 days.
                record["deleted_at"] = iso(self.clock.now())
                self.recycle_bin[resource][record_id] = record

    def forget(self, resource: str, record_id: int) -> None:
        """Hard delete, from the live records or the recycle bin; the record's notes and files go with it."""
        with self.lock:
            found = self.records[resource].pop(record_id, None) or self.recycle_bin[resource].pop(record_id, None)
            if found is None:
                raise ApiError(404, "Record not found")
            target_type = RESOURCES[resource][1]
            for child in ("notes", "documents"):
                for rid in [rid for rid, rec in self.records[child].items()
                            if rec.get("targetable_type") == target_type and rec.get("targetable_id") == record_id]:
                    del self.records[child][rid]

    # ------------------------------------------------------------------ custom fields

    def add_custom_field(self, module: str, spec: dict[str, Any]) -> dict[str, Any]:
        """Stands in for the customer's admin: Freshsales has no API to create fields."""
        with self.lock:
            if module not in RESOURCES:
                raise ApiError(404, "Unknown module")
            label = str(spec.get("label") or "").strip()
            kind = spec.get("type", "text")
            if not label or kind not in CUSTOM_FIELD_TYPES:
                raise ApiError(400, "Custom field needs a label and a valid type")
            name = spec.get("name") or "cf_" + "_".join(label.lower().split())
            if not name.startswith("cf_"):
                raise ApiError(400, "Custom field names start with cf_")
            existing = self.custom_fields.setdefault(module, [])
            if any(f["name"] == name for f in existing):
                raise ApiError(400, "Field name has already been taken")
            if len(existing) >= PLAN_CUSTOM_FIELDS[self.plan]:
                raise ApiError(400, "Custom field limit reached for this plan")
            choices = [{"id": self.new_id(), "value": str(v)} for v in spec.get("choices", [])]
            if len(choices) > 300:  # reference: ≤300 dropdown options
                raise ApiError(400, "Too many choices")
            field_ = {"id": self.new_id(), "name": name, "label": label, "type": kind,
                      "required": bool(spec.get("required", False)), "unique": bool(spec.get("unique", False)),
                      "choices": choices, "default": False}
            existing.append(field_)
            return copy.deepcopy(field_)

    # ------------------------------------------------------------------ bulk jobs

    def add_job(self, resource: str, items: list[Any]) -> int:
        with self.lock:
            job_id = self.new_id()
            self.jobs[job_id] = {"id": job_id, "resource": resource, "items": items,
                                 "ready_at": self.clock.now() + self.job_seconds, "status": "IN_PROGRESS",
                                 "results": []}
            return job_id

    def run_due_jobs(self, fail_record: Any) -> None:
        """Process jobs whose time has come. `fail_record()` says whether to inject a partial failure."""
        with self.lock:
            now = self.clock.now()
            for job in self.jobs.values():
                if job["status"] == "IN_PROGRESS" and job["ready_at"] <= now:
                    job["results"] = [self._job_item(job, i, item, fail_record) for i, item in
                                      enumerate(job.pop("items"))]
                    job["status"] = "COMPLETED"

    def _job_item(self, job: dict[str, Any], index: int, item: Any, fail_record: Any) -> dict[str, Any]:
        try:
            if fail_record():
                raise ApiError(503, "Temporary failure, retry the record")
            keys = [k for k in item if k != "data"] if isinstance(item, dict) else []
            if len(keys) != 1 or not isinstance(item.get("data"), dict):
                raise ApiError(400, "Each record needs one unique identifier and data")
            key = keys[0]
            record, created = self.upsert(job["resource"], key, item.get(key), item["data"])
        except ApiError as exc:
            return {"index": index, "status": "failed", "errors": exc.body()["errors"]}
        return {"index": index, "status": "created" if created else "updated", "id": record["id"]}

    # ------------------------------------------------------------------ dump / load

    def dump(self) -> dict[str, Any]:
        with self.lock:
            return {
                "plan": self.plan, "hourly_limit": self.limit, "next_id": self.next_id,
                "clock": iso(self.clock.now()),
                "records": {r: list(v.values()) for r, v in self.records.items()},
                "recycle_bin": {r: list(v.values()) for r, v in self.recycle_bin.items()},
                "custom_fields": self.custom_fields,
                "jobs": [{k: v for k, v in job.items() if k != "items"} for job in self.jobs.values()],
                "counters": self.counters.__dict__.copy(),
            }

    def save(self, path: Path) -> None:
        with self.lock:
            data = self.dump()
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(data), encoding="utf-8")
        tmp.replace(path)

    def load(self, path: Path) -> None:
        data = json.loads(path.read_text(encoding="utf-8"))
        with self.lock:
            self.plan = data.get("plan", self.plan)
            self.next_id = int(data.get("next_id", self.next_id))
            self.custom_fields = data.get("custom_fields", {})
            for resource in RESOURCES:
                self.records[resource] = {r["id"]: r for r in data.get("records", {}).get(resource, [])}
                self.recycle_bin[resource] = {r["id"]: r for r in data.get("recycle_bin", {}).get(resource, [])}

    def reset(self) -> None:
        with self.lock:
            for resource in RESOURCES:
                self.records[resource].clear()
                self.recycle_bin[resource].clear()
            self.custom_fields.clear()
            self.jobs.clear()
            self.window.clear()
            self.counters = Counters()


def targetable_resource(target_type: str) -> str | None:
    return TARGETABLE_TYPES.get(target_type)
