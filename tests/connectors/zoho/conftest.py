"""A Zoho simulator served over real HTTP on a free port, and connectors pointed at it."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import redis

from connectors.destinations.zoho.connector import ZohoConnector
from connectors.destinations.zoho.schemas import ZohoConfig, ZohoSecrets
from connectors.simulators.common import Faults, ServerHandle, start_server
from connectors.simulators.zoho.app import ZohoSimulator
from connectors.simulators.zoho.state import SimConfig

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/3"


def redis_url_for_tests() -> str:
    url = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.fail(f"this test needs Redis at {url} and it is unreachable: {exc}")
    return url


def secrets_of(sim: ZohoSimulator) -> dict[str, str]:
    cfg = sim.state.config
    return {"client_id": cfg.client_id, "client_secret": cfg.client_secret, "refresh_token": cfg.refresh_token}


def connection_config(url: str, **overrides: Any) -> dict[str, Any]:
    return {"api_base": url, "accounts_url": url, "content_url": url, "edition": "enterprise", "users": 20,
            "budget_key": f"test-zoho-{uuid.uuid4().hex}", "backoff_base": 0.01, "backoff_cap": 0.05,
            "bulk_poll_interval": 0.1, "read_timeout": 10.0, **overrides}


class Served:
    def __init__(self, sim: ZohoSimulator, handle: ServerHandle) -> None:
        self.sim = sim
        self.handle = handle
        self.url = handle.url
        self.http = httpx.Client(base_url=handle.url, timeout=10)

    def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, f"/__sim__/{path}", **kwargs)
        response.raise_for_status()
        return response.json()

    def connector(self, **overrides: Any) -> ZohoConnector:
        # The budget follows the simulator's movable clock, so moving one moves both.
        config = connection_config(self.url, **({"edition": self.sim.state.config.edition} | overrides))
        return ZohoConnector(ZohoConfig.model_validate(config), ZohoSecrets.model_validate(secrets_of(self.sim)),
                             clock=self.sim.clock.now)


@pytest.fixture
def make_served() -> Iterator[Callable[..., Served]]:
    started: list[Served] = []

    def make(edition: str = "enterprise", users: int = 20, **faults: Any) -> Served:
        sim = ZohoSimulator(SimConfig(edition=edition, users=users), faults=Faults(**faults))
        served = Served(sim, start_server(sim))
        started.append(served)
        return served

    yield make
    for served in started:
        served.http.close()
        served.handle.stop()


@pytest.fixture
def served(make_served: Callable[..., Served]) -> Served:
    return make_served()
