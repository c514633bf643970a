"""Validate bodies against Zoho's OpenAPI files (reference/zoho-crm-oas-v8), resolving $refs across the files.

OpenAPI 3.0 is not JSON Schema: `nullable` is rewritten to a null type. `oneOf` is read as `anyOf`: Zoho's
files put overlapping branches under oneOf (API_Exception requires nothing, so it matches every object), which
a real Zoho answer would fail too. Request bodies are checked without
`required`, because Zoho's files reuse response schemas for requests (a field must carry ~80 properties there).
"""

from __future__ import annotations

import copy
import json
import os
import re
from pathlib import Path
from typing import Any

import jsonschema
import referencing
import referencing.jsonschema

PREFIX = "https://raw.githubusercontent.com/Zohocorp-Pvt-Ltd/crm-oas/refs/heads/main/v8.0/"
PROJECT = Path(__file__).resolve().parents[3]


def oas_dir() -> Path | None:
    for candidate in (os.environ.get("ZOHO_OAS_DIR"), PROJECT.parent / "shared" / "reference" / "zoho-crm-oas-v8"):
        if candidate and Path(candidate, "record.json").exists():
            return Path(candidate)
    return None


def _convert(node: Any, *, drop_required: bool) -> Any:
    if isinstance(node, list):
        return [_convert(item, drop_required=drop_required) for item in node]
    if not isinstance(node, dict):
        return node
    out = {("anyOf" if k == "oneOf" else k): _convert(v, drop_required=drop_required) for k, v in node.items()
           if not (drop_required and k == "required" and isinstance(v, list))}
    if out.pop("nullable", False):
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
            if "enum" in out:
                out["enum"] = [*out["enum"], None]
        else:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


class Oas:
    def __init__(self, directory: Path) -> None:
        self.docs = {p.name: json.loads(p.read_text()) for p in directory.glob("*.json")}
        self._registries = {flag: self._registry(drop_required=flag) for flag in (False, True)}

    def _registry(self, *, drop_required: bool) -> referencing.Registry[Any]:
        resources = [
            (PREFIX + name, referencing.Resource.from_contents(
                _convert(doc, drop_required=drop_required), default_specification=referencing.jsonschema.DRAFT7))
            for name, doc in self.docs.items()
        ]
        return referencing.Registry().with_resources(resources)

    def operation(self, file: str, path: str, method: str) -> dict[str, Any]:
        return self.docs[file]["paths"][path][method.lower()]  # type: ignore[no-any-return]

    def _schema_for(self, file: str, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            pointer = node["$ref"].partition("#")[2]
            target = self.docs[file]
            for part in pointer.strip("/").split("/"):
                target = target[part]
            node = target
        return node["content"]["application/json"]["schema"]  # type: ignore[no-any-return]

    def validate(self, file: str, schema: dict[str, Any], body: Any, *, request: bool) -> None:
        wrapped = {"$ref": f"{PREFIX}{file}#/__probe__"}
        registry = self._registries[request]
        resource = registry.get_or_retrieve(PREFIX + file).value
        contents = copy.copy(resource.contents)
        contents["__probe__"] = _convert(schema, drop_required=request)
        registry = registry.with_resource(PREFIX + file, referencing.Resource.from_contents(
            contents, default_specification=referencing.jsonschema.DRAFT7))
        jsonschema.Draft7Validator(wrapped, registry=registry).validate(body)

    def validate_response(self, file: str, path: str, method: str, status: int, body: Any) -> None:
        responses = self.operation(file, path, method)["responses"]
        # Zoho documents 200 for record writes; it answers 201/207 with the same body (reference, "Records").
        node = responses.get(str(status)) or responses.get("200") or responses.get("201")
        self.validate(file, self._schema_for(file, node), body, request=False)

    def validate_request(self, file: str, path: str, method: str, body: Any) -> None:
        node = self.operation(file, path, method)["requestBody"]
        self.validate(file, self._schema_for(file, node), body, request=True)


# (method, path regex) -> (file, OpenAPI path) for every operation the connector uses.
OPERATIONS: list[tuple[str, re.Pattern[str], str, str]] = [
    (m, re.compile(rx), f, p) for m, rx, f, p in [
        ("GET", r"^/crm/v8/org$", "org.json", "/crm/v8/org"),
        ("GET", r"^/crm/v8/users$", "users.json", "/crm/v8/users"),
        ("GET", r"^/crm/v8/settings/modules$", "modules.json", "/crm/v8/settings/modules"),
        ("GET", r"^/crm/v8/settings/fields$", "fields.json", "/crm/v8/settings/fields"),
        ("POST", r"^/crm/v8/settings/fields$", "fields.json", "/crm/v8/settings/fields"),
        ("POST", r"^/crm/v8/upload$", "bulk_write.json", "/crm/v8/upload"),
        ("POST", r"^/crm/bulk/v8/write$", "bulk_write.json", "/crm/bulk/v8/write"),
        ("GET", r"^/crm/bulk/v8/write/\d+$", "bulk_write.json", "/crm/bulk/v8/write/{job_id}"),
        ("POST", r"^/crm/v8/Notes$", "notes.json", "/crm/v8/Notes"),
        ("POST", r"^/crm/v8/\w+/\d+/Attachments$", "attachments.json", "/crm/v8/{module}/{record_id}/Attachments"),
        ("GET", r"^/crm/v8/\w+/actions/count$", "record.json", "/crm/v8/{module_api_name}/actions/count"),
        ("POST", r"^/crm/v8/\w+/upsert$", "record.json", "/crm/v8/{module_api_name}/upsert"),
        ("GET", r"^/crm/v8/\w+/\d+$", "record.json", "/crm/v8/{module_api_name}/{id}"),
        ("GET", r"^/crm/v8/\w+$", "record.json", "/crm/v8/{module_api_name}"),
        ("POST", r"^/crm/v8/\w+$", "record.json", "/crm/v8/{module_api_name}"),
        ("PUT", r"^/crm/v8/\w+$", "record.json", "/crm/v8/{module_api_name}"),
        ("DELETE", r"^/crm/v8/\w+$", "record.json", "/crm/v8/{module_api_name}"),
    ]
]


def match(method: str, path: str) -> tuple[str, str] | None:
    for m, rx, file, oas_path in OPERATIONS:
        if m == method and rx.match(path):
            return file, oas_path
    return None
