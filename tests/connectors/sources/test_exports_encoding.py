"""Encoding detection: Turkish text round-trips; ambiguous or undecodable files are refused, never garbled."""

from pathlib import Path

import pytest

from connectors.sources.exports import EncodingRefused, Locale, TableReader, TableSpec, detect_encoding
from connectors.sources.exports.tables import Column

TURKISH = "Hasta No;Adı;Soyadı;İl\n1;Işık;Şahin;İğdır\n2;Çağla;Öztürk;Muğla\n3;Gülşen;Ünal;İSTANBUL\n"
SPEC = TableSpec("patient", "Hasta", "hastalar.csv", (Column("Hasta No", "id"), Column("Adı"), Column("Soyadı"),
                                                      Column("İl")), id_field="Hasta No")


def write(tmp_path: Path, data: bytes, name: str = "hastalar.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (TURKISH.encode("cp1254"), "cp1254"),
        (b"\xef\xbb\xbf" + TURKISH.encode("utf-8"), "utf-8-sig"),
        (TURKISH.encode("utf-8"), "utf-8"),
    ],
)
def test_turkish_export_comes_back_exactly_in_each_encoding(tmp_path: Path, data: bytes, expected: str) -> None:
    write(tmp_path, data)
    reader = TableReader(tmp_path, Locale(date_order="DMY"), language="tr")
    records = list(reader.iter_records(SPEC))
    assert reader.encoding(SPEC).encoding == expected
    assert [(r.data["Adı"], r.data["Soyadı"], r.data["İl"]) for r in records] == [
        ("Işık", "Şahin", "İğdır"), ("Çağla", "Öztürk", "Muğla"), ("Gülşen", "Ünal", "İSTANBUL")]


def test_cp1254_is_not_mistaken_for_latin1_in_a_turkish_system(tmp_path: Path) -> None:
    path = write(tmp_path, "İSTANBUL ŞİŞLİ\n".encode("cp1254"))
    choice = detect_encoding(path, language="tr")
    assert choice.encoding == "cp1254"
    assert "cp1252" in choice.reason


def test_western_text_is_read_as_cp1252_in_an_english_system(tmp_path: Path) -> None:
    path = write(tmp_path, "name\nJosé Müller – “Renée”\n".encode("cp1252"))
    assert detect_encoding(path, language="en").encoding == "cp1252"


def test_turkish_letters_in_an_english_system_are_ambiguous_and_refused_naming_candidates(tmp_path: Path) -> None:
    path = write(tmp_path, "name\nIşık Şahin\n".encode("cp1254"))
    with pytest.raises(EncodingRefused) as refused:
        detect_encoding(path, language="en")
    assert set(refused.value.candidates) >= {"cp1254", "cp1252"}
    assert "cp1254" in refused.value.message and "set the connection's encoding" in refused.value.message


def test_a_file_no_candidate_can_decode_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    path = write(tmp_path, b"name\nabc\x81\x8d\x90def\n")
    with pytest.raises(EncodingRefused, match="cannot be decoded"):
        detect_encoding(path, language="tr")


def test_declared_encoding_wins(tmp_path: Path) -> None:
    path = write(tmp_path, "name\nIşık\n".encode("cp1254"))
    assert detect_encoding(path, language="en", declared="cp1254").encoding == "cp1254"


def test_utf8_with_one_stray_byte_is_utf8_and_the_row_is_reported(tmp_path: Path) -> None:
    write(tmp_path, "Hasta No;Adı;Soyadı;İl\n1;Işık;Şahin;İğdır\n2;B\xfcad;X;Y\n3;Ayşe;Kaya;Van\n".encode(
        "utf-8", errors="surrogateescape") .replace(b"B\xc3\xbcad", b"B\xfcad"))
    reader = TableReader(tmp_path, Locale(date_order="DMY"), language="tr")
    items = list(reader.iter_records(SPEC))
    assert reader.encoding(SPEC).encoding == "utf-8"
    issue = items[1]
    assert issue.reason == "undecodable bytes" and issue.line == 3 and issue.field == "Adı"
    assert issue.record_id == "2"
    assert items[2].data["Adı"] == "Ayşe"
