"""The HTTP layer: one httpx.Client, every request through the shared Budget, retries that never duplicate.

Retry policy: a 429 was refused by the server, so any request may be resent after Retry-After. 5xx and timeouts
may have been processed, so only idempotent requests (GET, PUT, DELETE, upserts, job polls) are resent; a plain
create answers a temporary error and the engine retries it through its crosswalk."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import ValidationError

from connectors.base import BudgetExhausted, PermanentError, TemporaryError
from connectors.budget import Budget
from connectors.destinations.freshsales.schemas import ErrorBody, FreshsalesConfig, JobAccepted, JobStatusResponse

AUTH_CODES = ("401", "403")


def _vendor_message(response: httpx.Response) -> str:
    try:
        return ErrorBody.model_validate_json(response.content).errors.text()
    except ValidationError:
        return f"HTTP {response.status_code}"


def classify(status: int | str, message: str) -> str:
    """A code the audit can group by: the vendor's 400s say what went wrong only in their message."""
    text = message.lower()
    if str(status) == "400":
        if "already exists" in text or "already been taken" in text:
            return "DUPLICATE"
        if "can't be blank" in text:
            return "MANDATORY_MISSING"
        if text.startswith("invalid") or "is invalid" in text or "does not exist" in text:
            return "INVALID_VALUE"
    return str(status)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class FreshsalesClient:
    def __init__(
        self,
        config: FreshsalesConfig,
        api_key: str,
        budget: Budget,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.budget = budget
        self._sleep = sleep
        self._clock = clock
        timeout = httpx.Timeout(connect=config.connect_timeout, read=config.read_timeout,
                                write=config.write_timeout, pool=config.connect_timeout)
        # reference/freshsales.md, "Base and auth": `Authorization: Token token=<API key>`.
        self.http = httpx.Client(base_url=config.bundle_url, timeout=timeout, transport=transport,
                                 headers={"Authorization": f"Token token={api_key}", "Accept": "application/json"})

    def close(self) -> None:
        self.http.close()

    def _backoff(self, attempt: int) -> float:
        return float(min(self.config.max_retry_wait, self.config.retry_base_seconds * 2**attempt)
                     * (0.5 + random.random() / 2))  # noqa: S311 - jitter, not cryptography

    def request(
        self,
        method: str,
        path: str,
        *,
        idempotent: bool,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        files: Any = None,
        data: Mapping[str, Any] | None = None,
    ) -> httpx.Response:
        """Send one request (each attempt costs one unit of the hourly budget); answer a 2xx response or raise
        PermanentError (4xx; code = HTTP status), TemporaryError (429/5xx/network after retries) or
        BudgetExhausted (our budget, or the server's hour, is spent)."""
        where = f"{method} {path}"
        attempt = 0
        while True:
            try:
                with self.budget.call(1):
                    response = self.http.request(method, path, json=json, params=params, files=files, data=data)
            except httpx.TimeoutException:
                error = TemporaryError(f"{where}: timed out", code="TIMEOUT")
            except httpx.TransportError as exc:
                error = TemporaryError(f"{where}: {type(exc).__name__}", code="NETWORK")
            else:
                status = response.status_code
                if status < 400:
                    return response
                if status == 429:
                    wait = _retry_after(response)
                    wait = self._backoff(attempt) if wait is None else wait
                    if wait > self.config.max_retry_wait:
                        # The account's hour is spent (by us or another integration): pause, do not fail.
                        raise BudgetExhausted(
                            f"{where}: Freshsales hourly request limit reached",
                            resume_at=datetime.fromtimestamp(self._clock() + wait, tz=UTC), retry_after=wait)
                    if attempt < self.config.max_retries:
                        self._sleep(wait)
                        attempt += 1
                        continue
                    raise TemporaryError(f"{where}: 429 too many requests", code="429", retry_after=wait)
                if status >= 500:
                    error = TemporaryError(f"{where}: HTTP {status}", code=str(status),
                                           retry_after=_retry_after(response))
                else:
                    message = _vendor_message(response)
                    raise PermanentError(f"{where}: {message}", code=classify(status, message))
            if idempotent and attempt < self.config.max_retries:
                self._sleep(error.retry_after if error.retry_after is not None else self._backoff(attempt))
                attempt += 1
                continue
            raise error

    def run_bulk_job(self, path: str, payload: dict[str, Any]) -> JobStatusResponse:
        """Submit a bulk_upsert and poll its job to completion (reference, "Resources": asynchronous)."""
        response = self.request("POST", f"{path}/bulk_upsert", json=payload, idempotent=True)
        accepted = JobAccepted.model_validate_json(response.content)
        deadline = time.monotonic() + self.config.job_timeout_seconds
        while True:
            self._sleep(self.config.job_poll_seconds)
            polled = self.request("GET", accepted.job_status_url, idempotent=True)
            status = JobStatusResponse.model_validate_json(polled.content)
            if status.job_status.status.upper() in ("COMPLETED", "FAILED"):
                return status
            if time.monotonic() > deadline:
                raise TemporaryError(f"bulk job {status.job_status.id} still running after "
                                     f"{self.config.job_timeout_seconds:.0f}s", code="JOB_TIMEOUT")
