"""Discovery (the Django side of issue 5): profile the source and store its inventory, then move the migration from
draft to discovered.

The profiling itself is pure Python in connectors/sources/profiling.py: it streams each object once and returns
counts, inferred types, fill rates, value shapes, the values of low-cardinality coded fields and quality flags.
This module only stores what it returns — never a patient value — and re-running replaces the inventory."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction

from connectors.base import SourceConnector, SourceObject
from connectors.sources import profiling
from connectors.sources.hints import QualityHints
from migrator.models import DiscoveredField, DiscoveredObject, Migration
from migrator.services.connections import source_connector
from migrator.services.lifecycle import migration_transition

logger = logging.getLogger(__name__)

State = Migration.State

# Coded values are kept only for fields with few distinct values (statuses, types); anything longer is more likely
# a free-text value and could carry patient data.
MAX_CODED_VALUES = 50
MAX_CODED_VALUE_LENGTH = 60


@dataclass(frozen=True)
class FieldInventory:
    name: str
    label: str = ""
    inferred_type: str = ""
    references: str = ""
    custom: bool = False
    fill_rate: float = 0.0
    max_length: int = 0
    shapes: Mapping[str, float] = field(default_factory=dict)
    coded_values: Sequence[str] = ()


@dataclass(frozen=True)
class ObjectInventory:
    key: str
    label: str
    record_count: int
    id_field: str = ""
    owner_field: str = ""
    modified_field: str = ""
    has_attachments: bool = False
    issues: int = 0
    quality_flags: Mapping[str, int] = field(default_factory=dict)
    fields: Sequence[FieldInventory] = ()


class DiscoveryError(Exception):
    """Discovery could not run; the message names the migration and why (never a record's values)."""


# ------------------------------------------------------------------------------------------------- profiling

# Which object a source-wide problem count belongs to, when the profile counts it for the whole source.
_PATIENT_PROBLEMS = ("duplicate_patients_name_dob", "duplicate_patients_email", "missing_email", "invalid_email",
                     "invalid_phone", "non_patient_guarantors")
_NOTE_PROBLEMS = ("oversize_notes", "inline_image_notes")


def source_profile(source: SourceConnector) -> list[ObjectInventory]:
    """The inventory of every object the source declares, from the sources' profiling (one streaming pass)."""
    profile = profiling.profile_connector(source)
    declared = {o.name: o for o in source.discover()}
    flags = _flags_per_object(profile, source, declared)
    return [_inventory(op, declared.get(op.name), flags.get(op.name, {})) for op in profile.objects]


def _flags_per_object(profile: profiling.Profile, source: SourceConnector,
                      declared: Mapping[str, SourceObject]) -> dict[str, dict[str, int]]:
    """Spread the profile's source-wide problem counts over the objects they are about, so that the flags of all
    objects add up to the profile's counts: orphans by the object holding the dangling reference, patient
    problems on the patient object, note and attachment problems on theirs, and records of inactive owners on
    the object listing the owners (they are counted across every owned object)."""
    hints: QualityHints | None = getattr(source, "quality", None)
    flags: dict[str, Counter[str]] = {}

    def add(object_name: str, problem: str, n: int) -> None:
        if n and object_name:
            flags.setdefault(object_name, Counter())[problem] += n

    for ref, n in profile.orphans.items():
        add(ref.split(".", 1)[0], "orphans", n)
    for op in profile.objects:
        for reason, n in op.issue_reasons.items():
            add(op.name, f"unreadable: {reason}"[:100], n)
    patient = hints.patient if hints else ""
    notes = hints.notes[0][0] if hints and hints.notes else ""
    attachments = hints.attachment[0] if hints else ""
    owners = str(getattr(source, "owner_object", "") or "") or next(
        (o.name for o in declared.values() if o.owner_field), "")
    for problem, n in profile.problems.items():
        if problem == "orphans":
            continue
        target = (patient if problem in _PATIENT_PROBLEMS else notes if problem in _NOTE_PROBLEMS
                  else attachments if problem == "oversize_attachments"
                  else owners if problem == "inactive_owner_records" else patient)
        add(target or (profile.objects[0].name if profile.objects else ""), problem, n)
    return {k: dict(v) for k, v in flags.items()}


def _coded(values: Sequence[str] | None) -> list[str]:
    if not values or len(values) > MAX_CODED_VALUES or any(len(str(v)) > MAX_CODED_VALUE_LENGTH for v in values):
        return []
    return sorted(str(v) for v in values)


def _shares(shapes: Mapping[str, int], filled: int) -> dict[str, float]:
    return {k: round(n / filled, 4) for k, n in shapes.items()} if filled else {}


def _inventory(op: profiling.ObjectProfile, declared: SourceObject | None,
               flags: Mapping[str, int]) -> ObjectInventory:
    declared_fields = {f.name: f for f in declared.fields} if declared else {}
    fields = []
    for fp in op.fields:
        decl = declared_fields.get(fp.name)
        fields.append(FieldInventory(
            name=fp.name, label=decl.label if decl else "", inferred_type=fp.inferred_type or fp.declared_type,
            references=decl.references if decl else "", custom=decl.custom if decl else False,
            fill_rate=fp.fill_rate, max_length=fp.max_length or 0, shapes=_shares(fp.shapes, fp.filled),
            coded_values=_coded(fp.distinct_values),
        ))
    return ObjectInventory(
        key=op.name, label=declared.label if declared else op.name, record_count=op.count,
        id_field=declared.id_field if declared else "", owner_field=declared.owner_field if declared else "",
        modified_field=declared.modified_field if declared else "",
        has_attachments=declared.has_attachments if declared else False,
        issues=op.unreadable, quality_flags=dict(flags), fields=fields,
    )


# ------------------------------------------------------------------------------------------------- storing


@dataclass
class DiscoveryResult:
    objects: list[ObjectInventory]

    @property
    def record_count(self) -> int:
        return sum(o.record_count for o in self.objects)


def inventory_store(*, migration: Migration, objects: Sequence[ObjectInventory]) -> None:
    """Replace the migration's inventory with `objects`."""
    with transaction.atomic():
        DiscoveredObject.objects.filter(migration=migration).delete()
        for inv in objects:
            obj = DiscoveredObject.objects.create(
                migration=migration, key=inv.key, label=inv.label, record_count=inv.record_count,
                id_field=inv.id_field, owner_field=inv.owner_field, modified_field=inv.modified_field,
                has_attachments=inv.has_attachments, issues=inv.issues, quality_flags=dict(inv.quality_flags),
            )
            DiscoveredField.objects.bulk_create([
                DiscoveredField(
                    discovered_object=obj, name=f.name, label=f.label, inferred_type=f.inferred_type,
                    references=f.references, custom=f.custom, fill_rate=f.fill_rate, max_length=f.max_length,
                    shapes=dict(f.shapes), coded_values=list(f.coded_values),
                )
                for f in inv.fields
            ])


def migration_discover(
    *, migration: Migration, user: AbstractBaseUser | AnonymousUser | None = None
) -> DiscoveryResult:
    """Profile the source, store the inventory, and move a draft migration to discovered (a discovered one is
    re-discovered in place). Later states keep their state: the inventory is refreshed, nothing else moves."""
    with closing(source_connector(migration.source_connection)) as source:
        objects = source_profile(source)
    with transaction.atomic():
        inventory_store(migration=migration, objects=objects)
        if migration.state in (State.DRAFT, State.DISCOVERED):
            migration_transition(migration=migration, to_state=State.DISCOVERED, user=user,
                                 note=f"{len(objects)} objects, {sum(o.record_count for o in objects)} records")
    logger.info("discovered: migration=%s objects=%s", migration.pk, len(objects))
    return DiscoveryResult(objects)
