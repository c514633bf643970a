"""The demo with Redis: its runs go through real `manage.py rqworker migrations` processes that it starts and stops
(the embedded default, without Redis, is what `make demo` runs on a bare laptop)."""

from __future__ import annotations

import re
from pathlib import Path

import django_rq
import pytest
from django.contrib.auth.models import Group

from migrator.models import Migration, Run, WorkUnit
from migrator.roles import ACCOUNT_MANAGERS, CUSTOMERS, OPERATIONS
from migrator.services.demo import demo_migration, demo_summary, demo_users_create

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def test_the_demo_with_redis_runs_its_loads_in_rq_workers_it_starts_and_stops(catalog, settings, tmp_path):
    if not settings.REDIS_URL:
        pytest.fail("the demo's Redis path starts RQ worker processes: set REDIS_URL")
    settings.REPORTS_DIR = tmp_path / "reports"
    queue = django_rq.get_queue("migrations")
    queue.empty()
    # The role groups come from a data migration; an earlier transactional test may have flushed them.
    for name in (OPERATIONS, ACCOUNT_MANAGERS, CUSTOMERS):
        Group.objects.get_or_create(name=name)
    client, _ = demo_users_create()
    said: list[str] = []

    with demo_migration(client=client, out=tmp_path, patients=20, say=said.append) as demo:
        assert len(demo.worker_pids) == 2
        assert all(_alive(pid) for pid in demo.worker_pids)   # they keep running while the demo serves
        runs = list(demo.runs.values())
        summary = demo_summary(demo)

    assert not any(_alive(pid) for pid in demo.worker_pids)
    assert any("started 2 RQ workers" in line for line in said)
    assert said[-1] == "Stopped the RQ workers."
    assert [r.kind for r in runs] == ["sample", "full", "delta"]
    assert all(r.state == Run.State.COMPLETED for r in runs)
    assert Migration.objects.get(pk=demo.migration.pk).state in (Migration.State.DELTA, Migration.State.RECONCILED)
    # Every work unit of the three runs was finished by one of the worker processes (their logs say which).
    units = set(WorkUnit.objects.filter(run__in=runs).values_list("pk", flat=True))
    assert units and not WorkUnit.objects.filter(run__in=runs).exclude(state=WorkUnit.State.DONE).exists()
    logs = "".join(p.read_text() for p in sorted((tmp_path / "workers").glob("worker-*.log")))
    finished = {int(n) for n in re.findall(r"Successfully completed migrator\.jobs\.load_unit\((\d+)\)", logs)}
    assert units <= finished
    assert any(line.startswith("Delta:") for line in summary)
    queue.empty()
