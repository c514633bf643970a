
"""How each system writes the generated practice: its files, headers, id shapes, date and money formats."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from connectors.sources.generate.pools import TR_LAND, TR_MOBILE, US_AREA_CODES, ascii_slug
from connectors.sources.generate.practice import Generator, Person

# ------------------------------------------------------------------ providers shared by every layout

US_PROVIDERS = (("Sarah", "Mitchell", "provider"), ("David", "Okafor", "provider"), ("Emily", "Tran", "hygienist"),
                ("Robert", "Kowalski", "provider"), ("Linda", "Park", "hygienist"), ("James", "Whitfield", "staff"))
TR_PROVIDERS = (("Ayşe", "Yılmaz", "Diş Hekimi"), ("Mehmet", "Öztürk", "Diş Hekimi"), ("Işıl", "Şahin", "Diş Hekimi"),
                ("Çağrı", "Doğan", "Ortodontist"), ("Gül", "Kaya", "Asistan"), ("Ümit", "Çelik", "Sekreter"))
INACTIVE_INDEX = 3       # the provider who left and still owns records
UNMATCHED_INDEX = 5      # the provider with no CRM user


def crm_login(email: str, index: int) -> str:
    """The CRM login of a provider: equal to the source email only after normalization (reference, last bullet)."""
    local, domain = email.split("@")
    variant = index % 4
    if variant == 0:
        return f"{local.title()}@{domain}"                        # case
    if variant == 1:
        return f"{local.replace('.', '')}@{domain}"              # dots
    if variant == 2:
        return f"{local}@{domain.replace('.com', '.co')}"         # domain alias
    return f"{local}+crm@{domain}"                                # +tag


def _us_phone(rng: random.Random) -> str:
    area, exch, line = rng.choice(US_AREA_CODES), rng.randint(201, 989), rng.randint(0, 9999)
    return rng.choice((f"({area}) {exch}-{line:04d}", f"{area}.{exch}.{line:04d}", f"{area}-{exch}-{line:04d}",
                       f"+1 {area} {exch} {line:04d}", f"cell: {area}-{exch}-{line:04d}"))


def _tr_mobile(rng: random.Random) -> str:
    p, a, b, c = rng.choice(TR_MOBILE), rng.randint(200, 999), rng.randint(10, 99), rng.randint(10, 99)
    return rng.choice((f"0 ({p}) {a} {b} {c}", f"+90 {p} {a} {b} {c}", f"0{p}{a}{b}{c}", f"cep: 0{p} {a} {b}{c}"))


def _tr_land(rng: random.Random) -> str:
    p, a, b, c = rng.choice(TR_LAND), rng.randint(200, 999), rng.randint(10, 99), rng.randint(10, 99)
    return f"0 ({p}) {a} {b} {c}"


US_INVALID_PHONES = ["555-01", "12345", "call after 5pm", "000-000-0000"]
TR_INVALID_PHONES = ["0 (5", "yok", "123 45", "0000000000"]


def tc_kimlik(rng: random.Random) -> str:
    """A valid T.C. Kimlik number: 11 digits, no leading zero, two check digits."""
    d = [rng.randint(1, 9)] + [rng.randint(0, 9) for _ in range(8)]
    d10 = ((d[0] + d[2] + d[4] + d[6] + d[8]) * 7 - (d[1] + d[3] + d[5] + d[7])) % 10
    d11 = (sum(d) + d10) % 10
    return "".join(map(str, [*d, d10, d11]))


class Layout:
    """One system's way of writing a practice. Subclasses fill the tables."""

    locale = "en_US"
    providers = US_PROVIDERS
    domains = ["gmail.com", "yahoo.com", "outlook.com", "icloud.com"]
    practice_domain = "smiledental.com"

    @staticmethod
    def id_format(kind: str, n: int) -> str:
        return str(n)

    def __init__(self, gen: Generator) -> None:
        self.gen = gen
        self.rng = gen.rng
        self.provider_ids: list[str] = []
        self.active_provider_ids: list[str] = []
        self.crm_users: list[dict[str, str]] = []

    # formats
    def d(self, value: date | None) -> str:
        return value.isoformat() if value else ""

    def dt(self, value: datetime) -> str:
        return value.strftime("%Y-%m-%d %H:%M:%S")

    def money(self, value: Decimal) -> str:
        return f"{value:.2f}"

    def phone_formats(self) -> list[Callable[[random.Random], str]]:
        return [_us_phone, _us_phone]

    def invalid_phones(self) -> list[str]:
        return US_INVALID_PHONES

    def staff(self) -> list[tuple[str, str, str, str, bool]]:
        """(id, first, last, email, active) of every provider, and the CRM users list for the manifest."""
        out = []
        for index, (first, last, _role) in enumerate(self.providers):
            pid = self.gen.next_id("provider")
            email = f"{ascii_slug(first)}.{ascii_slug(last)}@{self.practice_domain}"
            active = index != INACTIVE_INDEX
            if not active:
                self.gen.inactive.add(pid)
            else:
                self.active_provider_ids.append(pid)
            self.provider_ids.append(pid)
            if index != UNMATCHED_INDEX:
                self.crm_users.append({"source_id": pid, "source_email": email, "crm_email": crm_login(email, index),
                                       "name": f"{first} {last}"})
            out.append((pid, first, last, email, active))
        return out

    def owner(self) -> str:
        # Mostly active providers; the one who left still owns a share of the history.
        return self.rng.choice(self.provider_ids if self.rng.random() < 0.3 else self.active_provider_ids)

    def run(self) -> dict[str, Any]:
        self.static()
        n = 1
        while self.gen.counters["_patients_written"] < self.gen.opts.patients:
            family = self.gen.family(n, phone_formats=self.phone_formats(), invalid_phones=self.invalid_phones(),
                                     email_domains=self.domains)
            n += len(family)
            for person in family:
                person.provider_id = self.owner()
                if person.status == "nonpatient":
                    person.modified = person.created
                self.person(person, family)
                if (copy := self.gen.duplicate_of(person)) is not None:
                    self.patient(copy, family)
        return self.gen.finish({"crm_users": self.crm_users})

    def person(self, p: Person, family: list[Person]) -> None:
        if not p.deleted:
            self.patient(p, family)
        if p.status == "nonpatient":
            return
        self.children(p, family)

    def static(self) -> None:
        raise NotImplementedError

    def patient(self, p: Person, family: list[Person]) -> None:
        raise NotImplementedError

    def children(self, p: Person, family: list[Person]) -> None:
        raise NotImplementedError

    def write_patient(self, p: Person, row: dict[str, Any]) -> None:
        self.gen.emit("patient", row)
        self.gen.count_patient(p, row)

    def note(self, object_name: str, row: dict[str, Any], body_field: str, html: bool) -> None:
        paragraphs = [self.rng.choice(NOTE_LINES_TR if self.locale == "tr_TR" else NOTE_LINES_EN)
                      for _ in range(self.rng.randint(1, 4))]
        body = self.gen.note_body(paragraphs, html=html)
        row[body_field] = body
        self.gen.emit(object_name, row)
        self.gen.count_note(body)

    def visits(self, p: Person) -> list[datetime]:
        return sorted(self.gen.past(1500, -60) for _ in range(self.rng.choice((0, 1, 1, 2, 3, 4))))


NOTE_LINES_EN = (
    "Pt presents for periodic exam. No complaints. Tissue WNL.",
    "#19 MOD composite placed, pt tolerated well. <b>Follow up</b> in 6 months.",
    "Discussed crown on #3; pt will check insurance coverage.",
    "Heavy calculus lower anteriors. OHI given, recommend SRP.",
    "Medical history reviewed: no changes. BP 122/80.",
)
NOTE_LINES_TR = (
    "Hasta rutin kontrol için geldi. Şikâyeti yok, dişeti sağlıklı.",
    "36 numaralı dişe kompozit dolgu yapıldı; hasta işlemi iyi tolere etti.",
    "Kanal tedavisi planlandı. <b>İğne öncesi</b> alerji sorgulandı: yok.",
    "Diş taşı temizliği yapıldı, ağız hijyeni eğitimi verildi.",
    "Ortodontik kontrol: tel değişimi yapıldı, bir sonraki randevu 4 hafta sonra.",
)
