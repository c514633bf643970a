"""Owner matching (issue 7): who owns the source's records, who they are in the destination, and the gate that keeps
records from moving before every owner who owns records has a confirmed destination user or the fallback owner.

Matching proposes; people decide. Exact-email matches may be confirmed in bulk on request; normalised-email matches
are proposed; name suggestions always need review. Nothing ever falls back to the API user."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from connectors.base import PermanentError, SourceRecord
from connectors.base import SourceOwner as SourceOwnerInfo
from migrator.models import Connection, DestinationUser, Migration, OwnerMatch, SourceOwner
from migrator.services.connections import destination_connector, source_connector
from migrator.services.lifecycle import register_gate
from migrator.services.owner_matching import Candidate, EmailRules, Matcher

logger = logging.getLogger(__name__)

Method = OwnerMatch.Method
Status = OwnerMatch.Status
User = AbstractBaseUser | AnonymousUser | None

SHARED_USER = "shared_user"
INACTIVE_USER = "inactive_user"
UNKNOWN_ROLE = "unknown"     # an owner id found on records but missing from the source's provider list
_GATE_LIST_LIMIT = 10


class OwnerError(Exception):
    """A request about owners that cannot be honoured; the message says which record and why."""


class OwnerUnresolved(PermanentError):
    """The loader asked for a destination owner that no one has confirmed. The record fails with this reason."""

    def __init__(self, migration_id: int, source_owner_id: str | None) -> None:
        who = f"source owner {source_owner_id!r}" if source_owner_id else "a record with no owner"
        super().__init__(
            f"owner unresolved: migration {migration_id}: {who} has no confirmed destination user and no fallback "
            "owner is set",
            code="OWNER_UNRESOLVED",
        )
        self.source_owner_id = source_owner_id


# ------------------------------------------------------------------------------------------------- extraction


@dataclass
class ExtractResult:
    owners: int = 0
    unknown_owners: int = 0
    destination_users: int = 0
    records_without_owner: dict[str, int] = field(default_factory=dict)
    record_issues: int = 0


def _as_user(user: User) -> Any:
    """The user to record as having decided; anonymous and system callers record no one."""
    return user if user is not None and user.is_authenticated else None


OwnerCounts = tuple[list[SourceOwnerInfo], dict[str, Counter[str]], Counter[str], int]


def owner_record_counts(*, migration: Migration) -> OwnerCounts:
    """Stream every object that has an owner field and count records per owner id and object.

    Memory grows with the number of owners × objects, never with the number of records."""
    counts: dict[str, Counter[str]] = {}
    unowned: Counter[str] = Counter()
    issues = 0
    with closing(source_connector(migration.source_connection)) as source:
        listed = source.owners()
        for obj in source.discover():
            if not obj.owner_field:
                continue
            for item in source.iter_records(obj.name):
                if not isinstance(item, SourceRecord):
                    issues += 1
                    continue
                owner_id = item.owner_id if item.owner_id is not None else item.data.get(obj.owner_field)
                owner_key = str(owner_id).strip() if owner_id not in (None, "") else ""
                if owner_key:
                    counts.setdefault(owner_key, Counter())[obj.name] += 1
                else:
                    unowned[obj.name] += 1
    return listed, counts, unowned, issues


def destination_users_fetch(*, connection: Connection) -> int:
    """Refresh a destination connection's users (active and inactive). A user the destination no longer lists is
    kept (matches may point at it) but marked inactive, so it is never chosen silently."""
    with closing(destination_connector(connection)) as destination:
        users = destination.users()
    with transaction.atomic():
        seen = []
        for u in users:
            DestinationUser.objects.update_or_create(
                connection=connection, dest_id=u.id,
                defaults={"email": u.email.strip(), "name": u.name, "active": u.active},
            )
            seen.append(u.id)
        DestinationUser.objects.filter(connection=connection).exclude(dest_id__in=seen).update(active=False)
    return len(users)


def owners_extract(*, migration: Migration) -> ExtractResult:
    """Read the source's owners with the records each owns per object, and the destination's users.

    Re-running keeps decisions already taken (confirmed or assigned matches) and refreshes the counts; owners
    that no longer exist in the source are removed with their matches."""
    listed, counts, unowned, issues = owner_record_counts(migration=migration)
    n_users = destination_users_fetch(connection=migration.destination_connection)
    result = ExtractResult(destination_users=n_users, records_without_owner=dict(unowned), record_issues=issues)
    with transaction.atomic():
        seen: set[str] = set()
        for info in listed:
            key = info.source_id.strip()
            if key in seen:
                continue
            seen.add(key)
            _owner_store(migration, key, name=info.name, email=info.email, role=info.role, active=info.active,
                         record_counts=dict(counts.get(key, {})))
        for key in sorted(set(counts) - seen):
            # Records point at an owner id the provider list does not have (a provider deleted in the source).
            _owner_store(migration, key, name="", email="", role=UNKNOWN_ROLE, active=False,
                         record_counts=dict(counts[key]))
            result.unknown_owners += 1
            seen.add(key)
        SourceOwner.objects.filter(migration=migration).exclude(source_id__in=seen).delete()
        result.owners = len(seen)
    logger.info("owners extracted: migration=%s owners=%s unknown=%s users=%s issues=%s",
                migration.pk, result.owners, result.unknown_owners, n_users, issues)
    return result


def _owner_store(migration: Migration, key: str, *, name: str, email: str, role: str, active: bool,
                 record_counts: dict[str, int]) -> SourceOwner:
    owner, _ = SourceOwner.objects.update_or_create(
        migration=migration, source_id=key,
        defaults={"name": name, "email": email.strip(), "role": role, "active": active,
                  "record_counts": record_counts},
    )
    OwnerMatch.objects.update_or_create(
        source_owner=owner, defaults={"migration": migration, "record_count": owner.record_count}
    )
    return owner


# ------------------------------------------------------------------------------------------------- proposals


@dataclass
class ProposeResult:
    by_method: dict[str, int] = field(default_factory=dict)
    by_status: dict[str, int] = field(default_factory=dict)
    kept: int = 0


def _decided(match: OwnerMatch) -> bool:
    """A person's decision that a new proposal must not overwrite."""
    return match.status == Status.CONFIRMED or match.method in (Method.MANUAL, Method.FALLBACK)


