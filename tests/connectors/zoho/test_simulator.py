"""The simulator's own rules, in-process (httpx.WSGITransport): auth, limits, paging, the test-only endpoints."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.simulators.zoho.app import ZohoSimulator
from connectors.simulators.zoho.cli import main
from connectors.simulators.zoho.state import SimConfig


def client_for(sim: ZohoSimulator) -> httpx.Client:
    return httpx.Client(transport=httpx.WSGITransport(app=sim), base_url="http://sim")


def token_form(sim: ZohoSimulator, **overrides: str) -> dict[str, str]:
    cfg = sim.state.config
    return {"grant_type": "refresh_token", "client_id": cfg.client_id, "client_secret": cfg.client_secret,
            "refresh_token": cfg.refresh_token, **overrides}


@pytest.fixture
def sim() -> ZohoSimulator:
    return ZohoSimulator(SimConfig(edition="enterprise", users=3))


@pytest.fixture
def api(sim: ZohoSimulator) -> httpx.Client:
    http = client_for(sim)
    token = http.post("/oauth/v2/token", data=token_form(sim)).json()["access_token"]
    http.headers["Authorization"] = f"Zoho-oauthtoken {token}"
    return http


def test_token_errors_come_back_as_http_200_with_an_error_key(sim: ZohoSimulator) -> None:
    http = client_for(sim)
    bad_client = http.post("/oauth/v2/token", data=token_form(sim, client_secret="nope"))
    bad_code = http.post("/oauth/v2/token", data=token_form(sim, refresh_token="nope"))
    assert (bad_client.status_code, bad_client.json()) == (200, {"error": "invalid_client"})
    assert (bad_code.status_code, bad_code.json()) == (200, {"error": "invalid_code"})


def test_a_refresh_token_mints_at_most_ten_access_tokens_per_ten_minutes(sim: ZohoSimulator) -> None:
    http = client_for(sim)
    answers = [http.post("/oauth/v2/token", data=token_form(sim)) for _ in range(11)]
    assert all("access_token" in a.json() for a in answers[:10])
    assert answers[10].json()["error"] == "Access Denied"
    sim.clock.advance(601)
    assert "access_token" in http.post("/oauth/v2/token", data=token_form(sim)).json()


def test_calls_need_a_live_zoho_oauthtoken(sim: ZohoSimulator, api: httpx.Client) -> None:
    bearer = client_for(sim).get("/crm/v8/org", headers={"Authorization": "Bearer x"})
    assert bearer.status_code == 401
    sim.clock.advance(3601)
    expired = api.get("/crm/v8/org")
    assert (expired.status_code, expired.json()["code"]) == (401, "INVALID_TOKEN")


def test_more_than_a_hundred_records_is_limit_exceeded(api: httpx.Client) -> None:
    answer = api.post("/crm/v8/Leads", json={"data": [{"Last_Name": "x"}] * 101, "trigger": []})
    assert (answer.status_code, answer.json()["code"]) == (400, "LIMIT_EXCEEDED")


def test_listing_requires_fields_and_caps_pages(api: httpx.Client) -> None:
    assert api.get("/crm/v8/Leads").json()["code"] == "REQUIRED_PARAM_MISSING"
    assert api.get("/crm/v8/Leads", params={"fields": "Last_Name", "per_page": 201}).status_code == 400
    deep = api.get("/crm/v8/Leads", params={"fields": "Last_Name", "page": 11, "per_page": 200})
    assert deep.json()["code"] == "DISCRETE_PAGINATION_LIMIT_EXCEEDED"
    assert api.get("/crm/v8/Leads", params={"fields": "Last_Name"}).status_code == 204


def test_all_failed_batch_answers_400_and_a_full_insert_201(api: httpx.Client) -> None:
    assert api.post("/crm/v8/Leads", json={"data": [{"Last_Name": "ok"}]}).status_code == 201
    failed = api.post("/crm/v8/Leads", json={"data": [{"First_Name": "no"}]})
    assert failed.status_code == 400 and failed.json()["data"][0]["code"] == "MANDATORY_NOT_FOUND"


def test_unique_fields_answer_duplicate_data_with_the_duplicate_record(api: httpx.Client) -> None:
    api.post("/crm/v8/settings/fields", params={"module": "Contacts"}, json={"fields": [
        {"field_label": "Source System ID", "data_type": "text", "length": 50, "unique": {"casesensitive": "false"}},
    ]})
    first = api.post("/crm/v8/Contacts", json={"data": [{"Last_Name": "a", "Source_System_ID": "X"}]}).json()
    second = api.post("/crm/v8/Contacts", json={"data": [{"Last_Name": "b", "Source_System_ID": "x"}]}).json()
    error = second["data"][0]
    assert error["code"] == "DUPLICATE_DATA" and error["details"]["api_name"] == "Source_System_ID"
    assert error["details"]["duplicate_record"]["id"] == first["data"][0]["details"]["id"]


def test_credits_run_out_with_429_and_come_back_as_the_window_rolls() -> None:
    sim = ZohoSimulator(SimConfig(edition="free", users=1))
    http = client_for(sim)
    token = http.post("/oauth/v2/token", data=token_form(sim)).json()["access_token"]
    http.headers["Authorization"] = f"Zoho-oauthtoken {token}"
    assert sim.state.try_charge(4999)
    assert http.get("/crm/v8/org").status_code == 200
    refused = http.get("/crm/v8/org")
    assert (refused.status_code, refused.json()["code"]) == (429, "TOO_MANY_REQUESTS")
    sim.clock.advance(86400)
    token = http.post("/oauth/v2/token", data=token_form(sim)).json()["access_token"]
    assert http.get("/crm/v8/org", headers={"Authorization": f"Zoho-oauthtoken {token}"}).status_code == 200


def test_a_user_edit_in_the_crm_moves_modified_time(sim: ZohoSimulator, api: httpx.Client) -> None:
    created = api.post("/crm/v8/Leads", json={"data": [{"Last_Name": "a"}]}).json()["data"][0]["details"]
    sim.clock.advance(120)
    edited = api.patch(f"/__sim__/records/Leads/{created['id']}", json={"Last_Name": "b"}).json()
    assert edited["Modified_Time"] > created["Modified_Time"]
    record = api.get(f"/crm/v8/Leads/{created['id']}").json()["data"][0]
    assert record["Last_Name"] == "b" and record["Modified_Time"] == edited["Modified_Time"]


def test_state_survives_a_save_and_load(sim: ZohoSimulator, api: httpx.Client, tmp_path: Path) -> None:
    api.post("/crm/v8/Leads", json={"data": [{"Last_Name": "kept"}]})
    sim.state.save_file(tmp_path / "zoho.json")
    other = ZohoSimulator(SimConfig(edition="enterprise", users=3))
    other.state.load_file(tmp_path / "zoho.json")
    assert [r["Last_Name"] for r in other.state.records["Leads"].values()] == ["kept"]
    assert other.state.zgid == sim.state.zgid


def test_cli_help_documents_every_option(capsys: Any) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--help"], "manage.py simulate zoho")
    out = capsys.readouterr().out
    assert caught.value.code == 0
    for option in ("--port", "--edition", "--users", "--latency-ms", "--fault-rate", "--state", "--client-id",
                   "--client-secret", "--refresh-token"):
        assert option in out
