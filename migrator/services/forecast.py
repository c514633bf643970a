"""API forecast arithmetic: what loading some record counts costs on a destination edition, and how many calendar
days the edition's allowance stretches that over.

Pure functions of counts, edition limits and call costs — no database, no HTTP — so quotes and the engine's run
forecast share them. Zoho is metered in daily credits (reference/zoho-crm-v8.md, "Limits"), Freshsales in requests
per hour (reference/freshsales.md, "Limits").
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, Literal

Unit = Literal["credits", "requests"]


class LoadKind(StrEnum):
    RECORDS = "records"            # plain module records, batched per call
    NOTES = "notes"                # note records, batched like records but never through Bulk Write
    ATTACHMENTS = "attachments"    # one upload call per file


# Modules a bulk job can load. Zoho Bulk Write does not take Notes, Attachments, Events or Calls
# (reference/zoho-crm-v8.md, "Bulk Write"); Freshsales bulk_upsert exists for contacts and sales accounts only
# (reference/freshsales.md, "Resources").
_NOT_BULK: dict[str, frozenset[str]] = {"zoho-crm": frozenset({"Notes", "Attachments", "Events", "Calls", "users"})}
_ONLY_BULK: dict[str, frozenset[str]] = {"freshsales": frozenset({"contacts", "sales_accounts"})}


def module_supports_bulk(destination: str, module: str) -> bool:
    """Whether a bulk job can load `module` of the `destination` platform (by slug)."""
    if destination in _ONLY_BULK:
        return module in _ONLY_BULK[destination]
    return module not in _NOT_BULK.get(destination, frozenset())


@dataclass(frozen=True)
class Allowance:
    """An edition's allowance and call costs, read from Edition.limits/features (catalog_schema.Limits keys)."""

    unit: Unit
    credits_base: int | None = None
    credits_per_user: int = 0
    credits_cap: int | None = None          # None with credits: no cap (Zoho Ultimate)
    requests_per_hour: int | None = None
    rest_batch: int = 100                   # records per REST write call
    records_per_cost_unit: int = 10         # Zoho: 1 credit per 10 records written; 0: a call costs 1
    bulk_available: bool = False
    bulk_batch: int = 25_000                # records per bulk job
    bulk_job_cost: int = 500                # credits or requests one bulk job costs (with its upload and poll)
    bulk_read_back: int = 0                 # records per call reading back what a job wrote (0: none)

    @classmethod
    def from_limits(cls, limits: Mapping[str, Any], features: Mapping[str, Any] | None = None) -> Allowance:
        features = features or {}
        unit: Unit = "requests" if limits.get("unit") == "requests" else "credits"
        bulk = bool(features.get("bulk_write", False))
        if unit == "credits":
            return cls(
                unit=unit,
                credits_base=_int_or_none(limits.get("credits_base")),
                credits_per_user=int(limits.get("credits_per_user") or 0),
                credits_cap=_int_or_none(limits.get("credits_cap")),
                rest_batch=int(limits.get("records_per_call") or 100),
                records_per_cost_unit=10,
                bulk_available=bulk,
                bulk_batch=int(limits.get("bulk_write_records_per_job") or 25_000),
                # The job, its upload, a poll and the result download; then the records' modified times read
                # back a call per 100 (the result file has none), as the loader does (connector.cost).
                bulk_job_cost=int(limits.get("bulk_job_credits") or 500) + 3,
                bulk_read_back=int(limits.get("records_per_call") or 100),
            )
        # Freshsales: single-record writes cost a request each; a bulk_upsert job of `records_per_call` costs
        # its POST plus one job-status poll (reference/freshsales.md, "Resources").
        return cls(
            unit=unit,
            requests_per_hour=_int_or_none(limits.get("requests_per_hour")),
            rest_batch=1,
            records_per_cost_unit=0,
            bulk_available=bulk,
            bulk_batch=int(limits.get("records_per_call") or 100),
            bulk_job_cost=2,
        )

    def credits_per_day(self, *, users: int, addon: int = 0, reserve: int = 0) -> int | None:
        """Zoho's rolling-24-hour credits: base + per-user × users, capped, plus add-ons, less the reserve."""
        if self.unit != "credits" or self.credits_base is None:
            return None
        total = self.credits_base + self.credits_per_user * users
        if self.credits_cap is not None:
            total = min(total, self.credits_cap)
        return max(total + addon - reserve, 0)

    def requests_per_day(self, *, reserve: int = 0) -> int | None:
        """Freshsales' hourly allowance (less the hourly reserve) over a whole day."""
        if self.unit != "requests" or self.requests_per_hour is None:
            return None
        return max(self.requests_per_hour - reserve, 0) * 24


@dataclass(frozen=True)
class Load:
    name: str                      # what the customer calls it: the source object
    records: int
    kind: LoadKind = LoadKind.RECORDS
    bulk_capable: bool = False     # every destination module it lands in supports bulk jobs
    modules: tuple[str, ...] = ()