# Name suggestions are never confirmed by a machine: they always wait for a person.
_PROPOSAL_STATUS: dict[str, str] = {
    Method.EXACT_EMAIL: Status.PROPOSED,
    Method.NORMALIZED_EMAIL: Status.PROPOSED,
    Method.NAME_SUGGESTION: Status.NEEDS_REVIEW,
}


def owner_matches_propose(
    *, migration: Migration, domain_aliases: Mapping[str, str] | None = None, rules: EmailRules | None = None
) -> ProposeResult:
    """Propose a destination user for every source owner whose match is still undecided."""
    rules = rules or EmailRules.with_aliases(domain_aliases)
    users = {u.pk: u for u in DestinationUser.objects.filter(connection=migration.destination_connection)}
    matcher = Matcher(
        (Candidate(str(u.pk), u.email, u.name, u.active) for u in users.values()), rules
    )
    result = ProposeResult()
    with transaction.atomic():
        matches = (OwnerMatch.objects.select_for_update(of=("self",)).filter(migration=migration)
                   .select_related("source_owner"))
        for match in matches:
            if _decided(match):
                result.kept += 1
                continue
            owner = match.source_owner
            proposal = matcher.propose(email=owner.email, name=owner.name)
            match.destination_user = users[int(proposal.candidate.key)] if proposal.candidate else None
            match.method = proposal.method
            match.score = proposal.score
            match.status = _PROPOSAL_STATUS.get(proposal.method, Status.UNMATCHED)
            match.record_count = owner.record_count
            match.confirmed_by, match.confirmed_at = None, None
            match.save()
        owner_match_flags_refresh(migration=migration)
        for match in OwnerMatch.objects.filter(migration=migration):
            result.by_method[match.method] = result.by_method.get(match.method, 0) + 1
            result.by_status[match.status] = result.by_status.get(match.status, 0) + 1
    return result


def owner_match_flags_refresh(*, migration: Migration) -> None:
    """Recompute shared_user and inactive_user flags; a flagged proposal needs review before it can be confirmed
    in bulk. The fallback owner is shared by design and never flagged as such."""
    with transaction.atomic():
        matches = list(OwnerMatch.objects.select_for_update(of=("self",)).filter(migration=migration)
                       .select_related("destination_user"))
        per_user = Counter(m.destination_user_id for m in matches
                           if m.destination_user_id is not None and m.method != Method.FALLBACK)
        for match in matches:
            flags = []
            if match.destination_user_id is not None and match.method != Method.FALLBACK \
                    and per_user[match.destination_user_id] > 1:
                flags.append(SHARED_USER)
            if match.destination_user is not None and not match.destination_user.active:
                flags.append(INACTIVE_USER)
            status = match.status
            if flags and status == Status.PROPOSED:
                status = Status.NEEDS_REVIEW
            if flags != match.flags or status != match.status:
                match.flags, match.status = flags, status
                match.save(update_fields=["flags", "status"])


