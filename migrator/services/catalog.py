"""Loading the catalog (fixtures/catalog/) into the database. Idempotent: a second load changes nothing; rows the
files no longer hold are removed, so the database always says what the files say."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import models, transaction

from migrator.catalog_schema import PairFile, PlatformFile, load_catalog_files
from migrator.models import (
    Edition,
    Gotcha,
    PairCustomField,
    PairObjectMapping,
    Platform,
    PlatformObject,
    PlatformPair,
)

CATALOG_DIR = settings.BASE_DIR / "fixtures" / "catalog"


@dataclass
class LoadSummary:
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return any(self.created.values()) or any(self.updated.values()) or any(self.deleted.values())

    def as_dict(self) -> dict[str, Any]:
        return {"created": self.created, "updated": self.updated, "deleted": self.deleted, "totals": self.totals,
                "changed": self.changed}


class _Sync:
    """update_or_create that only writes when a value differs, counting what it did per model."""

    def __init__(self, summary: LoadSummary) -> None:
        self.summary = summary
        self.seen: dict[type[models.Model], set[int]] = {}

    def put(self, model: type[models.Model], keys: Mapping[str, Any], values: Mapping[str, Any]) -> Any:
        name = model.__name__
        obj = model._default_manager.filter(**keys).first()
        if obj is None:
            obj = model._default_manager.create(**keys, **values)
            self.summary.created[name] = self.summary.created.get(name, 0) + 1
        else:
            changed = [k for k, v in values.items() if getattr(obj, k) != v]
            if changed:
                for k in changed:
                    setattr(obj, k, values[k])
                obj.save(update_fields=changed)
                self.summary.updated[name] = self.summary.updated.get(name, 0) + 1
        self.seen.setdefault(model, set()).add(obj.pk)
        return obj

    def prune(self, model: type[models.Model], scope: models.Q) -> None:
        stale = model._default_manager.filter(scope).exclude(pk__in=self.seen.get(model, set()))
        count = stale.count()
        if count:
            stale.delete()
            self.summary.deleted[model.__name__] = self.summary.deleted.get(model.__name__, 0) + count


def catalog_load(*, directory: Path = CATALOG_DIR) -> LoadSummary:
    """Validate the catalog files, then make the database match them in one transaction."""
    platform_files, pair_files = load_catalog_files(directory)
    summary = LoadSummary()
    sync = _Sync(summary)
    with transaction.atomic():
        platforms = {p.slug: _load_platform(sync, p) for p in platform_files}
        for pair_file in pair_files:
            _load_pair(sync, pair_file, platforms)
        slugs = list(platforms)
        sync.prune(PlatformObject, models.Q(platform__slug__in=slugs))
        sync.prune(Edition, models.Q(platform__slug__in=slugs))
        sync.prune(Gotcha, models.Q(platform__isnull=False) | models.Q(pair__isnull=False))
        sync.prune(PairObjectMapping, models.Q())
        sync.prune(PairCustomField, models.Q())
    summary.totals = {
        "platforms": Platform.objects.count(),
        "pairs": PlatformPair.objects.count(),
        "object_mappings": PairObjectMapping.objects.count(),
        "custom_fields": PairCustomField.objects.count(),
        "editions": Edition.objects.count(),
        "gotchas": Gotcha.objects.count(),
    }
    return summary


def _load_platform(sync: _Sync, spec: PlatformFile) -> Platform:
    platform: Platform = sync.put(
        Platform, {"slug": spec.slug},
        {"name": spec.name, "kind": spec.kind.value, "description": spec.description},
    )
    for obj in spec.objects:
        sync.put(PlatformObject, {"platform": platform, "key": obj.key},
                 {"label": obj.label, "description": obj.description})
    for position, edition in enumerate(spec.editions):
        sync.put(Edition, {"platform": platform, "slug": edition.slug}, {
            "name": edition.name,
            "api_access": edition.api_access,
            "limits": edition.limits.model_dump(mode="json"),
            "features": edition.features.model_dump(mode="json"),
            "position": position,
        })
    _load_gotchas(sync, {"platform": platform}, spec.gotchas)
    return platform


def _load_pair(sync: _Sync, spec: PairFile, platforms: Mapping[str, Platform]) -> PlatformPair:
    pair: PlatformPair = sync.put(
        PlatformPair, {"source": platforms[spec.source], "destination": platforms[spec.destination]}, {
            "seed": spec.seed,
            "title": spec.title,
            "summary": spec.summary,
            "compatible_objects": spec.compatibility.one_to_one,
            "total_objects": spec.compatibility.total,
            "complexity_grade": spec.complexity.grade,
            "complexity_label": spec.complexity.label,
            "complexity_reasons": spec.complexity.reasons.model_dump(mode="json"),
            "timeline_min_weeks": spec.timeline.min_weeks,
            "timeline_max_weeks": spec.timeline.max_weeks,
            "timeline_text": spec.timeline.text,
            "source_id_field": spec.source_id_field.model_dump(mode="json"),
        },
    )
    for row in spec.object_mappings:
        sync.put(PairObjectMapping, {"pair": pair, "position": row.position}, {
            "source_label": row.source_label,
            "destination_label": row.destination_label,
            "cardinality": row.cardinality.value,
            "compatibility": row.compatibility,
            "description": row.description,
            "source_objects": list(row.source_objects),
            "strategy": row.strategy.value,
            "destination_module": row.destination_module,
            "parent_source_object": row.parent_source_object,
            "route": row.route.model_dump(mode="json") if row.route else None,
            "custom_module": row.custom_module.model_dump(mode="json") if row.custom_module else None,
            "companion": row.companion.model_dump(mode="json") if row.companion else None,
            "notes": row.notes,
        })
    for cf in spec.custom_fields:
        sync.put(PairCustomField, {"pair": pair, "module": cf.module, "subform": "", "label": cf.label}, {
            "api_name": cf.api_name,
            "type": cf.type.value,
            "length": cf.length,
            "picklist": list(cf.picklist),
            "lookup_module": cf.lookup_module,
            "unique": cf.unique,
            "why": cf.why,
        })
    for subform in spec.subforms:
        for sf in subform.fields:
            sync.put(PairCustomField, {"pair": pair, "module": subform.module, "subform": subform.label,
                                       "label": sf.label}, {
                "api_name": sf.label.replace(" ", "_"),
                "type": sf.type.value,
                "length": None,
                "picklist": list(sf.picklist),
                "lookup_module": "",
                "unique": False,
                "why": f"Field of the {subform.label} subform",
            })
    _load_gotchas(sync, {"pair": pair}, spec.gotchas)
    return pair


def _load_gotchas(sync: _Sync, owner: Mapping[str, Any], gotchas: Iterable[Any]) -> None:
    for g in gotchas:
        sync.put(Gotcha, {**owner, "key": g.key}, {
            "title": g.title, "detail": g.detail, "severity": g.severity.value, "check_name": g.check.value,
        })
