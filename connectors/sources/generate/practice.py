"""A generated dental practice: families of patients with their appointments, procedures, notes and files, and
every data-quality problem of reference/dental-data.md at a controlled rate. Deterministic (seeded random and
Faker, a fixed "now") and streaming in constant memory: one family at a time goes to the open sinks, and the only
state kept across families is counters and a fixed-size filter that keeps accidental name/birth-date duplicates
out (seen.py)."""

from __future__ import annotations

import base64
import hashlib
import json
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from connectors.sources.exports.tables import TableSpec
from connectors.sources.generate.pools import CDT, NamePools, ascii_slug, name_pools, surfaces
from connectors.sources.generate.seen import KEY_BYTES, SeenFilter
from connectors.sources.generate.sinks import Sink
from connectors.sources.hints import QualityHints
from connectors.sources.quality import (
    OVERSIZE_ATTACHMENT_BYTES,
    OVERSIZE_NOTE_BYTES,
    has_inline_image,
    is_valid_email,
    is_valid_phone,
    normalize_email,
)

NOW = datetime(2025, 6, 30, 12, 0, 0)  # noqa: DTZ001 -- a fixed local "now"; each layout gives it its zone
# A 1x1 PNG: the inline image some rich-text notes carry.
PNG_1X1 = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002"
    "00010005fe02fea70000000049454e44ae426082")).decode()


@dataclass(frozen=True)
class Rates:
    duplicate: float = 0.03
    missing_email: float = 0.10
    invalid_email: float = 0.04
    invalid_phone: float = 0.03
    deleted: float = 0.02
    non_patient_head: float = 0.35
    oversize_note: float = 0.01
    inline_image: float = 0.02
    oversize_file: float = 0.004
    sentinel_dob: float = 0.01


@dataclass
class Options:
    system: str
    patients: int
    seed: int
    out: Path
    encoding: str = ""          # Dr.DENTES: cp1254 or utf-8-sig
    large_files: str = "sparse"  # sparse | index
    rates: Rates = field(default_factory=Rates)


@dataclass
class Person:
    n: int
    id: str
    first: str
    last: str
    mi: str
    gender: str
    dob: date | None
    email: str
    phones: list[str]
    street: str
    city: str
    district: str
    zip: str
    status: str                 # active, new, inactive, nonpatient, duplicate
    guarantor_id: str
    provider_id: str
    created: datetime
    modified: datetime
    national_id: str = ""
    deleted: bool = False
    head: bool = False
    insured: tuple[str, str] = ("", "")


