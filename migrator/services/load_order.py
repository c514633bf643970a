"""The order objects load in: parents before the records that point at them (ARCHITECTURE.md, "Data flow").

A mapping depends on the mappings that create the records it points at: through lookup transforms of its field
maps, and through its parent_source_object (fields merged onto, notes and files attached to the parent's record).
Levels come from a topological sort; a cycle is refused with the lookups that would break it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction

from migrator.models import MappingStrategy, Migration, ObjectMapping, ReviewStatus

# Strategies that create records of their own: the ones a child can point at.
CREATES_RECORDS = frozenset({
    MappingStrategy.RECORDS, MappingStrategy.ROUTED_RECORDS, MappingStrategy.CUSTOM_MODULE,
})


@dataclass(frozen=True)
class Edge:
    child: ObjectMapping
    parent: ObjectMapping
    via: str            # "lookup <field>" (breakable) or "parent <object>" (structural)
    field_map_id: int | None = None


class LoadOrderCycle(ValueError):
    def __init__(self, mappings: list[ObjectMapping], edges: list[Edge]) -> None:
        self.mappings = mappings
        self.edges = edges
        breakable = sorted({f"{e.child}: {e.via}" for e in edges if e.field_map_id is not None})
        names = ", ".join(str(m) for m in mappings)
        hint = ("; break it by loading one of these lookups in a second pass or unmapping it: " + "; ".join(breakable)
                if breakable else "; no lookup can break it (parent links only)")
        super().__init__(f"the mappings {names} depend on each other in a cycle{hint}")


def dependencies(mappings: list[ObjectMapping]) -> list[Edge]:
    """Every child → parent edge among `mappings` (self-references are loaded in one pass and left out)."""
    creators: dict[str, list[ObjectMapping]] = {}
    for om in mappings:
        if om.strategy in CREATES_RECORDS:
            for obj in om.source_objects:
                creators.setdefault(obj, []).append(om)
    edges: list[Edge] = []
    for om in mappings:
        if om.parent_source_object:
            edges.extend(Edge(om, p, f"parent {om.parent_source_object}")
                         for p in creators.get(om.parent_source_object, []) if p.pk != om.pk)
        for fm in om.field_maps.all():
            if fm.status == ReviewStatus.REJECTED:
                continue
            spec = fm.transform or {}
            if spec.get("kind") == "lookup":
                target = str(spec.get("source_object", ""))
            elif spec.get("kind") == "line_items":
                target = str(spec.get("product_object", ""))   # each line points at its product's record
            else:
                continue
            edges.extend(Edge(om, p, f"lookup {fm.destination_field or fm.source_field} → {target}", fm.pk)
                         for p in creators.get(target, []) if p.pk != om.pk)
    return edges


def load_order(object_mappings: Iterable[ObjectMapping], *, save: bool = True) -> list[list[ObjectMapping]]:
    """Group the mappings into levels (parents first) and store each one's level in ObjectMapping.load_order.

    Raises LoadOrderCycle naming the mappings in the cycle and the lookup fields that could break it."""
    mappings = [om for om in object_mappings if om.status != ReviewStatus.REJECTED]
    edges = dependencies(mappings)
    parents: dict[int, set[int]] = {om.pk: set() for om in mappings}
    for e in edges:
        parents[e.child.pk].add(e.parent.pk)
    by_pk = {om.pk: om for om in mappings}
    levels: list[list[ObjectMapping]] = []
    placed: set[int] = set()
    while len(placed) < len(mappings):
        ready = [pk for pk in parents if pk not in placed and parents[pk] <= placed]
        if not ready:
            stuck = [by_pk[pk] for pk in parents if pk not in placed]
            cycle = _in_cycle(stuck, parents)
            pks = {om.pk for om in cycle}
            raise LoadOrderCycle(cycle, [e for e in edges if e.child.pk in pks and e.parent.pk in pks])
        level = sorted((by_pk[pk] for pk in ready), key=_position)
        levels.append(level)
        placed.update(ready)
    if save:
        with transaction.atomic():
            for index, level in enumerate(levels):
                for om in level:
                    if om.load_order != index:
                        om.load_order = index
                        om.save(update_fields=["load_order"])
    return levels


def _position(om: ObjectMapping) -> tuple[int, int]:
    return (om.catalog_row.position if om.catalog_row_id and om.catalog_row else 10_000, om.pk)


def _in_cycle(stuck: list[ObjectMapping], parents: dict[int, set[int]]) -> list[ObjectMapping]:
    """Drop the stuck mappings that merely wait on a cycle, keeping those on it."""
    remaining = {om.pk for om in stuck}
    changed = True
    while changed:
        changed = False
        for pk in list(remaining):
            # A mapping no other stuck mapping depends on only waits on the cycle.
            if not any(pk in parents[other] for other in remaining if other != pk):
                remaining.discard(pk)
                changed = True
    return [om for om in stuck if om.pk in remaining]


def load_order_compute(*, migration: Migration) -> list[list[ObjectMapping]]:
    """The migration's levels, stored on its object mappings."""
    mappings = migration.object_mappings.select_related("catalog_row").prefetch_related("field_maps")
    return load_order(mappings)
