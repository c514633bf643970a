"""`manage.py quote --pair dentrix:zoho-crm --counts COUNTS.json --edition professional --users 10 --json`"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from pydantic import ValidationError

from migrator.models import Migration
from migrator.services.quote_documents import quote_pdf
from migrator.services.quotes import (
    QuoteError,
    QuoteInputs,
    QuoteResult,
    pair_get,
    quote_create,
    quote_estimate,
    quote_inputs_from_migration,
)


class Command(BaseCommand):
    help = "Price a migration: band and add-ons, complexity grade, timeline and API forecast."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--pair", help="source:destination slugs, e.g. dentrix:zoho-crm")
        parser.add_argument("--migration", type=int, help="Take pair, counts, edition and users from a migration.")
        parser.add_argument("--counts", type=Path,
                            help='JSON file: {"patient": 12000, ...} or {"counts": {...}, "attachments_gb": 3, ...}')
        parser.add_argument("--edition")
        parser.add_argument("--users", type=int)
        parser.add_argument("--attachments-gb", type=Decimal)
        parser.add_argument("--custom-objects", type=int)
        parser.add_argument("--delta-windows", type=int)
        parser.add_argument("--save", action="store_true", help="Save the quote (prints its id).")
        parser.add_argument("--pdf", type=Path, help="Write the quote PDF here.")
        parser.add_argument("--json", action="store_true", help="Print the result as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        values = self._values(options)
        migration = None
        try:
            if options["migration"]:
                migration = Migration.objects.select_related("pair__source", "pair__destination").get(
                    pk=options["migration"])
                pair = migration.pair
                inputs = quote_inputs_from_migration(migration=migration, **values)
            else:
                if not options["pair"] or not values.get("edition"):
                    raise CommandError("--pair and --edition are needed (or --migration)")
                pair = pair_get(slug=options["pair"])
                inputs = QuoteInputs.model_validate(values)
            if options["save"]:
                quote = quote_create(pair=pair, inputs=inputs, migration=migration)
                result = QuoteResult.model_validate(quote.result)
                title = f"Quote #{quote.pk}"
            else:
                quote, result, title = None, quote_estimate(pair=pair, inputs=inputs), "Quote"
        except Migration.DoesNotExist:
            raise CommandError(f"No migration {options['migration']}") from None
        except (QuoteError, ValidationError) as exc:
            raise CommandError(str(exc)) from exc
        if options["pdf"]:
            options["pdf"].write_bytes(quote_pdf(result, title=title))
        if options["json"]:
            payload = result.model_dump(mode="json")
            if quote is not None:
                payload["id"] = quote.pk
            self.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False))
        else:
            self._summary(result, quote.pk if quote else None)

    def _values(self, options: dict[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        if options["counts"]:
            try:
                raw = json.loads(options["counts"].read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise CommandError(f"{options['counts']}: {exc}") from exc
            if not isinstance(raw, dict):
                raise CommandError(f"{options['counts']}: expected a JSON object")
            values.update(raw if "counts" in raw else {"counts": raw})
        for option, key in [("edition", "edition"), ("users", "users"), ("attachments_gb", "attachments_gb"),
                            ("custom_objects", "custom_objects"), ("delta_windows", "delta_windows")]:
            if options[option] is not None:
                values[key] = options[option]
        return values

    def _summary(self, result: QuoteResult, quote_id: int | None) -> None:
        out = self.stdout.write
        out(f"{result.pair_title} on {result.edition_name} ({result.users} users): {result.total_records:,} records")
        if quote_id:
            out(f"Saved as quote #{quote_id}")
        if result.scoped_individually:
            out("Price: scoped individually (2,000,000 records or more)")
        else:
            for line in result.lines:
                out(f"  {line.label}: {line.quantity:g} × {line.unit_price} = {line.amount}")
            out(f"Total: {result.currency} {result.total}")
        out(f"Complexity: {result.grade.grade} ({result.grade.label}); timeline {result.timeline.text}")
        f = result.forecast
        out(f"API: {f['cost']:,} {f['unit']} (REST only {f['rest_only_cost']:,}, saving {f['saving']:,}); "
            f"{f['per_day'] if f['per_day'] is not None else '?'} a day → {f['days']} day(s)")
        for finding in result.findings:
            out(f"  [{finding.severity}] {finding.title}")
