"""`manage.py reconcile MIGRATION_ID [--format json|csv|xlsx|pdf|html --out FILE] [--sample N] [--report ID]
[--sign-off USERNAME] [--json]`: reconcile a migration (or render an existing report) for scripted use."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from connectors.base import ConnectorError
from migrator.models import Migration, ReconciliationReport
from migrator.services.reconcile import DEFAULT_SAMPLE, ReconcileRefused, reconciliation_run, reconciliation_sign_off
from migrator.services.reconcile_report import FORMATS, render


class Command(BaseCommand):
    help = ("Reconcile a migration: counts per object from the audit and the destination, orphans, owners, "
            "attachments, a sampled field diff and a verdict; write the report to a file.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("migration_id", type=int)
        parser.add_argument("--format", choices=FORMATS, default="json")
        parser.add_argument("--out", help="Write the report here (default: standard output for json/csv/html).")
        parser.add_argument("--sample", type=int, default=DEFAULT_SAMPLE, help="Records in the field diff.")
        parser.add_argument("--report", type=int, help="Render this existing report instead of reconciling.")
        parser.add_argument("--sign-off", metavar="USERNAME", help="Sign the (passing) report off as this user.")
        parser.add_argument("--json", action="store_true", help="Print a one-line JSON summary.")

    def handle(self, *args: Any, **options: Any) -> None:
        migration = Migration.objects.filter(pk=options["migration_id"]).first()
        if migration is None:
            raise CommandError(f"no migration {options['migration_id']}")
        if options["report"]:
            report = ReconciliationReport.objects.filter(pk=options["report"], migration=migration).first()
            if report is None:
                raise CommandError(f"no reconciliation report {options['report']} for migration {migration.pk}")
        else:
            try:
                report = reconciliation_run(migration=migration, sample_size=options["sample"])
            except ConnectorError as exc:
                raise CommandError(f"reconciliation stopped: {exc.code or type(exc).__name__}") from None
        if options["sign_off"]:
            user = get_user_model().objects.filter(username=options["sign_off"], is_staff=True).first()
            if user is None:
                raise CommandError(f"no staff user {options['sign_off']!r}")
            try:
                report = reconciliation_sign_off(report=report, user=user)
            except ReconcileRefused as exc:
                raise CommandError(str(exc)) from None
        self._write(report, options["format"], options["out"], quiet=options["json"])
        migration.refresh_from_db()
        summary = {"report_id": report.pk, "migration_id": migration.pk, "verdict": report.verdict,
                   "reasons": report.reasons, "signed_off": report.signed_off_at is not None,
                   "state": migration.state, "out": options["out"] or ""}
        if options["json"]:
            self.stdout.write(json.dumps(summary))
        elif options["out"]:
            self.stdout.write(f"Reconciliation report #{report.pk}: {report.verdict} → {options['out']}")
            for reason in report.reasons:
                self.stdout.write(f"  - {reason}")

    def _write(self, report: ReconciliationReport, fmt: str, out: str | None, *, quiet: bool) -> None:
        body = render(report, fmt)
        if out:
            path = Path(out)
            if isinstance(body, bytes):
                path.write_bytes(body)
            else:
                path.write_text(body, encoding="utf-8")
            return
        if isinstance(body, bytes):
            raise CommandError(f"--format {fmt} is binary: give --out FILE")
        if not quiet:
            self.stdout.write(body)
