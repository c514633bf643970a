"""Three worker processes share one Freshsales hourly allowance through Redis."""

from __future__ import annotations

import multiprocessing
import multiprocessing.pool
import time
import uuid

import httpx
import pytest

from connectors.simulators.freshsales.app import FreshsalesSimulator

from .workers import load_accounts

pytestmark = pytest.mark.e2e
ALLOWANCE = 60
WORKERS = 3
PER_WORKER = 30


def _run(pool: multiprocessing.pool.Pool, args: list[tuple[object, ...]]) -> list[tuple[int, float | None]]:
    return pool.starmap(load_accounts, args, chunksize=1)


def test_three_processes_never_exceed_the_hourly_limit_and_resume_when_the_clock_moves(
    bundle_url: str, sim: FreshsalesSimulator, admin: httpx.Client, redis_url: str
) -> None:
    admin.post("plan", json={"hourly_limit": ALLOWANCE})
    key = f"freshsales-test:{uuid.uuid4().hex}"
    names = [[f"Clinic {w}-{i}" for i in range(PER_WORKER)] for w in range(WORKERS)]
    offset = sim.clock.now() - time.time()  # the workers' clocks follow the simulator's

    with multiprocessing.get_context("spawn").Pool(WORKERS) as pool:
        first = _run(pool, [(bundle_url, key, redis_url, ALLOWANCE, offset, names[w]) for w in range(WORKERS)])
        counted = admin.get("requests").json()
        # Demand was 3 x (1 metadata + 30 writes) = 93 requests; the window holds 60.
        assert counted["rate_limited"] == 0
        assert counted["accepted"] == ALLOWANCE
        # Workers start unevenly, so one may finish its share; the others pause until the window frees up.
        paused = [resume for _, resume in first if resume is not None]
        assert paused and all(resume > sim.clock.now() + 3000 for resume in paused)
        assert sum(done for done, _ in first) < WORKERS * PER_WORKER

        admin.post("clock", json={"seconds": 3601})
        offset += 3601
        second = _run(pool, [(bundle_url, key, redis_url, ALLOWANCE, offset, names[w][first[w][0]:])
                             for w in range(WORKERS)])

    assert all(resume is None for _, resume in second)
    counted = admin.get("requests").json()
    assert counted["rate_limited"] == 0
    assert counted["window_used"] <= ALLOWANCE
    accounts = admin.get("state").json()["records"]["sales_accounts"]
    assert sorted(a["name"] for a in accounts) == sorted(n for batch in names for n in batch)
