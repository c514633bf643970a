"""`manage.py propose_mapping MIGRATION_ID [--json]`: instantiate or refresh a migration's map."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from migrator.models import Migration
from migrator.services.mapping import mapping_propose


class Command(BaseCommand):
    help = "Propose the migration's map: catalog rows, default field maps, then the suggester for the rest."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("migration_id", type=int)
        parser.add_argument("--json", action="store_true", help="Print the summary as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        migration = Migration.objects.filter(pk=options["migration_id"]).select_related("pair").first()
        if migration is None:
            raise CommandError(f"no migration with id {options['migration_id']}")
        summary = mapping_propose(migration=migration)
        if options["json"]:
            self.stdout.write(json.dumps(summary.as_dict(), indent=2))
            return
        self.stdout.write(
            f"{summary.object_mappings_created} object mappings and {summary.field_maps_created} field maps proposed, "
            f"{summary.field_maps_updated} refreshed, {summary.field_maps_kept + summary.object_mappings_kept} kept "
            f"as reviewed, {summary.value_maps_created} value maps."
        )
