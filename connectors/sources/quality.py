"""The data-quality predicates that the generator's manifest and discovery profiling share, so a "problem" means
the same thing on both sides."""

from __future__ import annotations

import re

import phonenumbers

OVERSIZE_NOTE_BYTES = 32 * 1024             # Zoho/Freshsales note body limit (seeds: "Notes exceeding 32 KB")
OVERSIZE_ATTACHMENT_BYTES = 25 * 1024 * 1024  # Zoho attachment limit (seeds: "25MB per file")

_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")


def is_valid_email(value: str) -> bool:
    return bool(_EMAIL.match(value.strip()))


def normalize_email(value: str) -> str:
    return value.strip().lower()


def is_valid_phone(value: str, region: str) -> bool:
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return False
    return bool(phonenumbers.is_valid_number(number))


def note_bytes(text: str) -> int:
    return len(text.encode("utf-8"))


def has_inline_image(text: str) -> bool:
    return "data:image/" in text and ";base64," in text
