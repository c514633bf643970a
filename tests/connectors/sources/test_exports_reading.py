"""Streaming reads: delimiters, resumable cursors, bad rows reported by file and line, and locale values."""

import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook

from connectors.base import SourceIssue, SourceRecord
from connectors.sources.exports import Locale, TableReader, TableSpec, ValueRejected, parse_value
from connectors.sources.exports.tables import Column

COLUMNS = (Column("id", "id"), Column("name"), Column("born", "date"), Column("amount", "currency"))
SPEC = TableSpec("patient", "Patient", "p.csv", COLUMNS, id_field="id")
US = Locale(date_order="MDY")


def reader(tmp_path: Path, text: str, name: str = "p.csv", locale: Locale = US) -> TableReader:
    (tmp_path / name).write_text(text, encoding="utf-8")
    return TableReader(tmp_path, locale, language="en")


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_the_delimiter_is_sniffed_from_the_header(tmp_path: Path, delimiter: str) -> None:
    rows = ["id,name,born,amount", "1,Ann,03/04/1980,12.50", "2,Bob,12/31/1999,0"]
    items = list(reader(tmp_path, "\n".join(r.replace(",", delimiter) for r in rows) + "\n").iter_records(SPEC))
    assert [i.data["born"] for i in items] == [date(1980, 3, 4), date(1999, 12, 31)]


def test_a_corrupted_export_is_read_to_the_end_with_each_bad_row_reported(tmp_path: Path) -> None:
    text = (
        "id,name,born,amount\n"
        "1,Ann,03/04/1980,1.00\n"                      # line 2 ok
        "2,Bob,03/04/1980\n"                           # line 3 wrong column count
        '3,"Cy,03/04/1980,1.00\n'                      # line 4 unterminated quote
        "4,Dee,02/30/1990,1.00\n"                      # line 5 impossible date
        '5,"Multi\nline",03/04/1980,2.00\n'            # lines 6-7 a legal multi-line record
        "6,Eve,01/01/1970,abc\n"                       # line 8 not a number
        "7,Fay,01/01/1970,3.00\n"                      # line 9 ok
    )
    items = list(reader(tmp_path, text).iter_records(SPEC))
    issues = [(i.file, i.line, i.reason, i.record_id, i.field) for i in items if isinstance(i, SourceIssue)]
    assert issues == [
        ("p.csv", 3, "wrong column count: expected 4, found 3", "", ""),
        ("p.csv", 4, "unterminated quote (record runs over several lines)", "", ""),
        ("p.csv", 5, "impossible date", "4", "born"),
        ("p.csv", 8, "not a number", "6", "amount"),
    ]
    assert [i.source_id for i in items if isinstance(i, SourceRecord)] == ["1", "5", "7"]
    assert next(i for i in items if isinstance(i, SourceRecord) and i.source_id == "5").data["name"] == "Multi\nline"


def test_an_unterminated_quote_at_the_end_of_the_file_is_reported(tmp_path: Path) -> None:
    items = list(reader(tmp_path, 'id,name,born,amount\n1,Ann,,\n2,"Bob,,\n').iter_records(SPEC))
    assert isinstance(items[1], SourceIssue) and items[1].line == 3 and "unterminated quote" in items[1].reason


def test_reading_resumes_from_a_cursor_without_repeating_or_skipping(tmp_path: Path) -> None:
    text = "id,name,born,amount\n" + "".join(f'{n},"N\n{n}",,\n' for n in range(1, 11))
    r = reader(tmp_path, text)
    first = list(r.iter_records(SPEC))
    resumed = list(r.iter_records(SPEC, cursor=first[3].cursor))
    assert [i.source_id for i in resumed] == [str(n) for n in range(5, 11)]
    assert all(isinstance(i, SourceRecord) for i in first)


