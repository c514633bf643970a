"""The contracts every source and destination connector honours, their errors, and the registry.

Sources stream records; destinations take batches and answer one result per record. Nothing here knows about
Django: connectors are plain Python so that workers, the CLI, benchmarks and simulators share them.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, BinaryIO, Literal, Protocol, runtime_checkable

# --------------------------------------------------------------------------------------------------- errors


class ConnectorError(Exception):
    """Base of every connector error. `code` is the vendor's or ours; `field` the field at fault, if any."""

    def __init__(self, message: str, *, code: str = "", field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field


class PermanentError(ConnectorError):
    """The record or the configuration is wrong: retrying cannot help."""


class TemporaryError(ConnectorError):
    """429, 5xx, timeouts, a spent budget: retry later, honouring `retry_after` (seconds) when given."""

    def __init__(self, message: str, *, code: str = "", field: str = "", retry_after: float | None = None) -> None:
        super().__init__(message, code=code, field=field)
        self.retry_after = retry_after


class BudgetExhausted(TemporaryError):
    """The destination's allowance for the current window is spent. The run pauses until `resume_at`."""

    def __init__(self, message: str, *, resume_at: datetime, retry_after: float | None = None) -> None:
        super().__init__(message, code="BUDGET_EXHAUSTED", retry_after=retry_after)
        self.resume_at = resume_at


# --------------------------------------------------------------------------------------------------- sources


FieldType = Literal[
    "string", "text", "integer", "decimal", "currency", "boolean", "date", "datetime",
    "email", "phone", "code", "json", "id", "reference", "file",
]


@dataclass(frozen=True)
class SourceField:
    name: str
    label: str = ""
    type: FieldType = "string"
    # For reference fields: the source object they point at (e.g. appointment.patient_id -> "patient").
    references: str = ""
    custom: bool = False


@dataclass(frozen=True)
class SourceObject:
    name: str                      # stable machine name, e.g. "patient", "appointment"
    label: str
    fields: tuple[SourceField, ...]
    id_field: str
    owner_field: str = ""          # field holding the provider/staff id that owns the record
    modified_field: str = ""       # field holding the modification time, when the source has one
    has_attachments: bool = False


@dataclass(frozen=True)
class SourceRecord:
    object_name: str
    source_id: str
    data: Mapping[str, Any]        # parsed values: str, int, Decimal, date, datetime, bool, None, list, dict
    cursor: str                    # opaque position *after* this record; pass it back to resume
    modified_at: datetime | None = None
    owner_id: str | None = None


@dataclass(frozen=True)
class SourceIssue:
    """A row that could not be read. Never carries patient values: only where and why."""

    object_name: str
    reason: str
    file: str = ""
    line: int | None = None
    record_id: str = ""
    field: str = ""
    cursor: str = ""


@dataclass(frozen=True)
class SourceOwner:
    source_id: str
    name: str
    email: str = ""
    role: str = ""                 # provider, hygienist, staff
    active: bool = True


@dataclass(frozen=True)
class AttachmentRef:
    object_name: str
    source_id: str                 # the record the file belongs to
    ref: str                       # connector-specific handle passed back to open_attachment
    file_name: str
    size: int
    content_type: str = "application/octet-stream"


@runtime_checkable
class SourceConnector(Protocol):
    slug: str

    def discover(self) -> list[SourceObject]: ...

    def count(self, object_name: str) -> int: ...

    def iter_records(
        self, object_name: str, *, since: datetime | None = None, cursor: str | None = None
    ) -> Iterator[SourceRecord | SourceIssue]:
        """Stream records in a stable order; constant memory; resumable from `cursor`."""
        ...

    def owners(self) -> list[SourceOwner]: ...

    def attachments(self, object_name: str, source_id: str) -> list[AttachmentRef]: ...

    def attachments_of(self, record: SourceRecord) -> list[AttachmentRef]:
        """The files of a record already read: where the record itself names its file, no second look-up."""
        ...

    def open_attachment(self, ref: AttachmentRef) -> BinaryIO: ...

    def close(self) -> None: ...


# --------------------------------------------------------------------------------------------------- destinations


DestFieldType = Literal[
    "text", "textarea", "email", "phone", "integer", "decimal", "currency", "boolean", "date", "datetime",
    "picklist", "multiselect", "lookup", "owner", "subform", "json", "autonumber", "other",
]


@dataclass(frozen=True)
class DestField:
    api_name: str
    label: str
    type: DestFieldType
    length: int | None = None
    mandatory: bool = False
    read_only: bool = False
    unique: bool = False
    custom: bool = False
    picklist: tuple[str, ...] = ()
    lookup_module: str = ""        # for lookup fields: the module they point at


@dataclass(frozen=True)
class DestModule:
    api_name: str
    label: str
    custom: bool = False
    creatable: bool = True
    supports_bulk: bool = False


@dataclass(frozen=True)
class DestUser:
    id: str
    email: str
    name: str
    active: bool = True


@dataclass(frozen=True)
class FieldSpec:
    """A custom field to create. `api_name` is what we intend; the destination may derive another."""

    module: str
    label: str
    type: DestFieldType
    api_name: str = ""
    length: int | None = None
    picklist: tuple[str, ...] = ()
    lookup_module: str = ""


@dataclass(frozen=True)
class ModuleSpec:
    singular_label: str
    plural_label: str
    api_name: str = ""


@dataclass(frozen=True)
class WriteResult:
    """One record's outcome, in input order."""

    index: int
    ok: bool
    id: str = ""
    action: Literal["insert", "update", "delete", ""] = ""
    code: str = ""
    field: str = ""
    message: str = ""              # the vendor's message; may echo values, so shown only in the admin
    permanent: bool = True         # for failures: False means retry the record later
    modified_at: datetime | None = None


@dataclass(frozen=True)
class DestRecord:
    id: str
    data: Mapping[str, Any]
    modified_at: datetime | None = None


@dataclass
class CallCost:
    """What the destination charges; editable data per destination/edition (reference docs)."""

    per_call: int = 1
    per_records: int = 10          # writes cost 1 credit per this many records (Zoho), 0 = per call only
    bulk_job: int = 500
    extra: dict[str, int] = field(default_factory=dict)


@runtime_checkable
class DestinationConnector(Protocol):
    """Payloads are flat dicts of field api_name -> value. Lookup and owner fields take the destination id as a
    string; the connector wraps them in the vendor's wire shape using the field metadata."""

    slug: str

    def modules(self) -> list[DestModule]: ...

    def fields(self, module: str) -> list[DestField]: ...

    def users(self) -> list[DestUser]: ...

    def create_field(self, spec: FieldSpec) -> DestField: ...

    def create_module(self, spec: ModuleSpec) -> DestModule: ...

    def insert(self, module: str, records: Sequence[Mapping[str, Any]]) -> list[WriteResult]: ...

    def upsert(
        self, module: str, records: Sequence[Mapping[str, Any]], *, key_field: str
    ) -> list[WriteResult]: ...

    def update(self, module: str, records: Sequence[Mapping[str, Any]]) -> list[WriteResult]:
        """Each record carries its destination `id`."""
        ...

    def delete(self, module: str, ids: Sequence[str]) -> list[WriteResult]:
        """Delete for good (Freshsales: `/forget`), so a rollback leaves nothing behind."""
        ...

    def get(self, module: str, ids: Sequence[str]) -> list[DestRecord]: ...

    def iter_records(self, module: str, fields: Sequence[str]) -> Iterator[DestRecord]: ...

    def count(self, module: str) -> int: ...

    def attach(
        self, module: str, record_id: str, *, file_name: str, stream: BinaryIO, size: int, content_type: str
    ) -> WriteResult: ...

    def batch_size(self, module: str) -> int: ...

    def bulk_rows(self, module: str, n_records: int) -> int:
        """Records per bulk job when writing `n_records` of `module` through `bulk_upsert` costs less than batches
        of `batch_size`; 0 when it does not (or the destination has no such jobs)."""
        ...

    def bulk_upsert(
        self, module: str, records: Sequence[Mapping[str, Any]], *, key_field: str
    ) -> list[WriteResult]: ...

    def cost(self, operation: str, n_records: int) -> int:
        """Credits (Zoho) or requests (Freshsales) one call of `operation` on `n_records` costs."""
        ...

    def close(self) -> None: ...


# --------------------------------------------------------------------------------------------------- registry

# A platform slug -> the dotted path of its connector factory. Adding a platform means adding a folder and a line.
SOURCES: dict[str, str] = {
    "drdentes": "connectors.sources.drdentes.connector.DrDentesConnector",
    "dentrix": "connectors.sources.dentrix.connector.DentrixConnector",
    "dental-exec": "connectors.sources.dental_exec.connector.DentalExecConnector",
    "dent-o-soft": "connectors.sources.dent_o_soft.connector.DentOSoftConnector",
}
DESTINATIONS: dict[str, str] = {
    "zoho-crm": "connectors.destinations.zoho.connector.ZohoConnector",
    "freshsales": "connectors.destinations.freshsales.connector.FreshsalesConnector",
}


def load_class(dotted: str) -> Any:
    module_path, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module_path), name)


def source_class(slug: str) -> Any:
    try:
        return load_class(SOURCES[slug])
    except KeyError:
        raise PermanentError(f"no source connector for platform {slug!r}", code="UNKNOWN_PLATFORM") from None


def destination_class(slug: str) -> Any:
    try:
        return load_class(DESTINATIONS[slug])
    except KeyError:
        raise PermanentError(f"no destination connector for platform {slug!r}", code="UNKNOWN_PLATFORM") from None
