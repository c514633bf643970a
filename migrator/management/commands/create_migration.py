"""`manage.py create_migration --client NAME --pair SOURCE:DESTINATION [...] [--json]`"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from migrator.services.clients import PairNotFound, migration_create, pair_by_slug


def _json_object(raw: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise CommandError(f"{what} is not valid JSON: {exc.msg} at column {exc.colno}") from None
    if not isinstance(value, dict):
        raise CommandError(f"{what} must be a JSON object")
    return value


class Command(BaseCommand):
    help = (
        "Create a client (if new), its source and destination connections, and a draft migration for a "
        "platform pair. Secrets are read from a file, stored encrypted and never printed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--client", required=True, help="client (practice) name; reused when it exists")
        parser.add_argument("--pair", required=True, help="platform pair, e.g. dentrix:zoho-crm")
        parser.add_argument("--name", default="", help="migration name (default: 'Source → Destination')")
        parser.add_argument("--source-config", default="{}",
                            help='source settings as JSON, e.g. \'{"path": "/exports/clinic"}\'')
        parser.add_argument("--destination-config", default="{}",
                            help='destination settings as JSON, e.g. \'{"api_base": "http://127.0.0.1:8765"}\'')
        parser.add_argument("--secrets-file", type=Path,
                            help='JSON file {"source": {...}, "destination": {...}} with credentials')
        parser.add_argument("--edition", default="", help="destination edition/plan slug, e.g. enterprise, growth")
        parser.add_argument("--users", type=int, default=1, help="licensed destination users (default 1)")
        parser.add_argument("--sample-size", type=int, default=100, help="records in the sample run (1–500)")
        parser.add_argument("--json", action="store_true", help='print {"migration_id": …}')

    def handle(self, *args: Any, **options: Any) -> None:
        secrets: dict[str, Any] = {}
        if options["secrets_file"]:
            try:
                secrets = _json_object(options["secrets_file"].read_text(encoding="utf-8"), "--secrets-file")
            except OSError as exc:
                raise CommandError(f"cannot read --secrets-file: {exc.strerror}") from None
        try:
            pair = pair_by_slug(options["pair"])
            migration = migration_create(
                client_name=options["client"], pair=pair, name=options["name"],
                source_config=_json_object(options["source_config"], "--source-config"),
                source_secrets=secrets.get("source") or {},
                destination_config=_json_object(options["destination_config"], "--destination-config"),
                destination_secrets=secrets.get("destination") or {},
                edition=options["edition"], users=options["users"], sample_size=options["sample_size"],
            )
        except (PairNotFound, ValueError) as exc:
            raise CommandError(str(exc)) from None
        if options["json"]:
            self.stdout.write(json.dumps({"migration_id": migration.pk, "client_id": migration.client_id,
                                          "state": migration.state}))
        else:
            self.stdout.write(f"Created migration {migration.pk} ({migration}) in state {migration.state}.")
