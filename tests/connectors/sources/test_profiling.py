"""Profiling reports shapes and coded values, never patient values."""

import json
from pathlib import Path

from connectors.base import source_class
from connectors.sources.generate import generate
from connectors.sources.profiling import profile_connector, shape


def test_shapes_describe_values_without_repeating_them() -> None:
    assert shape("Ayşe") == "Aa"
    assert shape("1980-03-04") == "9999-99-99"
    assert shape("ayse.kaya12@gmail.com") == "email-like"
    assert shape("0 (532) 123 45 67").startswith("phone-like")


def test_a_profile_holds_no_patient_names_emails_or_phones(tmp_path: Path) -> None:
    generate("drdentes", patients=80, seed=9, out=tmp_path, large_files="index")
    with source_class("drdentes").from_connection({"path": str(tmp_path)}, {}) as connector:
        profile = profile_connector(connector)
        patients = [r.data for r in connector.iter_records("patient")]  # type: ignore[union-attr]
    dumped = json.dumps([o.__dict__ for o in profile.objects], default=lambda o: o.__dict__, ensure_ascii=False)
    for row in patients:
        for key in ("Adı", "Soyadı", "E-posta", "Cep Telefonu", "T.C. Kimlik No"):
            if row.get(key):
                assert f'"{row[key]}"' not in dumped, key
    status = next(f for f in profile.object("patient").fields if f.name == "Durum")
    assert status.distinct_values and "Hesap Sahibi" in status.distinct_values
    assert next(f for f in profile.object("patient").fields if f.name == "Doğum Tarihi").inferred_type == "date"