class Generator:
    def __init__(self, opts: Options, *, locale: str, tables: tuple[TableSpec, ...], quality: QualityHints,
                 id_format: Callable[[str, int], str]) -> None:
        self.opts = opts
        self.rng = random.Random(opts.seed)  # noqa: S311 -- reproducible test data, not secrets
        self.pools: NamePools = name_pools(locale, opts.seed)
        self.locale = locale
        self.tables = {t.object_name: t for t in tables}
        self.quality = quality
        self.id_format = id_format
        self.counters: Counter[str] = Counter()
        self.problems: Counter[str] = Counter()
        self.variants: Counter[str] = Counter()
        # Per family: only the current family's rows can point at its deleted members, and only a duplicate
        # record (written with its family) can repeat an address, because every address carries the person's
        # unique number n (person()). Both sets are cleared when the next family starts.
        self.deleted: set[str] = set()
        self._emails: set[str] = set()
        self.inactive: set[str] = set()   # providers: a handful for the whole practice
        self.sinks: dict[str, Sink] = {}
        self._keys = SeenFilter()
        opts.out.mkdir(parents=True, exist_ok=True)

    # ------------------------------------------------------------------ plumbing

    def next_id(self, kind: str) -> str:
        self.counters[kind] += 1
        return self.id_format(kind, self.counters[kind])

    def open(self, object_name: str, **kwargs: Any) -> None:
        self.sinks[object_name] = Sink(self.tables[object_name], self.opts.out, **kwargs)

    def emit(self, object_name: str, row: dict[str, Any]) -> None:
        self.sinks[object_name].write(row, deleted=self.deleted, inactive=self.inactive)

    def chance(self, rate: float) -> bool:
        return self.rng.random() < rate

    def past(self, days_back: int, days_min: int = 0) -> datetime:
        return NOW - timedelta(days=self.rng.randint(days_min, days_back), minutes=self.rng.randint(0, 600))

    # ------------------------------------------------------------------ people

    def phone(self, fmt: Callable[[random.Random], str]) -> str:
        region = self.quality.phone_region
        while True:
            value = fmt(self.rng)
            if is_valid_phone(value, region):
                return value

    def _key(self, first: str, last: str, dob: date | None) -> bytes:
        return hashlib.blake2b(f"{first.casefold()}|{last.casefold()}|{dob}".encode(), digest_size=KEY_BYTES).digest()

    def person(self, n: int, *, last: str, age: tuple[int, int], status: str, guarantor_id: str,
               phone_formats: list[Callable[[random.Random], str]], invalid_phones: list[str],
               email_domains: list[str], head: bool) -> Person:
        rng = self.rng
        gender = rng.choice("MF")
        pool = self.pools.male if gender == "M" else self.pools.female
        first = rng.choice(pool)
        while True:
            dob = (NOW - timedelta(days=rng.randint(age[0] * 365, age[1] * 365))).date()
            key = self._key(first, last, dob)
            if key not in self._keys:
                break
            first = rng.choice(pool)
        self._keys.add(key)
        if self.chance(self.opts.rates.sentinel_dob) and not head:
            dob_value: date | None = None
        else:
            dob_value = dob
        # n before the "@" makes every address unique to its person, which lets count_patient() look for repeats
        # within one family only. Keep it there.
        email = f"{ascii_slug(first)}.{ascii_slug(last)}{n}@{rng.choice(email_domains)}"
        roll = rng.random()
        if roll < self.opts.rates.missing_email:
            email = ""
        elif roll < self.opts.rates.missing_email + self.opts.rates.invalid_email:
            email = rng.choice((email.replace("@", "@@"), email.split("@")[0] + "@", email.replace("@", " at "),
                                email.rsplit(".", 1)[0]))
        phones = [self.phone(phone_formats[0])]
        phones.append(self.phone(phone_formats[1]) if rng.random() < 0.5 else "")
        phones.append(self.phone(phone_formats[0]) if rng.random() < 0.2 else "")
        if self.chance(self.opts.rates.invalid_phone):
            phones[rng.randrange(3)] = rng.choice(invalid_phones)
        city, district = rng.choice(self.pools.cities)
        created = self.past(3650, 30)
        return Person(
            n=n, id=self.next_id("patient"), first=first, last=last, mi=rng.choice("ABCDEFGHJKLMNPRST"),
            gender=gender, dob=dob_value, email=email, phones=phones, street=rng.choice(self.pools.streets),
            city=city, district=district, zip=f"{rng.randint(10000, 99999)}", status=status,
            guarantor_id=guarantor_id, provider_id="", created=created,
            modified=min(NOW, created + timedelta(days=rng.randint(0, 900))), head=head,
        )

    def family(self, n: int, **person_kwargs: Any) -> list[Person]:
        rng = self.rng
        self.deleted.clear()
        self._emails.clear()
        size = rng.choice((1, 1, 1, 2, 2, 3, 4))
        last = rng.choice(self.pools.last)
        members: list[Person] = []
        head_status = "nonpatient" if size > 1 and self.chance(self.opts.rates.non_patient_head) else "active"
        for index in range(size):
            status = head_status if index == 0 else rng.choice(("active", "active", "active", "new", "inactive"))
            age = (25, 80) if index == 0 else ((1, 17) if index > 1 else (20, 75))
            member = self.person(n + index, last=last, age=age, status=status,
                                 guarantor_id=members[0].id if members else "", head=index == 0, **person_kwargs)
            if index == 0:
                member.guarantor_id = member.id
            elif self.chance(self.opts.rates.deleted):
                member.deleted = True
                self.deleted.add(member.id)
            members.append(member)
        return members

    def duplicate_of(self, person: Person) -> Person | None:
        """A second record of the same person (same name and birth date, a new id), archived after a merge."""
        if person.deleted or person.dob is None or person.status == "nonpatient":
            return None
        if not self.chance(self.opts.rates.duplicate):
            return None
        copy = Person(**dict(person.__dict__))
        copy.id = self.next_id("patient")
        copy.status = "duplicate"
        copy.head = False
        if self.rng.random() < 0.5:
            copy.email = ""
        return copy

    def count_patient(self, person: Person, row: dict[str, Any]) -> None:
        """Problems of a written patient row, by the same predicates profiling uses."""
        q = self.quality
        self.counters["_patients_written"] += 1
        if person.status == "duplicate":
            self.problems["duplicate_patients_name_dob"] += 1
        email = str(row.get(self._email_field()) or "")
        if not email.strip():
            self.problems["missing_email"] += 1
        elif not is_valid_email(email):
            self.problems["invalid_email"] += 1
        else:
            key = normalize_email(email)
            if key in self._emails:
                self.problems["duplicate_patients_email"] += 1
            self._emails.add(key)
        for name in self._phone_fields():
            value = str(row.get(name) or "")
            if value.strip() and not is_valid_phone(value, q.phone_region):
                self.problems["invalid_phone"] += 1
        if q.status_field and str(row.get(q.status_field) or "") in q.non_patient_values:
            self.problems["non_patient_guarantors"] += 1

    def _email_field(self) -> str:
        spec = self.tables[self.quality.patient]
        return next(c.name for c in spec.columns if c.type == "email")

    def _phone_fields(self) -> list[str]:
        return [c.name for c in self.tables[self.quality.patient].columns if c.type == "phone"]

    # ------------------------------------------------------------------ clinical content

    def procedures(self, count: int) -> list[tuple[str, str, Decimal, int | None, str]]:
        """(code, description, fee, Universal tooth or None, surfaces)."""
        out = []
        for _ in range(count):
            code, desc, fee, toothy = self.rng.choice(CDT)
            tooth = self.rng.randint(1, 32) if toothy else None
            surf = surfaces(self.rng, tooth) if tooth and code.startswith("D2") else ""
            out.append((code, desc, Decimal(fee) + Decimal(self.rng.randint(0, 99)) / 100, tooth, surf))
        return out

    def note_body(self, paragraphs: list[str], *, html: bool) -> str:
        body = "".join(f"<p>{p}</p>" for p in paragraphs) if html else "\n".join(paragraphs)
        if self.chance(self.opts.rates.inline_image) or self.counters["_notes"] == 3:
            body += f'<p><img src="data:image/png;base64,{PNG_1X1}" alt="x"></p>'
        if self.chance(self.opts.rates.oversize_note) or self.counters["_notes"] == 5:
            filler = paragraphs[0] if paragraphs else "-"
            body += ("<br>" if html else "\n").join([filler] * (OVERSIZE_NOTE_BYTES // max(1, len(filler)) + 8))
        self.counters["_notes"] += 1

        return body

    def count_note(self, body: str) -> None:
        if len(body.encode("utf-8")) > OVERSIZE_NOTE_BYTES:
            self.problems["oversize_notes"] += 1
        if has_inline_image(body):
            self.problems["inline_image_notes"] += 1

    def file(self, folder: str, name: str) -> int:
        """Write one attachment and return its size: small real bytes, or an over-25 MB file as a sparse file
        (or, with large_files=index, nothing on disk: the index alone carries the size)."""
        path = self.opts.out / folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        big = self.chance(self.opts.rates.oversize_file) or self.counters["_files"] == 2
        self.counters["_files"] += 1
        if big:
            size = OVERSIZE_ATTACHMENT_BYTES + self.rng.randint(1, 15) * 1024 * 1024
            self.problems["oversize_attachments"] += 1
            if self.opts.large_files == "sparse":
                with path.open("wb") as fh:
                    fh.truncate(size)
            return size
        size = self.rng.randint(300, 4000)
        head = b"\xff\xd8\xff\xe0" if name.endswith(".jpg") else b"%PDF-1.4\n"
        path.write_bytes(head + self.rng.randbytes(size - len(head)))
        return size

    # ------------------------------------------------------------------ finish

    def finish(self, extra: dict[str, Any]) -> dict[str, Any]:
        counts: dict[str, int] = {}
        orphans: dict[str, int] = {}
        inactive_owned = 0
        for name, sink in self.sinks.items():
            sink.close()
            counts[name] = sink.rows
            for column, n in sink.orphans.items():
                orphans[f"{name}.{column}"] = n
            inactive_owned += sink.inactive_owned
        problems = {k: self.problems.get(k, 0) for k in (
            "duplicate_patients_name_dob", "duplicate_patients_email", "missing_email", "invalid_email",
            "invalid_phone", "non_patient_guarantors", "oversize_notes", "inline_image_notes",
            "oversize_attachments")}
        problems["orphans"] = sum(orphans.values())
        problems["inactive_owner_records"] = inactive_owned
        manifest = {
            "system": self.opts.system, "seed": self.opts.seed, "patients_requested": self.opts.patients,
            "now": NOW.isoformat(), "large_files": self.opts.large_files,
            "counts": counts, "problems": problems, "orphans": orphans,
            "variants": dict(sorted(self.variants.items())),
            "files": {spec.object_name: spec.file for spec in self.tables.values()},
            **extra,
        }
        (self.opts.out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2,
                                                                sort_keys=True) + "\n", encoding="utf-8")
        return manifest


