"""The workbench's one doorway to the mapping suggester (migrator/services/suggest/).

Discovered fields are described by name, label, type and value *shapes* only — never values — before anything
reaches a suggester (ARCHITECTURE.md, invariant 6). Answers come back as plain Suggestion rows so the rest of the
workbench does not depend on the suggester's classes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from connectors.base import DestField
from migrator.models import DiscoveredField


@dataclass(frozen=True)
class Suggestion:
    source: str
    target: str | None
    confidence: float
    alternatives: list[dict[str, Any]] = field(default_factory=list)
    transform: dict[str, Any] = field(default_factory=lambda: {"kind": "copy"})
    create: dict[str, Any] | None = None     # a custom field to create when no target fits


@dataclass(frozen=True)
class ValueSuggestion:
    source_value: str
    destination_value: str
    confidence: float


class WorkbenchSuggester(Protocol):
    def fields(
        self, *, object_name: str, label: str, fields: Sequence[DiscoveredField], destination_fields: list[DestField],
        system: str, destination: str, module: str,
    ) -> list[Suggestion]: ...

    def values(self, *, coded_values: Sequence[str], picklist: Sequence[str]) -> list[ValueSuggestion]: ...


def _plain(value: Any) -> Any:
    """A pydantic model or dataclass as JSON-able data."""
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if hasattr(value, "__dataclass_fields__"):
        return {k: _plain(getattr(value, k)) for k in value.__dataclass_fields__}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _shapes(f: DiscoveredField) -> tuple[str, ...]:
    shares = dict(f.shapes or {})
    return tuple(sorted(shares, key=lambda k: -float(shares[k] or 0))[:3])


class LocalSuggester:
    """The project's rule-based suggester (migrator.services.suggest). Standard fields it knows for the module
    complete the destination fields given (the catalog's knowledge when no connector was at hand)."""

    def fields(
        self, *, object_name: str, label: str, fields: Sequence[DiscoveredField], destination_fields: list[DestField],
        system: str, destination: str, module: str,
    ) -> list[Suggestion]:
        from migrator.services import suggest

        known = {f.api_name for f in destination_fields}
        try:
            vocabulary = [f for f in suggest.destination_fields(destination, module) if f.api_name not in known]
        except ValueError:
            vocabulary = []   # a custom module: only its planned fields
        desc = suggest.SourceObjectDesc(name=object_name, label=label, fields=tuple(
            suggest.SourceFieldDesc(name=f.name, label=f.label, type=f.inferred_type or "string", shapes=_shapes(f),
                                    max_length=f.max_length or None, codes=tuple(str(c) for c in f.coded_values or ()))
            for f in fields
        ))
        found = suggest.suggest_fields(desc, [*destination_fields, *vocabulary], system=system,
                                       destination=destination)
        return [
            Suggestion(
                source=s.source, target=s.target, confidence=float(s.confidence),
                alternatives=[{"target": a.target, "confidence": a.confidence} for a in s.alternatives],
                transform=dict(s.transform), create=_plain(s.create) if s.create is not None else None,
            )
            for s in found
        ]

    def values(self, *, coded_values: Sequence[str], picklist: Sequence[str]) -> list[ValueSuggestion]:
        from migrator.services import suggest

        return [ValueSuggestion(s.source, s.target, float(s.confidence))
                for s in suggest.suggest_values(list(coded_values), list(picklist)) if s.target is not None]
