"""The default PricingRule rows, from fixtures/catalog/pricing.json. `loadcatalog` calls pricing_rules_load().

Rows are matched by (kind, key): a default that staff edited in the admin keeps their price unless `overwrite`;
missing defaults are created. Rows staff added themselves are left alone."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import transaction
from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, ValidationError

from migrator.models import PricingRule
from migrator.services.quotes import ADDON_KEYS, QuoteError, pricing_rules_check

PRICING_FILE = Path(settings.BASE_DIR) / "fixtures" / "catalog" / "pricing.json"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BandRow(_Strict):
    key: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    name: str = Field(min_length=1)
    min_records: NonNegativeInt
    max_records: int | None = Field(default=None, gt=0)
    price: Decimal = Field(ge=0, decimal_places=2)


class AddonRow(_Strict):
    key: str
    name: str = Field(min_length=1)
    unit: str = Field(min_length=1)
    price: Decimal = Field(ge=0, decimal_places=2)


class PricingFile(_Strict):
    bands: list[BandRow] = Field(min_length=1)
    addons: list[AddonRow] = []


def pricing_file_read(path: Path = PRICING_FILE) -> PricingFile:
    try:
        data = PricingFile.model_validate_json(path.read_bytes())
    except (OSError, ValidationError) as exc:
        raise QuoteError(f"{path}: {exc}") from exc
    unknown = [a.key for a in data.addons if a.key not in ADDON_KEYS]
    if unknown:
        raise QuoteError(f"{path}: unknown add-on keys {unknown} (known: {', '.join(ADDON_KEYS)})")
    return data


def pricing_rules_load(*, path: Path = PRICING_FILE, overwrite: bool = False) -> int:
    """Create (or with `overwrite`, reset) the default pricing rules. Returns how many rows were written."""
    data = pricing_file_read(path)
    rules = [
        PricingRule(kind=PricingRule.Kind.BAND, key=b.key, name=b.name, min_records=b.min_records,
                    max_records=b.max_records, price=b.price, position=i)
        for i, b in enumerate(data.bands)
    ] + [
        PricingRule(kind=PricingRule.Kind.ADDON, key=a.key, name=a.name, unit=a.unit, price=a.price, position=i)
        for i, a in enumerate(data.addons)
    ]
    problems = pricing_rules_check(rules)
    if problems:
        raise QuoteError(f"{path}: " + "; ".join(problems))
    written = 0
    with transaction.atomic():
        for rule in rules:
            existing = PricingRule.objects.filter(kind=rule.kind, key=rule.key).first()
            if existing is not None and not overwrite:
                continue
            if existing is not None:
                rule.pk = existing.pk
            rule.save()
            written += 1
    return written
