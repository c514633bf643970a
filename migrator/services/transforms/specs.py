"""Transform specs: a pydantic discriminated union on `kind`, stored in FieldMap.transform and validated on save.

`parse_transform` raises pydantic's ValidationError (a ValueError) whose text names the offending key, so the admin
can show it beside the field."""

from __future__ import annotations

import string
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, TypeAdapter, field_validator, model_validator

OnInvalid = Literal["flag_empty", "flag_keep_raw", "fail"]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CopySpec(_Spec):
    kind: Literal["copy"] = "copy"
    strip: bool = True


class ValueMapSpec(_Spec):
    kind: Literal["value_map"] = "value_map"
    # Inline pairs; the migration's ValueMap rows (TransformContext.value_map) win over them.
    map: dict[str, str] = Field(default_factory=dict)
    default: str | None = None              # e.g. "Other"; None keeps the destination field empty
    on_unmapped: Literal["default", "keep", "fail"] = "default"
    case_sensitive: bool = False


class DateSpec(_Spec):
    kind: Literal["date"] = "date"
    # strptime formats tried first; when empty, the usual formats of the source region are tried.
    formats: list[str] = Field(default_factory=list)
    day_first: bool | None = None           # None: by region (US month first, elsewhere day first)
    pivot_year: int = Field(default=30, ge=0, le=99)  # two-digit years: yy <= pivot -> 20yy, else 19yy
    sentinels: list[str] = Field(default_factory=lambda: ["0001-01-01", "1900-01-01", "0000-00-00"])
    on_invalid: Literal["flag_empty", "fail"] = "flag_empty"


class DateTimeSpec(DateSpec):
    kind: Literal["datetime"] = "datetime"  # type: ignore[assignment]
    time_zone: str | None = None            # None: the source's time zone from the context
    # Sources that keep the time apart (Dentrix v_appt: appointment_date + start_hour + start_minute).
    time_field: str = ""
    hour_field: str = ""
    minute_field: str = ""
    # An end time the source keeps as a length: start + the minutes in `plus_minutes_field` + `plus_minutes`
    # (Dentrix v_appt.length, Dr.DENTES "Süre (dk)", Dental-Exec DurationMin).
    plus_minutes_field: str = ""
    plus_minutes: int = Field(default=0, ge=-1440, le=1440)
    plus_unit: Literal["minutes", "seconds"] = "minutes"   # of `plus_minutes_field` (Dent-O-Soft call duration_sec)

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone {value!r}") from None
        return value


class PhoneSpec(_Spec):
    kind: Literal["phone"] = "phone"
    region: str | None = Field(default=None, min_length=2, max_length=2)  # None: the source region
    on_invalid: OnInvalid = "flag_empty"


class EmailSpec(_Spec):
    kind: Literal["email"] = "email"
    lowercase: bool = True                  # the domain is always lower-cased; this also lowers the local part
    on_invalid: OnInvalid = "flag_empty"


class NameSpec(_Spec):
    kind: Literal["name"] = "name"
    mode: Literal["split", "join"] = "split"
    part: Literal["first", "last", "middle", "salutation"] = "last"   # split: which part to keep
    fields: list[str] = Field(default_factory=list)                   # join: fields in order
    separator: str = " "
    case: Literal["keep", "title", "upper"] = "keep"

    @model_validator(mode="after")
    def _join_needs_fields(self) -> NameSpec:
        if self.mode == "join" and not self.fields:
            raise ValueError("a name join needs 'fields'")
        return self


class ConcatSpec(_Spec):
    kind: Literal["concat"] = "concat"
    fields: list[str] = Field(min_length=1)
    separator: str = " "
    skip_empty: bool = True


class TemplateSpec(_Spec):
    kind: Literal["template"] = "template"
    template: str = Field(min_length=1)     # "{first_name} {last_name}"; missing fields render empty

    @field_validator("template")
    @classmethod
    def _parses(cls, value: str) -> str:
        try:
            for _, name, spec, conv in string.Formatter().parse(value):
                # Export headers may hold spaces and brackets ("Süre (dk)"); '.' and '[' would index the value.
                if name is not None and (not name or spec or conv or name != name.strip()
                                         or any(c in name for c in ".[]")):
                    raise ValueError("placeholders must be plain field names such as {last_name} or {Hasta No}")
        except ValueError as exc:
            raise ValueError(f"bad template: {exc}") from None
        return value

    def field_names(self) -> list[str]:
        return [name for _, name, _, _ in string.Formatter().parse(self.template) if name]