# ------------------------------------------------------------------------------------------------- decisions


def _as_list(matches: OwnerMatch | Iterable[OwnerMatch]) -> list[OwnerMatch]:
    return [matches] if isinstance(matches, OwnerMatch) else list(matches)


def owner_match_confirm(*, matches: OwnerMatch | Iterable[OwnerMatch], user: User) -> int:
    """Confirm proposed matches as they stand. A match without a destination user cannot be confirmed."""
    items = _as_list(matches)
    with transaction.atomic():
        rows = OwnerMatch.objects.select_for_update(of=("self",)).filter(pk__in=[m.pk for m in items])
        locked = {m.pk: m for m in rows.select_related("source_owner")}
        missing = [m for m in locked.values() if m.destination_user_id is None]
        if missing:
            ids = ", ".join(sorted(m.source_owner.source_id for m in missing))
            raise OwnerError(f"cannot confirm matches with no destination user (source owner ids: {ids}); "
                             "assign a user or the fallback owner instead")
        now = timezone.now()
        for match in locked.values():
            match.status, match.confirmed_by, match.confirmed_at = Status.CONFIRMED, _as_user(user), now
            match.save(update_fields=["status", "confirmed_by", "confirmed_at"])
        for match in items:
            match.refresh_from_db()
    return len(locked)


def owner_matches_confirm_exact(*, migration: Migration, user: User) -> int:
    """Confirm every clean exact-email proposal (no shared or inactive user) of a migration."""
    matches = OwnerMatch.objects.filter(migration=migration, method=Method.EXACT_EMAIL, status=Status.PROPOSED)
    return owner_match_confirm(matches=[m for m in matches if not m.flags], user=user)


def owner_match_assign(*, match: OwnerMatch, destination_user: DestinationUser, user: User) -> OwnerMatch:
    """A person's choice of destination user for one source owner: confirmed as made."""
    with transaction.atomic():
        locked = OwnerMatch.objects.select_for_update(of=("self",)).select_related("migration").get(pk=match.pk)
        if destination_user.connection_id != locked.migration.destination_connection_id:
            raise OwnerError(f"destination user {destination_user.dest_id} belongs to another connection than "
                             f"migration {locked.migration_id}'s destination")
        locked.destination_user = destination_user
        locked.method, locked.status, locked.score = Method.MANUAL, Status.CONFIRMED, 1.0
        locked.confirmed_by, locked.confirmed_at = _as_user(user), timezone.now()
        locked.save()
        owner_match_flags_refresh(migration=locked.migration)
    match.refresh_from_db()
    return match


def owner_match_assign_fallback(*, matches: OwnerMatch | Iterable[OwnerMatch], user: User) -> int:
    """Give the selected owners' records to their migration's fallback owner."""
    items = _as_list(matches)
    with transaction.atomic():
        locked = list(OwnerMatch.objects.select_for_update(of=("self",)).filter(pk__in=[m.pk for m in items])
                      .select_related("migration"))
        without = sorted({m.migration_id for m in locked if m.migration.fallback_owner_id is None})
        if without:
            raise OwnerError(f"no fallback owner is set for migration(s) {', '.join(map(str, without))}")
        now = timezone.now()
        for match in locked:
            match.destination_user_id = match.migration.fallback_owner_id
            match.method, match.status, match.score = Method.FALLBACK, Status.CONFIRMED, 0.0
            match.confirmed_by, match.confirmed_at = _as_user(user), now
            match.save()
        for migration in {m.migration_id: m.migration for m in locked}.values():
            owner_match_flags_refresh(migration=migration)
    for match in items:
        match.refresh_from_db()
    return len(locked)


