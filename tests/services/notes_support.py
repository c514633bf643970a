"""For the notes, files and overflow tests: a small in-memory source (patients, rich-text notes, documents with
files), mappings onto Zoho or Freshsales, and a loader driven unit by unit as a worker would, against the
simulators over HTTP. `Crashing` stands for a worker killed at a chosen moment."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, BinaryIO

from connectors.base import AttachmentRef, DestinationConnector, SourceField, SourceObject, SourceRecord
from migrator.models import FieldMap, MappingStrategy, Migration, ObjectMapping, ReviewStatus, Run, WorkUnit
from migrator.services.connections import destination_connector
from migrator.services.pipeline import UnitLoader
from migrator.services.pipeline_children import NOTE_SHAPES

# Two different tiny PNGs (the second differs in its pixel data).
PNG_A = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c63600000"
                      "0200010005fe02fea70000000049454e44ae426082")
PNG_B = PNG_A[:-20] + bytes(reversed(PNG_A[-20:-12])) + PNG_A[-12:]


def img(data: bytes, mime: str = "image/png") -> str:
    return f'<img src="data:{mime};base64,{base64.b64encode(data).decode()}" alt="scan">'


class Killed(BaseException):
    """A worker killed mid-call: not an Exception, so nothing in the engine catches it."""


class ChunkedFile(io.BytesIO):
    """A source file that may only be read in bounded chunks (what streaming means); counts the reads."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.reads = 0

    def read(self, size: int | None = -1, /) -> bytes:
        if size is None or size < 0 or size > 1 << 20:
            raise AssertionError("the whole file was read at once instead of streamed")
        self.reads += 1
        return super().read(size)


@dataclass
class FakeSource:
    """Patients, notes and documents held in memory; files are bytes opened as bounded-read streams."""

    patients: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    documents: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, list[tuple[str, bytes]]] = field(default_factory=dict)   # document id -> (name, bytes)
    opened: list[ChunkedFile] = field(default_factory=list)
    slug: str = "fake"

    def discover(self) -> list[SourceObject]:
        return [
            SourceObject("patient", "Patients", (SourceField("id", type="id"), SourceField("last_name"),
                                                 SourceField("history", type="text")), id_field="id"),
            SourceObject("note", "Notes", (SourceField("id", type="id"),
                                           SourceField("patient_id", type="reference", references="patient"),
                                           SourceField("text", type="text")), id_field="id"),
            SourceObject("document", "Documents", (SourceField("id", type="id"),
                                                   SourceField("patient_id", type="reference", references="patient")),
                         id_field="id", has_attachments=True),
        ]

    def _rows(self, name: str) -> list[dict[str, Any]]:
        return {"patient": self.patients, "note": self.notes, "document": self.documents}[name]

    def count(self, object_name: str) -> int:
        return len(self._rows(object_name))

    def iter_records(self, object_name: str, *, since: datetime | None = None,
                     cursor: str | None = None) -> Iterator[SourceRecord]:
        start = int(cursor) if cursor else 0
        for n, row in enumerate(self._rows(object_name)[start:], start=start + 1):
            yield SourceRecord(object_name=object_name, source_id=str(row["id"]), data=row, cursor=str(n))

    def owners(self) -> list[Any]:
        return []

    def attachments(self, object_name: str, source_id: str) -> list[AttachmentRef]:
        return [AttachmentRef(object_name, source_id, ref=f"{source_id}/{n}", file_name=name, size=len(data),
                              content_type="application/pdf")
                for n, (name, data) in enumerate(self.files.get(source_id, []))]

    def attachments_of(self, record: SourceRecord) -> list[AttachmentRef]:
        return self.attachments(record.object_name, record.source_id)

    def open_attachment(self, ref: AttachmentRef) -> BinaryIO:
        source_id, _, n = ref.ref.rpartition("/")
        stream = ChunkedFile(self.files[source_id][int(n)][1])
        self.opened.append(stream)
        return stream

    def close(self) -> None:
        pass


