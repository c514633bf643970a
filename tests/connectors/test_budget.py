"""The shared budget: a rolling allowance and a concurrency limit, in Redis and in-process.

Every behaviour runs twice: with the in-process fallback and against real Redis (REDIS_URL, else this helper's
database). Keys get a unique prefix and only those keys are removed afterwards.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import redis

from connectors.base import BudgetExhausted, PermanentError, TemporaryError
from connectors.budget import Budget, BudgetLimits

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/3"


def redis_url_for_tests() -> str:
    url = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.fail(f"these budget tests need Redis at {url} and it is unreachable: {exc}")
    return url


class FakeClock:
    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def budget_key() -> Iterator[str]:
    key = f"test-{uuid.uuid4().hex}"
    yield key
    url = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=2)
        for name in client.scan_iter(match=f"budget:{key}:*"):
            client.delete(name)
        for name in client.scan_iter(match=f"{key}:*"):
            client.delete(name)
    except redis.RedisError:
        pass


@pytest.fixture(params=["in-process", "redis"])
def backend(request: pytest.FixtureRequest) -> str | None:
    return None if request.param == "in-process" else redis_url_for_tests()


def make(key: str, backend: str | None, clock: FakeClock, **limits: int) -> Budget:
    values = {"concurrency": 2, "allowance": 100, "window_seconds": 3600, "reserve": 0} | limits
    return Budget(key, BudgetLimits(**values), redis_url=backend, clock=clock)


def test_calls_charge_their_cost_and_remaining_keeps_the_reserve_back(
    budget_key: str, backend: str | None
) -> None:
    budget = make(budget_key, backend, FakeClock(), allowance=100, reserve=20)
    with budget.call(5):
        assert budget.in_flight() == 1
    with budget.call(10):
        pass
    assert budget.used() == 15
    assert budget.remaining() == 65
    assert budget.in_flight() == 0


def test_a_call_the_window_cannot_afford_raises_budget_exhausted_with_when_it_can(
    budget_key: str, backend: str | None
) -> None:
    clock = FakeClock()
    budget = make(budget_key, backend, clock, allowance=10, window_seconds=100)
    start = clock.now
    with budget.call(4):
        pass
    clock.advance(30)
    with budget.call(6):
        pass
    with pytest.raises(BudgetExhausted) as caught:
        with budget.call(3):
            pytest.fail("the body must not run when the budget is spent")
    # The first 4 units leave the window 100 s after they were charged; that frees enough for 3.
    assert caught.value.resume_at == datetime.fromtimestamp(start + 100, tz=UTC)
    assert caught.value.retry_after == pytest.approx(70)
    assert budget.used() == 10
    assert budget.in_flight() == 0, "a refused call gives its slot back"


def test_the_window_rolls_so_a_paused_run_resumes_once_the_clock_moves(
    budget_key: str, backend: str | None
) -> None:
    clock = FakeClock()
    budget = make(budget_key, backend, clock, allowance=10, window_seconds=100)
    with budget.call(10):
        pass
    with pytest.raises(BudgetExhausted) as caught:
        with budget.call(1):
            pass
    clock.now = caught.value.resume_at.timestamp()
    with budget.call(1):
        pass
    assert budget.used() == 1


def test_spend_charges_past_the_allowance_and_a_negative_spend_gives_units_back(
    budget_key: str, backend: str | None
) -> None:
    budget = make(budget_key, backend, FakeClock(), allowance=10)
    budget.spend(12)
    assert budget.used() == 12
    assert budget.remaining() == 0
    budget.spend(-4)
    assert budget.used() == 8
    assert budget.remaining() == 2


def test_budgets_with_the_same_key_share_one_window_in_redis(budget_key: str) -> None:
    url = redis_url_for_tests()
    clock = FakeClock()
    first = make(budget_key, url, clock, allowance=10)
    second = make(budget_key, url, clock, allowance=10)
    with first.call(7):
        pass
    with pytest.raises(BudgetExhausted):
        with second.call(4):
            pass
    assert second.used() == 7


def test_a_call_costing_more_than_the_whole_allowance_is_a_permanent_error(
    budget_key: str, backend: str | None
) -> None:
    budget = make(budget_key, backend, FakeClock(), allowance=10, reserve=5)
    with pytest.raises(PermanentError) as caught:
        with budget.call(6):
            pass
    assert caught.value.code == "BUDGET_TOO_SMALL"


def test_threads_never_exceed_the_concurrency_limit(budget_key: str, backend: str | None) -> None:
    budget = make(budget_key, backend, FakeClock(), concurrency=2, allowance=1000)
    lock = threading.Lock()
    current = peak = 0

    def work() -> None:
        nonlocal current, peak
        for _ in range(5):
            with budget.call(1):
                with lock:
                    current += 1
                    peak = max(peak, current)
                time.sleep(0.005)
                with lock:
                    current -= 1

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert peak == 2
    assert budget.used() == 30


def test_a_slot_held_by_a_dead_holder_is_reclaimed_after_its_lease(
    budget_key: str, backend: str | None
) -> None:
    limits = BudgetLimits(concurrency=1, allowance=100, window_seconds=3600)
    dead = Budget(budget_key, limits, redis_url=backend, slot_timeout=0.2)
    alive = dead if backend is None else Budget(budget_key, limits, redis_url=backend, slot_timeout=0.2)
    holder = dead.call(1)
    holder.__enter__()  # never exited: the holder "dies" with its slot
    assert alive.in_flight() == 1
    started = time.monotonic()
    with alive.call(1):
        waited = time.monotonic() - started
    assert 0.1 < waited < 2


def test_waiting_for_a_slot_can_be_bounded(budget_key: str, backend: str | None) -> None:
    limits = BudgetLimits(concurrency=1, allowance=100, window_seconds=3600)
    budget = Budget(budget_key, limits, redis_url=backend, wait_timeout=0.05)
    with budget.call(1):
        with pytest.raises(TemporaryError) as caught:
            with budget.call(1):
                pass
    assert caught.value.code == "NO_SLOT"


# -------------------------------------------------------------------------------- processes


WORKER_LIMITS = BudgetLimits(concurrency=3, allowance=10_000, window_seconds=86400)


def _load_in_process(url: str, key: str, calls: int, start: Any) -> None:
    """One worker process: every call records the in-flight count in Redis and the highest one seen. All start
    together (a slow machine spawns them seconds apart) and hold each slot long enough for the others to queue."""
    client = redis.Redis.from_url(url)
    budget = Budget(key, WORKER_LIMITS, redis_url=url)
    record_peak = client.register_script(
        "local v = redis.call('INCR', KEYS[1]) "
        "if v > tonumber(redis.call('GET', KEYS[2]) or '0') then redis.call('SET', KEYS[2], v) end return v"
    )
    start.wait(timeout=60)
    for _ in range(calls):
        with budget.call(2):
            record_peak(keys=[f"{key}:current", f"{key}:peak"])
            time.sleep(0.02)
            client.decr(f"{key}:current")


@pytest.mark.e2e
def test_four_worker_processes_never_exceed_the_concurrency_limit(budget_key: str) -> None:
    url = redis_url_for_tests()
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(4)
    workers = [context.Process(target=_load_in_process, args=(url, budget_key, 40, start)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert [worker.exitcode for worker in workers] == [0, 0, 0, 0]
    client = redis.Redis.from_url(url)
    assert int(client.get(f"{budget_key}:peak") or 0) == 3, "four processes must fill but never pass 3 slots"
    budget = Budget(budget_key, WORKER_LIMITS, redis_url=url)
    assert budget.used() == 4 * 40 * 2
    assert budget.in_flight() == 0