def test_xlsx_rows_stream_with_a_row_cursor_and_typed_cells(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["id", "name", "born", "amount"])
    ws.append([1, "Ayşe", datetime(1980, 3, 4), 1234.5])  # noqa: DTZ001
    ws.append([2, "Işık", "31.12.1999", "1.234,50"])
    wb.save(tmp_path / "p.xlsx")
    spec = TableSpec("patient", "Patient", "p.xlsx", COLUMNS, id_field="id")
    r = TableReader(tmp_path, Locale(date_order="DMY", decimal_comma=True), language="tr")
    items = list(r.iter_records(spec))
    assert [(i.source_id, i.data["born"], i.data["amount"]) for i in items] == [
        ("1", date(1980, 3, 4), Decimal("1234.5")), ("2", date(1999, 12, 31), Decimal("1234.50"))]
    assert [i.source_id for i in r.iter_records(spec, cursor=items[0].cursor)] == ["2"]


def test_json_arrays_stream_element_by_element_and_resume(tmp_path: Path) -> None:
    rows = [{"id": n, "name": "Ş" * n, "born": "1980-01-02", "amount": "1.5"} for n in range(1, 6)]
    (tmp_path / "p.json").write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    spec = TableSpec("patient", "Patient", "p.json", COLUMNS, id_field="id")
    r = TableReader(tmp_path, US, language="en")
    items = list(r.iter_records(spec))
    assert [i.data["name"] for i in items] == ["Ş" * n for n in range(1, 6)]
    assert [i.source_id for i in r.iter_records(spec, cursor=items[1].cursor)] == ["3", "4", "5"]


def test_ndjson_bad_lines_are_reported_and_reading_goes_on(tmp_path: Path) -> None:
    (tmp_path / "p.ndjson").write_bytes(b'{"id": 1}\n{"id": 2,\n\xff\xfe\n{"id": 3}\n')
    spec = TableSpec("patient", "Patient", "p.ndjson", COLUMNS, id_field="id")
    items = list(TableReader(tmp_path, US, language="en").iter_records(spec))
    assert [(type(i).__name__, getattr(i, "line", None) or i.cursor) for i in items] == [
        ("SourceRecord", "ndjson:10:1"), ("SourceIssue", 2), ("SourceIssue", 3), ("SourceRecord", "ndjson:33:4")]
    assert [i.reason for i in items if isinstance(i, SourceIssue)] == ["malformed JSON", "undecodable bytes"]


TR = Locale(date_order="DMY", decimal_comma=True, tz="Europe/Istanbul")


@pytest.mark.parametrize(
    ("raw", "kind", "locale", "expected"),
    [
        ("05.03.1984", "date", TR, date(1984, 3, 5)),
        ("03/05/1984", "date", US, date(1984, 3, 5)),
        ("1984-03-05", "date", US, date(1984, 3, 5)),
        ("03/05/84", "date", US, date(1984, 3, 5)),
        ("03/05/12", "date", US, date(2012, 3, 5)),
        ("0001-01-01", "date", US, None),
        ("01.01.1900", "date", TR, None),
        ("", "date", TR, None),
        ("1.234,50", "currency", TR, Decimal("1234.50")),
        ("-250,00", "currency", TR, Decimal("-250.00")),
        ("$1,234.50", "currency", US, Decimal("1234.50")),
        ("14.02.2024 09:30", "datetime", TR, datetime(2024, 2, 14, 9, 30, tzinfo=ZoneInfo("Europe/Istanbul"))),
        ("2024-02-14T09:30:00Z", "datetime", TR, datetime(2024, 2, 14, 9, 30, tzinfo=ZoneInfo("UTC"))),
        ("02/14/2024 02:05 PM", "datetime", US, datetime(2024, 2, 14, 14, 5, tzinfo=ZoneInfo("UTC"))),
        ("Evet", "boolean", TR, True),
        ("N", "boolean", US, False),
    ],
)
def test_values_parse_in_the_source_locale(raw: str, kind: str, locale: Locale, expected: object) -> None:
    assert parse_value(raw, kind, locale) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(("raw", "kind"), [("31.02.2020", "date"), ("13/45/2020", "date"), ("12,3,4", "decimal")])
def test_impossible_values_are_rejected(raw: str, kind: str) -> None:
    with pytest.raises(ValueRejected):
        parse_value(raw, kind, TR)  # type: ignore[arg-type]
