"""`manage.py schema_checklist MIGRATION_ID [--apply] [--format json|csv|xlsx|pdf] [--out FILE]`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from connectors.base import ConnectorError
from migrator.models import Migration
from migrator.services.checklist import checklist_apply, checklist_build, checklist_rows
from migrator.services.checklist_export import checklist_csv, checklist_pdf, checklist_xlsx
from migrator.services.connections import destination_connector

WRITERS = {"csv": checklist_csv, "xlsx": checklist_xlsx, "pdf": checklist_pdf}


class Command(BaseCommand):
    help = "Build the schema-setup checklist from the confirmed map; --apply creates it where the CRM's API can."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("migration_id", type=int)
        parser.add_argument("--apply", action="store_true", help="Create the modules and fields in the CRM.")
        parser.add_argument("--format", choices=["json", *WRITERS], default="json")
        parser.add_argument("--json", action="store_true", help="Same as --format json (the default).")
        parser.add_argument("--out", type=Path, help="Write csv/xlsx/pdf here (required for those formats).")

    def handle(self, *args: Any, **options: Any) -> None:
        migration = Migration.objects.filter(pk=options["migration_id"]).first()
        if migration is None:
            raise CommandError(f"no migration with id {options['migration_id']}")
        applied: dict[str, Any] | None = None
        if options["apply"]:
            try:
                with destination_connector(migration.destination_connection) as dest:  # type: ignore[attr-defined]
                    applied = checklist_apply(migration=migration, destination=dest).as_dict()
            except ConnectorError as exc:
                raise CommandError(f"the destination could not be changed: {exc.message}") from exc
        else:
            checklist_build(migration=migration)
        fmt = "json" if options["json"] else options["format"]
        if fmt == "json":
            self.stdout.write(json.dumps({"items": checklist_rows(migration), "applied": applied}, indent=2,
                                         default=str))
        else:
            if options["out"] is None:
                raise CommandError(f"--out FILE is required with --format {fmt}")
            options["out"].write_bytes(WRITERS[fmt](migration))
            self.stdout.write(f"wrote {options['out']}")
        if applied and applied["errors"]:
            raise CommandError("; ".join(applied["errors"]))
