"""What profiling needs to know about a system's patients that field types alone do not say."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class QualityHints:
    patient: str                                  # the patient object
    first_name: str
    last_name: str
    birth_date: str
    status_field: str = ""                        # a coded field whose values mark non-patients
    non_patient_values: frozenset[str] = frozenset()
    phone_region: str = "US"                      # phonenumbers region for numbers without a country code
    notes: tuple[tuple[str, str], ...] = ()       # (object, body field) checked for size and inline images
    attachment: tuple[str, str] = ("", "")        # (object, size field) checked against the 25 MB limit
