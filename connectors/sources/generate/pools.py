"""Fixed reference data for generated practices: CDT codes with our own short descriptions (the ADA text is
copyrighted), tooth numbering, carriers, and small name pools drawn once from a seeded Faker."""

from __future__ import annotations

import random
from dataclasses import dataclass

from faker import Faker

# (code, our description, fee in USD, tooth-specific)
CDT: tuple[tuple[str, str, int, bool], ...] = (
    ("D0120", "Periodic exam", 55, False), ("D0150", "Comprehensive exam, new patient", 95, False),
    ("D0210", "Full-mouth X-ray series", 140, False), ("D0274", "Four bitewing films", 70, False),
    ("D0330", "Panoramic film", 120, False), ("D1110", "Adult cleaning", 105, False),
    ("D1120", "Child cleaning", 75, False), ("D1206", "Fluoride varnish", 40, False),
    ("D1351", "Sealant per tooth", 50, True), ("D2140", "Amalgam filling, one surface", 130, True),
    ("D2330", "Resin filling, front tooth, one surface", 150, True),
    ("D2391", "Resin filling, back tooth, one surface", 175, True),
    ("D2392", "Resin filling, back tooth, two surfaces", 225, True), ("D2740", "Porcelain crown", 1250, True),
    ("D2750", "Porcelain-fused-to-metal crown", 1150, True), ("D2950", "Core buildup", 280, True),
    ("D3310", "Root canal, front tooth", 850, True), ("D3330", "Root canal, molar", 1250, True),
    ("D4341", "Deep cleaning, 4+ teeth per quadrant", 260, False), ("D4910", "Periodontal maintenance", 150, False),
    ("D5110", "Complete upper denture", 1800, False), ("D5213", "Upper partial, cast metal", 1900, False),
    ("D6010", "Implant body placement", 2200, True), ("D6058", "Implant abutment crown", 1600, True),
    ("D6240", "Bridge pontic, porcelain-metal", 1100, True), ("D7140", "Simple extraction", 180, True),
    ("D7210", "Surgical extraction", 320, True), ("D7240", "Impacted tooth removal", 480, True),
    ("D8080", "Comprehensive orthodontics, adolescent", 5800, False),
    ("D9110", "Palliative emergency care", 120, False),
    ("D9230", "Nitrous oxide", 75, False), ("D9944", "Night guard", 450, False),
)

ANTERIOR_UNIVERSAL = set(range(6, 12)) | set(range(22, 28))


def universal_to_fdi(tooth: int) -> int:
    """reference/dental-data.md, "Codes": Universal 1-8 -> 18..11, 9-16 -> 21..28, 17-24 -> 38..31, 25-32 -> 41..48."""
    if tooth <= 8:
        return 19 - tooth
    if tooth <= 16:
        return 12 + tooth
    if tooth <= 24:
        return 55 - tooth
    return 16 + tooth


def surfaces(rng: random.Random, tooth: int) -> str:
    """O and B only on posterior teeth, I and F only on anterior (reference, "Codes")."""
    pool = "MIDFL" if tooth in ANTERIOR_UNIVERSAL else "MODBL"
    count = rng.choice((1, 1, 2, 3))
    picked = rng.sample(pool, count)
    return "".join(ch for ch in pool if ch in picked)


CARRIERS_US = (
    ("Delta Dental of California", "CDCA1"), ("MetLife Dental", "65978"), ("Cigna Dental", "62308"),
    ("Aetna Dental", "60054"), ("Guardian", "64246"), ("United Concordia", "CX013"),
    ("Humana Dental", "73288"), ("Blue Cross Blue Shield Dental", "BCBS1"),
)
CARRIERS_TR = (
    ("Allianz Sigorta", "ALZ"), ("Axa Sigorta", "AXA"), ("Anadolu Sigorta", "ANS"), ("Acıbadem Sigorta", "ACB"),
    ("Türkiye Sigorta", "TRS"), ("Mapfre Sigorta", "MPF"), ("SGK", "SGK"), ("Groupama Sigorta", "GRP"),
)

US_AREA_CODES = ("212", "312", "415", "617", "713", "303", "503", "602", "404", "206", "720", "801")
TR_MOBILE = ("530", "532", "533", "535", "541", "542", "505", "506", "551", "552", "555")
TR_LAND = ("212", "216", "312", "232")

TR_FIRST_EXTRA = ("Işık", "Çağla", "Gülşen", "Şükrü", "İsmail", "Ömer", "Ağça", "Ünal", "Özge", "Ilgın")
TR_LAST_EXTRA = ("Şahin", "Öztürk", "Çelik", "Yıldız", "Aydın", "Doğan", "Kılıç", "Güneş", "Işıklar", "Ünlü")
TR_CITIES = (("İstanbul", "Şişli"), ("İstanbul", "Kadıköy"), ("Ankara", "Çankaya"), ("İzmir", "Karşıyaka"),
             ("Iğdır", "Merkez"), ("Muğla", "Bodrum"), ("Eskişehir", "Tepebaşı"), ("Şanlıurfa", "Haliliye"))
US_FIRST_EXTRA = ("José", "Renée", "Zoë", "André", "Chloé")
US_LAST_EXTRA = ("Müller", "O'Brien", "García", "Núñez", "D'Angelo")

ASCII_MAP = str.maketrans({"ı": "i", "İ": "i", "ş": "s", "Ş": "s", "ğ": "g", "Ğ": "g", "ç": "c", "Ç": "c",
                           "ö": "o", "Ö": "o", "ü": "u", "Ü": "u", "é": "e", "è": "e", "ë": "e", "á": "a",
                           "ñ": "n", "ú": "u", "â": "a", "î": "i", "û": "u", "'": "", " ": "", "-": ""})


def ascii_slug(text: str) -> str:
    return text.translate(ASCII_MAP).lower()


@dataclass
class NamePools:
    male: list[str]
    female: list[str]
    last: list[str]
    streets: list[str]
    cities: list[tuple[str, str]]


def name_pools(locale: str, seed: int) -> NamePools:
    fake = Faker(locale)
    fake.seed_instance(seed)
    male = sorted({fake.first_name_male() for _ in range(300)})
    female = sorted({fake.first_name_female() for _ in range(300)})
    last = sorted({fake.last_name() for _ in range(400)})
    streets = sorted({fake.street_address() for _ in range(300)})
    if locale == "tr_TR":
        female += list(TR_FIRST_EXTRA[:5])
        male += list(TR_FIRST_EXTRA[5:])
        last += list(TR_LAST_EXTRA)
        cities = list(TR_CITIES)
    else:
        female += list(US_FIRST_EXTRA[:3])
        male += list(US_FIRST_EXTRA[3:])
        last += list(US_LAST_EXTRA)
        cities = sorted({(fake.city(), fake.state_abbr()) for _ in range(60)})
    return NamePools(male=male, female=female, last=last, streets=streets, cities=cities)
