"""`manage.py rollback MIGRATION_ID [--run RUN_ID] [--object SOURCE_OBJECT] [--preview] [--wait] [--json]`."""

from __future__ import annotations

import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from connectors.base import ConnectorError
from migrator.models import Migration, Run
from migrator.services.rollback import (
    RollbackRefused,
    rollback_counts,
    rollback_preview,
    rollback_reclaim,
    rollback_start,
)
from migrator.services.runs import run_dispatch, run_drive


class Command(BaseCommand):
    help = ("Roll a migration back: delete the records it created, restore the ones it updated, remove the notes "
            "and files it added. --preview only counts, per module. With --wait this process does the work; "
            "otherwise workers (`manage.py rqworker migrations`) do. Run it again to continue a stopped rollback.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("migration_id", type=int)
        parser.add_argument("--run", type=int, dest="run_id", help="only what this sample/full/delta run created")
        parser.add_argument("--object", dest="source_object", help="only this source object's records")
        parser.add_argument("--preview", action="store_true", help="count what would happen; change nothing")
        parser.add_argument("--wait", action="store_true", help="work on the rollback here until it ends")
        parser.add_argument("--json", action="store_true", help="machine-readable output")

    def handle(self, *args: Any, **options: Any) -> None:
        migration = Migration.objects.filter(pk=options["migration_id"]).first()
        if migration is None:
            raise CommandError(f"no migration {options['migration_id']}")
        target = None
        if options["run_id"] is not None:
            target = Run.objects.filter(pk=options["run_id"], migration=migration).first()
            if target is None:
                raise CommandError(f"migration {migration.pk} has no run {options['run_id']}")
        if options["preview"]:
            self._preview(migration, target, options["source_object"], as_json=options["json"])
            return
        run = self._resumable(migration, target, options["source_object"])
        if run is not None:
            rollback_reclaim(run=run)
            if not options["wait"]:
                run_dispatch(run_id=run.pk)
        else:
            try:
                run = rollback_start(migration=migration, run=target, source_object=options["source_object"])
            except RollbackRefused as exc:
                raise CommandError(str(exc)) from None
        if options["wait"]:
            run = self._wait(run)
        run.refresh_from_db()
        counts = rollback_counts(run=run)
        state = Migration.objects.get(pk=migration.pk).state
        if options["json"]:
            self.stdout.write(json.dumps({"run_id": run.pk, "migration_id": migration.pk, "state": run.state,
                                          "migration_state": state, **counts}))
        else:
            self.stdout.write(f"Rollback run {run.pk}: {run.state}. {counts['deleted']} deleted, "
                              f"{counts['restored']} restored, {counts['needs_review']} need review, "
                              f"{counts['failed']} failed. Migration: {state}.")
        if run.state == Run.State.FAILED:
            raise CommandError(f"rollback run {run.pk} failed: {run.error}")

    def _resumable(self, migration: Migration, target: Run | None, source_object: str | None) -> Run | None:
        """An unfinished rollback with the same scope (its process was killed): continue it, do not start anew."""
        run = (Run.objects.filter(migration=migration, kind=Run.Kind.ROLLBACK, target_run=target,
                                  state__in=[Run.State.RUNNING, Run.State.WAITING_BUDGET, Run.State.PENDING])
               .order_by("-id").first())
        if run is None or (run.options or {}).get("source_object", "") != (source_object or ""):
            return None
        return run

    def _preview(self, migration: Migration, target: Run | None, source_object: str | None, *,
                 as_json: bool) -> None:
        try:
            preview = rollback_preview(migration=migration, run=target, source_object=source_object)
        except ConnectorError as exc:
            raise CommandError(f"the destination could not be read for the preview: {exc.message}") from None
        if as_json:
            self.stdout.write(json.dumps(preview.as_dict()))
            return
        self.stdout.write(f"{'module':<24}{'delete':>8}{'restore':>9}{'review':>8}{'unknown':>9}")
        for m in (*preview.modules, preview.totals):
            self.stdout.write(f"{m.module:<24}{m.delete:>8}{m.restore:>9}{m.needs_review:>8}{m.unresolved:>9}")

    def _wait(self, run: Run) -> Run:
        run_dispatch(run_id=run.pk)
        while True:
            result = run_drive(run_id=run.pk, max_wait=5.0)
            if result.state not in (Run.State.RUNNING, Run.State.PENDING, Run.State.WAITING_BUDGET):
                return result
            time.sleep(0.1)
