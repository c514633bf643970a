"""Quotes for account managers: rule-based price, complexity grade with its reasons, timeline and API forecast.

Pricing comes from PricingRule rows (volume bands plus add-ons, no per-record fee); 2,000,000 records or more are
scoped individually, with no price (seed pages, "Estimator"). The grade and timeline start from the pair's catalog
values and move for volume, custom objects, the API allowance and the edition's constraints — each move says why.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt

from migrator.models import (
    Client,
    Edition,
    Gotcha,
    MappingStrategy,
    Migration,
    PairObjectMapping,
    PlatformPair,
    PricingRule,
    Quote,
)
from migrator.services.forecast import Allowance, Load, LoadKind, api_forecast, module_supports_bulk

SCOPED_INDIVIDUALLY_FROM = 2_000_000  # seed pages, "Estimator": migrations over 2M records are scoped individually
CURRENCY = "USD"
CENTS = Decimal("0.01")

# Add-on keys a PricingRule may price, and what quantity of the inputs each one multiplies.
ADDON_KEYS: dict[str, str] = {
    "attachments_gb": "GB of attachments (rounded up)",
    "custom_object": "custom object",
    "delta_window": "delta window beyond the included one",
}

# The grade moves by these rules; they are the account managers' rules of thumb, kept together to be read.
VOLUME_WEEK_FROM = 250_000        # one more week of load, checks and reconciliation
VOLUME_GRADE_FROM = 1_000_000     # one grade harder and two more weeks
CUSTOM_OBJECTS_GRADE_FROM = 3     # three custom objects or more: a schema design of its own
API_DAYS_GRADE_FROM = 8           # more than a week of API allowance: the load spans the practice's working weeks

_GRADES = "ABC"
_GRADE_LABELS = {"A": "Simple migration", "B": "Standard migration", "C": "Complex migration"}
REASON_LABELS = {
    "object_compatibility": "Object compatibility",
    "mapping_clarity": "Field mapping clarity",
    "timeline": "Timeline complexity",
    "api_constraints": "API constraints",
    "data_volume": "Data volume sensitivity",
}
_RIDES_ON_PARENT = {
    MappingStrategy.MERGE_FIELDS, MappingStrategy.SUBFORM, MappingStrategy.CUSTOM_FIELDS,
    MappingStrategy.PICKLIST_VALUES, MappingStrategy.USERS, MappingStrategy.REBUILD_REFERENCE,
}


class QuoteError(ValueError):
    """The quote cannot be computed as asked (unknown pair or edition, pricing rules that leave a gap)."""


class QuoteInputs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    counts: dict[str, NonNegativeInt] = Field(default_factory=dict, description="Source object -> records.")
    attachments_gb: Decimal = Field(default=Decimal(0), ge=0)
    custom_objects: NonNegativeInt = 0
    delta_windows: NonNegativeInt = 0
    edition: str
    users: int = Field(default=1, ge=1)
    addon_credits: NonNegativeInt = 0
    reserve: NonNegativeInt = 0

    @property
    def total_records(self) -> int:
        return sum(self.counts.values())


class PriceLine(BaseModel):
    key: str
    label: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    amount: Decimal


class Finding(BaseModel):
    key: str
    title: str
    detail: str = ""
    severity: Literal["blocker", "warning", "info"]
    origin: Literal["edition", "platform", "pair"]


class Reason(BaseModel):
    key: str
    label: str
    text: str
    adjustments: list[str] = Field(default_factory=list)


class GradeOut(BaseModel):
    grade: str
    label: str
    catalog_grade: str
    reasons: list[Reason]


class TimelineOut(BaseModel):
    min_weeks: int
    max_weeks: int
    text: str
    catalog_text: str
    why: list[str]


class QuoteResult(BaseModel):
    pair: str
    pair_title: str
    edition: str
    edition_name: str
    users: int
    total_records: int
    scoped_individually: bool
    band: str | None
    currency: str = CURRENCY
    lines: list[PriceLine]
    total: Decimal | None
    grade: GradeOut
    timeline: TimelineOut
    forecast: dict[str, Any]
    findings: list[Finding]
    unknown_objects: list[str]
    riding_objects: list[str]

    @property
    def blockers(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "blocker"]


# --------------------------------------------------------------------------------------------------- look-ups


def pair_get(*, slug: str) -> PlatformPair:
    """A pair by its `source:destination` slug (e.g. `dentrix:zoho-crm`)."""
    source, _, destination = slug.partition(":")
    try:
        return PlatformPair.objects.select_related("source", "destination").get(
            source__slug=source, destination__slug=destination
        )
    except PlatformPair.DoesNotExist:
        raise QuoteError(f"No platform pair {slug!r} in the catalog (run loadcatalog?)") from None


def edition_get(*, pair: PlatformPair, slug: str) -> Edition:
    try:
        return Edition.objects.get(platform=pair.destination, slug=slug)
    except Edition.DoesNotExist:
        known = ", ".join(Edition.objects.filter(platform=pair.destination).values_list("slug", flat=True))
        raise QuoteError(f"{pair.destination.name} has no edition {slug!r} (known: {known or 'none'})") from None


def quote_inputs_from_migration(*, migration: Migration, **overrides: Any) -> QuoteInputs:
    """Inputs with the record counts discovery found; edition and users from the destination connection."""
    counts = dict(migration.discovered_objects.values_list("key", "record_count"))
    destination = migration.destination_connection
    values: dict[str, Any] = {
        "counts": counts, "edition": destination.edition, "users": destination.users,
        "addon_credits": destination.addon_credits, "reserve": destination.reserve,
    }
    values.update(overrides)
    return QuoteInputs.model_validate(values)


# --------------------------------------------------------------------------------------------------- pricing


@dataclass(frozen=True)
class Pricing:
    band: PricingRule | None
    lines: list[PriceLine]
    total: Decimal | None
    scoped_individually: bool


def _addon_quantity(key: str, inputs: QuoteInputs) -> Decimal:
    if key == "attachments_gb":
        return Decimal(math.ceil(inputs.attachments_gb))
    if key == "custom_object":
        return Decimal(inputs.custom_objects)
    if key == "delta_window":
        return Decimal(inputs.delta_windows)
    return Decimal(0)


def _band_covers(rule: PricingRule, records: int) -> bool:
    low = rule.min_records or 0
    return low <= records and (rule.max_records is None or records < rule.max_records)


def pricing_rules_check(rules: Iterable[PricingRule]) -> list[str]:
    """Problems with a set of active rules: gaps or overlaps between bands below 2M, unknown add-on keys."""
    rules = [r for r in rules if r.active]
    problems = [
        f"Add-on {r.name!r}: unknown key {r.key!r} (known: {', '.join(ADDON_KEYS)})"
        for r in rules if r.kind == PricingRule.Kind.ADDON and r.key not in ADDON_KEYS
    ]
    bands = sorted((r for r in rules if r.kind == PricingRule.Kind.BAND), key=lambda r: r.min_records or 0)
    edge = 0
    for band in bands:
        low = band.min_records or 0
        if low > edge:
            problems.append(f"No band covers {edge:,}–{low:,} records")
        elif low < edge:
            problems.append(f"Band {band.name!r} overlaps the band below it")
        edge = max(edge, band.max_records if band.max_records is not None else SCOPED_INDIVIDUALLY_FROM)
    if edge < SCOPED_INDIVIDUALLY_FROM:
        problems.append(f"No band covers {edge:,}–{SCOPED_INDIVIDUALLY_FROM:,} records")
    return problems


def quote_price(*, inputs: QuoteInputs, rules: Iterable[PricingRule] | None = None) -> Pricing:
    """The band that covers the total record count plus the add-ons the inputs ask for. No per-record fee."""
    active = [r for r in (PricingRule.objects.all() if rules is None else rules) if r.active]
    records = inputs.total_records
    if records >= SCOPED_INDIVIDUALLY_FROM:
        return Pricing(band=None, lines=[], total=None, scoped_individually=True)
    bands = sorted((r for r in active if r.kind == PricingRule.Kind.BAND), key=lambda r: (r.position, r.pk or 0))
    band = next((r for r in bands if _band_covers(r, records)), None)
    if band is None:
        raise QuoteError(f"No active pricing band covers {records:,} records: add one in the admin")
    lines = [PriceLine(key=band.key, label=band.name, quantity=Decimal(1), unit="migration",
                       unit_price=band.price, amount=band.price)]
    addons = sorted((r for r in active if r.kind == PricingRule.Kind.ADDON), key=lambda r: (r.position, r.pk or 0))
    for rule in addons:
        quantity = _addon_quantity(rule.key, inputs)
        if quantity > 0:
            amount = (rule.price * quantity).quantize(CENTS, ROUND_HALF_UP)
            lines.append(PriceLine(key=rule.key, label=rule.name, quantity=quantity,
                                   unit=rule.unit or ADDON_KEYS.get(rule.key, ""), unit_price=rule.price,
                                   amount=amount))
    total = sum((line.amount for line in lines), Decimal(0)).quantize(CENTS, ROUND_HALF_UP)
    return Pricing(band=band, lines=lines, total=total, scoped_individually=False)


# --------------------------------------------------------------------------------------------------- forecast


def _record_rows(rows: Iterable[PairObjectMapping]) -> dict[str, list[PairObjectMapping]]:
    by_object: dict[str, list[PairObjectMapping]] = {}
    for row in rows:
        for name in row.source_objects:
            by_object.setdefault(name, []).append(row)
    return by_object


def quote_loads(*, pair: PlatformPair, counts: Mapping[str, int]) -> tuple[list[Load], list[str], list[str]]:
    """(loads, unknown objects, objects that ride on a parent's write) for the pair's default object mappings."""
    by_object = _record_rows(pair.object_mappings.all())
    loads: list[Load] = []
    unknown: list[str] = []
    riding: list[str] = []
    for name, records in counts.items():
        rows = by_object.get(name, [])
        own = [r for r in rows if r.strategy not in _RIDES_ON_PARENT]
        if rows and not own:
            riding.append(name)
            continue
        if not rows:
            unknown.append(name)
        strategies = {r.strategy for r in own}
        if MappingStrategy.ATTACHMENTS in strategies:
            kind = LoadKind.ATTACHMENTS
        elif MappingStrategy.NOTES in strategies:
            kind = LoadKind.NOTES
        else:
            kind = LoadKind.RECORDS
        modules = sorted({m for r in own for m in _row_modules(r)})
        # Unknown objects are priced at REST rates: nothing says a bulk job can take them.
        bulk = bool(modules) and all(module_supports_bulk(pair.destination.slug, m) for m in modules)
        loads.append(Load(name=name, records=records, kind=kind, bulk_capable=bulk, modules=tuple(modules)))
    return loads, unknown, riding


def _row_modules(row: PairObjectMapping) -> list[str]:
    targets = list((row.route or {}).get("targets", {}))
    return targets or [row.destination_module]


# --------------------------------------------------------------------------------------------------- findings

_Check = Callable[["_Context"], bool]


@dataclass(frozen=True)
class _Context:
    edition: Edition
    modules: frozenset[str]
    inputs: QuoteInputs
    api_days: int | None
    has_subforms: bool


def _feature(ctx: _Context, name: str) -> bool:
    return bool((ctx.edition.features or {}).get(name, False))


# Machine checks by Gotcha.check_name. A gotcha with no check always shows; with an unknown check it shows too
# (the engine's preflight evaluates it later); with a known check it shows only when the check applies.
_CHECKS: dict[str, _Check] = {
    "zoho_edition_api_access": lambda c: not c.edition.api_access,
    "zoho_edition_sales_orders": lambda c: "Sales_Orders" in c.modules and not _feature(c, "sales_orders"),
    "zoho_edition_invoices": lambda c: bool({"Sales_Orders", "Invoices"} & c.modules) and not _feature(c, "invoices"),
    "zoho_subforms_csv_export": lambda c: c.has_subforms,
    "zoho_credit_budget": lambda c: (c.api_days or 0) > 1,
    "freshsales_hourly_limit": lambda c: (c.api_days or 0) > 1,
    "attachment_size_cap": lambda c: c.inputs.attachments_gb > 0 or "Attachments" in c.modules,
}
# Edition checks that must show even when the catalog carries no gotcha row for them.
_EDITION_FALLBACKS: dict[str, tuple[str, str]] = {
    "zoho_edition_api_access": ("API access requires Professional tier or above",
                                "This edition has no API access: upgrade before the migration can run."),
    "zoho_edition_sales_orders": ("Sales Orders need Professional or above",
                                  "Billing records map to Sales Orders, which this edition lacks."),
}
_EDITION_BLOCKING = {"zoho_edition_api_access", "zoho_edition_sales_orders"}


def quote_findings(*, pair: PlatformPair, ctx: _Context) -> list[Finding]:
    gotchas = Gotcha.objects.filter(platform__in=[pair.source, pair.destination]) | Gotcha.objects.filter(pair=pair)
    findings: list[Finding] = []
    seen_checks: set[str] = set()
    for gotcha in gotchas.order_by("severity", "title"):
        check = _CHECKS.get(gotcha.check_name)
        if check is not None and not check(ctx):
            continue
        seen_checks.add(gotcha.check_name)
        severity = gotcha.severity
        if gotcha.check_name in _EDITION_BLOCKING:
            severity = Gotcha.Severity.BLOCKER
        origin: Literal["edition", "platform", "pair"] = (
            "edition" if gotcha.check_name.startswith("zoho_edition") else "pair" if gotcha.pair_id else "platform"
        )
        findings.append(Finding(key=gotcha.key, title=gotcha.title, detail=gotcha.detail, severity=severity,
                                origin=origin))
    for check_name, (title, detail) in _EDITION_FALLBACKS.items():
        if check_name not in seen_checks and pair.destination.slug == "zoho-crm" and _CHECKS[check_name](ctx):
            findings.append(Finding(key=check_name, title=title, detail=detail, severity="blocker", origin="edition"))
    order = {"blocker": 0, "warning": 1, "info": 2}
    return sorted(findings, key=lambda f: (order[f.severity], f.origin != "edition", f.title))


# --------------------------------------------------------------------------------------------------- grade


def _grade_and_timeline(
    *, pair: PlatformPair, inputs: QuoteInputs, api_days: int | None, findings: list[Finding]
) -> tuple[GradeOut, TimelineOut]:
    catalog_reasons = pair.complexity_reasons or {}
    reasons = {key: Reason(key=key, label=label, text=str(catalog_reasons.get(key, "")))
               for key, label in REASON_LABELS.items()}
    steps = 0
    weeks = 0
    why: list[str] = []
    records = inputs.total_records

    def adjust(reason: str, text: str, *, grade: int = 0, add_weeks: int = 0) -> None:
        nonlocal steps, weeks
        steps += grade
        weeks += add_weeks
        reasons[reason].adjustments.append(text)
        if add_weeks:
            why.append(f"+{add_weeks} week{'s' if add_weeks > 1 else ''}: {text}")

    if records >= VOLUME_GRADE_FROM:
        adjust("data_volume", f"{records:,} records: one grade harder, with longer load and reconciliation.",
               grade=1, add_weeks=2)
    elif records >= VOLUME_WEEK_FROM:
        adjust("data_volume", f"{records:,} records: a longer load and reconciliation.", add_weeks=1)
    if inputs.custom_objects >= CUSTOM_OBJECTS_GRADE_FROM:
        adjust("mapping_clarity", f"{inputs.custom_objects} custom objects need their own modules and junctions.",
               grade=1, add_weeks=1)
    elif inputs.custom_objects:
        adjust("mapping_clarity", f"{inputs.custom_objects} custom object(s) to design as custom modules.")
    if api_days is not None and api_days >= API_DAYS_GRADE_FROM:
        extra = math.ceil((api_days - 7) / 7)
        adjust("api_constraints", f"the edition's API allowance spreads the load over {api_days} days.",
               grade=1, add_weeks=extra)
    elif api_days:
        adjust("api_constraints", f"the load fits in {api_days} day(s) of the edition's API allowance.")
    edition_blockers = [f for f in findings if f.origin == "edition" and f.severity == "blocker"]
    for finding in edition_blockers:
        adjust("api_constraints", f"edition blocker: {finding.title}.")
    for finding in (f for f in findings if f.origin == "edition" and f.severity == "warning"):
        adjust("mapping_clarity", f"edition constraint: {finding.title}.")

    start = pair.complexity_grade if pair.complexity_grade in _GRADES else "B"
    index = min(_GRADES.index(start) + steps, len(_GRADES) - 1)
    if edition_blockers:
        index = len(_GRADES) - 1
    grade = _GRADES[index]
    min_weeks, max_weeks = pair.timeline_min_weeks + weeks, pair.timeline_max_weeks + weeks
    if weeks:
        text = f"{max(min_weeks, 1)}–{max_weeks} weeks"
    else:
        text = pair.timeline_text or f"{min_weeks}–{max_weeks} weeks"
        why.append("The pair's typical timeline holds for these volumes.")
    return (
        GradeOut(grade=grade, label=_GRADE_LABELS[grade], catalog_grade=start, reasons=list(reasons.values())),
        TimelineOut(min_weeks=min_weeks, max_weeks=max_weeks, text=text,
                    catalog_text=pair.timeline_text or text, why=why),
    )


# --------------------------------------------------------------------------------------------------- the verbs


def quote_estimate(*, pair: PlatformPair, inputs: QuoteInputs) -> QuoteResult:
    """Everything a quote shows, computed without saving anything."""
    edition = edition_get(pair=pair, slug=inputs.edition)
    loads, unknown, riding = quote_loads(pair=pair, counts=inputs.counts)
    forecast = api_forecast(
        loads=loads, allowance=Allowance.from_limits(edition.limits or {}, edition.features or {}),
        users=inputs.users, addon=inputs.addon_credits, reserve=inputs.reserve,
    )
    modules = frozenset(m for load in loads for m in load.modules)
    has_subforms = any(
        r.strategy == MappingStrategy.SUBFORM and set(r.source_objects) & set(inputs.counts)
        for r in pair.object_mappings.all()
    )
    ctx = _Context(edition=edition, modules=modules, inputs=inputs, api_days=forecast.days, has_subforms=has_subforms)
    findings = quote_findings(pair=pair, ctx=ctx)
    pricing = quote_price(inputs=inputs)
    grade, timeline = _grade_and_timeline(pair=pair, inputs=inputs, api_days=forecast.days, findings=findings)
    return QuoteResult(
        pair=pair.slug, pair_title=str(pair), edition=edition.slug, edition_name=edition.name, users=inputs.users,
        total_records=inputs.total_records, scoped_individually=pricing.scoped_individually,
        band=pricing.band.name if pricing.band else None, lines=pricing.lines, total=pricing.total,
        grade=grade, timeline=timeline, forecast=forecast.as_dict(), findings=findings,
        unknown_objects=unknown, riding_objects=riding,
    )


def quote_create(
    *,
    pair: PlatformPair,
    inputs: QuoteInputs,
    client: Client | None = None,
    migration: Migration | None = None,
    user: AbstractBaseUser | AnonymousUser | None = None,
) -> Quote:
    """Compute and save a quote."""
    result = quote_estimate(pair=pair, inputs=inputs)
    with transaction.atomic():
        return Quote.objects.create(
            client=client or (migration.client if migration else None), migration=migration, pair=pair,
            edition=inputs.edition, users=inputs.users, inputs=inputs.model_dump(mode="json"),
            result=result.model_dump(mode="json"), total=result.total,
            scoped_individually=result.scoped_individually,
            created_by_id=user.pk if user is not None and user.is_authenticated else None,
        )


def quote_result(quote: Quote) -> QuoteResult:
    """A saved quote's result, parsed back."""
    return QuoteResult.model_validate(quote.result)
