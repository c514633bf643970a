"""Fixtures: a Freshsales simulator served over real HTTP, its test-only admin client, and connectors to it."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import redis

from connectors.destinations.freshsales.connector import FreshsalesConnector
from connectors.simulators.common import ServerHandle, start_server
from connectors.simulators.freshsales.app import BASE, DEFAULT_API_KEY, FreshsalesSimulator

from .helpers import fast_config

# This suite's own Redis database when REDIS_URL is not given (the Makefile gives one).
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/4"


@pytest.fixture
def sim() -> FreshsalesSimulator:
    app = FreshsalesSimulator()
    app.state.job_seconds = 0.05
    return app


class _Current:
    """One HTTP server for the session, serving whichever simulator the running test made (a fresh one each)."""

    app: FreshsalesSimulator | None = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        assert self.app is not None, "no simulator for this request"
        return self.app(environ, start_response)


@pytest.fixture(scope="session")
def _shared_server() -> Iterator[tuple[ServerHandle, _Current]]:
    current = _Current()
    handle = start_server(current)
    yield handle, current
    handle.stop()


@pytest.fixture
def server(sim: FreshsalesSimulator, _shared_server: tuple[ServerHandle, _Current]) -> Iterator[ServerHandle]:
    handle, current = _shared_server
    current.app = sim
    yield handle
    current.app = None


@pytest.fixture
def bundle_url(server: ServerHandle) -> str:
    return f"{server.url}{BASE}/"


@pytest.fixture
def admin(server: ServerHandle) -> Iterator[httpx.Client]:
    """The test-only `/__sim__/` endpoints, standing in for the customer's admin and for us looking inside."""
    with httpx.Client(base_url=f"{server.url}/__sim__/", timeout=10) as client:
        yield client


@pytest.fixture
def api(bundle_url: str) -> Iterator[httpx.Client]:
    """Raw API access with the admin key, to check what the connector wrote."""
    headers = {"Authorization": f"Token token={DEFAULT_API_KEY}"}
    with httpx.Client(base_url=bundle_url, headers=headers, timeout=10) as client:
        yield client


@pytest.fixture
def make_connector(bundle_url: str, sim: FreshsalesSimulator) -> Iterator[Callable[..., FreshsalesConnector]]:
    made: list[FreshsalesConnector] = []

    def make(**overrides: Any) -> FreshsalesConnector:
        connector = FreshsalesConnector(fast_config(bundle_url, **overrides), DEFAULT_API_KEY, clock=sim.clock.now)
        made.append(connector)
        return connector

    yield make
    for connector in made:
        connector.close()


@pytest.fixture
def connector(make_connector: Callable[..., FreshsalesConnector]) -> FreshsalesConnector:
    return make_connector()


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A reachable Redis for budget tests; fails loudly (never skips) when there is none."""
    url = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"these budget tests need Redis at {url} (set REDIS_URL): {type(exc).__name__}")
    yield url
    for key in client.scan_iter("budget:freshsales-test:*"):
        client.delete(key)
    client.close()
