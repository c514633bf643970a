"""`manage.py confirm_mapping MIGRATION_ID [--min-confidence X] [--json]`: confirm catalog rows and confident
suggestions."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from migrator.models import Migration
from migrator.services.mapping import MappingError, mapping_confirm_above, mapping_problems


class Command(BaseCommand):
    help = "Confirm every catalog row and every suggestion at or above --min-confidence (default 0.9)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("migration_id", type=int)
        parser.add_argument("--min-confidence", type=float, default=0.9)
        parser.add_argument("--json", action="store_true", help="Print what was confirmed and what remains.")

    def handle(self, *args: Any, **options: Any) -> None:
        migration = Migration.objects.filter(pk=options["migration_id"]).first()
        if migration is None:
            raise CommandError(f"no migration with id {options['migration_id']}")
        try:
            confirmed = mapping_confirm_above(migration=migration, threshold=options["min_confidence"], user=None)
        except MappingError as exc:
            raise CommandError(str(exc)) from exc
        remaining = mapping_problems(migration)
        if options["json"]:
            self.stdout.write(json.dumps({**confirmed.as_dict(), "remaining": remaining}, indent=2))
            return
        self.stdout.write(f"{confirmed.as_dict()['count']} rows confirmed; {len(remaining)} problems remain.")
        for line in remaining:
            self.stdout.write(f"  - {line}")
