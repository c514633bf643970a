"""The migration state machine: one service moves a migration from one state to the next.

Each forward arrow has a gate owned by the part that knows it (mapping, owners, preflight, runs…), registered with
`register_gate`. An arrow whose gate is not registered is not offered. A refused move raises TransitionRefused with
every reason, so staff see all that is missing at once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction

from migrator.models import Migration, MigrationEvent

State = Migration.State

# Every arrow of the lifecycle (ARCHITECTURE.md, "The lifecycle"); backward arrows reopen a step for correction.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    State.DRAFT: (State.DISCOVERED,),
    State.DISCOVERED: (State.MAPPED, State.DISCOVERED),
    State.MAPPED: (State.OWNERS_CONFIRMED, State.DISCOVERED),
    State.OWNERS_CONFIRMED: (State.SCHEMA_VERIFIED, State.MAPPED, State.DISCOVERED),
    State.SCHEMA_VERIFIED: (State.SAMPLE_LOADED, State.DISCOVERED),
    State.SAMPLE_LOADED: (State.SAMPLE_APPROVED, State.SAMPLE_LOADED, State.DISCOVERED, State.ROLLED_BACK),
    State.SAMPLE_APPROVED: (State.LOADING, State.ROLLED_BACK),
    State.LOADING: (State.LOADED, State.ROLLED_BACK),
    State.LOADED: (State.DELTA, State.RECONCILED, State.ROLLED_BACK),
    State.DELTA: (State.DELTA, State.RECONCILED, State.ROLLED_BACK),
    State.RECONCILED: (State.CLOSED, State.DELTA, State.ROLLED_BACK),
    State.CLOSED: (),
    State.ROLLED_BACK: (State.DISCOVERED, State.MAPPED),
}

# Arrows that need no gate of their own: reopening a step, or states set by the run that just finished.
UNGATED: set[tuple[str, str]] = {
    (State.DISCOVERED, State.DISCOVERED),
    (State.MAPPED, State.DISCOVERED),
    (State.OWNERS_CONFIRMED, State.MAPPED),
    (State.OWNERS_CONFIRMED, State.DISCOVERED),
    (State.SCHEMA_VERIFIED, State.DISCOVERED),
    (State.SAMPLE_LOADED, State.DISCOVERED),
    (State.ROLLED_BACK, State.DISCOVERED),
}

Gate = Callable[[Migration], list[str]]
_GATES: dict[str, Gate] = {}


class TransitionRefused(Exception):
    def __init__(self, migration: Migration, to_state: str, reasons: list[str]) -> None:
        self.reasons = reasons
        label = State(to_state).label if to_state in State.values else to_state
        super().__init__(
            f"Migration {migration.pk} cannot move from {migration.get_state_display()!r} to {label!r}: "
            + "; ".join(reasons)
        )


def register_gate(to_state: str) -> Callable[[Gate], Gate]:
    """Register the check that must pass before a migration enters `to_state`. It returns its problems."""

    def decorator(gate: Gate) -> Gate:
        _GATES[str(to_state)] = gate
        return gate

    return decorator


@dataclass(frozen=True)
class Offer:
    to_state: str
    label: str
    problems: tuple[str, ...]

    @property
    def allowed(self) -> bool:
        return not self.problems


def _gate_for(from_state: str, to_state: str) -> Gate | None:
    if (from_state, to_state) in UNGATED:
        return lambda _m: []
    return _GATES.get(to_state)


def migration_offers(*, migration: Migration) -> list[Offer]:
    """The arrows out of the current state that some part of the product implements, with their problems."""
    offers = []
    for to_state in TRANSITIONS[migration.state]:
        gate = _gate_for(migration.state, to_state)
        if gate is None:
            continue
        offers.append(Offer(to_state, State(to_state).label, tuple(gate(migration))))
    return offers


def migration_transition(
    *, migration: Migration, to_state: str, user: AbstractBaseUser | AnonymousUser | None = None, note: str = ""
) -> Migration:
    """Move `migration` to `to_state` if the arrow exists and its gate passes; record who and when."""
    with transaction.atomic():
        locked = Migration.objects.select_for_update().get(pk=migration.pk)
        if to_state not in State.values:
            raise TransitionRefused(locked, to_state, [f"{to_state!r} is not a migration state"])
        if to_state not in TRANSITIONS[locked.state]:
            allowed = ", ".join(State(s).label for s in TRANSITIONS[locked.state]) or "none (final state)"
            raise TransitionRefused(locked, to_state, [f"that is not a step of the lifecycle (allowed: {allowed})"])
        gate = _gate_for(locked.state, to_state)
        if gate is None:
            raise TransitionRefused(locked, to_state, ["this step's check is not available yet"])
        problems = gate(locked)
        if problems:
            raise TransitionRefused(locked, to_state, problems)
        from_state = locked.state
        locked.state = to_state
        locked.save(update_fields=["state", "updated_at"])
        MigrationEvent.objects.create(
            migration=locked,
            from_state=from_state,
            to_state=to_state,
            by=user if user is not None and user.is_authenticated else None,
            note=note,
        )
    migration.state = locked.state
    return locked


@register_gate(State.DISCOVERED)
def _discovered_gate(migration: Migration) -> list[str]:
    if not migration.discovered_objects.exists():
        return ["discovery has not run: run `manage.py discover` or the admin action 'Discover source'"]
    return []
