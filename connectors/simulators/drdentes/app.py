"""The Dr.DENTES REST API as a WSGI app over a generated export folder.

Bearer token; `GET /api/v1/<resource>?page=&per_page=(<=100)&updated_since=` answering
`{"data": [...], "meta": {"page", "per_page", "total", "next_page"}}` in id order; `GET /api/v1/files/<id>`,
`/files/<id>/content` (bytes), `/patients/<id>/files`. Test-only: `POST /_sim/records/<resource>` upserts a record
(stamping updated_at with the simulator's clock), `DELETE /_sim/records/<resource>/<id>`, `POST /_sim/faults`.
The export is read once at start through the same reader the connector uses, keyed by the API names."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response
from werkzeug.wsgi import wrap_file

from connectors.base import SourceRecord
from connectors.simulators.common import Faults, SimClock
from connectors.sources.drdentes.api import API_TABLES, MAX_PER_PAGE, RESOURCES, api_key
from connectors.sources.drdentes.connector import DrDentesExportConnector
from connectors.sources.drdentes.schema import TABLES

ISTANBUL = ZoneInfo("Europe/Istanbul")
BY_RESOURCE = {resource: name for name, resource in RESOURCES.items()}


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(ISTANBUL).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps({"error": {"code": code, "message": message}}), status=status,
                    mimetype="application/json", headers=headers)


class DrDentesSimulator:
    def __init__(self, data_dir: Path, token: str, *, faults: Faults | None = None) -> None:
        self.data_dir = data_dir
        self.token = token
        self.faults = faults or Faults()
        self.clock = SimClock()
        self.lock = threading.Lock()
        self.records: dict[str, dict[str, dict[str, Any]]] = {}
        with DrDentesExportConnector(data_dir) as export:
            for spec in TABLES:
                rows: dict[str, dict[str, Any]] = {}
                if export.reader.exists(spec):
                    for item in export.iter_records(spec.object_name):
                        if isinstance(item, SourceRecord):
                            rows[item.source_id] = {api_key(spec, k): _json_value(v) for k, v in item.data.items()}
                self.records[spec.object_name] = rows
        self.urls = Map([
            Rule("/api/v1/files/<file_id>/content", endpoint="file_content"),
            Rule("/api/v1/files/<file_id>", endpoint="file"),
            Rule("/api/v1/patients/<patient_id>/files", endpoint="patient_files"),
            Rule("/api/v1/<resource>", endpoint="list"),
            Rule("/_sim/records/<resource>", endpoint="sim_upsert", methods=["POST"]),
            Rule("/_sim/records/<resource>/<record_id>", endpoint="sim_delete", methods=["DELETE"]),
            Rule("/_sim/faults", endpoint="sim_faults", methods=["POST"]),
        ])

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock.now(), tz=UTC).astimezone(ISTANBUL)

    # ------------------------------------------------------------------ WSGI

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        response = self.dispatch(request)
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        adapter = self.urls.bind_to_environ(request.environ)
        try:
            endpoint, args = adapter.match()
        except HTTPException as exc:
            return _error(exc.code or 404, "NOT_FOUND", "no such endpoint")
        if endpoint.startswith("sim_"):
            handler = getattr(self, endpoint)
            return handler(request, **args)  # type: ignore[no-any-return]
        if request.headers.get("Authorization", "") != f"Bearer {self.token}":
            return _error(401, "UNAUTHORIZED", "missing or invalid access token")
        self.faults.delay()
        if self.faults.take_storm():
            return _error(429, "RATE_LIMITED", "too many requests", {"Retry-After": "1"})
        if self.faults.roll(self.faults.fault_rate):
            return _error(503, "UNAVAILABLE", "service unavailable")
        try:
            return getattr(self, endpoint)(request, **args)  # type: ignore[no-any-return]
        except NotFound:
            return _error(404, "NOT_FOUND", "no such record")

    # ------------------------------------------------------------------ API

    def _object(self, resource: str) -> str:
        if resource not in BY_RESOURCE:
            raise NotFound
        return BY_RESOURCE[resource]

    def _page(self, request: Request, rows: list[dict[str, Any]]) -> Response:
        try:
            page = int(request.args.get("page", "1"))
            per_page = int(request.args.get("per_page", "25"))
        except ValueError:
            return _error(400, "INVALID_PARAMETER", "page and per_page must be integers")
        if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
            return _error(400, "INVALID_PARAMETER", f"page >= 1 and 1 <= per_page <= {MAX_PER_PAGE}")
        chunk = rows[(page - 1) * per_page: page * per_page]
        more = page * per_page < len(rows)
        body = {"data": chunk, "meta": {"page": page, "per_page": per_page, "total": len(rows),
                                        "next_page": page + 1 if more else None}}
        return Response(json.dumps(body, ensure_ascii=False), mimetype="application/json")

    def list(self, request: Request, resource: str) -> Response:
        name = self._object(resource)
        spec = API_TABLES[name]
        since_raw = request.args.get("updated_since")
        with self.lock:
            rows = [self.records[name][k] for k in sorted(self.records[name], key=_id_order)]
        if since_raw:
            try:
                since = datetime.fromisoformat(since_raw)
            except ValueError:
                return _error(400, "INVALID_PARAMETER", "updated_since must be ISO 8601")
            if since.tzinfo is None:
                since = since.replace(tzinfo=ISTANBUL)
            field = spec.modified_field
            rows = [r for r in rows if field and r.get(field) and datetime.fromisoformat(r[field]) >= since]
        return self._page(request, rows)

    def file(self, request: Request, file_id: str) -> Response:
        row = self.records["file"].get(file_id)
        if row is None:
            raise NotFound
        return Response(json.dumps({"data": row}, ensure_ascii=False), mimetype="application/json")

    def patient_files(self, request: Request, patient_id: str) -> Response:
        if patient_id not in self.records["patient"]:
            raise NotFound
        rows = [r for r in self.records["file"].values() if str(r.get("patient_id")) == patient_id]
        return self._page(request, rows)

    def file_content(self, request: Request, file_id: str) -> Response:
        row = self.records["file"].get(file_id)
        if row is None:
            raise NotFound
        path = self.data_dir / "dosyalar" / str(row.get("file_name") or "")
        if not path.is_file():
            raise NotFound
        fh = path.open("rb")
        return Response(wrap_file(request.environ, fh), mimetype="application/octet-stream", direct_passthrough=True,
                        headers={"Content-Length": str(path.stat().st_size)})

    # ------------------------------------------------------------------ test-only

    def sim_upsert(self, request: Request, resource: str) -> Response:
        name = self._object(resource)
        body = request.get_json(force=True)
        record_id = str(body.get("id") or "")
        if not record_id:
            return _error(400, "INVALID_DATA", "id is required")
        spec = API_TABLES[name]
        with self.lock:
            row = dict(self.records[name].get(record_id, {}))
            row.update(body)
            if spec.modified_field:
                row[spec.modified_field] = self.now().isoformat()
            self.records[name][record_id] = row
        return Response(json.dumps({"data": row}, ensure_ascii=False), mimetype="application/json")

    def sim_delete(self, request: Request, resource: str, record_id: str) -> Response:
        name = self._object(resource)
        with self.lock:
            self.records[name].pop(record_id, None)
        return Response(status=204)

    def sim_faults(self, request: Request) -> Response:
        self.faults.update(request.get_json(force=True))
        if "advance_seconds" in (body := request.get_json(force=True)):
            self.clock.advance(float(body["advance_seconds"]))
        return Response(json.dumps({"ok": True}), mimetype="application/json")


def _id_order(record_id: str) -> tuple[int, str]:
    return (int(record_id), "") if record_id.isdigit() else (1 << 62, record_id)


__all__ = ["DrDentesSimulator"]
