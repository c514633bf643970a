"""Bulk Write: ZIP upload, job, background processing ADDED -> IN PROGRESS -> COMPLETED, result ZIP with STATUS,
RECORD_ID and ERRORS columns (reference/zoho-crm-v8.md, "Bulk Write")."""

from __future__ import annotations

import csv
import io
import json
import threading
import zipfile
from typing import Any

from werkzeug.wrappers import Request, Response

from connectors.simulators.zoho import editions
from connectors.simulators.zoho.metadata import FieldDef, ModuleDef
from connectors.simulators.zoho.records import RecordError, insert_one, update_one, upsert_one
from connectors.simulators.zoho.state import OrgState

ROWS_PER_LOCK = 500   # rows processed per hold of the org lock, so API calls interleave with a running job


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


def _error(code: str, message: str, status: int = 400, details: dict[str, Any] | None = None) -> Response:
    return _json({"code": code, "details": details or {}, "message": message, "status": "error"}, status)


def _typed(f: FieldDef, raw: str) -> Any:
    """CSV cells are text; give them the JSON type the field takes, leaving bad values to validation."""
    if raw == "":
        return None
    try:
        if f.data_type in ("integer", "bigint"):
            return int(raw)
        if f.data_type in ("double", "currency", "percent"):
            return float(raw)
    except ValueError:
        return raw
    if f.data_type == "boolean":
        return {"true": True, "false": False}.get(raw.lower(), raw)
    if f.data_type in ("lookup", "ownerlookup"):
        return {"id": raw}
    if f.data_type == "multiselectpicklist":
        return raw.split(";")
    return raw


