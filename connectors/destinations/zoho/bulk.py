"""Zoho Bulk Write from the connector side: CSV in a ZIP, upload, job, poll, result CSV -> one WriteResult per
record (reference/zoho-crm-v8.md, "Bulk Write"). 25,000 records per job."""

from __future__ import annotations

import csv
import io
import time
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from connectors.base import PermanentError, TemporaryError, WriteResult
from connectors.destinations.zoho.schemas import ApiError, BulkJob, UploadAnswer

if TYPE_CHECKING:
    from connectors.destinations.zoho.connector import ZohoConnector


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return str(value.get("id", ""))
    if isinstance(value, list | tuple):
        return ";".join(str(v) for v in value)
    return str(value)


def _zip_csv(records: Sequence[Mapping[str, Any]]) -> tuple[bytes, list[str]]:
    columns = list(dict.fromkeys(key for record in records for key in record))
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(columns)
    for record in records:
        writer.writerow([_cell(record.get(c)) for c in columns])
    blob = io.BytesIO()
    with zipfile.ZipFile(blob, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("records.csv", text.getvalue())
    return blob.getvalue(), columns


def run(conn: ZohoConnector, module: str, records: Sequence[Mapping[str, Any]], *, operation: str,
        find_by: str) -> list[WriteResult]:
    results: list[WriteResult] = []
    size = conn.limits.bulk_rows_max
    for start in range(0, len(records), size):
        results += _one_job(conn, module, records[start: start + size], start, operation, find_by)
    return results


def _one_job(conn: ZohoConnector, module: str, records: Sequence[Mapping[str, Any]], offset: int, operation: str,
             find_by: str) -> list[WriteResult]:
    client, call = conn.client, conn.cost("get", 1)
    blob, columns = _zip_csv(records)
    content = conn.config.content_url or conn.config.api_base
    response = client.call("POST", f"{content}/crm/v8/upload", cost=call,
                           headers={"feature": "bulk-write", "X-CRM-ORG": conn.org_zgid()},
                           files={"file": ("records.zip", blob, "application/zip")})
    upload = UploadAnswer.model_validate_json(response.content)
    if upload.status != "success":
        raise PermanentError(f"Zoho bulk upload refused: {upload.code}", code=upload.code)
    # The schema types file_id as an integer, the docs as a string: carry it as text.
    file_id = str(upload.details.get("file_id"))
    kinds = {f.api_name: f.type for f in conn.fields(module)}
    mappings: list[dict[str, Any]] = []
    for index, column in enumerate(columns):
        mapping: dict[str, Any] = {"api_name": column, "index": index}
        if kinds.get(column) in ("lookup", "owner"):
            mapping["find_by"] = "id"
        mappings.append(mapping)
    resource: dict[str, Any] = {"type": "data", "module": {"api_name": module}, "file_id": file_id,
                                "field_mappings": mappings}
    if find_by:
        resource["find_by"] = find_by
    response = client.call("POST", f"{conn.config.api_base}/crm/bulk/v8/write", cost=conn.cost("bulk_job", 0),
                           json={"operation": operation, "ignore_empty": True, "resource": [resource]})
    if response.status_code != 201:
        error = ApiError.model_validate_json(response.content)
        raise PermanentError(f"Zoho bulk job refused: {error.code}", code=error.code)
    job_id = str(response.json()["details"]["id"])
    deadline = time.monotonic() + conn.config.bulk_timeout
    while True:
        response = client.call("GET", f"{conn.config.api_base}/crm/bulk/v8/write/{job_id}", cost=call)
        job = BulkJob.model_validate_json(response.content)
        if job.status in ("COMPLETED", "FAILED"):
            break
        if time.monotonic() > deadline:
            raise TemporaryError(f"Zoho bulk job {job_id} still {job.status}", code="BULK_TIMEOUT")
        conn._sleep(conn.config.bulk_poll_interval)
    if job.result is None:
        raise PermanentError(f"Zoho bulk job {job_id} ended {job.status} without a result", code="BULK_FAILED")
    response = client.call("GET", job.result.download_url, cost=call)
    return _with_modified_times(conn, module, _parse_result(response.content, offset, len(records)))


def _with_modified_times(conn: ZohoConnector, module: str, results: list[WriteResult]) -> list[WriteResult]:
    """The result file gives ids but no modified times: read them back (100 records a call), so a bulk-written
    record carries its CRM modified time as a REST write's answer does."""
    written = conn.get(module, [r.id for r in results if r.ok and r.id], fields=[])
    times = {record.id: record.modified_at for record in written}
    return [replace(r, modified_at=times.get(r.id)) if r.ok else r for r in results]


def _parse_result(blob: bytes, offset: int, expected: int) -> list[WriteResult]:
    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        name = next(n for n in archive.namelist() if n.lower().endswith(".csv"))
        reader = csv.DictReader(io.TextIOWrapper(archive.open(name), encoding="utf-8"))
        results = []
        for i, row in enumerate(reader):
            status = row.get("STATUS", "")
            if status in ("ADDED", "UPDATED"):
                results.append(WriteResult(index=offset + i, ok=True, id=row.get("RECORD_ID", ""),
                                           action="insert" if status == "ADDED" else "update", code=status))
                continue
            # ERRORS reads like "MANDATORY_NOT_FOUND-Last_Name:DUPLICATE_DATA-Email" (reference, "Bulk Write").
            first = (row.get("ERRORS") or "").split(":")[0]
            code, _, field = first.partition("-")
            results.append(WriteResult(index=offset + i, ok=False, code=code or status, field=field,
                                       message=row.get("ERRORS", ""), permanent=True))
    if len(results) != expected:
        raise PermanentError(f"Zoho bulk result has {len(results)} rows for {expected} records",
                             code="RESULT_COUNT_MISMATCH")
    return results