class NumberSpec(_Spec):
    kind: Literal["number"] = "number"
    decimal_separator: Literal["auto", ",", "."] = "auto"
    places: int | None = Field(default=None, ge=0, le=10)   # round half-up to this many places
    integer: bool = False
    on_invalid: Literal["flag_empty", "fail"] = "flag_empty"
    # The sum of these fields instead of the map's one source field (a ledger's aging buckets → one balance);
    # blank ones count as nothing, all blank gives an empty value.
    fields: list[str] = Field(default_factory=list)


class CurrencySpec(NumberSpec):
    kind: Literal["currency"] = "currency"  # type: ignore[assignment]
    places: int | None = Field(default=2, ge=0, le=10)


class BooleanSpec(_Spec):
    kind: Literal["boolean"] = "boolean"
    true_values: list[str] = Field(default_factory=list)    # added to the built-in yes-words (EN and TR)
    false_values: list[str] = Field(default_factory=list)
    on_invalid: Literal["flag_empty", "fail"] = "flag_empty"


class JsonSpec(_Spec):
    kind: Literal["json"] = "json"
    fields: list[str] = Field(default_factory=list)         # several fields into one object; empty: the field
    on_too_long: Literal["fail", "overflow"] = "fail"
    # Every row of the same parent adds its object to one list on the parent (a chart of entries), rather than the
    # latest row's object standing alone (migrator/services/pipeline_folds.py).
    collect: bool = False


class LongTextSpec(_Spec):
    kind: Literal["long_text"] = "long_text"
    mode: Literal["truncate", "split"] = "truncate"
    max_length: int | None = Field(default=None, ge=1)     # None: the destination field's length
    strip_html: bool = False


class LookupSpec(_Spec):
    kind: Literal["lookup"] = "lookup"
    source_object: str = Field(min_length=1)                # the parent's source object, e.g. "patient"
    required: bool = True


class LineItemsSpec(_Spec):
    """Line items of an invoice or order (Zoho `Ordered_Items` / `Invoiced_Items`): one row per source row of
    `source_object` that refers to the record (a treatment naming the invoice that billed it), each pointing at the
    destination record of its product. The loader hands the rows in as `<source_object>[]`."""

    kind: Literal["line_items"] = "line_items"
    source_object: str = Field(min_length=1)        # the line rows, e.g. "treatment"
    product_object: str = Field(min_length=1)       # whose destination records are the products, e.g. "product"
    product_field: str = Field(min_length=1)        # the line's reference to its product, e.g. "İşlem Kodu"
    price_field: str = ""                           # → List_Price
    quantity_field: str = ""                        # → Quantity; empty: one each
    discount_field: str = ""                        # → Discount
    product: str = "Product_Name"                   # the destination's names for the line's fields
    quantity: str = "Quantity"
    price: str = "List_Price"
    discount: str = "Discount"

    @property
    def rows_key(self) -> str:
        return f"{self.source_object}[]"

    @property
    def fields(self) -> list[str]:
        """The line fields the transform reads (the loader keeps only these of each row)."""
        return [f for f in (self.product_field, self.price_field, self.quantity_field, self.discount_field) if f]


class ConstantSpec(_Spec):
    kind: Literal["constant"] = "constant"
    value: JsonValue


class OwnerSpec(_Spec):
    kind: Literal["owner"] = "owner"


TransformSpec = Annotated[
    CopySpec | ValueMapSpec | DateSpec | DateTimeSpec | PhoneSpec | EmailSpec | NameSpec | ConcatSpec
    | TemplateSpec | NumberSpec | CurrencySpec | BooleanSpec | JsonSpec | LongTextSpec | LookupSpec
    | LineItemsSpec | ConstantSpec | OwnerSpec,
    Field(discriminator="kind"),
]

KINDS: tuple[str, ...] = (
    "copy", "value_map", "date", "datetime", "phone", "email", "name", "concat", "template", "number",
    "currency", "boolean", "json", "long_text", "lookup", "line_items", "constant", "owner",
)

_ADAPTER: TypeAdapter[TransformSpec] = TypeAdapter(TransformSpec)


def parse_transform(data: dict[str, Any] | None) -> TransformSpec:
    """Validate a stored spec. An empty spec means copy. Raises ValueError with a message fit for the admin."""
    if not data:
        return CopySpec()
    if not isinstance(data, dict):
        raise ValueError("a transform spec must be an object with a 'kind'")
    if "kind" not in data:
        raise ValueError(f"a transform spec needs a 'kind', one of: {', '.join(KINDS)}")
    if data["kind"] not in KINDS:
        raise ValueError(f"unknown transform kind {data['kind']!r}; expected one of: {', '.join(KINDS)}")
    return _ADAPTER.validate_python(data)


def dump_transform(spec: TransformSpec) -> dict[str, Any]:
    """The JSON to store: only what differs from the defaults, plus the kind."""
    out: dict[str, Any] = spec.model_dump(mode="json", exclude_defaults=True)
    out["kind"] = spec.kind
    return out