class BulkEngine:
    def __init__(self, state: OrgState) -> None:
        self.state = state

    def handle(self, endpoint: str, request: Request, **args: Any) -> Response:
        return getattr(self, endpoint)(request, **args)  # type: ignore[no-any-return]

    def upload(self, request: Request) -> Response:
        state = self.state
        if request.headers.get("feature") != "bulk-write" or request.headers.get("X-CRM-ORG") != state.zgid:
            body = {"code": "INVALID_REQUEST", "details": {}, "status": "error", "message": "invalid header",
                    "x-error": "check if headers [feature, X-CRM-ORG] are present and valid"}
            return _json(body, 400)
        upload = request.files.get("file")
        if upload is None:
            return _error("MANDATORY_NOT_FOUND", "required key operation is not found in request body.")
        blob = upload.read()
        if len(blob) > 25 * 1024 * 1024:
            return _error("FILE_TOO_LARGE", "File size too large to process")
        try:
            with zipfile.ZipFile(io.BytesIO(blob)) as archive:
                names = [n for n in archive.namelist() if n.lower().endswith(".csv")]
                if len(names) != 1:
                    raise zipfile.BadZipFile("one CSV expected")
        except zipfile.BadZipFile:
            return _error("INVALID_FILE_FORMAT", "invalid file format. only zip format is supported")
        file_id = state.new_id()
        state.files[file_id] = blob
        return _json({"status": "success", "code": "FILE_UPLOAD_SUCCESS", "message": "file uploaded.",
                      "details": {"file_id": int(file_id), "created_time": state.now_iso(), "id": file_id,
                                  "created_by": state.user_ref(state.current_user)}})

    def bulk_create(self, request: Request) -> Response:
        state = self.state
        body = request.get_json(silent=True) or {}
        operation = body.get("operation")
        if operation not in ("insert", "update", "upsert"):
            return _error("MANDATORY_NOT_FOUND", "required key operation is not found in request body.")
        resources = body.get("resource") or []
        if len(resources) != 1:
            return _error("INVALID_DATA", "invalid data", details={"api_name": "resource"})
        res = resources[0]
        module = state.modules.get(((res.get("module") or {}).get("api_name")) or "")
        if module is None or not module.bulk:
            return _error("MODULE_NOT_AVAILABLE", "Requested module 'asdf' is not available.")
        blob = state.files.get(str(res.get("file_id")))
        if blob is None:
            return _error("INVALID_FILE_ID", "improper file id")
        with zipfile.ZipFile(io.BytesIO(blob)) as archive:
            name = next(n for n in archive.namelist() if n.lower().endswith(".csv"))
            rows = list(csv.reader(io.TextIOWrapper(archive.open(name), encoding="utf-8")))
        if not rows or len(rows) - 1 > editions.BULK_ROWS_MAX:
            return _error("LIMIT_EXCEEDED", "Record count exceeded", details={"limit": editions.BULK_ROWS_MAX})
        mappings = res.get("field_mappings") or []
        for m in mappings:
            if m.get("api_name") not in module.fields:
                return _error("INVALID_FIELD_NAME", f"invalid mapping. invalid api_name {m.get('api_name')}.")
            if "index" in m and not 0 <= int(m["index"]) < len(rows[0]):
                return _error("COLUMN_INDEX_NOT_FOUND", "invalid data")
        if operation in ("update", "upsert") and not res.get("find_by"):
            return _error("MANDATORY_NOT_FOUND", "required key operation is not found in request body.")
        job_id = state.new_id()
        me = state.user_ref(state.current_user)
        state.jobs[job_id] = {
            "status": "ADDED", "character_encoding": "UTF-8", "id": job_id, "operation": operation,
            "created_by": {"id": me["id"], "name": me["name"]}, "created_time": state.now_iso(),
            "resource": [{"status": "ADDED", "type": "data", "module": {"api_name": module.api_name, "id": module.id},
                          "file_id": str(res["file_id"]), "find_by": res.get("find_by"), "field_mappings": mappings,
                          "file": {"status": "ADDED", "name": name, "added_count": 0, "skipped_count": 0,
                                   "updated_count": 0, "total_count": len(rows) - 1}}],
        }
        base = request.host_url.rstrip("/")
        thread = threading.Thread(target=self._run, args=(job_id, module, rows, base), daemon=True,
                                  name=f"zoho-bulk-{job_id}")
        thread.start()
        return _json({"status": "success", "code": "SUCCESS", "message": "success",
                      "details": {"id": job_id, "created_by": state.jobs[job_id]["created_by"]}}, 201)

    def bulk_get(self, request: Request, job_id: str) -> Response:
        job = self.state.jobs.get(job_id)
        if job is None:
            return _error("RESOURCE_NOT_FOUND", "The requested resource doesn't exist.")
        return _json(job)

    def bulk_result(self, request: Request, job_id: str) -> Response:
        blob = self.state.results.get(job_id)
        if blob is None:
            return _error("RESOURCE_NOT_FOUND", "The requested resource doesn't exist.")
        return Response(blob, mimetype="application/zip")

    # ------------------------------------------------------------------------------------------- the job

    def _run(self, job_id: str, module: ModuleDef, rows: list[list[str]], base: str) -> None:
        state = self.state
        job = state.jobs[job_id]
        res: dict[str, Any] = job["resource"][0]
        operation, find_by = job["operation"], res.get("find_by")
        header, body = rows[0], rows[1:]
        with state.lock:
            job["status"] = res["status"] = res["file"]["status"] = "IN PROGRESS"
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow([*header, "STATUS", "RECORD_ID", "ERRORS"])
        counts: dict[str, Any] = res["file"]
        for start in range(0, len(body), ROWS_PER_LOCK):
            with state.lock:
                for offset, row in enumerate(body[start: start + ROWS_PER_LOCK]):
                    record: dict[str, Any] = {}
                    for m in res["field_mappings"]:
                        f = module.fields[m["api_name"]]
                        raw = row[int(m["index"])] if "index" in m and int(m["index"]) < len(row) else ""
                        value = _typed(f, raw) if "index" in m else m.get("default_value", {}).get("value")
                        if value is not None:
                            record[f.api_name] = value
                    index = start + offset
                    try:
                        if operation == "insert":
                            result = insert_one(state, module, record, index)
                        elif operation == "update":
                            rid = str(record.pop(find_by, "") or "") if find_by == "id" else ""
                            result = update_one(state, module, record, index, rid)
                        else:
                            result = upsert_one(state, module, record, index, [str(find_by)])
                        status = "UPDATED" if result.get("action") == "update" or operation == "update" \
                            else "ADDED"
                        counts["updated_count" if status == "UPDATED" else "added_count"] += 1
                        writer.writerow([*row, status, result["details"]["id"], ""])
                    except RecordError as exc:
                        counts["skipped_count"] += 1
                        api = exc.body["details"].get("api_name", "")
                        writer.writerow([*row, "SKIPPED", "", f"{exc.body['code']}-{api}"])
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(f"{job_id}.csv", out.getvalue())
        with state.lock:
            state.results[job_id] = buffer.getvalue()
            job["result"] = {"download_url": f"{base}/crm/bulk/v8/write/{job_id}/result.zip"}
            job["status"] = res["status"] = counts["status"] = "COMPLETED"
