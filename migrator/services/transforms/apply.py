"""apply_transform: one spec, one record, one outcome. Pure functions; no database, no network."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers

from migrator.services.transforms import base as b
from migrator.services.transforms import specs as s
from migrator.services.transforms.dates import (
    MONTH_FIRST_REGIONS,
    DateParseError,
    as_date_parts,
    is_sentinel,
    is_zero_date,
    to_aware,
)
from migrator.services.transforms.numbers import FALSE_WORDS, TRUE_WORDS, NumberParseError, parse_decimal, quantize
from migrator.services.transforms.text import chunks, fold, lower, normalise_email, split_name, strip_html, title, upper

Outcome = b.TransformOutcome
Ctx = b.TransformContext

# Regions that write "1.234,50" (used only to read an ambiguous lone separator).
COMMA_DECIMAL_REGIONS = frozenset({"TR", "DE", "FR", "ES", "IT", "NL", "BE", "AT", "PT", "BR", "PL", "RU", "DK",
                                   "NO", "SE", "FI", "CZ", "GR", "AZ", "ID"})


def apply_transform(
    spec: s.TransformSpec, record: Mapping[str, Any], *, source_field: str, context: Ctx
) -> Outcome:
    """Transform `record[source_field]` (or several fields, for concat/template/name join/json) for one field map,
    then fit the result to the destination field when the context names one."""
    handler = _HANDLERS[spec.kind]
    outcome = handler(spec, record, source_field, context)
    if outcome.ok and context.destination is not None and spec.kind not in ("long_text", "json"):
        outcome = _fit_text(outcome, context.destination, source_field)
    return outcome


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, Decimal | int | float):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return str(value)


def _fit_text(outcome: Outcome, dest: Any, source_field: str) -> Outcome:
    """Text longer than the destination field: truncated with the rest kept as overflow (the pipeline writes it to
    a note) for free text, a failure for typed text (a cut e-mail or phone would be wrong data)."""
    value = outcome.value
    if not isinstance(value, str) or not dest.length or len(value) <= dest.length:
        return outcome
    if dest.type in ("text", "textarea", "other"):
        return Outcome(value=value[: dest.length], flags=outcome.flags, overflow=value[dest.length:]).flagged(
            b.TRUNCATED)
    return b.fail("too_long", source_field, f"longer than the {dest.length} characters {dest.api_name} holds")


# ------------------------------------------------------------------------------------------------ plain values


def _copy(spec: s.CopySpec, record: Mapping[str, Any], field: str, ctx: Ctx) -> Outcome:
    value = b.get_value(record, field)
    if isinstance(value, str) and spec.strip:
        value = value.strip()
    if b.is_blank(value):
        return Outcome(value=None)
    return Outcome(value=value)


def _constant(spec: s.ConstantSpec, record: Mapping[str, Any], field: str, ctx: Ctx) -> Outcome:
    return Outcome(value=spec.value)


def _value_map(spec: s.ValueMapSpec, record: Mapping[str, Any], field: str, ctx: Ctx) -> Outcome:
    raw = b.get_value(record, field)
    if b.is_blank(raw):
        return Outcome(value=None)
    key = _text(raw).strip()
    table = {**spec.map, **ctx.value_map}
    found = table.get(key)
    if found is None and not spec.case_sensitive:
        folded = {fold(k): v for k, v in table.items()}
        found = folded.get(fold(key))
    picklist = ctx.destination.picklist if ctx.destination else ()
    if found is not None and (not picklist or found in picklist):
        return Outcome(value=found)
    flag = b.UNMAPPED_VALUE if found is None else b.NOT_IN_PICKLIST
    if spec.on_unmapped == "fail":
        return b.fail("unmapped_value", field, "value has no mapping to a destination picklist value")
    if spec.on_unmapped == "keep" and found is None and (not picklist or key in picklist):
        return Outcome(value=key, flags=(flag,))
    if spec.default is not None and picklist and spec.default not in picklist:
        return b.fail("bad_default", field, "the default is not a value of the destination picklist")
    return Outcome(value=spec.default, flags=(flag,))


# ------------------------------------------------------------------------------------------------ dates


def _day_first(spec: s.DateSpec, ctx: Ctx) -> bool:
    if spec.day_first is not None:
        return spec.day_first
    return ctx.region.upper() not in MONTH_FIRST_REGIONS


def _parse_day(
    spec: s.DateSpec, raw: Any, field: str, ctx: Ctx
) -> tuple[date, time | None, str | None] | Outcome:
    if isinstance(raw, str) and is_zero_date(raw):
        return Outcome(value=None, flags=(b.SENTINEL_DATE,))
    try:
        day, clock, offset = as_date_parts(raw, formats=spec.formats, day_first=_day_first(spec, ctx),
                                           pivot=spec.pivot_year)
    except DateParseError:
        if spec.on_invalid == "fail":
            return b.fail("unparseable_date", field, "not a date in any accepted format")
        return Outcome(value=None, flags=(b.UNPARSEABLE_DATE,))
    if is_sentinel(day, spec.sentinels):
        return Outcome(value=None, flags=(b.SENTINEL_DATE,))
    return day, clock, offset


def _date(spec: s.DateSpec, record: Mapping[str, Any], field: str, ctx: Ctx) -> Outcome:
    raw = b.get_value(record, field)
    if b.is_blank(raw):
        return Outcome(value=None)
    parsed = _parse_day(spec, raw, field, ctx)
    if isinstance(parsed, Outcome):
        return parsed
    return Outcome(value=parsed[0].isoformat())


def _zone(name: str, field: str) -> ZoneInfo | Outcome:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return b.fail("bad_time_zone", field, "the source time zone is not a known IANA zone")


def _datetime(spec: s.DateTimeSpec, record: Mapping[str, Any], field: str, ctx: Ctx) -> Outcome:
    raw = b.get_value(record, field)
    if b.is_blank(raw):
        return Outcome(value=None)
    parsed = _parse_day(spec, raw, field, ctx)
    if isinstance(parsed, Outcome):
        return parsed
    day, clock, offset = parsed
    zone = _zone(spec.time_zone or ctx.time_zone, field)
    if isinstance(zone, Outcome):
        return zone
    try:
        if spec.time_field and not b.is_blank(record.get(spec.time_field)):
            extra = as_date_parts(f"2000-01-01 {_text(record[spec.time_field]).strip()}", formats=[],
                                  day_first=True, pivot=spec.pivot_year)
            clock = extra[1]
        elif spec.hour_field:
            hour = int(str(record.get(spec.hour_field) or 0))
            minute = int(str(record.get(spec.minute_field) or 0)) if spec.minute_field else 0
            clock = time(hour, minute)
    except (DateParseError, ValueError):
        if spec.on_invalid == "fail":
            return b.fail("unparseable_date", field, "the time part is not a time")
        return Outcome(value=None, flags=(b.UNPARSEABLE_DATE,))
    moment = to_aware(day, clock or time(0, 0), offset, zone)
    if spec.plus_minutes_field or spec.plus_minutes:
        length = record.get(spec.plus_minutes_field) if spec.plus_minutes_field else None
        try:
            amount = Decimal(0) if b.is_blank(length) else Decimal(_text(length).strip())
            seconds = int(amount * (60 if spec.plus_unit == "minutes" else 1)) + spec.plus_minutes * 60
        except (ArithmeticError, ValueError):
            if spec.on_invalid == "fail":
                return b.fail("unparseable_duration", spec.plus_minutes_field,
                              "the length is not a number of minutes")
            return Outcome(value=None, flags=(b.UNPARSEABLE_DATE,))
        # A length is elapsed time: add it in UTC, so an appointment across a DST change keeps its real length.
        moment = (moment.astimezone(UTC) + timedelta(seconds=seconds)).astimezone(zone)
    return Outcome(value=moment.isoformat(timespec="seconds"))


# ------------------------------------------------------------------------------------------------ contact points


def _invalid(on_invalid: str, raw: str, field: str, code: str, flag: str, reason: str) -> Outcome:
    if on_invalid == "fail":
        return b.fail(code, field, reason)
    if on_invalid == "flag_keep_raw":
        return Outcome(value=raw.strip(), flags=(flag,))
    return Outcome(value=None, flags=(flag,))


def _phone(spec: s.PhoneSpec, record: Mapping[str, Any], field: str, ctx: Ctx) -> Outcome:
    raw = b.get_value(record, field)
    if b.is_blank(raw):
        return Outcome(value=None)
    text = _text(raw)
    region = (spec.region or ctx.region or "US").upper()
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return _invalid(spec.on_invalid, text, field, "invalid_phone", b.INVALID_PHONE, "not a phone number")
    if not phonenumbers.is_valid_number(number):
        return _invalid(spec.on_invalid, text, field, "invalid_phone", b.INVALID_PHONE,
                        f"not a valid phone number for region {region}")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return Outcome(value=e164)


def _email(spec: s.EmailSpec, record: Mapping[str, Any], field: str, ctx: Ctx) -> Outcome:
    raw = b.get_value(record, field)
    if b.is_blank(raw):
        return Outcome(value=None)
    text = _text(raw)
    address, several = normalise_email(text, lowercase=spec.lowercase)
    if address is None:
        return _invalid(spec.on_invalid, text, field, "invalid_email", b.INVALID_EMAIL, "not a valid e-mail address")
    return Outcome(value=address, flags=(b.MULTIPLE_VALUES,) if several else ())


# ------------------------------------------------------------------------------------------------ composed text


def _cased(text: str, case: str) -> str:
    return title(text) if case == "title" else upper(text) if case == "upper" else text


def _name(spec: s.NameSpec, record: Mapping[str, Any], field: str, ctx: Ctx) -> Outcome:
    if spec.mode == "join":
        words = [_text(record.get(f)).strip() for f in spec.fields if not b.is_blank(record.get(f))]
        joined = spec.separator.join(words)
        return Outcome(value=_cased(joined, spec.case) or None)
    raw = b.get_value(record, field)
    if b.is_blank(raw):
        return Outcome(value=None)
    part = split_name(_text(raw))[spec.part]
    return Outcome(value=_cased(part, spec.case) or None)


def _concat(spec: s.ConcatSpec, record: Mapping[str, Any], field: str, ctx: Ctx) -> Outcome:
    values = [record.get(f) for f in spec.fields]
    words = [_text(v).strip() for v in values if not (spec.skip_empty and b.is_blank(v))]
    joined = spec.separator.join("" if w == "None" else w for w in words)
    return Outcome(value=joined or None)


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def _template(spec: s.TemplateSpec, record: Mapping[str, Any], field: str, ctx: Ctx) -> Outcome:
    values = _Blank({k: "" if b.is_blank(v) else _text(v).strip() for k, v in record.items()})
    rendered = spec.template.format_map(values).strip()
    return Outcome(value=" ".join(rendered.split(" ")).strip() or None)


# ------------------------------------------------------------------------------------------------ numbers


def _number(spec: s.NumberSpec, record: Mapping[str, Any], field: str, ctx: Ctx) -> Outcome:
    read = [(f, b.get_value(record, f)) for f in (spec.fields or [field])]
    read = [(f, raw) for f, raw in read if not b.is_blank(raw)]
    if not read:
        return Outcome(value=None)
    number = Decimal(0)
    for name, raw in read:
        try:
            number += parse_decimal(raw, separator=spec.decimal_separator,
                                    comma_decimal=ctx.region.upper() in COMMA_DECIMAL_REGIONS)
        except NumberParseError:
            if spec.on_invalid == "fail":
                return b.fail("unparseable_number", name, "not a number")
            return Outcome(value=None, flags=(b.UNPARSEABLE_NUMBER,))
    if spec.integer:
        return Outcome(value=int(quantize(number, 0)))
    if spec.places is not None:
        number = quantize(number, spec.places)
    return Outcome(value=number)


def _boolean(spec: s.BooleanSpec, record: Mapping[str, Any], field: str, ctx: Ctx) -> Outcome:
    raw = b.get_value(record, field)
    if isinstance(raw, bool):
        return Outcome(value=raw)
    if b.is_blank(raw):
        return Outcome(value=None)
    word = lower(_text(raw).strip())
    if word in TRUE_WORDS or word in {lower(v) for v in spec.true_values}:
        return Outcome(value=True)
    if word in FALSE_WORDS or word in {lower(v) for v in spec.false_values}:
        return Outcome(value=False)
    if spec.on_invalid == "fail":
        return b.fail("unparseable_boolean", field, "not a yes/no value")
    return Outcome(value=None, flags=(b.UNPARSEABLE_BOOLEAN,))


# ------------------------------------------------------------------------------------------------ structured


def _json(spec: s.JsonSpec, record: Mapping[str, Any], field: str, ctx: Ctx) -> Outcome:
    if spec.fields:
        data: Any = {f: record.get(f) for f in spec.fields}
    else:
        data = b.get_value(record, field)
        if b.is_blank(data):
            return Outcome(value=None)
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError:
                return b.fail("invalid_json", field, "text is not valid JSON")
    # Stable key order and compact separators: the same chart always serialises to the same text (content hash).
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=_text)
    limit = ctx.destination.length if ctx.destination else None
    if limit and len(text) > limit:
        if spec.on_too_long == "fail":
            return b.fail("too_long", field, f"serialised JSON is longer than {limit} characters")
        return Outcome(value=None, overflow=text, flags=(b.TRUNCATED,))
    return Outcome(value=text)


def _long_text(spec: s.LongTextSpec, record: Mapping[str, Any], field: str, ctx: Ctx) -> Outcome:
    raw = b.get_value(record, field)
    if b.is_blank(raw):
        return Outcome(value=None)
    text = _text(raw)
    if spec.strip_html:
        text = strip_html(text)
    limit = spec.max_length or (ctx.destination.length if ctx.destination else None)
    if not limit or len(text) <= limit:
        return Outcome(value=text if spec.mode == "truncate" else [text])
    if spec.mode == "split":
        return Outcome(value=chunks(text, limit), flags=(b.SPLIT,))
    return Outcome(value=text[:limit], overflow=text[limit:], flags=(b.TRUNCATED,))


# ------------------------------------------------------------------------------------------------ references


def _lookup(spec: s.LookupSpec, record: Mapping[str, Any], field: str, ctx: Ctx) -> Outcome:
    raw = b.get_value(record, field)
    if b.is_blank(raw):
        if spec.required:
            return b.fail("lookup_missing", field, f"no {spec.source_object} reference on the record")
        return Outcome(value=None, flags=(b.LOOKUP_EMPTY,))
    dest_id = ctx.lookup(spec.source_object, _text(raw).strip())
    if dest_id is None:
        # Fail with reason instead of writing a dangling record; a re-run after the parent loads fixes it.
        return b.fail("lookup_unresolved", field, f"lookup unresolved: the {spec.source_object} is not loaded")
    return Outcome(value=dest_id)


def _line_items(spec: s.LineItemsSpec, record: Mapping[str, Any], field: str, ctx: Ctx) -> Outcome:
    rows = record.get(spec.rows_key) or []
    if not rows:
        return b.fail("no_line_items", spec.source_object, f"no {spec.source_object} rows refer to this record")
    comma = ctx.region.upper() in COMMA_DECIMAL_REGIONS
    lines: list[dict[str, Any]] = []
    for number, row in enumerate(rows, 1):
        code = _text(row.get(spec.product_field) or "").strip()
        product = ctx.lookup(spec.product_object, code) if code else None
        if product is None:
            # The product's code is catalogue data, not a patient's: it may be named.
            return b.fail("lookup_unresolved", spec.product_field,
                          f"line {number}: the {spec.product_object} {code or '(none)'} is not loaded")
        line: dict[str, Any] = {spec.product: product}   # a flat id, as every lookup in a payload
        for name, target, default in ((spec.quantity_field, spec.quantity, Decimal(1)),
                                      (spec.price_field, spec.price, None), (spec.discount_field, spec.discount, None)):
            raw = row.get(name) if name else None
            if b.is_blank(raw):
                value = default
            else:
                try:
                    value = parse_decimal(raw, comma_decimal=comma)
                except NumberParseError:
                    return b.fail("unparseable_number", name, f"line {number}: not a number")
            if value is not None:
                line[target] = float(value)
        lines.append(line)
    return Outcome(value=lines)


def _owner(spec: s.OwnerSpec, record: Mapping[str, Any], field: str, ctx: Ctx) -> Outcome:
    raw = b.get_value(record, field)
    source_id = "" if b.is_blank(raw) else _text(raw).strip()
    user_id = ctx.owner(source_id)
    if user_id is None:
        # Never fall back to the API user silently: the owner match (or the fallback owner) must be confirmed.
        return b.fail("owner_unresolved", field, "owner unresolved: no confirmed owner match or fallback owner")
    return Outcome(value=user_id)


_HANDLERS: dict[str, Callable[[Any, Mapping[str, Any], str, Ctx], Outcome]] = {
    "copy": _copy,
    "constant": _constant,
    "value_map": _value_map,
    "date": _date,
    "datetime": _datetime,
    "phone": _phone,
    "email": _email,
    "name": _name,
    "concat": _concat,
    "template": _template,
    "number": _number,
    "currency": _number,
    "boolean": _boolean,
    "json": _json,
    "long_text": _long_text,
    "lookup": _lookup,
    "line_items": _line_items,
    "owner": _owner,
}
