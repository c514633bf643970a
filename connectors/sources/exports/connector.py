"""The SourceConnector over an export folder: the four systems differ only in their declared tables."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, ClassVar, Self

from pydantic import BaseModel, ConfigDict, DirectoryPath

from connectors.base import (
    AttachmentRef,
    PermanentError,
    SourceIssue,
    SourceObject,
    SourceOwner,
    SourceRecord,
)
from connectors.sources.exports.tables import TableReader, TableSpec
from connectors.sources.exports.values import Locale
from connectors.sources.hints import QualityHints


class ExportConfig(BaseModel):
    """Non-secret settings of an export connection."""

    model_config = ConfigDict(extra="forbid")
    path: DirectoryPath
    encoding: str = ""         # force an encoding when detection refuses a file


@dataclass(frozen=True)
class AttachmentSpec:
    object_name: str           # the index object whose rows are files
    parent_field: str          # the patient the file belongs to
    file_field: str
    size_field: str
    folder: str                # where the files sit inside the export folder
    kind_field: str = ""


CONTENT_TYPES = {"jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "pdf": "application/pdf",
                 "dcm": "application/dicom", "tif": "image/tiff", "tiff": "image/tiff"}


class ExportConnector:
    slug: ClassVar[str]
    tables: ClassVar[tuple[TableSpec, ...]]
    locale: ClassVar[Locale]
    language: ClassVar[str]
    owner_object: ClassVar[str]
    attachment: ClassVar[AttachmentSpec]
    quality: ClassVar[QualityHints]

    def __init__(self, root: Path, *, encoding: str = "") -> None:
        self.root = root
        self.reader = TableReader(root, self.locale, language=self.language, encoding=encoding)
        self._by_patient: dict[str, list[AttachmentRef]] | None = None

    @classmethod
    def from_connection(cls, config: Mapping[str, Any], secrets: Mapping[str, str]) -> Self:
        settings = ExportConfig.model_validate(dict(config))
        return cls(settings.path, encoding=settings.encoding)

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        self._by_patient = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # ------------------------------------------------------------------ reading

    def spec(self, object_name: str) -> TableSpec:
        for spec in self.tables:
            if spec.object_name == object_name:
                return spec
        raise PermanentError(f"{self.slug} has no object {object_name!r}", code="UNKNOWN_OBJECT")

    def discover(self) -> list[SourceObject]:
        return [spec.source_object(self.reader.header(spec)) for spec in self.tables if self.reader.exists(spec)]

    def count(self, object_name: str) -> int:
        spec = self.spec(object_name)
        return self.reader.count(spec) if self.reader.exists(spec) else 0

    def iter_records(
        self, object_name: str, *, since: datetime | None = None, cursor: str | None = None
    ) -> Iterator[SourceRecord | SourceIssue]:
        spec = self.spec(object_name)
        if not self.reader.exists(spec):
            return iter(())
        return self.reader.iter_records(spec, since=since, cursor=cursor)

    def owners(self) -> list[SourceOwner]:
        spec = self.spec(self.owner_object)
        return [self.owner_from(item) for item in self.reader.iter_records(spec) if isinstance(item, SourceRecord)]

    def owner_from(self, record: SourceRecord) -> SourceOwner:
        raise NotImplementedError

    # ------------------------------------------------------------------ attachments

    def _ref(self, record: SourceRecord) -> AttachmentRef:
        a = self.attachment
        name = str(record.data.get(a.file_field) or "")
        size = record.data.get(a.size_field)
        return AttachmentRef(
            object_name=a.object_name, source_id=record.source_id, ref=f"{a.folder}/{name}", file_name=name,
            size=int(size) if isinstance(size, int) else 0,
            content_type=CONTENT_TYPES.get(name.rsplit(".", 1)[-1].lower(), "application/octet-stream"),
        )

    def attachments(self, object_name: str, source_id: str) -> list[AttachmentRef]:
        """Files of one attachment record (object_name = the index object) or of one patient (the parent)."""
        a = self.attachment
        spec = self.spec(a.object_name)
        if not self.reader.exists(spec):
            return []
        if object_name == a.object_name:
            return [self._ref(r) for r in self.reader.iter_records(spec)
                    if isinstance(r, SourceRecord) and r.source_id == source_id]
        if self._by_patient is None:
            index: dict[str, list[AttachmentRef]] = {}
            for r in self.reader.iter_records(spec):
                if isinstance(r, SourceRecord):
                    index.setdefault(str(r.data.get(a.parent_field) or ""), []).append(self._ref(r))
            self._by_patient = index
        return list(self._by_patient.get(source_id, []))

    def attachments_of(self, record: SourceRecord) -> list[AttachmentRef]:
        # An index row describes its own file: reading the index again per row would make a load quadratic.
        if record.object_name == self.attachment.object_name:
            return [self._ref(record)]
        return self.attachments(record.object_name, record.source_id)

    def open_attachment(self, ref: AttachmentRef) -> BinaryIO:
        base = (self.root / self.attachment.folder).resolve()
        path = (self.root / ref.ref).resolve()
        if base not in path.parents:
            raise PermanentError(f"attachment of record {ref.source_id} points outside the export folder",
                                 code="ATTACHMENT_PATH")
        if not path.is_file():
            raise PermanentError(f"attachment of record {ref.source_id} is listed in the index but its file is "
                                 "not in the export", code="ATTACHMENT_MISSING")
        return path.open("rb")
