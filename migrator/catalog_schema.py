"""The shape of the catalog files in fixtures/catalog/ and the rules that keep them coherent.

The catalog is project data, not code: platforms (what each system holds, editions/plans with their limits,
known gotchas) and one file per platform pair carrying the seed page's object-mapping rows.
`loadcatalog` reads the files through these models, so a typo in a fixture fails here, naming the file and
the row, not later in a migration.

Routing semantics (strategy `routed_records`): the rule named in `route.rule` sends each source record to one
branch; a row moves only the records whose branch is one of its `route.targets` keys. Rows that share a source
object and a rule therefore split the records between them without overlap (checked below).
"""

from __future__ import annotations

import json
from collections import Counter
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

_M = TypeVar("_M", bound=BaseModel)


class CatalogError(ValueError):
    """A catalog file is malformed or contradicts another catalog file."""


class _Strict(BaseModel):
    # Unknown keys are typos until declared here: the file format is shared with the loader.
    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------------------------------- enums


class PlatformKind(StrEnum):
    SOURCE = "source"
    DESTINATION = "destination"


class Severity(StrEnum):
    BLOCKER = "blocker"
    WARNING = "warning"
    INFO = "info"


class Cardinality(StrEnum):
    ONE_TO_ONE = "1:1"
    ONE_TO_MANY = "1:many"
    MANY_TO_ONE = "many:1"


class Strategy(StrEnum):
    RECORDS = "records"
    ROUTED_RECORDS = "routed_records"
    MERGE_FIELDS = "merge_fields"
    SUBFORM = "subform"
    NOTES = "notes"
    ATTACHMENTS = "attachments"
    USERS = "users"
    PICKLIST_VALUES = "picklist_values"
    CUSTOM_FIELDS = "custom_fields"
    CUSTOM_MODULE = "custom_module"
    REBUILD_REFERENCE = "rebuild_reference"


class RouteRule(StrEnum):
    # Inactive or unconverted patients (no first appointment) are leads; no status flag means patient.
    PATIENT_STATUS = "patient_status"
    # Dentrix: inactive recall or no treatment booked in the last 18 months → lead.
    NO_TREATMENT_18_MONTHS = "no_treatment_18_months"
    # Dentrix: a Non-Patient guarantor (head of household, not treated) is a responsible party, not a patient.
    RESPONSIBLE_PARTY = "responsible_party"
    # Dr.DENTES: blocked time / provider-unavailable slots have no patient and become tasks.
    BLOCKED_TIME = "blocked_time"
    # Dental-Exec: recall entries live among appointments and become tasks.
    RECALL_RECORD = "recall_record"


class GotchaCheck(StrEnum):
    """Machine checks the engine can run; the closed list shared with the planning services."""

    NONE = ""
    ZOHO_EDITION_API_ACCESS = "zoho_edition_api_access"
    ZOHO_EDITION_SALES_ORDERS = "zoho_edition_sales_orders"
    ZOHO_EDITION_INVOICES = "zoho_edition_invoices"
    ZOHO_SUBFORMS_CSV_EXPORT = "zoho_subforms_csv_export"
    ZOHO_CREDIT_BUDGET = "zoho_credit_budget"
    ZOHO_OWNER_MAPPING = "zoho_owner_mapping"
    DENTRIX_INFLIGHT_CLAIMS = "dentrix_inflight_claims"
    DENTRIX_IMAGING_SEPARATE = "dentrix_imaging_separate"
    DENTRIX_BALANCE_FORWARD = "dentrix_balance_forward"
    DENTRIX_CUSTOM_FIELDS = "dentrix_custom_fields"
    FRESHSALES_NO_FIELD_API = "freshsales_no_field_api"
    FRESHSALES_HOURLY_LIMIT = "freshsales_hourly_limit"
    FRESHSALES_LEADS_ARE_CONTACTS = "freshsales_leads_are_contacts"
    DRDENTES_TURKISH_ENCODING = "drdentes_turkish_encoding"
    ATTACHMENT_SIZE_CAP = "attachment_size_cap"
    NOTE_SIZE_CAP = "note_size_cap"


