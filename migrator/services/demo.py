"""The demo: everything `make demo` sets up, as plain steps the command prints."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Count, Sum

from migrator.local_workers import LocalWorkers, local_workers, run_wait
from migrator.models import AuditEntry, Client, DiscoveredObject, Migration, PortalMembership, RecordLink, Run
from migrator.roles import ACCOUNT_MANAGERS, CUSTOMERS, OPERATIONS
from migrator.services.clients import client_get_or_create


@dataclass(frozen=True)
class DemoLogin:
    role: str
    username: str
    password: str
    where: str


# Demo-only credentials for a local machine, printed on purpose so a visitor can log in.
DEMO_LOGINS = (
    DemoLogin("Superuser", "admin", "demo-admin-pass", "/admin/"),
    DemoLogin("Operations staff", "ops", "demo-ops-pass", "/admin/"),
    DemoLogin("Account manager", "am", "demo-am-pass", "/admin/"),
    DemoLogin("Customer", "customer", "demo-customer-pass", "/portal/"),
)
DEMO_CLIENT = "Demo Dental Clinic"


def demo_users_create() -> tuple[Client, list[DemoLogin]]:
    """The demo client and one login per role (reset to the printed passwords on every run)."""
    User = get_user_model()
    with transaction.atomic():
        client, _ = client_get_or_create(name=DEMO_CLIENT, contact_email="office@demo-clinic.example")
        groups = {name: Group.objects.get(name=name) for name in (OPERATIONS, ACCOUNT_MANAGERS, CUSTOMERS)}
        for login in DEMO_LOGINS:
            user, _ = User.objects.get_or_create(username=login.username)
            user.set_password(login.password)
            user.is_superuser = login.username == "admin"
            user.is_staff = login.where == "/admin/"
            user.save()
            role_group = {"Operations staff": OPERATIONS, "Account manager": ACCOUNT_MANAGERS,
                          "Customer": CUSTOMERS}.get(login.role)
            if role_group:
                user.groups.set([groups[role_group]])
            if login.role == "Customer":
                PortalMembership.objects.get_or_create(user=user, client=client)
    return client, list(DEMO_LOGINS)


# --------------------------------------------------------------------------------------------------- the migration


@dataclass
class Demo:
    migration: Migration
    export: Path
    simulator_url: str
    runs: dict[str, Run]
    delta_changes: int
    reports: list[Path]
    worker_pids: list[int] = field(default_factory=list)   # the RQ workers that ran the units (none: in-process)


@contextmanager
def demo_migration(
    *, client: Client, out: Path, patients: int = 500, threshold: float = 0.9,
    say: Callable[[str], None] = print, progress: Callable[[str, Callable[[], tuple[int, int]]], Any] | None = None,
    workers: int | None = None,
) -> Iterator[Demo]:
    """Generate a Dentrix export, start the Zoho CRM simulator, and take one migration through every step.
    The simulator runs until the context ends (the demo serves the admin inside it).

    With Redis (REDIS_URL) the runs go through `workers` real `manage.py rqworker migrations` processes (2 unless
    told), started here and stopped when the context ends; without Redis they run in this process (the embedded
    default)."""
    from connectors.simulators.common import start_server
    from connectors.simulators.zoho.app import ZohoSimulator
    from connectors.simulators.zoho.state import SimConfig
    from connectors.sources.generate import generate
    from migrator.services.autopilot import Autopilot, export_touch
    from migrator.services.clients import migration_create, pair_by_slug

    export = out / f"dentrix-{patients}"
    if export.exists():
        shutil.rmtree(export)
    manifest = generate("dentrix", patients=patients, seed=2026, out=export)
    say(f"Generated a Dentrix export of {patients} patients in {export}.")
    sim = ZohoSimulator(SimConfig(edition="enterprise", users=20))
    for user, crm in zip(sim.state.users[1:], manifest.get("crm_users", []), strict=False):
        user.update(email=crm["crm_email"], full_name=crm["name"])
    handle = start_server(sim)
    say(f"Zoho CRM simulator (Enterprise, 20 users) on {handle.url}.")
    cfg = sim.state.config
    count = (2 if workers is None else workers) if settings.REDIS_URL else 0
    if settings.REDIS_URL and count < 1:
        raise ValueError("with REDIS_URL set the demo needs at least one RQ worker")
    stack = ExitStack()
    try:
        pool = _workers_start(stack, count=count, log_dir=out / "workers", say=say)
        migration = migration_create(
            client_name=client.name, pair=pair_by_slug("dentrix:zoho-crm"), name=f"Dentrix → Zoho CRM ({patients})",
            source_config={"path": str(export)},
            destination_config={"api_base": handle.url, "accounts_url": handle.url, "content_url": handle.url},
            destination_secrets={"client_id": cfg.client_id, "client_secret": cfg.client_secret,
                                 "refresh_token": cfg.refresh_token},
            edition="enterprise", users=20, sample_size=100,
        )
        ops = get_user_model().objects.get(username="ops")
        pilot = Autopilot(migration=migration, user=ops, say=say, threshold=threshold)
        pilot.discover(routing_as_of=date.fromisoformat(str(manifest["now"])[:10]))
        pilot.map()
        pilot.owners()
        pilot.schema()
        runs: dict[str, Run] = {}
        for kind in ("sample", "full"):
            with _bar(progress, kind, migration):
                runs[kind] = _run(pilot, kind, pool)
            if kind == "sample":
                diffs = runs[kind].sample_diffs
                say(f"Sample: {diffs.count()} fields compared, {diffs.filter(equal=False).count()} differ.")
                pilot.approve()
                say("Sample approved.")
        changed = export_touch(export, file_name="v_patient.csv", id_column="patient_id", column="address_line1",
                               share=0.01)
        say(f"The practice changed {changed} patient(s) during cutover; running the delta…")
        with _bar(progress, "delta", migration):
            runs["delta"] = _run(pilot, "delta", pool)
        reports = _reconcile(migration, ops, say)
        yield Demo(migration=migration, export=export, simulator_url=handle.url, runs=runs, delta_changes=changed,
                   reports=reports, worker_pids=pool.pids if pool else [])
    finally:
        try:
            stack.close()   # the workers first: they may still be calling the simulator
        finally:
            handle.stop()


def _workers_start(stack: ExitStack, *, count: int, log_dir: Path, say: Callable[[str], None]) -> LocalWorkers | None:
    if count <= 0:
        say("No REDIS_URL: the runs' work units run in this process (the embedded default).")
        return None
    stack.callback(say, "Stopped the RQ workers.")   # said after they stopped (an ExitStack unwinds backwards)
    pool = stack.enter_context(local_workers(count=count, log_dir=log_dir))
    say(f"Redis at {_redacted(settings.REDIS_URL)}: started {count} RQ workers (`manage.py rqworker migrations`, "
        f"pids {', '.join(map(str, pool.pids))}; logs in {log_dir}); they take the runs' work units.")
    return pool


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}{f':{parts.port}' if parts.port else ''}{parts.path}"


def _run(pilot: Any, kind: str, pool: LocalWorkers | None) -> Run:
    """One run: through the RQ workers when there are some, otherwise in this process (Autopilot.run)."""
    if pool is None:
        run: Run = pilot.run(kind)
        return run
    from migrator.services.runs import run_start

    run = run_start(migration=pilot.migration, kind=kind, user=pilot.user)
    run = run_wait(run_id=run.pk, workers=pool)
    pilot.migration.refresh_from_db()
    if run.state != Run.State.COMPLETED:
        raise RuntimeError(f"{kind} run {run.pk} ended {run.state}: {run.error}")
    return run


def _reconcile(migration: Migration, user: Any, say: Callable[[str], None]) -> list[Path]:
    """Reconcile, and write the report in every format under var/reports/<migration>/."""
    from migrator.services.reconcile import reconciliation_run
    from migrator.services.reconcile_report import render

    report = reconciliation_run(migration=migration, user=user, seed=2026)
    say(f"Reconciliation: {report.verdict}" + (f" — {'; '.join(map(str, report.reasons[:3]))}"
                                                if report.reasons else ""))
    folder = Path(settings.REPORTS_DIR) / str(migration.pk)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in ("html", "pdf", "csv", "xlsx", "json"):
        data = render(report, fmt)
        path = folder / f"reconciliation-{report.pk}.{fmt}"
        path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
        paths.append(path)
    return paths


@contextmanager
def _bar(progress: Any, label: str, migration: Migration) -> Iterator[None]:
    if progress is None:
        yield
        return

    def read() -> tuple[int, int]:
        run = Run.objects.filter(migration=migration, kind=label).order_by("-id").first()
        if run is None:
            return 0, 0
        totals = run.work_units.aggregate(done=Sum("processed"), total=Sum("total"))
        return int(totals["done"] or 0), int(totals["total"] or 0)

    with progress(label, read):
        yield


def demo_summary(demo: Demo) -> list[str]:
    """Per object: source records, records in the destination, failed and skipped (with reasons) in the loads."""
    migration = demo.migration
    load_runs = [r.pk for r in demo.runs.values()]
    audit = AuditEntry.objects.filter(run_id__in=load_runs)
    failed = dict(audit.filter(op=AuditEntry.Op.FAIL).values("source_object").annotate(n=Count("source_id",
                  distinct=True)).values_list("source_object", "n"))
    skipped = dict(audit.filter(op=AuditEntry.Op.SKIP).exclude(error_code="UNCHANGED").values("source_object")
                   .annotate(n=Count("source_id", distinct=True)).values_list("source_object", "n"))
    loaded = dict(RecordLink.objects.filter(migration=migration).exclude(destination_id="")
                  .exclude(role=RecordLink.Role.MERGE).values("source_object")
                  .annotate(n=Count("id")).values_list("source_object", "n"))
    merged = dict(RecordLink.objects.filter(migration=migration, role=RecordLink.Role.MERGE).values("source_object")
                  .annotate(n=Count("id")).values_list("source_object", "n"))
    lines = ["", f"{'object':<20}{'source':>8}{'destination':>13}{'merged':>8}{'failed':>8}{'skipped':>9}",
             "-" * 66]
    for obj in DiscoveredObject.objects.filter(migration=migration).order_by("key"):
        lines.append(f"{obj.key:<20}{obj.record_count:>8}{loaded.get(obj.key, 0):>13}{merged.get(obj.key, 0):>8}"
                     f"{failed.get(obj.key, 0):>8}{skipped.get(obj.key, 0):>9}")
    reasons = (audit.filter(op__in=[AuditEntry.Op.FAIL, AuditEntry.Op.SKIP]).exclude(error_code="UNCHANGED")
               .values_list("error_code").annotate(n=Count("id")).order_by("-n"))
    lines += ["", "Reasons: " + ", ".join(f"{code} {n}" for code, n in reasons)]
    delta = demo.runs.get("delta")
    if delta is not None:
        lines.append(f"Delta: {demo.delta_changes} changed in the source; "
                     f"{audit.filter(run=delta, op=AuditEntry.Op.UPDATE).count()} updated, "
                     f"{audit.filter(run=delta, op=AuditEntry.Op.CONFLICT).count()} conflict(s) opened for review.")
    lines += ["", f"Migration {migration.pk} is {migration.get_state_display().lower()}. Export: {demo.export}.",
              "Reports: " + ", ".join(str(p) for p in demo.reports),
              "The customer downloads them from the portal; staff sign the report off in the admin."]
    return lines
