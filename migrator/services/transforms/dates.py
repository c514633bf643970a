"""Dates and date-times from the formats practices actually export (reference/dental-data.md, "Data-quality").

Turkish exports write dd.mm.yyyy (and 5.3.87), US exports mm/dd/yyyy, APIs ISO 8601. "No date" sentinels such as
0001-01-01 or 01.01.1900 mean empty, not a real date."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

# A separated date: 3 numeric parts. Which part is the year is decided by its width and position.
_PARTS = re.compile(r"^\s*(\d{1,4})[./\-\s](\d{1,2})[./\-\s](\d{1,4})(?:[ T,]+(.*))?\s*$")
_COMPACT = re.compile(r"^\s*(\d{4})(\d{2})(\d{2})\s*$")            # 19870305
_TIME = re.compile(r"^(\d{1,2})[:.](\d{2})(?:[:.](\d{2})(?:[.,](\d{1,6}))?)?\s*([AaPp][Mm])?\s*"
                   r"(Z|[+-]\d{2}:?\d{2})?$")

DAY_FIRST_BY_DEFAULT = True
MONTH_FIRST_REGIONS = frozenset({"US", "PH", "FM", "MH", "PW"})


class DateParseError(ValueError):
    """The text is not a date in any accepted format. Carries no value."""


def expand_year(year: int, digits: int, pivot: int) -> int:
    if digits > 2:
        return year
    return 2000 + year if year <= pivot else 1900 + year


def _from_parts(a: str, b: str, c: str, *, day_first: bool, pivot: int) -> date:
    if len(a) == 4:                        # ISO order y-m-d
        return date(int(a), int(b), int(c))
    year = expand_year(int(c), len(c), pivot)
    first, second = int(a), int(b)
    day, month = (first, second) if day_first else (second, first)
    if month > 12 and day <= 12:           # 13/05/2020 in a US file is unambiguous: swap rather than fail
        day, month = month, day
    return date(year, month, day)


def parse_time(text: str) -> tuple[time, str | None]:
    """'14:30', '2:30 PM', '14:30:05.123+03:00' -> (time, offset text or None)."""
    m = _TIME.match(text.strip())
    if not m:
        raise DateParseError("not a time")
    hour, minute = int(m.group(1)), int(m.group(2))
    second = int(m.group(3) or 0)
    micro = int((m.group(4) or "0").ljust(6, "0"))
    if m.group(5):
        pm = m.group(5).lower() == "pm"
        if not 1 <= hour <= 12:
            raise DateParseError("not a time")
        hour = hour % 12 + (12 if pm else 0)
    return time(hour, minute, second, micro), m.group(6)


def parse_date_text(
    text: str, *, formats: list[str], day_first: bool, pivot: int
) -> tuple[date, time | None, str | None]:
    """Parse a date with an optional time part. Returns (date, time or None, UTC offset text or None)."""
    text = text.strip()
    for fmt in formats:
        try:
            parsed = datetime.strptime(text, fmt)  # noqa: DTZ007 - zone applied by the caller
        except ValueError:
            continue
        has_time = any(d in fmt for d in ("%H", "%I", "%M"))
        offset = parsed.strftime("%z") if parsed.tzinfo else None
        return parsed.date(), (parsed.time() if has_time else None), offset
    try:
        iso = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
        has_time = "T" in text or ":" in text
        offset = iso.strftime("%z") if iso.tzinfo else None
        return iso.date(), (iso.time().replace(tzinfo=None) if has_time else None), offset
    except ValueError:
        pass
    m = _COMPACT.match(text)
    try:
        if m:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3))), None, None
        m = _PARTS.match(text)
        if not m:
            raise DateParseError("not a date")
        day = _from_parts(m.group(1), m.group(2), m.group(3), day_first=day_first, pivot=pivot)
    except ValueError:
        raise DateParseError("not a date") from None
    if m.group(4):
        clock, offset = parse_time(m.group(4))
        return day, clock, offset
    return day, None, None


def as_date_parts(
    value: Any, *, formats: list[str], day_first: bool, pivot: int
) -> tuple[date, time | None, str | None]:
    """Any source value (str, date, datetime, Excel serial number) -> (date, time, offset)."""
    if isinstance(value, datetime):
        offset = value.strftime("%z") if value.tzinfo else None
        return value.date(), value.time().replace(tzinfo=None), offset
    if isinstance(value, date):
        return value, None, None
    if isinstance(value, int | float) and not isinstance(value, bool):
        # Excel serial days (openpyxl gives datetimes, but CSV re-exports of XLSX keep the number).
        if 1 <= value < 2958466:
            moment = datetime(1899, 12, 30) + timedelta(days=float(value))  # noqa: DTZ001 - naive by design
            return moment.date(), (moment.time() if value % 1 else None), None
        raise DateParseError("number out of date range")
    if isinstance(value, str):
        return parse_date_text(value, formats=formats, day_first=day_first, pivot=pivot)
    raise DateParseError("unsupported value type")


def is_sentinel(day: date, sentinels: list[str]) -> bool:
    for raw in sentinels:
        if raw in {"0000-00-00", "00.00.0000"}:
            continue
        try:
            if date.fromisoformat(raw) == day:
                return True
        except ValueError:
            continue
    return False


def is_zero_date(text: str) -> bool:
    """'0000-00-00', '00.00.0000', '00/00/00': MySQL-style empty dates."""
    return bool(re.fullmatch(r"\s*0{1,4}[./\-]0{1,2}[./\-]0{1,4}(?:[ T].*)?", text))


def to_aware(day: date, clock: time, offset: str | None, zone: ZoneInfo) -> datetime:
    """Attach the source zone to a naive wall time, or honour an explicit offset; output in the source zone."""
    if offset:
        sign = 1 if offset[0] == "+" else -1
        digits = offset[1:].replace(":", "")
        from datetime import timezone

        tz = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0)))
        return datetime.combine(day, clock, tzinfo=tz).astimezone(zone)
    return datetime.combine(day, clock, tzinfo=zone)
