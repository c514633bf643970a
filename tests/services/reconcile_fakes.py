"""A migration with known outcomes for reconciliation tests: an in-memory source and destination, confirmed
mappings, and the audit rows and crosswalk links a sample and a full run would have left.

The story (counts the tests check):
- patient, routed (P1–P10): P1–P6 Contacts, P7 a Lead, P10 loaded in the sample then UNCHANGED in the full run
  → 8 created; P8 ROUTED_OUT (skipped); P9 failed MANDATORY_NOT_FOUND. Expected in the destination 9.
  P6 was deleted in the CRM afterwards, P2's Last_Name was edited there (one differing field).
- appointment → Events (A1–A4): A1, A2, A4 created; A3 failed lookup_unresolved (its patient P9 failed);
  A4's Who_Id reads back empty although the source names P2 (an orphan, and a differing field).
- note → Notes (N1–N3): N1, N2 created; N3 failed PARENT_NOT_LOADED. Notes cannot be listed: crosswalk.
- document → Attachments (D1, D2): D1 attached (two files, 1,500 bytes); D2 FILE_TOO_LARGE (30 MB).
- provider → users (R1, R2): NOT_MIGRATED.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

from connectors.base import (
    AttachmentRef,
    DestField,
    DestRecord,
    PermanentError,
    SourceField,
    SourceObject,
    SourceRecord,
)
from migrator.models import (
    AuditEntry,
    FieldMap,
    MappingStrategy,
    ObjectMapping,
    RecordLink,
    ReviewStatus,
    Run,
)
from tests.factories import DestinationUserFactory, MigrationFactory, OwnerMatchFactory, SourceOwnerFactory

Op = AuditEntry.Op
MB = 1024 * 1024


class FakeSource:
    def __init__(self, objects: list[SourceObject], records: Mapping[str, list[dict[str, Any]]],
                 files: Mapping[str, list[AttachmentRef]] | None = None) -> None:
        self.objects = objects
        self.records = records
        self.files = files or {}

    def discover(self) -> list[SourceObject]:
        return list(self.objects)

    def count(self, object_name: str) -> int:
        return len(self.records.get(object_name, []))

    def iter_records(self, object_name: str, since: Any = None, cursor: Any = None) -> Iterator[SourceRecord]:
        obj = next(o for o in self.objects if o.name == object_name)
        for i, row in enumerate(self.records.get(object_name, [])):
            yield SourceRecord(object_name, str(row[obj.id_field]), row, cursor=str(i + 1))

    def attachments(self, object_name: str, source_id: str) -> list[AttachmentRef]:
        return list(self.files.get(source_id, []))

    def attachments_of(self, record: SourceRecord) -> list[AttachmentRef]:
        return self.attachments(record.object_name, record.source_id)

    def open_attachment(self, ref: AttachmentRef) -> AbstractContextManager[Any]:
        raise NotImplementedError

    def owners(self) -> list[Any]:
        return []

    def close(self) -> None:
        pass


class FakeDestination:
    """Zoho-shaped reads: lookups and owners read back as {id, name}; Notes and Attachments cannot be listed."""

    slug = "zoho-crm"
    unlistable = ("Notes", "Attachments")

    def __init__(self) -> None:
        self.modules: dict[str, dict[str, dict[str, Any]]] = {}

    def put(self, module: str, dest_id: str, **data: Any) -> str:
        self.modules.setdefault(module, {})[dest_id] = {"id": dest_id, **data}
        return dest_id

    def fields(self, module: str) -> list[DestField]:
        names = {"Contacts": ["Last_Name", "Owner", "Source_System_ID"], "Leads": ["Last_Name", "Owner"],
                 "Events": ["Event_Title", "Who_Id", "What_Id", "Owner"]}.get(module, [])
        return [DestField(api_name=n, label=n, type="text") for n in names]

    def iter_records(self, module: str, fields: Sequence[str]) -> Iterator[DestRecord]:
        if module in self.unlistable:
            raise PermanentError(f"no list API for {module}", code="NO_LIST_API")
        for rid, data in self.modules.get(module, {}).items():
            yield DestRecord(id=rid, data=data)

    def get(self, module: str, ids: Sequence[str]) -> list[DestRecord]:
        found = self.modules.get(module, {})
        return [DestRecord(id=i, data=found[i]) for i in ids if i in found]

    def count(self, module: str) -> int:
        if module in self.unlistable:
            raise PermanentError(f"no count for {module}", code="NO_LIST_API")
        return len(self.modules.get(module, {}))

    def close(self) -> None:
        pass


def _field(name: str, references: str = "") -> SourceField:
    return SourceField(name=name, references=references)


SOURCE_OBJECTS = [
    SourceObject("patient", "Patients", (_field("id"), _field("last_name"), _field("status"), _field("prov")),
                 id_field="id", owner_field="prov"),
    SourceObject("appointment", "Appointments",
                 (_field("id"), _field("patient_id", "patient"), _field("reason"), _field("prov")), id_field="id"),
    SourceObject("note", "Notes", (_field("id"), _field("patient_id", "patient"), _field("text")), id_field="id"),
    SourceObject("document", "Documents", (_field("id"), _field("patient_id", "patient")), id_field="id"),
    SourceObject("provider", "Providers", (_field("id"), _field("name")), id_field="id"),
]


def _mapping(migration: Any, obj: str, strategy: str, module: str = "", parent: str = "",
             order: int = 0, **kw: Any) -> ObjectMapping:
    return ObjectMapping.objects.create(migration=migration, source_objects=[obj], strategy=strategy,
                                        destination_module=module, parent_source_object=parent,
                                        status=ReviewStatus.CONFIRMED, load_order=order, **kw)


def _fm(mapping: ObjectMapping, source: str, dest: str, **transform: Any) -> None:
    FieldMap.objects.create(object_mapping=mapping, source_field=source, destination_field=dest,
                            transform=transform or {"kind": "copy"}, status=ReviewStatus.CONFIRMED)


class Story:
    """The known-outcome migration, its fake ends, and its runs."""

    def __init__(self) -> None:
        self.migration = m = MigrationFactory()
        self.u1 = DestinationUserFactory(connection=m.destination_connection, dest_id="u1", email="one@crm.test")
        self.u2 = DestinationUserFactory(connection=m.destination_connection, dest_id="u2", email="two@crm.test")
        dr1 = SourceOwnerFactory(migration=m, source_id="DR1", name="Dr. One",
                                 record_counts={"patient": 6, "appointment": 3})
        dr2 = SourceOwnerFactory(migration=m, source_id="DR2", name="Dr. Two",
                                 record_counts={"patient": 4, "appointment": 1})
        OwnerMatchFactory(source_owner=dr1, destination_user=self.u1, status="confirmed", method="exact_email")
        OwnerMatchFactory(source_owner=dr2, destination_user=self.u2, status="confirmed", method="manual")
        self._mappings()
        self.source = FakeSource(SOURCE_OBJECTS, self._records(), files={
            "D1": [AttachmentRef("document", "D1", "f1", "xray.png", 1000),
                   AttachmentRef("document", "D1", "f2", "form.pdf", 500)],
            "D2": [AttachmentRef("document", "D2", "f3", "scan.tif", 30 * MB)],
        })
        self.dest = FakeDestination()
        self.sample_run = Run.objects.create(migration=m, kind=Run.Kind.SAMPLE, state=Run.State.COMPLETED)
        self.full_run = Run.objects.create(migration=m, kind=Run.Kind.FULL, state=Run.State.COMPLETED)
        self._load()

    def _mappings(self) -> None:
        m = self.migration
        contacts = _mapping(m, "patient", MappingStrategy.ROUTED_RECORDS, "Contacts", order=1,
                            route={"rule": "patient_status", "branch": "Contacts"})
        leads = _mapping(m, "patient", MappingStrategy.ROUTED_RECORDS, "Leads", order=1,
                         route={"rule": "patient_status", "branch": "Leads"})
        for om in (contacts, leads):
            _fm(om, "last_name", "Last_Name")
            _fm(om, "prov", "Owner", kind="owner")
        events = _mapping(m, "appointment", MappingStrategy.RECORDS, "Events", order=2)
        _fm(events, "reason", "Event_Title")
        _fm(events, "patient_id", "Who_Id", kind="lookup", source_object="patient", required=False)
        _fm(events, "prov", "Owner", kind="owner")
        _mapping(m, "note", MappingStrategy.NOTES, "Notes", parent="patient", order=3)
        _mapping(m, "document", MappingStrategy.ATTACHMENTS, "Attachments", parent="patient", order=3)
        _mapping(m, "provider", MappingStrategy.USERS, order=0)

    @staticmethod
    def _records() -> dict[str, list[dict[str, Any]]]:
        patients = [{"id": f"P{i}", "last_name": f"Name{i}", "status": "active" if i != 7 else "lead",
                     "prov": "DR1" if i <= 6 else "DR2"} for i in range(1, 11)]
        appointments = [{"id": f"A{i}", "patient_id": pid, "reason": f"Visit {i}", "prov": "DR1" if i < 4 else "DR2"}
                        for i, pid in enumerate(["P1", "P1", "P9", "P2"], start=1)]
        notes = [{"id": f"N{i}", "patient_id": pid, "text": "..."} for i, pid in enumerate(["P1", "P1", "P9"], 1)]
        documents = [{"id": "D1", "patient_id": "P1"}, {"id": "D2", "patient_id": "P2"}]
        providers = [{"id": "R1", "name": "One"}, {"id": "R2", "name": "Two"}]
        return {"patient": patients, "appointment": appointments, "note": notes, "document": documents,
                "provider": providers}

    # ------------------------------------------------------------------ what the runs left behind

    def audit(self, run: Run, op: str, obj: str, sid: str, module: str = "", did: str = "", code: str = "") -> None:
        AuditEntry.objects.create(migration=self.migration, run=run, op=op, source_object=obj, source_id=sid,
                                  destination_module=module, destination_id=did, error_code=code)

    def link(self, obj: str, sid: str, module: str, did: str, role: str = RecordLink.Role.RECORD) -> None:
        RecordLink.objects.create(migration=self.migration, source_object=obj, source_id=sid,
                                  destination_module=module, destination_id=did, role=role,
                                  created_run=self.full_run)

    def _load(self) -> None:
        sample, full, dest = self.sample_run, self.full_run, self.dest
        # The sample loaded P10; the full run found it unchanged.
        dest.put("Contacts", "c10", Last_Name="Name10", Owner={"id": "u2", "name": "Two"})
        self.link("patient", "P10", "Contacts", "c10")
        self.audit(sample, Op.CREATE, "patient", "P10", "Contacts", "c10")
        self.audit(full, Op.SKIP, "patient", "P10", "Contacts", "c10", code="UNCHANGED")
        for i in range(1, 7):
            owner = {"id": "u1", "name": "One"}
            dest.put("Contacts", f"c{i}", Last_Name=f"Name{i}", Owner=owner)
            self.link("patient", f"P{i}", "Contacts", f"c{i}")
            self.audit(full, Op.CREATE, "patient", f"P{i}", "Contacts", f"c{i}")
        dest.put("Leads", "l7", Last_Name="Name7", Owner={"id": "u2", "name": "Two"})
        self.link("patient", "P7", "Leads", "l7")
        self.audit(full, Op.CREATE, "patient", "P7", "Leads", "l7")
        self.audit(full, Op.SKIP, "patient", "P8", code="ROUTED_OUT")
        self.audit(full, Op.FAIL, "patient", "P9", "Contacts", code="MANDATORY_NOT_FOUND")
        dest.put("Contacts", "c0", Last_Name="Someone already there", Owner={"id": "u1", "name": "One"})
        # After the load someone deleted P6 in the CRM and edited P2's name.
        del dest.modules["Contacts"]["c6"]
        dest.modules["Contacts"]["c2"]["Last_Name"] = "Edited in CRM"

        for sid, did, pid, owner in (("A1", "e1", "c1", "u1"), ("A2", "e2", "c1", "u1"), ("A4", "e4", None, "u2")):
            title = f"Visit {sid[1:]}"
            dest.put("Events", did, Event_Title=title, Who_Id={"id": pid} if pid else None,
                     Owner={"id": owner, "name": owner})
            self.link("appointment", sid, "Events", did)
            self.audit(full, Op.CREATE, "appointment", sid, "Events", did)
        self.audit(full, Op.FAIL, "appointment", "A3", "Events", code="lookup_unresolved")

        for sid, did in (("N1", "n1"), ("N2", "n2")):
            self.link("note", sid, "Notes", did, role=RecordLink.Role.CHILD)
            self.audit(full, Op.CREATE, "note", sid, "Notes", did)
        self.audit(full, Op.FAIL, "note", "N3", "Notes", code="PARENT_NOT_LOADED")

        self.link("document", "D1", "Attachments", "att1", role=RecordLink.Role.CHILD)
        self.audit(full, Op.ATTACH, "document", "D1", "Attachments", "att1")
        self.audit(full, Op.ATTACH, "document", "D1", "Attachments", "att2")
        self.audit(full, Op.SKIP, "document", "D2", "Contacts", "c2", code="FILE_TOO_LARGE")

        for sid in ("R1", "R2"):
            self.audit(full, Op.SKIP, "provider", sid, code="NOT_MIGRATED")
