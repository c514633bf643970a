"""The optional OpenAI-compatible suggester (against a stub endpoint over real HTTP) and the suggest_mapping CLI."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command
from werkzeug.wrappers import Request, Response

from connectors.simulators.common import serving
from migrator.services.suggest import SourceObjectDesc, default_suggester, describe_field, destination_fields
from migrator.services.suggest.remote import OpenAICompatibleSuggester
from migrator.services.suggest.suggester import RuleBasedSuggester

SAMPLES = {
    "Adı": ["Ayşe", "Mehmet"],
    "Cep Telefonu": ["0 (532) 123 45 67"],
    "E-posta": ["ayse.yilmaz@example.com"],
    "Dosya": ["KRT-88812"],
}


def _stub(answer: dict, seen: list[bytes]):
    @Request.application
    def app(request: Request) -> Response:
        seen.append(request.get_data())
        completion = {"choices": [{"message": {"role": "assistant", "content": json.dumps(answer)}}]}
        return Response(json.dumps(completion), content_type="application/json")

    return app


def _desc() -> SourceObjectDesc:
    return SourceObjectDesc(name="patient", label="Hasta", fields=tuple(
        describe_field(name, samples=values) for name, values in SAMPLES.items()))


@pytest.mark.e2e
def test_the_remote_suggester_sends_no_sample_value_and_cannot_claim_high_confidence_alone():
    seen: list[bytes] = []
    answer = {"fields": [{"source": "Adı", "target": "First_Name", "confidence": 0.99},
                         {"source": "Dosya", "target": "Description", "confidence": 0.99},
                         {"source": "E-posta", "target": "Not_A_Field", "confidence": 0.99}]}
    with serving(_stub(answer, seen)) as server, \
            OpenAICompatibleSuggester(base_url=f"{server.url}/v1", model="stub") as remote:
        out = {s.source: s for s in remote.suggest_fields(_desc(), destination_fields("zoho-crm", "Contacts"),
                                                          system="drdentes", destination="zoho-crm")}
    assert len(seen) == 1
    body = seen[0].decode("utf-8")
    for values in SAMPLES.values():
        for value in values:
            assert value not in body and json.dumps(value)[1:-1] not in body
    assert "phone-like" in body and "Cep Telefonu" in body
    assert out["Adı"].target == "First_Name"
    # A target only the model proposes stays below 0.9; an unknown target is ignored.
    assert (out["Dosya"].target, out["Dosya"].confidence) == ("Description", 0.89)
    assert out["E-posta"].target == "Email"


def test_the_remote_suggester_falls_back_to_the_local_rules_when_the_endpoint_fails():
    @Request.application
    def broken(request: Request) -> Response:
        return Response("oops", status=500)

    with serving(broken) as server, OpenAICompatibleSuggester(base_url=server.url, model="stub") as remote:
        out = remote.suggest_fields(_desc(), destination_fields("zoho-crm", "Contacts"), system="drdentes",
                                    destination="zoho-crm")
    local = RuleBasedSuggester().suggest_fields(_desc(), destination_fields("zoho-crm", "Contacts"),
                                                system="drdentes", destination="zoho-crm")
    assert out == local


def test_the_remote_suggester_is_off_by_default(monkeypatch):
    monkeypatch.delenv("MAPPING_SUGGESTER_URL", raising=False)
    assert isinstance(default_suggester(), RuleBasedSuggester)


# ------------------------------------------------------------------------------------------------ CLI


def _schema(tmp_path, data) -> str:
    path = tmp_path / "schema.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(path)


def test_the_cli_prints_the_documented_json_and_never_a_sample(tmp_path, capsys):
    schema = _schema(tmp_path, {"system": "dentrix", "objects": [{"name": "patient", "label": "Patient", "fields": [
        {"name": "LName", "label": "Last name", "type": "string", "samples": ["Smithson"]},
        {"name": "ChartNum", "samples": ["CH-0042"]}]}]})
    call_command("suggest_mapping", "--schema", schema, "--destination", "zoho-crm", "--json")
    out = capsys.readouterr().out
    assert "Smithson" not in out and "CH-0042" not in out
    result = json.loads(out)
    assert result["destination"] == "zoho-crm"
    (obj,) = result["objects"]
    assert (obj["source"], obj["module"]) == ("patient", "Contacts") and obj["confidence"] >= 0.9
    last, chart = obj["fields"]
    assert (last["target"], last["transform"]) == ("Last_Name", {"kind": "copy"}) and last["confidence"] >= 0.9
    assert all(set(a) == {"target", "confidence"} for a in last["alternatives"])
    assert chart == {"source": "ChartNum", "target": None, "confidence": 0.0,
                     "create": {"label": "Chart Number", "api_name": "Chart_Number", "type": "text", "length": 50}}


def test_the_cli_honours_a_given_freshsales_module(tmp_path, capsys):
    schema = _schema(tmp_path, {"objects": [{"name": "x", "fields": [{"name": "Cep Telefonu"}]}]})
    call_command("suggest_mapping", "--schema", schema, "--destination", "freshsales", "--module", "contacts",
                 "--json")
    result = json.loads(capsys.readouterr().out)
    assert result["objects"][0]["fields"][0]["target"] == "mobile_number"


@pytest.mark.parametrize(("content", "message"), [
    (None, "schema file not found"),
    ("{not json", "not readable JSON"),
    ('{"objects": []}', "objects: List should have at least 1 item"),
])
def test_the_cli_fails_with_one_clear_line(tmp_path, content, message):
    path = tmp_path / "schema.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(CommandError, match=message) as info:
        call_command("suggest_mapping", "--schema", str(path), "--destination", "zoho-crm")
    assert "\n" not in str(info.value)


def test_the_cli_refuses_a_module_without_a_field_list(tmp_path):
    schema = _schema(tmp_path, {"objects": [{"name": "x", "fields": [{"name": "a"}]}]})
    with pytest.raises(CommandError, match="no standard field list"):
        call_command("suggest_mapping", "--schema", schema, "--destination", "zoho-crm", "--module", "Widgets")
