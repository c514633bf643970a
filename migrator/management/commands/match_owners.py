"""`manage.py match_owners MIGRATION_ID [--fallback EMAIL] [--confirm-exact] [--domain-alias A=B]
[--ignore-dots DOMAIN] [--ignore-plus-tags DOMAIN] [--json]`

Extracts source owners and destination users, proposes matches, optionally sets the fallback owner (and gives it
the owners nobody matched) and confirms clean exact-email matches. Prints counts by method and status and the
owners still unresolved."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from connectors.base import ConnectorError
from migrator.models import Migration, OwnerMatch
from migrator.services.owner_matching import EmailRules
from migrator.services.owners import (
    OwnerError,
    migration_set_fallback_owner,
    owner_matches_confirm_exact,
    owner_matches_propose,
    owners_extract,
    owners_unresolved,
)


def _alias(value: str) -> tuple[str, str]:
    alias, sep, canonical = value.partition("=")
    if not sep or not alias.strip() or not canonical.strip():
        raise CommandError(f"--domain-alias takes ALIAS=DOMAIN, e.g. clinic.com.tr=clinic.com (got {value!r})")
    return alias.strip(), canonical.strip()


class Command(BaseCommand):
    help = "Extract source owners and destination users, propose owner matches, set the fallback owner."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("migration_id", type=int)
        parser.add_argument("--fallback", metavar="EMAIL", help="destination user who receives unmatched owners")
        parser.add_argument("--confirm-exact", action="store_true",
                            help="confirm exact-email matches that carry no flag")
        parser.add_argument("--domain-alias", action="append", default=[], metavar="ALIAS=DOMAIN",
                            help="treat two email domains as one (repeatable)")
        parser.add_argument("--ignore-dots", action="append", default=[], metavar="DOMAIN",
                            help="a mail domain that ignores dots in the local part, like gmail.com (repeatable)")
        parser.add_argument("--ignore-plus-tags", action="append", default=[], metavar="DOMAIN",
                            help="a mail domain that delivers name+tag@ to name@ (repeatable)")
        parser.add_argument("--json", action="store_true", help="machine-readable output")

    def handle(self, *args: Any, **options: Any) -> None:
        migration = Migration.objects.select_related("destination_connection", "source_connection").filter(
            pk=options["migration_id"]).first()
        if migration is None:
            raise CommandError(f"migration {options['migration_id']} does not exist")
        rules = EmailRules.with_aliases(dict(_alias(v) for v in options["domain_alias"]),
                                        ignore_dots=options["ignore_dots"],
                                        ignore_plus_tags=options["ignore_plus_tags"])
        try:
            extracted = owners_extract(migration=migration)
            owner_matches_propose(migration=migration, rules=rules)
            if options["fallback"]:
                migration_set_fallback_owner(migration=migration, email=options["fallback"], user=None,
                                             assign_unmatched=True)
            confirmed = owner_matches_confirm_exact(migration=migration, user=None) if options["confirm_exact"] else 0
        except (OwnerError, ConnectorError) as exc:
            raise CommandError(str(exc).splitlines()[0]) from exc

        matches = OwnerMatch.objects.filter(migration=migration)
        summary = {
            "migration": migration.pk,
            "owners": extracted.owners,
            "unknown_owners": extracted.unknown_owners,
            "destination_users": extracted.destination_users,
            "records_without_owner": extracted.records_without_owner,
            "unreadable_rows": extracted.record_issues,
            "by_method": _count(matches, "method"),
            "by_status": _count(matches, "status"),
            "confirmed_now": confirmed,
            "fallback_owner": migration.fallback_owner.email if migration.fallback_owner else None,
            "unresolved": [
                {"source_id": o.source_id, "name": o.name, "role": o.role, "records": o.record_count}
                for o in owners_unresolved(migration=migration)
            ],
        }
        if options["json"]:
            self.stdout.write(json.dumps(summary, indent=2, ensure_ascii=False))
            return
        self.stdout.write(f"Migration {migration.pk}: {extracted.owners} owners, "
                          f"{extracted.destination_users} destination users")
        self.stdout.write("By method: " + ", ".join(f"{k} {v}" for k, v in summary["by_method"].items()))
        self.stdout.write("By status: " + ", ".join(f"{k} {v}" for k, v in summary["by_status"].items()))
        unresolved = summary["unresolved"]
        self.stdout.write(f"Unresolved: {len(unresolved)}")
        for row in unresolved:
            self.stdout.write(f"  {row['source_id']}  {row['name']}  ({row['records']} records)")


def _count(matches: Any, field: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in matches.values_list(field, flat=True):
        counts[value] = counts.get(value, 0) + 1
    return dict(sorted(counts.items()))
