"""What every transform takes (TransformContext) and gives back (TransformOutcome).

An outcome never carries a patient value in its error: the message names the field and the reason only, because
errors end up in the audit, the logs and the portal (ARCHITECTURE.md, invariant 6)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from connectors.base import DestField

# Flags a transform may raise; the pipeline counts them and the sample diff shows them next to the value.
UNMAPPED_VALUE = "unmapped_value"
NOT_IN_PICKLIST = "not_in_picklist"
TRUNCATED = "truncated"
SPLIT = "split"
INVALID_EMAIL = "invalid_email"
INVALID_PHONE = "invalid_phone"
UNPARSEABLE_DATE = "unparseable_date"
SENTINEL_DATE = "sentinel_date"
UNPARSEABLE_NUMBER = "unparseable_number"
UNPARSEABLE_BOOLEAN = "unparseable_boolean"
MULTIPLE_VALUES = "multiple_values"
LOOKUP_EMPTY = "lookup_empty"


def _no_lookup(source_object: str, source_id: str) -> str | None:
    return None


def _no_owner(source_owner_id: str) -> str | None:
    return None


@dataclass(frozen=True)
class TransformContext:
    """Everything a transform may consult besides the record. Built once per field map and reused per record.

    `lookup(source_object, source_id)` answers the destination id of an already-loaded parent (RecordLink);
    `owner(source_owner_id)` answers the destination user id (OwnerMatch, including the migration's fallback)."""

    value_map: Mapping[str, str] = field(default_factory=dict)
    region: str = "US"                      # ISO 3166 alpha-2 for phone numbers: "TR", "US"
    time_zone: str = "UTC"                  # IANA name: "Europe/Istanbul", "America/New_York"
    lookup: Callable[[str, str], str | None] = _no_lookup
    owner: Callable[[str], str | None] = _no_owner
    destination: DestField | None = None

    def with_destination(self, destination: DestField | None) -> TransformContext:
        return replace(self, destination=destination)


@dataclass(frozen=True)
class TransformError:
    """Why the record must fail. `message` names the field, never its value."""

    code: str
    message: str
    field: str = ""


@dataclass(frozen=True)
class TransformOutcome:
    value: Any = None
    flags: tuple[str, ...] = ()
    overflow: str | None = None            # text that did not fit; the pipeline keeps it as a note
    error: TransformError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def flagged(self, *flags: str) -> TransformOutcome:
        return replace(self, flags=self.flags + tuple(f for f in flags if f not in self.flags))


def fail(code: str, source_field: str, reason: str) -> TransformOutcome:
    """A failed outcome whose message is `<field>: <reason>`; callers pass a reason free of values."""
    return TransformOutcome(error=TransformError(code=code, message=f"{source_field or 'value'}: {reason}",
                                                 field=source_field))


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def get_value(record: Mapping[str, Any], source_field: str) -> Any:
    return record.get(source_field) if source_field else None
