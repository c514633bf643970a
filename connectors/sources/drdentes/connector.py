"""Dr.DENTES: its REST API (`base_url` + secret `access_token`) or its Excel-style export folder (`path`)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, Self

import httpx
from pydantic import BaseModel, ConfigDict, DirectoryPath, model_validator

from connectors.base import (
    AttachmentRef,
    PermanentError,
    SourceIssue,
    SourceObject,
    SourceOwner,
    SourceRecord,
)
from connectors.sources.drdentes import schema
from connectors.sources.drdentes.api import API_LOCALE, API_TABLES, EXPORT_NAMES, RESOURCES, Page
from connectors.sources.drdentes.client import DrDentesClient
from connectors.sources.exports.connector import CONTENT_TYPES, ExportConnector
from connectors.sources.exports.csvfile import RawRow
from connectors.sources.exports.tables import TableReader


class FileBody(BaseModel):
    data: dict[str, Any]


class DrDentesConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: DirectoryPath | None = None
    base_url: str = ""
    encoding: str = ""
    timeout_seconds: float = 30.0

    @model_validator(mode="after")
    def one_mode(self) -> DrDentesConfig:
        if bool(self.path) == bool(self.base_url):
            raise ValueError("give either `path` (Excel export folder) or `base_url` (REST API), not both")
        return self


def _owner(source_id: str, d: Mapping[str, Any], keys: tuple[str, str, str, str, str]) -> SourceOwner:
    name, surname, email, role, active = keys
    return SourceOwner(source_id=source_id, name=f"{d.get(name) or ''} {d.get(surname) or ''}".strip(),
                       email=str(d.get(email) or ""), role=str(d.get(role) or "staff"), active=bool(d.get(active)))


class DrDentesExportConnector(ExportConnector):
    slug = "drdentes"
    tables = schema.TABLES
    locale = schema.LOCALE
    language = "tr"
    owner_object = "user"
    attachment = schema.ATTACHMENT
    quality = schema.QUALITY

    def owner_from(self, record: SourceRecord) -> SourceOwner:
        return _owner(record.source_id, record.data, ("Adı", "Soyadı", "E-posta", "Rol", "Aktif"))


class DrDentesApiConnector:
    """Streams each resource page by page; the cursor is "api:<page>:<records of that page already read>".
    Records carry the export's column names (api.EXPORT_NAMES), so maps and quality hints fit both readers."""

    slug = "drdentes"
    quality = schema.QUALITY

    def __init__(self, client: DrDentesClient) -> None:
        self.client = client
        self._parser = TableReader(Path("."), API_LOCALE, language="tr")

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def discover(self) -> list[SourceObject]:
        return [spec.source_object() for spec in schema.TABLES]

    def _resource(self, object_name: str) -> str:
        try:
            return RESOURCES[object_name]
        except KeyError:
            raise PermanentError(f"drdentes has no object {object_name!r}", code="UNKNOWN_OBJECT") from None

    def count(self, object_name: str) -> int:
        return self.client.page(self._resource(object_name), 1, per_page=1).meta.total

    def iter_records(
        self, object_name: str, *, since: datetime | None = None, cursor: str | None = None
    ) -> Iterator[SourceRecord | SourceIssue]:
        resource = self._resource(object_name)
        spec = API_TABLES[object_name]
        names = EXPORT_NAMES[object_name]
        start, skip = (int(cursor.split(":")[1]), int(cursor.split(":")[2])) if cursor else (1, 0)
        for page in self.client.pages(resource, start=start, updated_since=since):
            for index, item in enumerate(page.data):
                if page.meta.page == start and index < skip:
                    continue
                raw = RawRow(line=(page.meta.page - 1) * page.meta.per_page + index + 1,
                             cursor=f"api:{page.meta.page}:{index + 1}", values=dict(item))
                parsed = self._parser.to_record(spec, raw)
                if isinstance(parsed, SourceRecord):
                    yield replace(parsed, data={names.get(k, k): v for k, v in parsed.data.items()})
                else:
                    yield replace(parsed, field=names.get(parsed.field, parsed.field))

    def owners(self) -> list[SourceOwner]:
        return [_owner(r.source_id, r.data, ("Adı", "Soyadı", "E-posta", "Rol", "Aktif"))
                for r in self.iter_records("user") if isinstance(r, SourceRecord)]

    def attachments_of(self, record: SourceRecord) -> list[AttachmentRef]:
        return self.attachments(record.object_name, record.source_id)

    def attachments(self, object_name: str, source_id: str) -> list[AttachmentRef]:
        path = f"/files/{source_id}" if object_name == "file" else f"/patients/{source_id}/files"
        response = self.client.get(path)
        if object_name == "file":
            items = [FileBody.model_validate_json(response.content).data]
        else:
            items = Page.model_validate_json(response.content).data
        refs = []
        for item in items:
            name = str(item.get("file_name") or "")
            refs.append(AttachmentRef(
                object_name="file", source_id=str(item["id"]), ref=str(item["id"]), file_name=name,
                size=int(item.get("size") or 0),
                content_type=CONTENT_TYPES.get(name.rsplit(".", 1)[-1].lower(), "application/octet-stream")))
        return refs

    def open_attachment(self, ref: AttachmentRef) -> BinaryIO:
        # The API streams; we spool to a temporary file so callers get a seekable binary file of any size.
        spool = tempfile.SpooledTemporaryFile(max_size=8 << 20)
        for chunk in self.client.stream_file(ref.ref):
            spool.write(chunk)
        spool.seek(0)
        return spool  # type: ignore[return-value]


class DrDentesConnector:
    """The registry's entry point: picks the API or the export reader from the connection's config."""

    slug = "drdentes"

    @classmethod
    def from_connection(
        cls, config: Mapping[str, Any], secrets: Mapping[str, str], *, transport: httpx.BaseTransport | None = None
    ) -> DrDentesApiConnector | DrDentesExportConnector:
        settings = DrDentesConfig.model_validate(dict(config))
        if settings.path is not None:
            return DrDentesExportConnector(settings.path, encoding=settings.encoding)
        token = secrets.get("access_token", "")
        if not token:
            raise PermanentError("Dr.DENTES API connection needs the secret access_token", code="MISSING_SECRET")
        timeout = httpx.Timeout(settings.timeout_seconds, connect=min(5.0, settings.timeout_seconds))
        return DrDentesApiConnector(DrDentesClient(settings.base_url, token, transport=transport, timeout=timeout))


__all__ = ["DrDentesApiConnector", "DrDentesConnector", "DrDentesExportConnector"]
