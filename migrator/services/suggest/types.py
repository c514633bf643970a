"""What the suggester sees and says. Only descriptions of fields travel here: names, labels, types and value
*shapes* — never sample values (ARCHITECTURE.md, invariant 6). `describe_field` turns samples into shapes at the
edge so nothing downstream ever holds a value."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

from connectors.base import DestField, DestFieldType, DestModule
from migrator.services.suggest.shapes import shape_of


@dataclass(frozen=True)
class SourceFieldDesc:
    name: str
    label: str = ""
    type: str = "string"                   # connectors.base.FieldType
    shapes: tuple[str, ...] = ()           # most common shapes first, e.g. ("phone-like",), ("99.99.9999",)
    max_length: int | None = None
    # Distinct values of a *coded* field (status codes, gender codes): vocabulary, not patient data. Callers pass
    # them only for fields of type "code" or small enumerations.
    codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class SourceObjectDesc:
    name: str
    label: str = ""
    fields: tuple[SourceFieldDesc, ...] = ()


def describe_field(
    name: str, *, label: str = "", type: str = "string", samples: Iterable[Any] = (), codes: Sequence[str] = ()
) -> SourceFieldDesc:
    """Samples -> shapes (top 3 by frequency) and the longest length; the samples themselves are dropped here."""
    counts: Counter[str] = Counter()
    longest = 0
    for sample in samples:
        if sample is None or (isinstance(sample, str) and not sample.strip()):
            continue
        counts[shape_of(sample)] += 1
        longest = max(longest, len(str(sample)))
    shapes = tuple(shape for shape, _ in counts.most_common(3))
    return SourceFieldDesc(name=name, label=label, type=type, shapes=shapes, max_length=longest or None,
                           codes=tuple(str(c) for c in codes))


@dataclass(frozen=True)
class Alternative:
    target: str
    confidence: float


@dataclass(frozen=True)
class CreateProposal:
    """A custom field to create because nothing in the destination fits."""

    label: str
    api_name: str                          # Zoho Title_Case_With_Underscores; Freshsales cf_snake_case
    type: DestFieldType
    length: int | None = None
    picklist: tuple[str, ...] = ()


@dataclass(frozen=True)
class ValueSuggestion:
    source: str
    target: str | None
    confidence: float


@dataclass(frozen=True)
class FieldSuggestion:
    source: str
    target: str | None                     # destination api_name; None when a field must be created
    confidence: float                      # calibrated: of suggestions at >= 0.9, at least 99% are right
    alternatives: tuple[Alternative, ...] = ()
    transform: dict[str, Any] = field(default_factory=lambda: {"kind": "copy"})
    create: CreateProposal | None = None
    value_map: tuple[ValueSuggestion, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """The CLI's JSON shape (see migrator/management/commands/suggest_mapping.py)."""
        out: dict[str, Any] = {"source": self.source, "target": self.target, "confidence": self.confidence}
        if self.target is not None:
            out["alternatives"] = [asdict(a) for a in self.alternatives]
            out["transform"] = self.transform
        if self.create is not None:
            create = asdict(self.create)
            create["picklist"] = list(self.create.picklist)
            if not create["picklist"]:
                del create["picklist"]
            if create["length"] is None:
                del create["length"]
            out["create"] = create
        if self.value_map:
            out["value_map"] = [asdict(v) for v in self.value_map]
        return out


@runtime_checkable
class Suggester(Protocol):
    """Proposes a map. The default is RuleBasedSuggester; OpenAICompatibleSuggester is optional and off by default."""

    def suggest_fields(
        self, source: SourceObjectDesc, destination_fields: list[DestField], *, system: str, destination: str
    ) -> list[FieldSuggestion]: ...

    def suggest_module(
        self, source: SourceObjectDesc, modules: Sequence[DestModule], *, system: str, destination: str
    ) -> tuple[str, float]: ...