class Crashing:
    """The destination connector, killed (Killed raised) right after the `after`-th successful call of
    `method`: the write happened in the CRM, the worker never learnt it."""

    def __init__(self, dest: DestinationConnector, method: str, after: int = 1) -> None:
        self._dest, self._method, self._left = dest, method, after

    def __getattr__(self, name: str) -> Any:
        real = getattr(self._dest, name)
        if name != self._method:
            return real

        def call(*args: Any, **kwargs: Any) -> Any:
            answer = real(*args, **kwargs)
            self._left -= 1
            if self._left == 0:
                raise Killed(f"worker killed after {name}")
            return answer

        return call


def _mapping(migration: Migration, obj: str, strategy: str, module: str, fields: list[tuple[str, str, dict[str, Any]]],
             *, parent: str = "", order: int = 0) -> ObjectMapping:
    m = ObjectMapping.objects.create(migration=migration, source_objects=[obj], strategy=strategy,
                                     destination_module=module, parent_source_object=parent, load_order=order,
                                     status=ReviewStatus.CONFIRMED)
    for source_field, destination_field, transform in fields:
        FieldMap.objects.create(object_mapping=m, source_field=source_field, destination_field=destination_field,
                                transform=transform, status=ReviewStatus.CONFIRMED)
    return m


def map_objects(migration: Migration, *, history_limit: int = 200) -> dict[str, ObjectMapping]:
    """Patients → contacts (history truncated at `history_limit` characters, the rest is overflow), notes →
    notes on the contact (rich text kept, long ones split), documents → files on the contact."""
    slug = migration.pair.destination.slug
    notes_module, title, text = NOTE_SHAPES[slug]
    contacts, last_name, history = ("Contacts", "Last_Name", "Description") if slug == "zoho-crm" else \
        ("contacts", "last_name", "address")
    parent_field = "Parent_Id" if slug == "zoho-crm" else "targetable_id"
    note_fields = [("text", text, {"kind": "long_text", "mode": "split", "strip_html": False}),
                   ("patient_id", parent_field, {"kind": "lookup", "source_object": "patient"})]
    if title:
        note_fields.append(("", title, {"kind": "template", "template": "Clinical note {id}"}))
    return {
        "patient": _mapping(migration, "patient", MappingStrategy.RECORDS, contacts, [
            ("last_name", last_name, {"kind": "copy"}),
            ("history", history, {"kind": "long_text", "mode": "truncate", "max_length": history_limit})]),
        "note": _mapping(migration, "note", MappingStrategy.NOTES, notes_module, note_fields, parent="patient",
                         order=1),
        "document": _mapping(migration, "document", MappingStrategy.ATTACHMENTS,
                             "Attachments" if slug == "zoho-crm" else "documents", [],
                             parent="patient", order=1),
    }


def new_run(migration: Migration, kind: str = Run.Kind.FULL) -> Run:
    from django.utils import timezone

    return Run.objects.create(migration=migration, kind=kind, state=Run.State.RUNNING, started_at=timezone.now())


def load(run: Run, mapping: ObjectMapping, source: FakeSource, dest: Any = None) -> WorkUnit:
    """One unit of `mapping` in `run`, loaded to its end (or to a Killed) with a fresh connector, like a worker;
    a unit already there (a re-run after a kill) goes on from its checkpoint."""
    unit, _ = WorkUnit.objects.get_or_create(run=run, object_mapping=mapping, defaults={
        "source_object": mapping.source_object, "total": source.count(mapping.source_object),
        "state": WorkUnit.State.IN_FLIGHT})
    real = destination_connector(run.migration.destination_connection)
    try:
        UnitLoader(unit, source, dest(real) if dest is not None else real).load()
    finally:
        real.close()
    unit.refresh_from_db()
    return unit
