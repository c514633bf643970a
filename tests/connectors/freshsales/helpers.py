"""Helpers shared by the Freshsales tests."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from connectors.destinations.freshsales.schemas import FreshsalesConfig


def fast_config(bundle_url: str, **overrides: Any) -> FreshsalesConfig:
    values: dict[str, Any] = {
        "bundle_url": bundle_url, "budget_key": f"freshsales-test:{uuid.uuid4().hex}",
        "retry_base_seconds": 0.01, "job_poll_seconds": 0.05, "max_retry_wait": 5.0,
        "read_timeout": 5.0, "connect_timeout": 2.0,
    }
    values.update(overrides)
    return FreshsalesConfig.model_validate(values)


def add_custom_field(admin: httpx.Client, module: str, **spec: Any) -> dict[str, Any]:
    response = admin.post(f"fields/{module}", json=spec)
    assert response.status_code == 201, response.text
    return dict(response.json()["field"])
