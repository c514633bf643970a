"""`manage.py discover MIGRATION_ID [--json]`: profile the source, store the inventory, move draft → discovered.

Prints objects, record counts and quality flags; never a value of a record."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from connectors.base import ConnectorError
from migrator.models import Migration
from migrator.services.discovery import DiscoveryError, migration_discover
from migrator.services.lifecycle import TransitionRefused


class Command(BaseCommand):
    help = "Discover a migration's source: objects, counts, field profiles and data-quality flags."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("migration_id", type=int)
        parser.add_argument("--json", action="store_true", help="machine-readable output")

    def handle(self, *args: Any, **options: Any) -> None:
        migration = Migration.objects.select_related("source_connection__platform").filter(
            pk=options["migration_id"]).first()
        if migration is None:
            raise CommandError(f"migration {options['migration_id']} does not exist")
        try:
            result = migration_discover(migration=migration)
        except (DiscoveryError, ConnectorError, TransitionRefused) as exc:
            raise CommandError(str(exc).splitlines()[0]) from exc
        summary = {
            "migration": migration.pk,
            "state": migration.state,
            "records": result.record_count,
            "objects": [
                {"key": o.key, "label": o.label, "records": o.record_count, "fields": len(o.fields),
                 "unreadable_rows": o.issues, "quality_flags": dict(o.quality_flags)}
                for o in result.objects
            ],
        }
        if options["json"]:
            self.stdout.write(json.dumps(summary, indent=2, ensure_ascii=False))
            return
        self.stdout.write(f"Migration {migration.pk}: {len(result.objects)} objects, {result.record_count} records "
                          f"(state: {migration.get_state_display()})")
        for o in summary["objects"]:
            flags = ", ".join(f"{k} {v}" for k, v in o["quality_flags"].items()) or "no flags"
            self.stdout.write(f"  {o['key']:<24} {o['records']:>8}  {flags}")
