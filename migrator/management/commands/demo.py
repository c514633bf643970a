"""`manage.py demo`: a whole demo migration, then the admin and the portal on 127.0.0.1:8000 (NO_SERVE=1 stops
after the summary). Without REDIS_URL the runs go in-process (the embedded default); with it, through RQ worker
processes the demo starts and stops."""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from migrator.services.catalog import catalog_load
from migrator.services.demo import demo_migration, demo_summary, demo_users_create


class Command(BaseCommand):
    help = ("Run a whole demo migration (Dentrix export → Zoho CRM simulator): discovery, map, owners, schema, "
            "sample, full load, a 1% delta, reconciliation; then serve the admin and the portal. "
            "NO_SERVE=1 stops after the summary.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-serve", action="store_true", help="stop after the summary (same as NO_SERVE=1)")
        parser.add_argument("--addrport", default="127.0.0.1:8000")
        parser.add_argument("--patients", type=int, default=500, help="patients in the generated export (500)")
        parser.add_argument("--threshold", type=float, default=0.9,
                            help="confirm suggestions at or above this confidence (0.9)")
        parser.add_argument("--workers", type=int, default=2,
                            help="with REDIS_URL: RQ worker processes started for the runs, stopped at the end (2)")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        self.stdout.write("Setting up the database and the catalog…")
        call_command("migrate", verbosity=0, interactive=False)
        totals = catalog_load().totals
        self.stdout.write(f"Catalog: {totals['platforms']} platforms, {totals['pairs']} pairs, "
                          f"{totals['object_mappings']} object-mapping rows.")
        client, logins = demo_users_create()
        out = settings.VAR_DIR / "demo"
        with demo_migration(client=client, out=out, patients=options["patients"], threshold=options["threshold"],
                            say=self._say, progress=self._progress, workers=options["workers"]) as demo:
            for line in demo_summary(demo):
                self.stdout.write(line)
            self.stdout.write(f"Demo finished in {time.monotonic() - started:.0f} s.")
            self.stdout.write("Logins:")
            for login in logins:
                self.stdout.write(f"  {login.role:<18} {login.username:<10} {login.password:<20} "
                                  f"http://{options['addrport']}{login.where}")
            if options["no_serve"] or os.environ.get("NO_SERVE", "") not in ("", "0"):
                self.stdout.write("NO_SERVE is set: not serving.")
                return
            also = " and the RQ workers keep" if demo.worker_pids else " keeps"
            self.stdout.write(f"Serving the admin and the portal on http://{options['addrport']}/ "
                              f"(the Zoho simulator{also} running with it; Ctrl-C stops).")
            call_command("runserver", options["addrport"], use_reloader=False)

    def _say(self, line: str) -> None:
        self.stdout.write(line)

    def _progress(self, label: str, read: Any) -> Any:
        """A terminal progress bar for a long step, drawn while `read()` gives (done, total)."""
        stop = threading.Event()

        def draw() -> None:
            while not stop.wait(0.5):
                done, total = read()
                share = done / total if total else 0.0
                bar = "#" * int(share * 30)
                sys.stdout.write(f"\r  {label:<12} [{bar:<30}] {done}/{total}")
                sys.stdout.flush()

        painter = threading.Thread(target=draw, daemon=True)
        painter.start()

        class _Stop:
            def __enter__(self) -> None:
                return None

            def __exit__(self, *exc: object) -> None:
                stop.set()
                painter.join()
                done, total = read()
                sys.stdout.write(f"\r  {label:<12} [{'#' * 30}] {done}/{total}\n")

        return _Stop()
