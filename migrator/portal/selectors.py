"""Reads for the portal, always scoped to the customer's own clients."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet, Sum

from migrator.models import Client, Migration, PortalMembership, Run


def portal_clients(user: Any) -> QuerySet[Client]:
    if not user.is_authenticated:
        return Client.objects.none()
    return Client.objects.filter(memberships__user=user).distinct()


def has_portal_access(user: Any) -> bool:
    return bool(user.is_authenticated and PortalMembership.objects.filter(user=user).exists())


def portal_migrations(user: Any) -> QuerySet[Migration]:
    """Every migration a customer may see: those of the clients they are a member of. Nothing else, ever."""
    if not user.is_authenticated:
        return Migration.objects.none()
    return (Migration.objects.filter(client__memberships__user=user)
            .select_related("client", "pair__source", "pair__destination").distinct())


@dataclass(frozen=True)
class Progress:
    run_kind: str
    run_state: str
    processed: int
    total: int

    @property
    def percent(self) -> int:
        return min(100, int(self.processed * 100 / self.total)) if self.total else 0


def migration_progress(migration: Migration) -> Progress | None:
    """Progress of the latest run, from its work units (processed / total)."""
    run = migration.runs.order_by("-created_at", "-id").first()
    if run is None:
        return None
    sums = run.work_units.aggregate(processed=Sum("processed"), total=Sum("total"))
    return Progress(run_kind=Run.Kind(run.kind).label, run_state=Run.State(run.state).label,
                    processed=sums["processed"] or 0, total=sums["total"] or 0)
