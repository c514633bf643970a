"""`manage.py loadcatalog [--dir DIR] [--json]`: load platforms, pairs, mapping rows, editions and gotchas."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from migrator.catalog_schema import CatalogError
from migrator.services.catalog import CATALOG_DIR, catalog_load


class Command(BaseCommand):
    help = "Load the catalog (fixtures/catalog/) into the database. Running it twice changes nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dir", type=Path, default=CATALOG_DIR, help="catalog directory (default: %(default)s)")
        parser.add_argument("--json", action="store_true", help="print a machine-readable summary")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            summary = catalog_load(directory=options["dir"])
        except CatalogError as exc:
            raise CommandError(f"catalog not loaded: {exc}") from None
        if options["json"]:
            self.stdout.write(json.dumps(summary.as_dict(), sort_keys=True))
            return
        totals = summary.totals
        self.stdout.write(
            f"Catalog: {totals['platforms']} platforms, {totals['pairs']} pairs, "
            f"{totals['object_mappings']} object-mapping rows, {totals['custom_fields']} custom fields, "
            f"{totals['editions']} editions, {totals['gotchas']} gotchas "
            f"({'changed' if summary.changed else 'unchanged'})."
        )
