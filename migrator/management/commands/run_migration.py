"""`manage.py run_migration MIGRATION_ID --kind sample|full|delta [--wait] [--json]`, run control, and
`--action cutover` (the final delta; the delta window ends)."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from migrator.models import Migration, Run
from migrator.services.delta_window import delta_cutover
from migrator.services.lifecycle import TransitionRefused
from migrator.services.runs import (
    RunRefused,
    run_cancel,
    run_dispatch,
    run_drive,
    run_pause,
    run_progress,
    run_resume,
    run_start,
)


def progress_bar(done: int, total: int, width: int = 30) -> str:
    share = done / total if total else 1.0
    filled = int(share * width)
    return f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total} ({share:.0%})"


class Command(BaseCommand):
    help = ("Start a sample, full or delta run of a migration (or pause/resume/cancel its active run). With --wait "
            "this process works on the run until it ends, showing progress; otherwise workers "
            "(`manage.py rqworker migrations`) do the work.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("migration_id", type=int)
        parser.add_argument("--kind", choices=["sample", "full", "delta"], default="full")
        parser.add_argument("--wait", action="store_true", help="work on the run here until it ends")
        parser.add_argument("--action", choices=["start", "pause", "resume", "cancel", "status", "cutover"],
                            default="start", help="cutover: the final delta; the delta window ends")
        parser.add_argument("--json", action="store_true", help="machine-readable output")

    def handle(self, *args: Any, **options: Any) -> None:
        migration = Migration.objects.filter(pk=options["migration_id"]).first()
        if migration is None:
            raise CommandError(f"no migration {options['migration_id']}")
        action = options["action"]
        if action in ("start", "cutover"):
            try:
                if action == "cutover":
                    run = delta_cutover(migration=migration)
                else:
                    run = run_start(migration=migration, kind=options["kind"])
            except (RunRefused, TransitionRefused) as exc:
                raise CommandError(str(exc)) from None
        else:
            run = Run.objects.filter(migration=migration).exclude(kind=Run.Kind.RECONCILE).order_by("-id").first()
            if run is None:
                raise CommandError("this migration has no run")
            done = {"pause": run_pause, "resume": run_resume, "cancel": run_cancel}.get(action)
            if done is not None and not done(run=run):
                raise CommandError(f"run {run.pk} is {run.state}: cannot {action} it")
        if options["wait"] and action in ("start", "resume", "cutover"):
            run = self._wait(run, quiet=options["json"])
        run.refresh_from_db()
        progress = run_progress(run=run)
        if options["json"]:
            self.stdout.write(json.dumps({"run_id": run.pk, "migration_id": migration.pk,
                                          "migration_state": Migration.objects.get(pk=migration.pk).state,
                                          **progress.as_dict()}, default=str))
        else:
            self.stdout.write(f"Run {run.pk} ({run.kind}): {run.state}. {progress_bar(progress.done, progress.total)}"
                              f", {progress.failed} failed.")
        if run.state == Run.State.FAILED:
            raise CommandError(f"run {run.pk} failed: {run.error}")

    def _wait(self, run: Run, *, quiet: bool) -> Run:
        """Work here (in-process) and draw progress until the run ends."""
        import threading

        done = threading.Event()

        def draw() -> None:
            while not done.wait(1.0):
                p = run_progress(run=Run.objects.get(pk=run.pk))
                sys.stderr.write(f"\r{run.kind} {progress_bar(p.done, p.total)} {p.rate:.0f}/s ")
                sys.stderr.flush()

        painter = None
        if not quiet and sys.stderr.isatty():
            painter = threading.Thread(target=draw, daemon=True)
            painter.start()
        try:
            run_dispatch(run_id=run.pk)
            while True:
                result = run_drive(run_id=run.pk, max_wait=5.0)
                if result.state not in (Run.State.RUNNING, Run.State.PENDING, Run.State.WAITING_BUDGET):
                    return result
                time.sleep(0.1)
        finally:
            done.set()
            if painter is not None:
                painter.join()
                sys.stderr.write("\n")
