"""`manage.py approve_sample MIGRATION_ID [--json]`: the gate to the full run, for scripted use."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from migrator.models import Migration, SampleDiff
from migrator.services.lifecycle import TransitionRefused
from migrator.services.sample import sample_approve


class Command(BaseCommand):
    help = "Approve the migration's latest sample run (it must have completed); the full run may then start."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("migration_id", type=int)
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        migration = Migration.objects.filter(pk=options["migration_id"]).first()
        if migration is None:
            raise CommandError(f"no migration {options['migration_id']}")
        try:
            migration = sample_approve(migration=migration)
        except TransitionRefused as exc:
            raise CommandError(str(exc)) from None
        diffs = SampleDiff.objects.filter(run__migration=migration)
        summary = {"migration_id": migration.pk, "state": migration.state,
                   "fields_compared": diffs.count(), "mismatches": diffs.filter(equal=False).count()}
        self.stdout.write(json.dumps(summary) if options["json"] else
                          f"Sample approved: {summary['fields_compared']} fields compared, "
                          f"{summary['mismatches']} mismatches.")
