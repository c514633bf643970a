"""Discovery profile of a source connector, pure Python: per object the record count and unreadable rows; per
field the inferred type, fill rate, value *shapes* and lengths, and distinct values only for low-cardinality
coded fields; and data-quality counts (duplicates, bad emails and phones, orphans, non-patient guarantors,
oversize notes and attachments, records of inactive owners). Patient values never leave this module: duplicate
detection keys are keyed hashes (HMAC with a per-run random key) kept in memory only."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from connectors.base import SourceConnector, SourceIssue, SourceRecord
from connectors.sources.hints import QualityHints
from connectors.sources.quality import (
    OVERSIZE_ATTACHMENT_BYTES,
    OVERSIZE_NOTE_BYTES,
    has_inline_image,
    is_valid_email,
    is_valid_phone,
    normalize_email,
)

MAX_DISTINCT = 30
MAX_SHAPES = 10
_ID_LIKE = re.compile(r"(^|_)(id|no|num|number|ssn|npi|tin|zip|kimlik)($|_)|id$|kimlik|no$|numarası", re.IGNORECASE)


@dataclass
class FieldProfile:
    name: str
    declared_type: str
    inferred_type: str
    filled: int
    fill_rate: float
    shapes: dict[str, int]            # e.g. {"Aa": 120, "9999-99-99": 80, "email-like": 40}
    min_length: int | None
    max_length: int | None
    distinct_values: list[str] | None = None  # only for low-cardinality coded fields


@dataclass
class ObjectProfile:
    name: str
    count: int
    unreadable: int
    issue_reasons: dict[str, int]
    fields: list[FieldProfile]


@dataclass
class Profile:
    objects: list[ObjectProfile]
    problems: dict[str, int]
    orphans: dict[str, int] = field(default_factory=dict)

    def object(self, name: str) -> ObjectProfile:
        return next(o for o in self.objects if o.name == name)


def shape(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, datetime):
        return "datetime"
    if isinstance(value, date):
        return "date"
    if isinstance(value, int | Decimal | float):
        return "number"
    text = str(value)
    if "@" in text and "." in text.split("@")[-1]:
        return "email-like"
    if len(text) > 40:
        return f"text({'html' if '<' in text and '>' in text else 'plain'})"
    out: list[str] = []
    for ch in text:
        sym = "9" if ch.isdigit() else ("A" if ch.isupper() else "a") if ch.isalpha() else ch
        # Letters collapse into one symbol per run ("Ayşe" -> "Aa"); digits keep their count ("9999-99-99").
        if sym in "Aa" and out and out[-1] == sym:
            continue
        out.append(sym)
    result = "".join(out)
    digits = sum(ch.isdigit() for ch in text)
    if digits >= 7 and re.fullmatch(r"[\d\s()+.\-/:a-z]*", text.lower()) and not re.fullmatch(r"\d{4}-\d\d-\d\d", text):
        return f"phone-like({result})" if len(result) <= 24 else "phone-like"
    return result


class _FieldStats:
    def __init__(self, name: str, declared: str) -> None:
        self.name = name
        self.declared = declared
        self.filled = 0
        self.shapes: Counter[str] = Counter()
        self.types: Counter[str] = Counter()
        self.min_len: int | None = None
        self.max_len: int | None = None
        self.values: Counter[str] | None = Counter() if declared in ("code", "boolean") else None

    def add(self, value: Any) -> None:
        if value is None or (isinstance(value, str) and not value.strip()):
            return
        self.filled += 1
        s = shape(value)
        self.types[type(value).__name__] += 1
        if len(self.shapes) < 200 or s in self.shapes:
            self.shapes[s] += 1
        length = len(str(value))
        self.min_len = length if self.min_len is None else min(self.min_len, length)
        self.max_len = length if self.max_len is None else max(self.max_len, length)
        if self.values is not None:
            self.values[str(value)] += 1
            if len(self.values) > MAX_DISTINCT:
                self.values = None

    def result(self, count: int) -> FieldProfile:
        inferred = self.declared
        if self.types:
            top = self.types.most_common(1)[0][0]
            inferred = {"bool": "boolean", "int": "integer", "Decimal": "decimal", "datetime": "datetime",
                        "date": "date"}.get(top, self.declared)
        distinct = None
        # Only declared codes: free-text columns (surnames, cities) repeat too, and they are patient values.
        coded = self.declared in ("code", "boolean")
        if self.values is not None and coded and not _ID_LIKE.search(self.name) and self.filled >= 2 * len(self.values):
            distinct = sorted(self.values)
        return FieldProfile(
            name=self.name, declared_type=self.declared, inferred_type=inferred, filled=self.filled,
            fill_rate=round(self.filled / count, 4) if count else 0.0,
            shapes=dict(self.shapes.most_common(MAX_SHAPES)), min_length=self.min_len, max_length=self.max_len,
            distinct_values=distinct,
        )


def profile_connector(connector: SourceConnector, *, quality: QualityHints | None = None) -> Profile:
    q = quality or getattr(connector, "quality", None)
    key = secrets.token_bytes(32)

    def digest(text: str) -> bytes:
        return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()[:16]

    problems: Counter[str] = Counter()
    ids: dict[str, set[str]] = {}
    refs: dict[tuple[str, str, str], Counter[str]] = {}
    inactive = {o.source_id for o in connector.owners() if not o.active}
    name_keys: set[bytes] = set()
    email_keys: set[bytes] = set()
    objects: list[ObjectProfile] = []
    for obj in connector.discover():
        stats = {f.name: _FieldStats(f.name, f.type) for f in obj.fields}
        reference_fields = [(f.name, f.references) for f in obj.fields if f.references]
        for fname, target in reference_fields:
            refs[(obj.name, fname, target)] = Counter()
        own_ids: set[str] = set()
        count = unreadable = 0
        reasons: Counter[str] = Counter()
        is_patient = q is not None and obj.name == q.patient
        note_fields = {body for o, body in (q.notes if q else ()) if o == obj.name}
        size_field = q.attachment[1] if q and q.attachment[0] == obj.name else ""
        phone_fields = [f.name for f in obj.fields if f.type == "phone"]
        email_fields = [f.name for f in obj.fields if f.type == "email"]
        for item in connector.iter_records(obj.name):
            if isinstance(item, SourceIssue):
                unreadable += 1
                reasons[item.reason] += 1
                continue
            if not isinstance(item, SourceRecord):
                continue
            count += 1
            data = item.data
            own_ids.add(item.source_id)
            for name, value in data.items():
                if name not in stats:
                    stats[name] = _FieldStats(name, "string")
                stats[name].add(value)
            for fname, target in reference_fields:
                value = data.get(fname)
                if value not in (None, ""):
                    refs[(obj.name, fname, target)][str(value)] += 1
            if obj.owner_field and item.owner_id in inactive:
                problems["inactive_owner_records"] += 1
            for body_field in note_fields:
                body = str(data.get(body_field) or "")
                if len(body.encode("utf-8")) > OVERSIZE_NOTE_BYTES:
                    problems["oversize_notes"] += 1
                if has_inline_image(body):
                    problems["inline_image_notes"] += 1
            if size_field and isinstance(data.get(size_field), int) and data[size_field] > OVERSIZE_ATTACHMENT_BYTES:
                problems["oversize_attachments"] += 1
            if is_patient and q is not None:
                _patient_problems(q, data, email_fields, phone_fields, problems, name_keys, email_keys, digest)
        ids[obj.name] = own_ids
        objects.append(ObjectProfile(name=obj.name, count=count, unreadable=unreadable,
                                     issue_reasons=dict(reasons),
                                     fields=[s.result(count) for s in stats.values()]))
    orphans: dict[str, int] = {}
    for (obj_name, fname, target), values in refs.items():
        if target not in ids:
            continue
        missing = sum(n for v, n in values.items() if v not in ids[target])
        if missing:
            orphans[f"{obj_name}.{fname}"] = missing
    problems["orphans"] = sum(orphans.values())
    for name in ("duplicate_patients_name_dob", "duplicate_patients_email", "missing_email", "invalid_email",
                 "invalid_phone", "non_patient_guarantors", "oversize_notes", "inline_image_notes",
                 "oversize_attachments", "inactive_owner_records"):
        problems.setdefault(name, 0)
    return Profile(objects=objects, problems=dict(problems), orphans=orphans)


def _patient_problems(q: QualityHints, data: Any, email_fields: list[str], phone_fields: list[str],
                      problems: Counter[str], name_keys: set[bytes], email_keys: set[bytes],
                      digest: Any) -> None:
    born = data.get(q.birth_date)
    first, last = str(data.get(q.first_name) or ""), str(data.get(q.last_name) or "")
    if born is not None and (first or last):
        key = digest(f"{first.casefold().strip()}|{last.casefold().strip()}|{born}")
        if key in name_keys:
            problems["duplicate_patients_name_dob"] += 1
        name_keys.add(key)
    for fname in email_fields[:1]:
        email = str(data.get(fname) or "")
        if not email.strip():
            problems["missing_email"] += 1
        elif not is_valid_email(email):
            problems["invalid_email"] += 1
        else:
            key = digest(normalize_email(email))
            if key in email_keys:
                problems["duplicate_patients_email"] += 1
            email_keys.add(key)
    for fname in phone_fields:
        value = str(data.get(fname) or "")
        if value.strip() and not is_valid_phone(value, q.phone_region):
            problems["invalid_phone"] += 1
    if q.status_field and str(data.get(q.status_field) or "") in q.non_patient_values:
        problems["non_patient_guarantors"] += 1
