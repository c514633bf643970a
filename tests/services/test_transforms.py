"""Transforms: one test per behaviour, Turkish and US data alike."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from connectors.base import DestField
from migrator.services.transforms import TransformContext, apply_transform, dump_transform, parse_transform

TR = TransformContext(region="TR", time_zone="Europe/Istanbul")
US = TransformContext(region="US", time_zone="America/New_York")


def run(spec: dict[str, Any], value: Any = None, *, ctx: TransformContext = TR, record: dict[str, Any] | None = None):
    data = {"f": value, **(record or {})}
    return apply_transform(parse_transform(spec), data, source_field="f", context=ctx)


# ------------------------------------------------------------------------------------------------ specs


def test_an_empty_spec_means_copy():
    assert parse_transform({}).kind == "copy"


def test_an_unknown_kind_is_refused_with_the_list_of_kinds():
    with pytest.raises(ValueError, match=r"unknown transform kind 'shout'.*value_map"):
        parse_transform({"kind": "shout"})


def test_an_unknown_option_is_refused_naming_the_key():
    with pytest.raises(ValidationError, match="colour"):
        parse_transform({"kind": "phone", "colour": "red"})


def test_a_bad_time_zone_is_refused_when_saved():
    with pytest.raises(ValidationError, match="unknown time zone"):
        parse_transform({"kind": "datetime", "time_zone": "Mars/Olympus"})


def test_a_template_with_format_specs_is_refused():
    with pytest.raises(ValidationError, match="bad template"):
        parse_transform({"kind": "template", "template": "{amount:.2f}"})


def test_dump_keeps_only_what_differs_from_defaults():
    assert dump_transform(parse_transform({"kind": "phone", "region": "TR"})) == {"kind": "phone", "region": "TR"}


# ------------------------------------------------------------------------------------------------ copy / constant


def test_copy_strips_and_turns_blank_into_none():
    assert run({"kind": "copy"}, "  Ayşe ").value == "Ayşe"
    assert run({"kind": "copy"}, "   ").value is None


def test_copy_truncates_free_text_to_the_destination_length_and_keeps_the_rest():
    ctx = TR.with_destination(DestField(api_name="Title", label="Title", type="text", length=5))
    outcome = run({"kind": "copy"}, "abcdefgh", ctx=ctx)
    assert (outcome.value, outcome.overflow, outcome.flags) == ("abcde", "fgh", ("truncated",))


def test_copy_into_a_too_short_email_field_fails_without_the_value():
    ctx = TR.with_destination(DestField(api_name="Email", label="Email", type="email", length=5))
    outcome = run({"kind": "copy"}, "ayse@example.com", ctx=ctx)
    assert outcome.error is not None and outcome.error.code == "too_long"
    assert "ayse" not in outcome.error.message and "f:" in outcome.error.message


def test_constant_ignores_the_record():
    assert run({"kind": "constant", "value": "Dr.DENTES"}, "x").value == "Dr.DENTES"


# ------------------------------------------------------------------------------------------------ value maps


def test_value_map_uses_the_migration_value_maps_first_and_folds_turkish_case():
    ctx = TransformContext(region="TR", value_map={"Aktif": "Active"})
    assert run({"kind": "value_map", "map": {"Aktif": "Other"}}, "AKTİF", ctx=ctx).value == "Active"
    assert run({"kind": "value_map", "map": {"Kayıtlı": "Active"}}, "KAYITLI").value == "Active"


def test_value_map_flags_an_unmapped_value_and_uses_the_default():
    outcome = run({"kind": "value_map", "map": {"A": "Active"}, "default": "Other"}, "Z")
    assert (outcome.value, outcome.flags) == ("Other", ("unmapped_value",))


def test_value_map_can_fail_an_unmapped_value():
    outcome = run({"kind": "value_map", "on_unmapped": "fail"}, "Z")
    assert outcome.error is not None and outcome.error.code == "unmapped_value"


def test_value_map_refuses_a_target_missing_from_the_destination_picklist():
    ctx = TR.with_destination(DestField(api_name="Lead_Source", label="Lead Source", type="picklist",
                                        picklist=("Web", "Other")))
    outcome = run({"kind": "value_map", "map": {"R": "Referral"}, "default": "Other"}, "R", ctx=ctx)
    assert (outcome.value, outcome.flags) == ("Other", ("not_in_picklist",))


# ------------------------------------------------------------------------------------------------ dates


@pytest.mark.parametrize(("raw", "expected"), [
    ("05.03.1987", "1987-03-05"),
    ("5.3.87", "1987-03-05"),
    ("5.3.07", "2007-03-05"),
    ("1987-03-05", "1987-03-05"),
    ("19870305", "1987-03-05"),
])
def test_turkish_dates_read_day_first(raw, expected):
    assert run({"kind": "date"}, raw).value == expected


def test_us_dates_read_month_first():
    assert run({"kind": "date"}, "03/05/1987", ctx=US).value == "1987-03-05"


def test_an_impossible_month_swaps_rather_than_fails():
    assert run({"kind": "date"}, "13/05/2020", ctx=US).value == "2020-05-13"


def test_the_pivot_year_decides_the_century():
    assert run({"kind": "date", "pivot_year": 10}, "5.3.15").value == "1915-03-05"


@pytest.mark.parametrize("raw", ["0001-01-01", "01.01.1900", "0000-00-00", "00.00.0000"])
def test_no_date_sentinels_become_empty(raw):
    outcome = run({"kind": "date"}, raw)
    assert (outcome.value, outcome.flags) == (None, ("sentinel_date",))


def test_an_unparseable_date_is_flagged_or_fails_per_spec():
    assert run({"kind": "date"}, "next tuesday").flags == ("unparseable_date",)
    failed = run({"kind": "date", "on_invalid": "fail"}, "next tuesday")
    assert failed.error is not None and "next" not in failed.error.message


def test_explicit_formats_are_tried_first():
    assert run({"kind": "date", "formats": ["%Y/%d/%m"]}, "1987/05/03").value == "1987-03-05"


def test_datetimes_get_the_source_zone_offset():
    assert run({"kind": "datetime"}, "05.03.2024 14:30").value == "2024-03-05T14:30:00+03:00"
    assert run({"kind": "datetime"}, "07/04/2024 2:30 PM", ctx=US).value == "2024-07-04T14:30:00-04:00"


def test_an_explicit_offset_is_honoured_and_shown_in_the_source_zone():
    assert run({"kind": "datetime"}, "2024-03-05T11:30:00Z").value == "2024-03-05T14:30:00+03:00"


def test_datetime_from_separate_hour_and_minute_columns():
    spec = {"kind": "datetime", "hour_field": "start_hour", "minute_field": "start_minute"}
    outcome = run(spec, "2024-01-15", ctx=US, record={"start_hour": 9, "start_minute": "30"})
    assert outcome.value == "2024-01-15T09:30:00-05:00"


# ------------------------------------------------------------------------------------------------ phones and e-mail


@pytest.mark.parametrize(("raw", "expected"), [
    ("0 (532) 123 45 67", "+905321234567"),
    ("0212 555 12 34", "+902125551234"),
    ("+90 216 555 12 34", "+902165551234"),
    ("5321234567", "+905321234567"),
])
def test_turkish_phones_become_e164(raw, expected):
    assert run({"kind": "phone"}, raw).value == expected


def test_us_phones_use_the_us_region():
    assert run({"kind": "phone"}, "(212) 555-0188", ctx=US).value == "+12125550188"


def test_an_invalid_phone_keeps_nothing_or_the_raw_text_per_spec():
    assert run({"kind": "phone"}, "12").flags == ("invalid_phone",)
    assert run({"kind": "phone"}, "12").value is None
    assert run({"kind": "phone", "on_invalid": "flag_keep_raw"}, " 12 ").value == "12"
    failed = run({"kind": "phone", "on_invalid": "fail"}, "12")
    assert failed.error is not None and failed.error.code == "invalid_phone" and "12" not in failed.error.message


def test_email_is_lower_cased_and_validated():
    assert run({"kind": "email"}, " <Ayse.Yilmaz@Example.COM> ").value == "ayse.yilmaz@example.com"
    assert run({"kind": "email", "lowercase": False}, "Ayse@Example.COM").value == "Ayse@example.com"
    assert run({"kind": "email"}, "ayse@").flags == ("invalid_email",)


def test_several_emails_keep_the_first_and_say_so():
    outcome = run({"kind": "email"}, "a@example.com; b@example.com")
    assert (outcome.value, outcome.flags) == ("a@example.com", ("multiple_values",))


# ------------------------------------------------------------------------------------------------ names and text


def test_name_split_takes_salutation_first_middle_and_last():
    for part, expected in (("salutation", "Dr."), ("first", "Ayşe"), ("middle", "Nur"), ("last", "Işık")):
        assert run({"kind": "name", "part": part}, "Dr. Ayşe Nur Işık").value == expected


def test_name_split_reads_last_comma_first():
    assert run({"kind": "name", "part": "first"}, "Smith, John A").value == "John"


def test_name_title_case_respects_turkish_dotted_i():
    assert run({"kind": "name", "part": "last", "case": "title"}, "AYŞE IŞIK").value == "Işık"
    assert run({"kind": "name", "part": "last", "case": "upper"}, "ayşe ışık").value == "IŞIK"
    assert run({"kind": "name", "part": "first", "case": "upper"}, "işıl ak").value == "İŞIL"


def test_name_join_skips_empty_parts():
    outcome = run({"kind": "name", "mode": "join", "fields": ["first", "mi", "last"]},
                  record={"first": "John", "mi": "", "last": "Smith"})
    assert outcome.value == "John Smith"


def test_concat_and_template_combine_several_fields():
    record = {"a1": "Bağdat Cd. 5", "a2": None, "city": "Kadıköy"}
    assert run({"kind": "concat", "fields": ["a1", "a2", "city"], "separator": ", "}, record=record).value == \
        "Bağdat Cd. 5, Kadıköy"
    assert run({"kind": "template", "template": "{city} / {missing}"}, record=record).value == "Kadıköy /"


# ------------------------------------------------------------------------------------------------ numbers


@pytest.mark.parametrize(("raw", "ctx", "expected"), [
    ("1.234,50", TR, Decimal("1234.50")),
    ("1,234.50", US, Decimal("1234.50")),
    ("12,5", TR, Decimal("12.5")),
    ("1.234", TR, Decimal("1234")),
    ("1,234", US, Decimal("1234")),
    ("(12.00)", US, Decimal("-12.00")),
    ("₺ 2.500,00", TR, Decimal("2500.00")),
    (15, US, Decimal("15")),
])
def test_numbers_read_decimal_commas_and_thousands(raw, ctx, expected):
    assert run({"kind": "number"}, raw, ctx=ctx).value == expected


def test_currency_rounds_half_up_to_cents_and_integer_rounds():
    assert run({"kind": "currency"}, "1.234,505").value == Decimal("1234.51")
    assert run({"kind": "number", "integer": True}, "2,5").value == 3


def test_an_unparseable_number_is_flagged():
    assert run({"kind": "number"}, "n/a").flags == ("unparseable_number",)


def test_a_number_can_be_the_sum_of_several_fields():
    buckets = {"kind": "currency", "fields": ["b30", "b60", "b90", "b90plus"]}
    ledger = {"b30": "-1.200,50", "b60": "300,00", "b90": "", "b90plus": "0,25"}
    assert run(buckets, record=ledger).value == Decimal("-900.25")
    assert run(buckets, record={"b30": "", "b60": None}).value is None        # nothing owed is not a zero
    refused = run({**buckets, "on_invalid": "fail"}, record={**ledger, "b90": "n/a"})
    assert not refused.ok and "b90" in refused.error.message and "n/a" not in refused.error.message


@pytest.mark.parametrize(("raw", "expected"), [
    ("Evet", True), ("HAYIR", False), ("Y", True), ("0", False), (True, True), ("", None),
])
def test_booleans_in_english_and_turkish(raw, expected):
    assert run({"kind": "boolean"}, raw).value is expected


def test_an_unknown_boolean_word_is_flagged_unless_configured():
    assert run({"kind": "boolean"}, "maybe").flags == ("unparseable_boolean",)
    assert run({"kind": "boolean", "true_values": ["maybe"]}, "Maybe").value is True


# ------------------------------------------------------------------------------------------------ structured text


def test_json_has_a_stable_key_order():
    chart_a = {"16": ["MOD"], "11": ["crown"]}
    chart_b = {"11": ["crown"], "16": ["MOD"]}
    assert run({"kind": "json"}, chart_a).value == run({"kind": "json"}, chart_b).value == \
        '{"11":["crown"],"16":["MOD"]}'


def test_json_of_several_fields_and_invalid_json_text():
    assert run({"kind": "json", "fields": ["b", "a"]}, record={"a": 1, "b": "ç"}).value == '{"a":1,"b":"ç"}'
    assert run({"kind": "json"}, "{broken").error.code == "invalid_json"


def test_long_text_truncates_to_the_destination_length_with_overflow():
    ctx = TR.with_destination(DestField(api_name="Description", label="Description", type="textarea", length=10))
    outcome = run({"kind": "long_text"}, "0123456789abc", ctx=ctx)
    assert (outcome.value, outcome.overflow, outcome.flags) == ("0123456789", "abc", ("truncated",))


def test_long_text_splits_between_words_and_strips_html():
    outcome = run({"kind": "long_text", "mode": "split", "max_length": 12, "strip_html": True},
                  "<p>one two three</p><p>four five</p><img src=x>")
    assert outcome.flags == ("split",)
    assert all(len(chunk) <= 12 for chunk in outcome.value)
    assert " ".join(outcome.value).split() == ["one", "two", "three", "four", "five"]


# ------------------------------------------------------------------------------------------------ lookups and owners


def test_lookup_resolves_the_parents_destination_id():
    ctx = TransformContext(lookup=lambda obj, sid: "9001" if (obj, sid) == ("patient", "17") else None)
    assert run({"kind": "lookup", "source_object": "patient"}, 17, ctx=ctx).value == "9001"


def test_a_missing_parent_fails_the_record_with_lookup_unresolved():
    outcome = run({"kind": "lookup", "source_object": "patient"}, "18")
    assert outcome.error is not None and outcome.error.code == "lookup_unresolved"
    assert "18" not in outcome.error.message


def test_an_optional_empty_lookup_is_only_flagged():
    assert run({"kind": "lookup", "source_object": "patient", "required": False}, "").flags == ("lookup_empty",)
    assert run({"kind": "lookup", "source_object": "patient"}, "").error.code == "lookup_missing"


LINES = {"kind": "line_items", "source_object": "treatment", "product_object": "product",
         "product_field": "İşlem Kodu", "price_field": "Tutar"}


def test_line_items_are_the_rows_that_refer_to_the_record_each_pointing_at_its_product():
    products = {"D1110": "p-1", "D2750": "p-2"}
    ctx = TransformContext(region="TR", lookup=lambda obj, sid: products.get(sid) if obj == "product" else None)
    invoice = {"treatment[]": [{"İşlem Kodu": "D2750", "Tutar": "40.278,00"},
                               {"İşlem Kodu": "D1110", "Tutar": "1.750,5"}]}
    assert run(LINES, record=invoice, ctx=ctx).value == [
        {"Product_Name": "p-2", "Quantity": 1.0, "List_Price": 40278.0},
        {"Product_Name": "p-1", "Quantity": 1.0, "List_Price": 1750.5},
    ]


def test_line_items_fail_the_record_on_an_unloaded_product_or_no_rows():
    ctx = TransformContext(region="TR", lookup=lambda obj, sid: None)
    unloaded = run(LINES, record={"treatment[]": [{"İşlem Kodu": "D9999", "Tutar": "1"}]}, ctx=ctx)
    assert unloaded.error.code == "lookup_unresolved" and "line 1" in unloaded.error.message
    assert run(LINES, record={"treatment[]": []}, ctx=ctx).error.code == "no_line_items"


def test_owner_resolves_through_owner_matches_and_never_falls_back_silently():
    ctx = TransformContext(owner=lambda sid: {"DR1": "u-1"}.get(sid))
    assert run({"kind": "owner"}, "DR1", ctx=ctx).value == "u-1"
    outcome = run({"kind": "owner"}, "DR9", ctx=ctx)
    assert outcome.error is not None and outcome.error.code == "owner_unresolved"
