"""The simulator speaks the Freshsales wire format and is no more lenient than the real service."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from connectors.simulators.common import Faults
from connectors.simulators.freshsales.app import BASE, DEFAULT_API_KEY, FreshsalesSimulator


@pytest.fixture
def app() -> FreshsalesSimulator:
    simulator = FreshsalesSimulator(faults=Faults(seed=1))
    simulator.state.job_seconds = 0.0
    return simulator


@pytest.fixture
def client(app: FreshsalesSimulator) -> Iterator[httpx.Client]:
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url=f"http://fs.test{BASE}/",
                      headers={"Authorization": f"Token token={DEFAULT_API_KEY}"}) as c:
        yield c


@pytest.fixture
def sim_admin(app: FreshsalesSimulator) -> Iterator[httpx.Client]:
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://fs.test/__sim__/") as c:
        yield c


def _contact(client: httpx.Client, **fields: object) -> httpx.Response:
    return client.post("contacts", json={"contact": {"last_name": "Kaya", **fields}})


def test_requests_without_the_token_header_get_401_and_are_not_counted(
    client: httpx.Client, app: FreshsalesSimulator
) -> None:
    response = client.get("selector/owners", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert response.json()["errors"]["code"] == 401
    assert app.state.counters.accepted == 0


def test_errors_use_the_observed_shape_with_a_message_list(client: httpx.Client) -> None:
    assert _contact(client, emails=[{"value": "a@x.test"}]).status_code == 201
    duplicate = _contact(client, email="A@X.test")
    assert duplicate.status_code == 400
    assert duplicate.json() == {"errors": {"code": 400, "message": ["Email already exists"]}}


def test_required_fields_are_enforced_per_module(client: httpx.Client) -> None:
    assert client.post("contacts", json={"contact": {"first_name": "x"}}).status_code == 400
    task = client.post("tasks", json={"task": {"title": "Recall"}})
    assert task.json()["errors"]["message"] == ["Due date can't be blank"]
    assert client.post("sales_accounts", json={"sales_account": {}}).status_code == 400


def test_account_names_are_unique(client: httpx.Client) -> None:
    assert client.post("sales_accounts", json={"sales_account": {"name": "Merkez"}}).status_code == 201
    again = client.post("sales_accounts", json={"sales_account": {"name": "merkez"}})
    assert again.json()["errors"]["message"] == ["Name has already been taken"]


def test_choice_ids_and_lookups_are_validated(client: httpx.Client) -> None:
    assert _contact(client, lifecycle_stage_id=5001).status_code == 201
    assert _contact(client, lifecycle_stage_id=1).status_code == 400
    assert _contact(client, owner_id=123).status_code == 400
    assert client.post("deals", json={"deal": {"name": "d", "sales_account_id": 42}}).status_code == 400
    assert client.post("notes", json={"note": {"description": "n", "targetable_type": "Contact",
                                               "targetable_id": 42}}).status_code == 400


def test_custom_fields_must_exist_and_exist_only_through_the_admin_endpoint(
    client: httpx.Client, sim_admin: httpx.Client
) -> None:
    assert _contact(client, custom_field={"cf_treatment_type": "Implant"}).status_code == 400
    created = sim_admin.post("fields/contacts", json={"label": "Treatment type", "type": "dropdown",
                                                      "choices": ["Implant", "Ortho"]})
    assert created.status_code == 201 and created.json()["field"]["name"] == "cf_treatment_type"
    assert _contact(client, custom_field={"cf_treatment_type": "Implant"}).status_code == 201
    assert _contact(client, custom_field={"cf_treatment_type": "Veneer"}).status_code == 400
    fields = {f["name"]: f for f in client.get("settings/contacts/fields").json()["fields"]}
    assert [c["value"] for c in fields["cf_treatment_type"]["choices"]] == ["Implant", "Ortho"]
    assert {c["value"] for c in fields["lifecycle_stage_id"]["choices"]} >= {"Lead"}
    assert fields["last_name"]["required"] is True
    assert client.get("settings/notes/fields").status_code == 404


def test_selectors_answer_under_their_documented_keys(client: httpx.Client) -> None:
    assert "users" in client.get("selector/owners").json()
    for name in ("deal_stages", "deal_pipelines", "lead_sources", "contact_statuses", "lifecycle_stages",
                 "sales_activity_types", "sales_activity_outcomes", "currencies", "territories"):
        assert client.get(f"selector/{name}").json()[name], name


def test_upsert_answers_201_then_200(client: httpx.Client) -> None:
    body = {"unique_identifier": {"emails": "u@x.test"}, "contact": {"last_name": "U"}}
    first = client.post("contacts/upsert", json=body)
    second = client.post("contacts/upsert", json={**body, "contact": {"last_name": "V"}})
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["contact"]["id"] == second.json()["contact"]["id"]
    assert second.json()["contact"]["last_name"] == "V"


def test_bulk_upsert_is_an_async_job_with_per_record_results(
    client: httpx.Client, app: FreshsalesSimulator
) -> None:
    app.state.job_seconds = 60
    accepted = client.post("contacts/bulk_upsert", json={"contacts": [
        {"emails": "a@x.test", "data": {"last_name": "A"}}, {"emails": "b@x.test", "data": {}}]})
    assert accepted.status_code == 202
    url = accepted.json()["job_status_url"]
    assert client.get(url).json()["job_status"]["status"] == "IN_PROGRESS"
    assert client.get("contacts/view/1").json()["meta"]["total"] == 0
    app.clock.advance(61)
    job = client.get(url).json()["job_status"]
    assert job["status"] == "COMPLETED"
    assert [r["status"] for r in job["results"]] == ["created", "failed"]
    assert job["results"][1]["errors"]["message"] == ["Last name can't be blank"]
    too_many = [{"emails": f"{i}@x.test", "data": {"last_name": "x"}} for i in range(101)]
    assert client.post("contacts/bulk_upsert", json={"contacts": too_many}).status_code == 400


def test_delete_goes_to_the_recycle_bin_and_forget_removes_for_good(
    client: httpx.Client, sim_admin: httpx.Client
) -> None:
    ids = [_contact(client, email=f"{i}@x.test").json()["contact"]["id"] for i in range(3)]
    note = client.post("notes", json={"note": {"description": "n", "targetable_type": "Contact",
                                               "targetable_id": ids[2]}}).json()["note"]
    assert client.delete(f"contacts/{ids[0]}").status_code == 200
    assert client.post("contacts/bulk_destroy", json={"selected_ids": [ids[1]]}).json()["deleted_ids"] == [ids[1]]
    assert sorted(c["id"] for c in sim_admin.get("recycle_bin").json()["contacts"]) == ids[:2]
    assert client.get(f"contacts/{ids[0]}").status_code == 404
    assert client.delete(f"contacts/{ids[0]}/forget").status_code == 200      # from the bin
    assert client.delete(f"contacts/{ids[2]}/forget").status_code == 200      # live, with its note
    assert [c["id"] for c in sim_admin.get("recycle_bin").json()["contacts"]] == [ids[1]]
    assert client.get(f"notes/{note['id']}").status_code == 404
    assert client.delete(f"contacts/{ids[2]}/forget").status_code == 404


def test_a_user_edit_moves_updated_at(client: httpx.Client, sim_admin: httpx.Client) -> None:
    contact = _contact(client).json()["contact"]
    edited = sim_admin.post(f"records/contacts/{contact['id']}", json={"job_title": "Dentist"}).json()["contact"]
    assert edited["updated_at"] > contact["updated_at"]
    assert client.get(f"contacts/{contact['id']}").json()["contact"]["job_title"] == "Dentist"


def test_the_hourly_limit_answers_429_with_retry_after_until_the_clock_moves(
    client: httpx.Client, sim_admin: httpx.Client
) -> None:
    sim_admin.post("plan", json={"hourly_limit": 3})
    assert [client.get("selector/owners").status_code for _ in range(4)] == [200, 200, 200, 429]
    refused = client.get("selector/owners")
    assert 3500 <= int(refused.headers["Retry-After"]) <= 3600
    assert refused.headers["x-ratelimit-remaining"] == "0"
    sim_admin.post("clock", json={"seconds": 3600})
    assert client.get("selector/owners").status_code == 200
    counted = sim_admin.get("requests").json()
    assert (counted["accepted"], counted["rate_limited"], counted["limit"]) == (4, 2, 3)


def test_the_plan_sets_the_hourly_limit(client: httpx.Client, sim_admin: httpx.Client) -> None:
    assert sim_admin.post("plan", json={"plan": "enterprise"}).json()["hourly_limit"] == 5000
    assert client.get("selector/owners").headers["x-ratelimit-limit"] == "5000"


def test_injected_faults_answer_429_storms_and_5xx(client: httpx.Client, sim_admin: httpx.Client) -> None:
    sim_admin.post("faults", json={"storm_remaining": 2, "storm_retry_after": 7})
    storm = [client.get("selector/owners") for _ in range(3)]
    assert [r.status_code for r in storm] == [429, 429, 200]
    assert storm[0].headers["Retry-After"] == "7"
    sim_admin.post("faults", json={"fault_rate": 1.0})
    assert client.get("selector/owners").status_code == 503


def test_documents_take_multipart_and_refuse_files_over_the_cap(
    client: httpx.Client, sim_admin: httpx.Client
) -> None:
    contact_id = _contact(client).json()["contact"]["id"]
    form = {"file_name": "xray.png", "is_shared": "true", "targetable_id": str(contact_id),
            "targetable_type": "Contact"}
    ok = client.post("documents", files={"file": ("xray.png", b"\x89PNG" * 10, "image/png")}, data=form)
    assert ok.status_code == 201 and ok.json()["document"]["size"] == 40
    sim_admin.post("plan", json={"max_file_bytes": 39})
    too_big = client.post("documents", files={"file": ("xray.png", b"\x89PNG" * 10, "image/png")}, data=form)
    assert too_big.status_code == 400
    assert client.post("documents", data=form).status_code == 400


def test_lists_page_through_views_with_at_most_100_per_page(client: httpx.Client) -> None:
    for i in range(5):
        _contact(client, email=f"{i}@x.test")
    view = client.get("contacts/filters").json()["filters"][0]
    assert view["name"] == "All Contacts"
    page = client.get(f"contacts/view/{view['id']}", params={"page": 2, "per_page": 2}).json()
    assert len(page["contacts"]) == 2 and page["meta"] == {"total_pages": 3, "total": 5}
    assert client.get(f"contacts/view/{view['id']}", params={"per_page": 101}).status_code == 400


def test_state_file_survives_a_restart(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "fs.json"
    first = FreshsalesSimulator(state_file=path)
    with httpx.Client(transport=httpx.WSGITransport(app=first), base_url=f"http://fs.test{BASE}/",
                      headers={"Authorization": f"Token token={DEFAULT_API_KEY}"}) as c:
        contact_id = _contact(c).json()["contact"]["id"]
    second = FreshsalesSimulator(state_file=path)
    assert contact_id in second.state.records["contacts"]
    assert second.state.new_id() > contact_id
