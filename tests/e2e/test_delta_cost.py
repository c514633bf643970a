"""End to end: a delta's cost follows the changes, not the size of the source. 10,000 generated Dentrix patients
are loaded into the Zoho simulator over real HTTP; 1% of them change in the export; the delta's calls are counted
from a request log in front of the simulator (every request that reaches it)."""

from __future__ import annotations

import math
import threading
from collections import Counter
from datetime import date

import django_rq
import pytest
from django.contrib.auth import get_user_model

from connectors.simulators.common import start_server
from connectors.simulators.zoho.app import ZohoSimulator
from connectors.simulators.zoho.state import SimConfig
from connectors.sources.generate import generate
from migrator.models import AuditEntry, ObjectMapping, RecordLink, ReviewStatus, Run
from migrator.services.autopilot import Autopilot, export_touch
from migrator.services.clients import migration_create, pair_by_slug
from migrator.services.mapping import mapping_reject
from migrator.services.runs import run_start

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PATIENTS = 10_000
SHARE = 0.01
TOUCHED = "(updated)"


class RequestLog:
    """WSGI middleware in front of the simulator: every request that reaches it, as (method, path)."""

    def __init__(self, app):
        self.app = app
        self.calls: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self._lock:
            self.calls.append((environ["REQUEST_METHOD"], environ["PATH_INFO"]))
        return self.app(environ, start_response)

    def mark(self) -> int:
        with self._lock:
            return len(self.calls)

    def since(self, mark: int) -> list[tuple[str, str]]:
        with self._lock:
            return self.calls[mark:]


def kind_of(method: str, path: str) -> str:
    if path.startswith("/oauth/"):
        return "token"
    if path.startswith(("/crm/v8/settings/", "/crm/v8/users", "/crm/v8/org")):
        return "metadata"
    return "write" if method in ("POST", "PUT", "PATCH", "DELETE") else "read"


def _work(run: Run) -> Run:
    """Let a real worker take the queued units (in-process mode already ran them)."""
    queue = django_rq.get_queue("migrations")
    if queue.is_async:
        django_rq.get_worker("migrations").work(burst=True)
    run.refresh_from_db()
    return run


def test_a_one_percent_delta_of_ten_thousand_patients_costs_about_changes_over_a_hundred(catalog, tmp_path):
    manifest = generate("dentrix", patients=PATIENTS, seed=29, out=tmp_path)
    sim = ZohoSimulator(SimConfig(edition="enterprise", users=20))
    log = RequestLog(sim)
    handle = start_server(log)
    try:
        cfg = sim.state.config
        migration = migration_create(
            client_name="Delta cost", pair=pair_by_slug("dentrix:zoho-crm"), source_config={"path": str(tmp_path)},
            destination_config={"api_base": handle.url, "accounts_url": handle.url, "content_url": handle.url},
            destination_secrets={"client_id": cfg.client_id, "client_secret": cfg.client_secret,
                                 "refresh_token": cfg.refresh_token},
            edition="enterprise", users=20, sample_size=20,
        )
        staff = get_user_model().objects.create_user("delta-ops", is_staff=True)
        pilot = Autopilot(migration=migration, user=staff, say=lambda _line: None, threshold=0.9)
        pilot.discover(routing_as_of=date.fromisoformat(manifest["now"][:10]))
        pilot.map()
        # Only the patients' main routing (active → Contacts, lapsed → Leads) moves: other objects and the other
        # patient mappings would make the full load longer, not the delta different.
        main = ObjectMapping.objects.get(migration=migration, status=ReviewStatus.CONFIRMED,
                                         destination_module="Contacts", route__rule="no_treatment_18_months")
        others = [m for m in ObjectMapping.objects.filter(migration=migration, status=ReviewStatus.CONFIRMED)
                  if m.source_object != "patient" or (m.route or {}).get("rule") != main.route["rule"]]
        mapping_reject(user=staff, object_mappings=others)
        pilot.owners()
        pilot.schema()
        sample = _work(run_start(migration=migration, kind="sample", user=staff))
        assert sample.state == Run.State.COMPLETED, sample.error
        pilot.approve()

        mark, credits = log.mark(), sim.state.credits_total
        full = _work(run_start(migration=migration, kind="full", user=staff))
        assert full.state == Run.State.COMPLETED, full.error
        full_calls = Counter(kind_of(m, p) for m, p in log.since(mark))
        full_credits = sim.state.credits_total - credits
        linked = dict(RecordLink.objects.filter(migration=migration, source_object="patient",
                                                role=RecordLink.Role.RECORD).exclude(destination_id="")
                      .values_list("source_id", "destination_module"))
        assert len(linked) > PATIENTS // 2

        changed = export_touch(tmp_path, file_name="v_patient.csv", id_column="patient_id", column="address_line1",
                               share=SHARE)
        assert changed == PATIENTS * SHARE
        touched = _touched_ids(tmp_path)
        mark, credits = log.mark(), sim.state.credits_total
        delta = _work(run_start(migration=migration, kind="delta", user=staff))
        assert delta.state == Run.State.COMPLETED, delta.error
        calls = log.since(mark)
        kinds = Counter(kind_of(m, p) for m, p in calls)
        writes = Counter((m, p) for m, p in calls if kind_of(m, p) == "write")

        # Every loaded patient that changed is updated, and no other record is.
        expected = {sid for sid in touched if sid in linked}
        updated = set(AuditEntry.objects.filter(run=delta, op=AuditEntry.Op.UPDATE, source_object="patient")
                      .values_list("source_id", flat=True))
        assert updated == expected
        for sid in expected:
            link = RecordLink.objects.get(migration=migration, source_object="patient", source_id=sid,
                                          role=RecordLink.Role.RECORD)
            record = sim.state.records[link.destination_module][link.destination_id]
            assert TOUCHED in str(record.get("Mailing_Street") or record.get("Street")), sid

        # The cost: one update call per module per 100 changed records (plus, per module, one upsert for changed
        # records the full load could not write: changed, they are tried again), reads only for the three-way
        # check of the changed records (no per-record read, nothing that grows with the 10,000), and a few
        # metadata calls.
        per_module = Counter(linked[sid] for sid in expected)
        for module, n in per_module.items():
            assert writes[("PUT", f"/crm/v8/{module}")] == math.ceil(n / 100)
        assert all(n <= math.ceil(changed / 100) for n in writes.values()), writes
        assert kinds["write"] <= 2 * len(per_module), writes
        assert 1 <= kinds["read"] <= 2 * 2 * len(per_module)   # ≤ 2 field passes of 48 per 100 ids, per module
        assert kinds["metadata"] <= 10
        assert sum(kinds.values()) < full_calls["write"] / 10
        assert sim.state.credits_total - credits < full_credits / 10
    finally:
        handle.stop()


def _touched_ids(path) -> set[str]:
    import csv

    with (path / "v_patient.csv").open(encoding="utf-8-sig", newline="") as fh:
        return {row["patient_id"] for row in csv.DictReader(fh) if TOUCHED in row["address_line1"]}
