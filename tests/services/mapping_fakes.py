"""Helpers for the mapping workbench tests: a catalog-backed migration, discovered fields and a fake suggester
whose answers the tests choose."""

from __future__ import annotations

from collections.abc import Sequence

from connectors.base import DestField
from migrator.models import DiscoveredField, DiscoveredObject, Migration, PlatformPair
from migrator.services.mapping_suggest import Suggestion, ValueSuggestion
from tests.factories import MigrationFactory


def migration_for(source: str, destination: str) -> Migration:
    """A migration on a loaded catalog pair (the `catalog` fixture must have run)."""
    pair = PlatformPair.objects.get(source__slug=source, destination__slug=destination)
    migration: Migration = MigrationFactory(pair=pair)
    return migration


def discover(migration: Migration, key: str, fields: dict[str, str], *, id_field: str = "",
             custom: Sequence[str] = (), coded: dict[str, list[str]] | None = None) -> DiscoveredObject:
    obj = DiscoveredObject.objects.create(migration=migration, key=key, label=key.title(), record_count=10,
                                          id_field=id_field)
    for name, inferred in fields.items():
        DiscoveredField.objects.create(discovered_object=obj, name=name, inferred_type=inferred,
                                       custom=name in custom, coded_values=(coded or {}).get(name, []))
    return obj


class FakeSuggester:
    """Answers from a table: source field -> (target or None, confidence); None targets propose a custom field."""

    def __init__(self, answers: dict[str, tuple[str | None, float]],
                 values: dict[str, tuple[str, float]] | None = None) -> None:
        self.answers = answers
        self.value_answers = values or {}
        self.asked: list[tuple[str, str, list[str]]] = []

    def fields(self, *, object_name: str, label: str, fields: Sequence[DiscoveredField],
               destination_fields: list[DestField], system: str, destination: str, module: str) -> list[Suggestion]:
        self.asked.append((object_name, module, [f.name for f in fields]))
        out = []
        for f in fields:
            target, confidence = self.answers.get(f.name, (None, 0.0))
            if target is None:
                api = "_".join(p.capitalize() for p in f.name.split("_"))
                out.append(Suggestion(f.name, None, confidence, create={"label": api.replace("_", " "),
                                                                        "api_name": api, "type": "text",
                                                                        "length": 100}))
            else:
                out.append(Suggestion(f.name, target, confidence,
                                      alternatives=[{"target": "Description", "confidence": 0.2}]))
        return out

    def values(self, *, coded_values: Sequence[str], picklist: Sequence[str]) -> list[ValueSuggestion]:
        out = []
        for code in coded_values:
            if code in self.value_answers:
                target, confidence = self.value_answers[code]
                out.append(ValueSuggestion(code, target, confidence))
        return out