class LimitUnit(StrEnum):
    CREDITS = "credits"
    REQUESTS = "requests"


class CustomFieldType(StrEnum):
    TEXT = "text"
    TEXTAREA = "textarea"
    INTEGER = "integer"
    DECIMAL = "decimal"
    PERCENT = "percent"
    CURRENCY = "currency"
    DATE = "date"
    DATETIME = "datetime"
    BOOLEAN = "boolean"
    PICKLIST = "picklist"
    MULTISELECT = "multiselect"
    LOOKUP = "lookup"
    USERLOOKUP = "userlookup"


Slug = Annotated[str, Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")]
NonEmpty = Annotated[str, Field(min_length=1)]
ZOHO_LABEL_MAX = 25  # reference/zoho-crm-v8.md, "Metadata and schema": module labels ≤25 chars


# ------------------------------------------------------------------------------------------------- platforms


class Limits(_Strict):
    """An edition's or plan's allowance. Null means "not applicable or not published" (never zero)."""

    credits_base: int | None = None
    credits_per_user: int | None = None
    credits_cap: int | None = None            # null with unit=credits: unlimited (Zoho Ultimate)
    concurrency: int | None = None
    attachment_max_bytes: int | None = None
    window_seconds: int = Field(gt=0)
    unit: LimitUnit
    requests_per_hour: int | None = None
    custom_fields_per_module: int | None = None
    file_max_bytes: int | None = None
    bulk_write_records_per_job: int | None = None
    bulk_job_credits: int | None = None
    records_per_call: int | None = None
    # Added key: notes longer than this are split into several notes (seed 004; Freshsales 32 KB).
    note_max_bytes: int | None = None

    @model_validator(mode="after")
    def _unit_has_its_numbers(self) -> Self:
        if self.unit is LimitUnit.CREDITS and self.credits_base is None:
            raise ValueError("a credit-metered edition needs credits_base")
        if self.unit is LimitUnit.REQUESTS and self.requests_per_hour is None:
            raise ValueError("a request-metered plan needs requests_per_hour")
        return self

    def credits_for(self, users: int) -> int | None:
        """The daily credit allowance for `users` licences (None when not credit-metered or unlimited cap)."""
        if self.credits_base is None:
            return None
        total = self.credits_base + (self.credits_per_user or 0) * users
        return total if self.credits_cap is None else min(total, self.credits_cap)


class Features(_Strict):
    sales_orders: bool = False
    invoices: bool = False
    subforms: bool = False
    custom_modules: bool = False
    bulk_write: bool = False


class Edition(_Strict):
    slug: Slug
    name: NonEmpty
    api_access: bool
    limits: Limits
    features: Features


class PlatformObjectSpec(_Strict):
    key: NonEmpty
    label: NonEmpty
    description: str = ""


class Gotcha(_Strict):
    key: Slug
    title: NonEmpty
    detail: NonEmpty
    severity: Severity
    check: GotchaCheck = GotchaCheck.NONE


class PlatformFile(_Strict):
    slug: Slug
    name: NonEmpty
    kind: PlatformKind
    description: NonEmpty
    objects: list[PlatformObjectSpec] = Field(min_length=1)
    editions: list[Edition] = []
    gotchas: list[Gotcha] = []

    @model_validator(mode="after")
    def _unique_keys(self) -> Self:
        _require_unique("object key", [o.key for o in self.objects])
        _require_unique("edition slug", [e.slug for e in self.editions])
        _require_unique("gotcha key", [g.key for g in self.gotchas])
        if self.kind is PlatformKind.SOURCE and self.editions:
            raise ValueError("source platforms carry no editions")
        if self.kind is PlatformKind.DESTINATION and not self.editions:
            raise ValueError("a destination needs at least one edition/plan")
        return self

    @property
    def object_keys(self) -> frozenset[str]:
        return frozenset(o.key for o in self.objects)


# --------------------------------------------------------------------------------------------------- pairs


class Compatibility(_Strict):
    one_to_one: int = Field(ge=0)
    total: int = Field(gt=0)

    @model_validator(mode="after")
    def _not_more_than_total(self) -> Self:
        if self.one_to_one > self.total:
            raise ValueError("one_to_one cannot exceed total")
        return self


class ComplexityReasons(_Strict):
    object_compatibility: NonEmpty
    mapping_clarity: NonEmpty
    timeline: NonEmpty
    api_constraints: NonEmpty
    data_volume: NonEmpty


class Complexity(_Strict):
    grade: Annotated[str, Field(pattern=r"^[A-F]$")]
    label: NonEmpty
    reasons: ComplexityReasons


class Timeline(_Strict):
    min_weeks: int = Field(ge=0)
    max_weeks: int = Field(ge=0)
    text: NonEmpty
    # Added keys: calendar days, for seeds quoted in days or hours ("5-10 business days", "24-72 hours").
    min_days: int | None = Field(default=None, ge=0)
    max_days: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.min_weeks > self.max_weeks:
            raise ValueError("min_weeks is after max_weeks")
        if self.min_days is not None and self.max_days is not None and self.min_days > self.max_days:
            raise ValueError("min_days is after max_days")
        return self


class SourceIdField(_Strict):
    module_field_label: NonEmpty
    type: CustomFieldType = CustomFieldType.TEXT
    unique: bool = True
    # Added key: modules whose seed names the id field differently (Dental-Exec: Contacts use Source_Patient_ID).
    module_overrides: dict[str, NonEmpty] = {}

    def label_for(self, module: str) -> str:
        """The unique custom field that keys re-runs in `module`."""
        return self.module_overrides.get(module, self.module_field_label)


class Route(_Strict):
    field: NonEmpty                 # the source field concept the rule reads, e.g. "status"
    rule: RouteRule
    targets: dict[str, str] = Field(min_length=1)   # branch (destination module) -> when it applies
    # Added key: Freshsales has no Leads module; a lead is a contact in this lifecycle stage
    # (reference/freshsales.md, "Resources").
    lifecycle_stage: str = ""


class CustomModule(_Strict):
    api_name: Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$")]
    singular_label: Annotated[str, Field(min_length=1, max_length=ZOHO_LABEL_MAX)]
    plural_label: Annotated[str, Field(min_length=1, max_length=ZOHO_LABEL_MAX)]


class Companion(_Strict):
    """Added key: a second move that rides on the same seed row (e.g. Dentrix images as attachments of the
    notes row). It has no route and no custom module of its own."""

    strategy: Strategy
    source_objects: list[NonEmpty] = Field(min_length=1)
    destination_module: str
    parent_source_object: str = ""
    notes: str = ""


_PARENTED = {
    Strategy.MERGE_FIELDS, Strategy.SUBFORM, Strategy.NOTES, Strategy.ATTACHMENTS, Strategy.CUSTOM_FIELDS,
}


def _check_move(strategy: Strategy, destination_module: str, parent: str) -> None:
    if strategy is Strategy.REBUILD_REFERENCE and destination_module:
        raise ValueError("rebuild_reference rows have no destination_module")
    if strategy is not Strategy.REBUILD_REFERENCE and not destination_module:
        raise ValueError(f"strategy {strategy.value} needs a destination_module")
    if strategy in _PARENTED and not parent:
        raise ValueError(f"strategy {strategy.value} needs parent_source_object (whose record receives it)")


class ObjectMappingRow(_Strict):
    position: int = Field(ge=1)
    source_label: NonEmpty
    destination_label: NonEmpty
    cardinality: Cardinality
    compatibility: NonEmpty
    description: NonEmpty
    source_objects: list[NonEmpty] = Field(min_length=1)
    strategy: Strategy
    destination_module: str
    parent_source_object: str = ""
    route: Route | None = None
    custom_module: CustomModule | None = None
    companion: Companion | None = None
    notes: str = ""

    @model_validator(mode="after")
    def _strategy_has_what_it_needs(self) -> Self:
        _check_move(self.strategy, self.destination_module, self.parent_source_object)
        if (self.strategy is Strategy.ROUTED_RECORDS) != (self.route is not None):
            raise ValueError("a route is required for routed_records and only for it")
        if self.route is not None and self.destination_module not in self.route.targets:
            raise ValueError("destination_module must be one of the route's targets")
        if (self.strategy is Strategy.CUSTOM_MODULE) != (self.custom_module is not None):
            raise ValueError("custom_module is required for the custom_module strategy and only for it")
        if self.custom_module is not None and self.custom_module.api_name != self.destination_module:
            raise ValueError("destination_module must be the custom module's api_name")
        if len(self.source_objects) > 1 and self.cardinality is Cardinality.ONE_TO_MANY:
            raise ValueError("a 1:many row splits one source object, not several")
        return self


class CustomFieldRow(_Strict):
    module: NonEmpty
    label: NonEmpty
    api_name: NonEmpty
    type: CustomFieldType
    length: int | None = Field(default=None, gt=0)
    picklist: list[NonEmpty] = []
    lookup_module: str = ""
    unique: bool = False
    why: NonEmpty

    @model_validator(mode="after")
    def _type_has_what_it_needs(self) -> Self:
        if self.type in {CustomFieldType.PICKLIST, CustomFieldType.MULTISELECT} and not self.picklist:
            raise ValueError(f"picklist field {self.label} needs picklist values")
        if self.type not in {CustomFieldType.PICKLIST, CustomFieldType.MULTISELECT} and self.picklist:
            raise ValueError(f"only picklists carry values ({self.label})")
        if (self.type is CustomFieldType.LOOKUP) != bool(self.lookup_module):
            raise ValueError(f"lookup_module is required for lookup fields and only for them ({self.label})")
        return self


class SubformField(_Strict):
    label: NonEmpty
    type: CustomFieldType
    picklist: list[NonEmpty] = []


class Subform(_Strict):
    module: NonEmpty
    label: NonEmpty
    fields: list[SubformField] = Field(min_length=1)


class PairFile(_Strict):
    source: Slug
    destination: Slug
    seed: Annotated[str, Field(pattern=r"^\d{3}_[0-9a-f]{16}\.txt$")]
    title: NonEmpty
    summary: NonEmpty
    compatibility: Compatibility
    complexity: Complexity
    timeline: Timeline
    source_id_field: SourceIdField
    object_mappings: list[ObjectMappingRow] = Field(min_length=1)
    custom_fields: list[CustomFieldRow] = []
    subforms: list[Subform] = []
    gotchas: list[Gotcha] = []

    @model_validator(mode="after")
    def _rows_are_coherent(self) -> Self:
        positions = sorted(r.position for r in self.object_mappings)
        if positions != list(range(1, len(positions) + 1)):
            raise ValueError(f"positions must run 1..{len(positions)} without gaps or repeats: {positions}")
        if self.compatibility.total != len(self.object_mappings):
            raise ValueError("compatibility.total must equal the number of object-mapping rows")
        _require_unique("custom module", [m.api_name for m in self.custom_modules])
        _require_unique("custom field", [f"{f.module}.{f.label}" for f in self.custom_fields])
        _require_unique("gotcha key", [g.key for g in self.gotchas])
        branches: dict[tuple[tuple[str, ...], RouteRule], set[tuple[str, str]]] = {}
        for row in self.object_mappings:
            if row.route is None:
                continue
            taken = branches.setdefault((tuple(row.source_objects), row.route.rule), set())
            mine = {(target, row.route.lifecycle_stage) for target in row.route.targets}
            if taken & mine:
                raise ValueError(f"row {row.position}: route targets overlap another row with the same rule")
            taken |= mine
        return self

    @property
    def key(self) -> str:
        return f"{self.source}__{self.destination}"

    @property
    def custom_modules(self) -> list[CustomModule]:
        return [r.custom_module for r in self.object_mappings if r.custom_module is not None]

    def declared_field_labels(self) -> set[str]:
        """Every custom field and subform field label the pair declares (the schema checklist's names)."""
        labels = {f.label for f in self.custom_fields}
        labels |= {f.label for s in self.subforms for f in s.fields}
        labels.add(self.source_id_field.module_field_label)
        labels |= set(self.source_id_field.module_overrides.values())
        return labels


# ------------------------------------------------------------------------------------------------ cross-file


def check_pair(pair: PairFile, platforms: dict[str, PlatformFile]) -> list[str]:
    """Problems between a pair and its platforms (empty when coherent)."""
    source, destination = platforms.get(pair.source), platforms.get(pair.destination)
    if source is None or source.kind is not PlatformKind.SOURCE:
        return [f"{pair.key}: source {pair.source!r} is not a source platform"]
    if destination is None or destination.kind is not PlatformKind.DESTINATION:
        return [f"{pair.key}: destination {pair.destination!r} is not a destination platform"]
    modules = destination.object_keys | {m.api_name for m in pair.custom_modules}
    problems: list[str] = []

    def check_move(where: str, objects: list[str], module: str, parent: str) -> None:
        unknown = [o for o in objects if o not in source.object_keys]
        problems.extend(f"{where}: unknown source object {o!r}" for o in unknown)
        if parent and parent not in source.object_keys:
            problems.append(f"{where}: unknown parent_source_object {parent!r}")
        if module and module not in modules:
            problems.append(f"{where}: unknown destination module {module!r}")

    for row in pair.object_mappings:
        where = f"{pair.key} row {row.position}"
        check_move(where, row.source_objects, row.destination_module, row.parent_source_object)
        if row.route is not None:
            unknown = [t for t in row.route.targets if t not in modules]
            problems.extend(f"{where}: unknown route target {t!r}" for t in unknown)
        if row.companion is not None:
            c = row.companion
            check_move(f"{where} companion", c.source_objects, c.destination_module, c.parent_source_object)
    for f in pair.custom_fields:
        if f.module not in modules:
            problems.append(f"{pair.key} custom field {f.label}: unknown module {f.module!r}")
        if f.lookup_module and f.lookup_module not in modules:
            problems.append(f"{pair.key} custom field {f.label}: unknown lookup module {f.lookup_module!r}")
    for s in pair.subforms:
        if s.module not in modules:
            problems.append(f"{pair.key} subform {s.label}: unknown module {s.module!r}")
    return problems


def load_catalog_files(directory: Path) -> tuple[list[PlatformFile], list[PairFile]]:
    """Read and validate platforms.json and pairs/*.json under `directory`.

    Raises CatalogError naming the file (and row) at fault.
    """
    platforms_path = directory / "platforms.json"
    raw = _read_json(platforms_path)
    if not isinstance(raw, list):
        raise CatalogError(f"{platforms_path}: expected a list of platforms")
    platforms = [_validate(PlatformFile, item, f"{platforms_path}[{i}]") for i, item in enumerate(raw)]
    by_slug = {p.slug: p for p in platforms}
    if len(by_slug) != len(platforms):
        raise CatalogError(f"{platforms_path}: platform slugs repeat")

    pairs: list[PairFile] = []
    for path in sorted((directory / "pairs").glob("*.json")):
        pair = _validate(PairFile, _read_json(path), str(path))
        if path.stem != pair.key:
            raise CatalogError(f"{path}: file name must be {pair.key}.json")
        problems = check_pair(pair, by_slug)
        if problems:
            raise CatalogError(f"{path}: " + "; ".join(problems))
        pairs.append(pair)
    if len({p.seed for p in pairs}) != len(pairs):
        raise CatalogError(f"{directory}: two pairs cite the same seed")
    return platforms, pairs


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise CatalogError(f"{path}: unreadable JSON ({exc})") from exc


def _validate(model: type[_M], data: Any, where: str) -> _M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise CatalogError(f"{where}: {exc}") from exc


def _require_unique(what: str, values: list[str]) -> None:
    repeated = sorted(v for v, n in Counter(values).items() if n > 1)
    if repeated:
        raise ValueError(f"repeated {what}: {', '.join(repeated)}")