def migration_set_fallback_owner(
    *, migration: Migration, email: str | None = None, destination_user: DestinationUser | None = None,
    user: User, assign_unmatched: bool = False,
) -> DestinationUser:
    """Choose the destination user who receives the records of owners with no match. Must be an active user of
    the migration's destination. With `assign_unmatched`, owners with no proposal at all get it at once."""
    users = DestinationUser.objects.filter(connection=migration.destination_connection)
    if destination_user is None:
        if not email:
            raise OwnerError("give the fallback owner's email or destination user")
        destination_user = users.filter(email__iexact=email.strip()).order_by("-active", "pk").first()
        if destination_user is None:
            raise OwnerError(f"no user with that email in migration {migration.pk}'s destination; "
                             "run owner extraction first if users changed")
    elif destination_user.connection_id != migration.destination_connection_id:
        raise OwnerError(f"destination user {destination_user.dest_id} belongs to another connection")
    if not destination_user.active:
        raise OwnerError(f"destination user {destination_user.dest_id} is inactive and cannot own records")
    with transaction.atomic():
        Migration.objects.filter(pk=migration.pk).update(fallback_owner=destination_user)
        migration.fallback_owner = destination_user
        # Matches already on the fallback follow it to the new user.
        OwnerMatch.objects.filter(migration=migration, method=Method.FALLBACK).update(destination_user=destination_user)
        if assign_unmatched:
            unmatched = OwnerMatch.objects.filter(migration=migration, destination_user__isnull=True)
            owner_match_assign_fallback(matches=list(unmatched), user=user)
    logger.info("fallback owner set: migration=%s destination_user=%s by=%s", migration.pk,
                destination_user.dest_id, getattr(user, "pk", None))
    return destination_user


# ------------------------------------------------------------------------------------------------- resolution


def owners_unresolved(*, migration: Migration) -> list[SourceOwner]:
    """Source owners who own records and whose records have nowhere to go: no confirmed match (a confirmed
    fallback assignment counts)."""
    owners = SourceOwner.objects.filter(migration=migration).select_related("match").order_by("source_id")
    return [o for o in owners if o.record_count > 0 and not _confirmed(o)]


def _confirmed(owner: SourceOwner) -> bool:
    match = getattr(owner, "match", None)
    return bool(match and match.status == Status.CONFIRMED and match.destination_user_id is not None)


def owner_resolver(*, migration: Migration) -> OwnerResolver:
    """A resolver the loader builds once per batch or run: one query, then dictionary look-ups."""
    return OwnerResolver(migration)


class OwnerResolver:
    def __init__(self, migration: Migration) -> None:
        self.migration_id = migration.pk
        rows = OwnerMatch.objects.filter(migration=migration, status=Status.CONFIRMED,
                                         destination_user__isnull=False)
        self._by_owner = dict(rows.values_list("source_owner__source_id", "destination_user__dest_id"))
        self._known = set(SourceOwner.objects.filter(migration=migration).values_list("source_id", flat=True))
        fallback = migration.fallback_owner
        self._fallback = fallback.dest_id if fallback is not None and fallback.active else None

    def __call__(self, source_owner_id: str | None) -> str:
        key = str(source_owner_id).strip() if source_owner_id not in (None, "") else ""
        if key in self._by_owner:
            return self._by_owner[key]
        # Records with no owner, or an owner who appeared after extraction (a delta), go to the fallback owner.
        # A known owner whose match is undecided never does: that decision belongs to a person.
        if (not key or key not in self._known) and self._fallback:
            return self._fallback
        raise OwnerUnresolved(self.migration_id, key or None)


def resolve_owner(*, migration: Migration, source_owner_id: str | None) -> str:
    """The destination user id that receives a record owned by `source_owner_id`; raises OwnerUnresolved."""
    return OwnerResolver(migration)(source_owner_id)


# ------------------------------------------------------------------------------------------------- gate


def _owner_label(owner: SourceOwner) -> str:
    return f"{owner.source_id} ({owner.name})" if owner.name else owner.source_id


@register_gate(Migration.State.OWNERS_CONFIRMED)
def _owners_confirmed_gate(migration: Migration) -> list[str]:
    extracted = (SourceOwner.objects.filter(migration=migration).exists()
                 or DestinationUser.objects.filter(connection=migration.destination_connection_id).exists())
    if not extracted:
        return ["owners have not been extracted: run `manage.py match_owners` first"]
    unresolved = owners_unresolved(migration=migration)
    if not unresolved:
        return []
    names = ", ".join(_owner_label(o) for o in unresolved[:_GATE_LIST_LIMIT])
    more = f" and {len(unresolved) - _GATE_LIST_LIMIT} more" if len(unresolved) > _GATE_LIST_LIMIT else ""
    return [f"{len(unresolved)} source owner(s) who own records have no confirmed destination user or fallback "
            f"owner: {names}{more}"]


def owner_matches_for(*, migration: Migration) -> QuerySet[OwnerMatch]:
    return (OwnerMatch.objects.filter(migration=migration)
            .select_related("source_owner", "destination_user", "confirmed_by"))
