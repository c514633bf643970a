"""End times kept as a length: datetime's `plus_minutes_field` / `plus_minutes` (start + N minutes)."""

from __future__ import annotations

from typing import Any

import pytest

from migrator.services.transforms import TransformContext, apply_transform, parse_transform

TR = TransformContext(region="TR", time_zone="Europe/Istanbul")
US = TransformContext(region="US", time_zone="America/New_York")


def run(spec: dict[str, Any], record: dict[str, Any], *, ctx: TransformContext = TR):
    return apply_transform(parse_transform(spec), record, source_field="start", context=ctx)


def test_the_end_is_the_start_plus_the_length_column():
    outcome = run({"kind": "datetime", "plus_minutes_field": "Süre (dk)"},
                  {"start": "05.03.2024 14:30", "Süre (dk)": "45"})
    assert outcome.value == "2024-03-05T15:15:00+03:00"


def test_a_fixed_number_of_minutes_is_added_to_the_length():
    outcome = run({"kind": "datetime", "plus_minutes_field": "length", "plus_minutes": 5},
                  {"start": "2024-01-15 09:00", "length": 30}, ctx=US)
    assert outcome.value == "2024-01-15T09:35:00-05:00"


def test_a_fixed_length_alone_needs_no_column():
    assert run({"kind": "datetime", "plus_minutes": 60}, {"start": "2024-01-15 23:30"}, ctx=US).value == \
        "2024-01-16T00:30:00-05:00"


def test_the_end_combines_with_separate_hour_and_minute_columns():
    spec = {"kind": "datetime", "hour_field": "start_hour", "minute_field": "start_minute",
            "plus_minutes_field": "length"}
    outcome = run(spec, {"start": "2024-01-15", "start_hour": 9, "start_minute": 30, "length": "90"}, ctx=US)
    assert outcome.value == "2024-01-15T11:00:00-05:00"


def test_the_offset_follows_a_daylight_saving_change_inside_the_appointment():
    # 2024-03-10 02:00 New York clocks jump to 03:00; 60 minutes later is 03:30 on the new offset.
    outcome = run({"kind": "datetime", "plus_minutes_field": "length"}, {"start": "2024-03-10 01:30",
                                                                          "length": "60"}, ctx=US)
    assert outcome.value == "2024-03-10T03:30:00-04:00"


def test_an_empty_length_leaves_the_start():
    assert run({"kind": "datetime", "plus_minutes_field": "length"}, {"start": "2024-01-15 09:00", "length": ""},
               ctx=US).value == "2024-01-15T09:00:00-05:00"


def test_a_length_that_is_not_a_number_is_flagged_empty_or_fails_when_asked():
    flagged = run({"kind": "datetime", "plus_minutes_field": "length"}, {"start": "2024-01-15 09:00",
                                                                          "length": "an hour"}, ctx=US)
    assert flagged.value is None
    assert flagged.flags
    failed = run({"kind": "datetime", "plus_minutes_field": "length", "on_invalid": "fail"},
                 {"start": "2024-01-15 09:00", "length": "an hour"}, ctx=US)
    assert failed.error is not None
    assert failed.error.field == "length"
    assert "an hour" not in failed.error.message


def test_an_absurd_fixed_length_is_refused_when_saved():
    with pytest.raises(ValueError, match="plus_minutes"):
        parse_transform({"kind": "datetime", "plus_minutes": 100000})


def test_a_template_names_export_headers_with_spaces_and_brackets():
    spec = parse_transform({"kind": "template", "template": "{Tür} ({Süre (dk)} dk)"})
    outcome = apply_transform(spec, {"Tür": "Muayene", "Süre (dk)": "45"}, source_field="", context=TR)
    assert outcome.value == "Muayene (45 dk)"


@pytest.mark.parametrize("template", ["{a.b}", "{a[0]}", "{ padded }", "{}"])
def test_a_template_refuses_placeholders_that_would_index_or_are_unnamed(template):
    with pytest.raises(ValueError, match="bad template"):
        parse_transform({"kind": "template", "template": template})


def test_a_length_in_seconds_is_added_as_seconds():
    outcome = run({"kind": "datetime", "plus_minutes_field": "duration_sec", "plus_unit": "seconds"},
                  {"start": "2024-01-15T09:00:00-07:00", "duration_sec": 898}, ctx=US)
    assert outcome.value == "2024-01-15T11:14:58-05:00"
