"""Resolving delta conflicts: a record changed in the CRM after our last write, and changed in the source too.

Staff choose per conflict: keep the source (our values are written over the CRM's), keep the destination (nothing is
written; the crosswalk takes the source content as seen, so the next delta leaves the record alone until the source
changes again), or pick per field (only the chosen source values are written). Each resolution is audited.

What the next delta does afterwards follows from RecordLink.destination_modified_at, the three-way check's "our last
write": after keep-source it is the time of our write (the record holds our values again); when CRM values were kept
(keep-destination, or a per-field choice that kept any) it stays as it was, so the record still counts as edited
in the CRM — a later source change opens a new conflict, and a rollback asks before touching it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.utils import timezone

from connectors.base import ConnectorError
from migrator.models import AuditEntry, Conflict, RecordLink
from migrator.services.connections import destination_connector

Status = Conflict.Status
Choice = Status   # a resolution is named by the status it leaves
User = AbstractBaseUser | AnonymousUser | None


class ConflictRefused(Exception):
    """The conflict cannot be resolved this way (already resolved, unknown field, the CRM refused the write)."""


@dataclass(frozen=True)
class ConflictField:
    name: str
    source: Any          # what the delta would have written
    destination: Any     # what the CRM held when the delta read it


def conflict_fields(*, conflict: Conflict) -> list[ConflictField]:
    """The differing fields, source beside destination, in a stable order (for the admin's detail page)."""
    rows = conflict.fields or {}
    return [ConflictField(name=name, source=(values or {}).get("source"), destination=(values or {}).get("theirs"))
            for name, values in sorted(rows.items())]


def _who(user: User) -> AbstractBaseUser | None:
    return user if user is not None and user.is_authenticated else None  # type: ignore[return-value]


def _write(conflict: Conflict, values: Mapping[str, Any]) -> Any:
    """Write `values` onto the conflict's CRM record through the destination connector; the one result."""
    link = conflict.record_link
    dest = destination_connector(conflict.migration.destination_connection)
    try:
        # A merge link names its mapping (`Contacts~12`): the record it wrote to is in the CRM module before "~".
        results = dest.update(link.destination_module.split("~", 1)[0], [{"id": link.destination_id, **values}])
    except ConnectorError as exc:
        raise ConflictRefused(f"the destination did not take the write ({exc.code or 'error'}); "
                              "the conflict stays open") from None
    finally:
        dest.close()
    if len(results) != 1 or not results[0].ok:
        code = results[0].code if results else "NO_RESULT"
        raise ConflictRefused(f"the destination refused the write ({code or 'rejected'}); the conflict stays open")
    return results[0]


def conflict_resolve(*, conflict: Conflict, choice: str, user: User = None,
                     source_fields: Iterable[str] = ()) -> Conflict:
    """Resolve one open conflict. `choice` is keep_source, keep_destination or per_field; for per_field,
    `source_fields` names the differing fields whose source value is written (the others keep the CRM's)."""
    if choice not in (Status.KEEP_SOURCE, Status.KEEP_DESTINATION, Status.PER_FIELD):
        raise ConflictRefused(f"unknown resolution {choice!r}")
    with transaction.atomic():
        # The row lock makes two people resolving the same conflict at once write once.
        locked = (Conflict.objects.select_for_update(of=("self",)).select_related("record_link", "migration", "run")
                  .filter(pk=conflict.pk).first())
        if locked is None:
            raise ConflictRefused("this conflict no longer exists")
        if locked.status != Status.OPEN:
            raise ConflictRefused(f"this conflict was already resolved ({locked.get_status_display().lower()})")
        link = locked.record_link
        differing = set(locked.fields or {})
        chosen = set(source_fields)
        if choice == Status.PER_FIELD and not chosen <= differing:
            raise ConflictRefused(f"not a differing field of this conflict: {', '.join(sorted(chosen - differing))}")
        if choice == Status.KEEP_SOURCE:
            chosen = differing
        elif choice == Status.KEEP_DESTINATION:
            chosen = set()
        payload = locked.source_payload or {}
        # Keep-source writes everything the delta would have written; per-field writes the chosen fields only.
        values = dict(payload) if choice == Status.KEEP_SOURCE else {k: payload[k] for k in chosen if k in payload}
        result = _write(locked, values) if values else None
        kept = sorted(differing - chosen)
        link.content_hash = locked.source_hash or link.content_hash
        if result is not None and not kept:
            link.destination_modified_at = result.modified_at or link.destination_modified_at
            if link.role == RecordLink.Role.MERGE and result.modified_at is not None:
                # Fields merged onto another link's record: that record's time is the one the delta compares.
                RecordLink.objects.filter(
                    migration_id=link.migration_id, role=RecordLink.Role.RECORD, destination_id=link.destination_id,
                    destination_module=link.destination_module.split("~", 1)[0],
                ).update(destination_modified_at=result.modified_at)
        link.save(update_fields=["content_hash", "destination_modified_at", "loaded_at"])
        who = _who(user)
        locked.status = choice
        locked.resolution = {"written": sorted(values), "kept": kept,
                             "by": who.get_username() if who is not None else ""}
        locked.resolved_by = who
        locked.resolved_at = timezone.now()
        locked.save(update_fields=["status", "resolution", "resolved_by", "resolved_at"])
        _audit(locked, link, written=sorted(values), kept=kept)
    return locked


def _audit(conflict: Conflict, link: RecordLink, *, written: list[str], kept: list[str]) -> None:
    run = conflict.run or link.last_run
    if run is None:  # pragma: no cover — a conflict is opened by a run, and runs with audit rows are protected
        raise ConflictRefused("no run to file the resolution's audit entry under")
    by = conflict.resolution.get("by") or "someone"
    AuditEntry.objects.create(
        migration=conflict.migration, run=run, op=AuditEntry.Op.UPDATE if written else AuditEntry.Op.SKIP,
        source_object=link.source_object, source_id=link.source_id, destination_module=link.destination_module,
        destination_id=link.destination_id, payload_hash=conflict.source_hash,
        error_code=f"CONFLICT_{conflict.status.upper()}", error_field=",".join(written)[:200],
        error_message=f"conflict #{conflict.pk} resolved by {by}: {len(written)} field(s) written from the source, "
                      f"{len(kept)} kept from the CRM",
    )


def conflicts_resolve(*, conflicts: Iterable[Conflict], choice: str, user: User = None) -> tuple[int, list[str]]:
    """Resolve many conflicts the same way (an admin action); returns (resolved, problems)."""
    done, problems = 0, []
    for conflict in conflicts:
        try:
            conflict_resolve(conflict=conflict, choice=choice, user=user)
            done += 1
        except ConflictRefused as exc:
            problems.append(f"conflict #{conflict.pk}: {exc}")
    return done, problems
