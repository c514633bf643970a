"""Worker processes for the shared-budget test: each builds its own connector, as an RQ worker would."""

from __future__ import annotations

import time

from connectors.destinations.freshsales.connector import BatchInterrupted, FreshsalesConnector
from connectors.destinations.freshsales.schemas import FreshsalesConfig
from connectors.simulators.freshsales.app import DEFAULT_API_KEY


def load_accounts(
    bundle_url: str, budget_key: str, redis_url: str, allowance: int, clock_offset: float, names: list[str]
) -> tuple[int, float | None]:
    """Insert accounts one call at a time; answer (how many were written, resume_at when the budget paused us)."""
    config = FreshsalesConfig(bundle_url=bundle_url, budget_key=budget_key, redis_url=redis_url,
                              requests_per_hour=allowance, concurrency=3, retry_base_seconds=0.01)

    def clock() -> float:
        return time.time() + clock_offset

    done = 0
    with FreshsalesConnector(config, DEFAULT_API_KEY, clock=clock) as connector:
        for name in names:
            try:
                [result] = connector.insert("sales_accounts", [{"name": name}])
            except BatchInterrupted as paused:
                return done, paused.resume_at.timestamp()
            if not result.ok:
                raise AssertionError(f"account {done} failed: {result.code}")
            done += 1
    return done, None
