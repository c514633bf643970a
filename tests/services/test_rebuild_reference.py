"""The workflow rebuild reference, from generated exports and from a small fake source."""

from collections.abc import Iterator
from dataclasses import dataclass, field

from connectors.base import SourceField, SourceIssue, SourceObject, SourceRecord
from connectors.sources.dentrix.connector import DentrixConnector
from connectors.sources.drdentes.connector import DrDentesConnector
from connectors.sources.generate import generate
from migrator.services.rebuild_reference import (
    rebuild_reference_build,
    rebuild_reference_html,
    rebuild_reference_pdf,
)
from tests.pdf_text import pdf_strings


@dataclass
class FakeSource:
    rows: dict[str, list[dict]] = field(default_factory=dict)
    slug: str = "fake"

    def discover(self):
        return [SourceObject(name, name, (SourceField("id"),), "id") for name in self.rows]

    def iter_records(self, object_name, *, since=None, cursor=None) -> Iterator[SourceRecord | SourceIssue]:
        for i, row in enumerate(self.rows[object_name]):
            if row is None:
                yield SourceIssue(object_name, "unreadable row", line=i + 2)
            else:
                yield SourceRecord(object_name, str(row.get("id", i)), row, cursor=str(i))

    def close(self):
        pass


def test_each_automation_lists_trigger_conditions_timing_and_action_for_zoho():
    source = FakeSource({
        "reminder_workflow": [
            {"id": "1", "name": "Recall due", "trigger": "recall_due", "channel": "sms", "offset_days": -7,
             "template": "Hi {first_name}", "active": True, "conditions": "recall type = hygiene"},
            None,
        ],
        "integration": [{"id": "9", "name": "Imaging bridge", "kind": "imaging", "endpoint": "https://img.test",
                         "api_key": "sk-secret"}],
    })
    reference = rebuild_reference_build(source=source, destination="zoho-crm")
    [automation] = reference.automations
    assert automation.trigger == "recall_due"
    assert automation.conditions == "recall type = hygiene"
    assert automation.timing == "7 day(s) before the trigger"
    assert "send sms" in automation.action and "Hi {first_name}" in automation.action
    assert automation.rebuild_as.startswith("Workflow Rule")
    [integration] = reference.integrations
    assert integration.kind == "imaging" and "Zoho" in integration.rebuild_as
    assert any("could not be read" in n for n in reference.notes)
    assert "sk-secret" not in rebuild_reference_html(reference)


def test_sequence_steps_become_blueprints_in_zoho_and_workflows_in_freshsales():
    rows = {"reminder": [{"id": "R1", "name": "Recall step", "trigger": "recall", "sequence_step": 2,
                          "offset_days": 0}]}
    assert rebuild_reference_build(source=FakeSource(rows), destination="zoho-crm").automations[0].rebuild_as \
        .startswith("Blueprint")
    freshsales = rebuild_reference_build(source=FakeSource(rows), destination="freshsales")
    assert freshsales.destination_tools == "Workflows"
    assert freshsales.automations[0].rebuild_as.startswith("Workflow")


def test_a_source_without_definitions_says_so():
    reference = rebuild_reference_build(source=FakeSource({"patient": []}), destination="zoho-crm")
    assert reference.automations == [] and reference.integrations == []
    assert any("no automation" in n for n in reference.notes)


def test_a_generated_dentrix_export_gives_its_reminder_workflows(tmp_path):
    generate("dentrix", patients=5, seed=3, out=tmp_path)
    with DentrixConnector.from_connection({"path": str(tmp_path)}, {}) as source:
        reference = rebuild_reference_build(source=source, destination="zoho-crm", objects=["reminder_workflow"])
    assert reference.automations
    assert all(a.trigger and a.timing for a in reference.automations)
    text = "".join(pdf_strings(rebuild_reference_pdf(reference)))
    assert "Automations" in text and reference.automations[0].trigger in text


def test_a_generated_drdentes_export_gives_workflows_and_integrations(tmp_path):
    generate("drdentes", patients=5, seed=3, out=tmp_path)
    with DrDentesConnector.from_connection({"path": str(tmp_path)}, {}) as source:
        reference = rebuild_reference_build(source=source, destination="freshsales")
    assert reference.automations and reference.integrations
    assert {i.name for i in reference.integrations} >= {"Medula", "iyzico"}
    html = rebuild_reference_html(reference)
    assert "Freshworks Marketplace" in html
