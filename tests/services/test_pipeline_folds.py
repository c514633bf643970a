"""Rows folded into their parent: the whole list on every write, in the source's time order."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from connectors.base import SourceField, SourceObject
from migrator.models import MappingStrategy
from migrator.services.pipeline_folds import fold, folds, order_key
from migrator.services.transforms import parse_transform


def _plan(strategy: str, fields: dict[str, dict[str, Any]]) -> Any:
    source = SourceObject(name="tooth_chart", label="Tooth chart", id_field="id",
                          fields=(SourceField("id"), SourceField("RecordedDate", type="date")))
    return SimpleNamespace(strategy=strategy, source=source, fields=[
        SimpleNamespace(destination_field=name, spec=parse_transform(spec)) for name, spec in fields.items()])


def test_subform_fields_of_each_row_become_one_row_object_of_the_parent_list() -> None:
    plan = _plan(MappingStrategy.SUBFORM, {"Insurance_Benefits.Carrier": {"kind": "copy"},
                                           "Insurance_Benefits.Plan_Type": {"kind": "copy"}})
    rows = [{"order": ["", "00022"], "payload": {"Insurance_Benefits.Carrier": "MetLife"}},
            {"order": ["", "00011"], "payload": {"Insurance_Benefits.Carrier": "Aetna",
                                                 "Insurance_Benefits.Plan_Type": "PPO"}}]
    assert folds(plan)
    assert fold(plan, rows) == {"Insurance_Benefits": [{"Carrier": "Aetna", "Plan_Type": "PPO"},
                                                       {"Carrier": "MetLife"}]}


def test_collected_json_lists_every_entry_and_other_fields_take_the_latest_entry() -> None:
    plan = _plan(MappingStrategy.MERGE_FIELDS, {"Snapshot": {"kind": "json", "fields": ["t"], "collect": True},
                                                "Condition": {"kind": "copy"}})
    late = order_key(plan, {"RecordedDate": "2025-01-02"}, "1")
    early = order_key(plan, {"RecordedDate": "2024-05-01"}, "2")
    rows = [{"order": late, "payload": {"Snapshot": '{"t":"11"}', "Condition": "Crown"}},
            {"order": early, "payload": {"Snapshot": '{"t":"36"}', "Condition": "Caries"}}]
    assert fold(plan, rows) == {"Snapshot": '[{"t":"36"},{"t":"11"}]', "Condition": "Crown"}


def test_a_plain_merge_does_not_fold() -> None:
    assert not folds(_plan(MappingStrategy.MERGE_FIELDS, {"Condition": {"kind": "copy"}}))