@dataclass(frozen=True)
class LoadForecast:
    name: str
    records: int
    modules: tuple[str, ...]
    rest_calls: int
    rest_cost: int
    bulk_jobs: int
    bulk_cost: int | None          # None: no bulk path for this load
    method: Literal["rest", "bulk", "none"]
    cost: int


@dataclass(frozen=True)
class ApiForecast:
    unit: Unit
    loads: tuple[LoadForecast, ...]
    rest_only_cost: int            # everything through REST
    cost: int                      # with bulk jobs where they are cheaper
    saving: int                    # rest_only_cost - cost
    per_day: int | None            # allowance per day after reserve; None when unknown
    days: int | None               # calendar days of allowance the load needs (rest_only_days with REST only)
    rest_only_days: int | None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def rest_cost(records: int, *, batch: int, records_per_cost_unit: int, kind: LoadKind = LoadKind.RECORDS) -> tuple[
    int, int
]:
    """(calls, cost) to write `records` through REST. Zoho: 1 credit per 10 records of each call of ≤100
    (reference/zoho-crm-v8.md, "Limits"); attachments: one call, one unit, per file."""
    if records <= 0:
        return 0, 0
    if kind is LoadKind.ATTACHMENTS:
        return records, records
    calls = math.ceil(records / batch)
    if records_per_cost_unit <= 0:
        return calls, calls
    full, rest = divmod(records, batch)
    cost = full * math.ceil(batch / records_per_cost_unit) + math.ceil(rest / records_per_cost_unit)
    return calls, cost


def bulk_cost(records: int, *, batch: int, job_cost: int, read_back: int = 0) -> tuple[int, int]:
    """(jobs, cost) to load `records` in bulk jobs of up to `batch` records, with one call per `read_back`
    records reading back what they wrote."""
    if records <= 0:
        return 0, 0
    jobs = math.ceil(records / batch)
    return jobs, jobs * job_cost + (math.ceil(records / read_back) if read_back > 0 else 0)


def forecast_load(load: Load, allowance: Allowance) -> LoadForecast:
    calls, by_rest = rest_cost(
        load.records, batch=allowance.rest_batch, records_per_cost_unit=allowance.records_per_cost_unit,
        kind=load.kind,
    )
    jobs, by_bulk_or_none = 0, None
    if allowance.bulk_available and load.bulk_capable and load.kind is LoadKind.RECORDS and load.records > 0:
        jobs, by_bulk_or_none = bulk_cost(load.records, batch=allowance.bulk_batch, job_cost=allowance.bulk_job_cost,
                                          read_back=allowance.bulk_read_back)
    if load.records <= 0:
        method: Literal["rest", "bulk", "none"] = "none"
        cost = 0
    elif by_bulk_or_none is not None and by_bulk_or_none < by_rest:
        method, cost = "bulk", by_bulk_or_none
    else:
        method, cost = "rest", by_rest
    return LoadForecast(
        name=load.name, records=load.records, modules=load.modules, rest_calls=calls, rest_cost=by_rest,
        bulk_jobs=jobs, bulk_cost=by_bulk_or_none, method=method, cost=cost,
    )


def _days(cost: int, per_day: int | None) -> int | None:
    if per_day is None:
        return None
    if cost <= 0:
        return 0
    if per_day <= 0:
        return None
    return math.ceil(cost / per_day)


def api_forecast(
    *, loads: Sequence[Load], allowance: Allowance, users: int = 1, addon: int = 0, reserve: int = 0
) -> ApiForecast:
    """Cost of `loads` on `allowance`, choosing bulk jobs where they are cheaper, and the calendar days it takes."""
    forecasts = tuple(forecast_load(load, allowance) for load in loads)
    rest_only = sum(f.rest_cost for f in forecasts)
    cost = sum(f.cost for f in forecasts)
    if allowance.unit == "credits":
        per_day = allowance.credits_per_day(users=users, addon=addon, reserve=reserve)
    else:
        per_day = allowance.requests_per_day(reserve=reserve)
    notes: list[str] = []
    if per_day == 0:
        notes.append(f"The reserve leaves no {allowance.unit} for the migration.")
    if allowance.unit == "credits" and allowance.credits_base is not None and allowance.credits_cap is not None:
        uncapped = allowance.credits_base + allowance.credits_per_user * users
        if uncapped > allowance.credits_cap:
            notes.append(f"Credits are capped at {allowance.credits_cap:,} a day on this edition.")
    return ApiForecast(
        unit=allowance.unit, loads=forecasts, rest_only_cost=rest_only, cost=cost, saving=rest_only - cost,
        per_day=per_day, days=_days(cost, per_day), rest_only_days=_days(rest_only, per_day), notes=tuple(notes),
    )


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)
