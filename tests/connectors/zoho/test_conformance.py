"""The simulator speaks Zoho's documented wire format: every request the connector sends and every answer the
simulator gives, for each operation the connector uses, validates against Zoho's OpenAPI files."""

from __future__ import annotations

import io
import json
from typing import Any

import httpx
import jsonschema
import pytest

from connectors.base import FieldSpec
from connectors.destinations.zoho.connector import ZohoConnector
from connectors.destinations.zoho.schemas import ZohoConfig, ZohoSecrets
from connectors.simulators.zoho.app import ZohoSimulator

from .conftest import connection_config, secrets_of
from .oas import Oas, match, oas_dir

OAS_DIR = oas_dir()
pytestmark = pytest.mark.skipif(
    OAS_DIR is None, reason="Zoho's OpenAPI files are not here (set ZOHO_OAS_DIR or keep ../shared/reference)"
)


class Recording(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.exchanges: list[tuple[httpx.Request, httpx.Response]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        response.read()
        self.exchanges.append((request, response))
        return response


def run_every_operation() -> tuple[Recording, ZohoSimulator]:
    sim = ZohoSimulator()
    recording = Recording(httpx.WSGITransport(app=sim))
    config = ZohoConfig.model_validate(connection_config("http://sim", bulk_poll_interval=0.05))
    with ZohoConnector(config, ZohoSecrets.model_validate(secrets_of(sim)), transport=recording) as conn:
        conn.modules()
        conn.users()
        conn.create_field(FieldSpec(module="Contacts", label="Source_System_ID", type="text"))
        [account] = conn.insert("Accounts", [{"Account_Name": "Clinic"}])
        results = conn.insert("Contacts", [{"Last_Name": "A", "Account_Name": account.id, "Source_System_ID": "1"},
                                           {"First_Name": "no last name"}, {"Last_Name": "B", "Email": "bad"}])
        conn.upsert("Contacts", [{"Last_Name": "A2", "Source_System_ID": "1"},
                                 {"Last_Name": "C", "Source_System_ID": "1", "Email": "x@y.z"}],
                    key_field="Source_System_ID")
        conn.update("Contacts", [{"id": results[0].id, "First_Name": "Ayse"}])
        conn.get("Contacts", [results[0].id])
        list(conn.iter_records("Contacts", ["Last_Name", "Account_Name"]))
        conn.count("Contacts")
        conn.insert("Notes", [{"Note_Content": "n", "Parent_Id": {"module": "Contacts", "id": results[0].id}}])
        conn.attach("Contacts", results[0].id, file_name="a.txt", stream=io.BytesIO(b"hello"), size=5,
                    content_type="text/plain")
        conn.bulk_insert("Contacts", [{"Last_Name": f"Bulk{i}"} for i in range(3)])
        conn.delete("Contacts", [results[0].id, "5725767999999999999"])
    return recording, sim


@pytest.fixture(scope="module")
def exchanges() -> list[tuple[httpx.Request, httpx.Response]]:
    recording, _ = run_every_operation()
    return recording.exchanges


@pytest.fixture(scope="module")
def oas() -> Oas:
    assert OAS_DIR is not None
    return Oas(OAS_DIR)


def _documented(exchanges: list[tuple[httpx.Request, httpx.Response]]) -> list[Any]:
    out = []
    for request, response in exchanges:
        found = match(request.method, request.url.path)
        if found:
            out.append((found, request, response))
    return out


def test_every_operation_the_connector_uses_was_exercised(exchanges: list[Any]) -> None:
    seen = {(found[1], request.method) for found, request, _ in _documented(exchanges)}
    assert len(seen) >= 15, sorted(seen)


def test_every_answer_matches_zohos_response_schema(exchanges: list[Any], oas: Oas) -> None:
    checked = 0
    for (file, path), request, response in _documented(exchanges):
        if response.status_code == 204 or not response.headers.get("content-type", "").startswith("application/json"):
            continue
        oas.validate_response(file, path, request.method, response.status_code, response.json())
        checked += 1
    assert checked >= 15


def test_every_json_request_matches_zohos_request_schema(exchanges: list[Any], oas: Oas) -> None:
    checked = 0
    for (file, path), request, _ in _documented(exchanges):
        if request.headers.get("content-type") != "application/json":
            continue
        oas.validate_request(file, path, request.method, json.loads(request.content))
        checked += 1
    assert checked >= 6


def test_the_validator_rejects_a_wrong_shape(oas: Oas) -> None:
    with pytest.raises(jsonschema.ValidationError):
        oas.validate_response("users.json", "/crm/v8/users", "GET", 200, {"users": [{"id": 5}]})
    with pytest.raises(jsonschema.ValidationError):
        oas.validate_response("bulk_write.json", "/crm/v8/upload", "POST", 200,
                              {"status": "success", "code": "FILE_UPLOAD_SUCCESS", "message": "file uploaded.",
                               "details": {"file_id": "not-an-integer"}})
