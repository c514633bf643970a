"""`manage.py preflight MIGRATION_ID [--json]`: check the confirmed map against the live destination."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from connectors.base import ConnectorError
from migrator.models import Migration
from migrator.services.connections import destination_connector
from migrator.services.preflight import preflight_run


class Command(BaseCommand):
    help = "Re-read the destination's metadata and list every mapped field or picklist value it lacks."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("migration_id", type=int)
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        migration = Migration.objects.filter(pk=options["migration_id"]).first()
        if migration is None:
            raise CommandError(f"no migration with id {options['migration_id']}")
        try:
            with destination_connector(migration.destination_connection) as destination:  # type: ignore[attr-defined]
                report = preflight_run(migration=migration, destination=destination)
        except ConnectorError as exc:
            raise CommandError(f"the destination could not be read: {exc.message}") from exc
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), indent=2))
        else:
            self.stdout.write(f"{report.checked_fields} fields and {report.checked_values} picklist values checked.")
            for line in report.problems:
                self.stdout.write(f"  - {line}")
        if report.problems:
            raise CommandError(f"preflight found {len(report.problems)} problem(s)")
