"""The HTTP side of the Zoho connector: OAuth access tokens shared by every worker, the shared credit budget, and
retries with capped exponential backoff for 429, 5xx and timeouts (reference/zoho-crm-v8.md)."""

from __future__ import annotations

import hashlib
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from connectors.base import PermanentError, TemporaryError
from connectors.budget import Budget
from connectors.destinations.zoho.schemas import ApiError, Limits, TokenAnswer, ZohoConfig, ZohoSecrets


class TokenCache:
    """One access token per (client, refresh token), shared through Redis or, without it, by this process. Zoho lets
    a refresh token mint only 10 access tokens per 10 minutes (reference, "Hosts and auth"): refresh only when the
    token is missing or was refused, and count the mints."""

    _local: dict[str, tuple[str, float]] = {}
    _local_mints: dict[str, deque[float]] = {}
    _local_lock = threading.Lock()
    _local_lock_refresh = threading.Lock()
    LOCK_HOLD_SECONDS = 30    # longer than a token call's timeout; a crashed holder frees the lock by expiry
    LOCK_WAIT_SECONDS = 45

    def __init__(self, key: str, limits: Limits, redis_url: str | None, clock: Callable[[], float]) -> None:
        self.key = key
        self._limits = limits
        self._clock = clock
        self._redis: Any = None
        if redis_url:
            import redis

            self._redis = redis.Redis.from_url(redis_url)

    def get(self) -> str | None:
        if self._redis is not None:
            raw = self._redis.get(f"zoho-token:{self.key}")
            return raw.decode() if raw else None
        with self._local_lock:
            token, expiry = self._local.get(self.key, ("", 0.0))
            return token if token and expiry > self._clock() else None

    def put(self, token: str, expires_in: int) -> None:
        # Give the token back a minute early so no call starts with a token about to expire.
        ttl = max(1, expires_in - 60)
        if self._redis is not None:
            self._redis.set(f"zoho-token:{self.key}", token, ex=ttl)
        else:
            with self._local_lock:
                self._local[self.key] = (token, self._clock() + ttl)

    def drop(self, token: str) -> None:
        """Forget `token` if it is still the cached one (another worker may have refreshed already)."""
        if self._redis is not None:
            self._redis.eval("if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) "
                             "end return 0", 1, f"zoho-token:{self.key}", token)
        else:
            with self._local_lock:
                if self._local.get(self.key, ("", 0.0))[0] == token:
                    del self._local[self.key]

    @contextmanager
    def refreshing(self) -> Iterator[None]:
        """Hold the right to refresh: a thread lock in this process and, with Redis, a lock every worker process
        honours, so workers that start together mint one token between them rather than one each."""
        with self._local_lock_refresh:
            if self._redis is None:
                yield
                return
            lock_key, owner = f"zoho-token-lock:{self.key}", f"{random.random()}"  # noqa: S311
            deadline = time.monotonic() + self.LOCK_WAIT_SECONDS
            while not self._redis.set(lock_key, owner, nx=True, ex=self.LOCK_HOLD_SECONDS):
                if time.monotonic() > deadline:
                    raise TemporaryError("another worker is still refreshing the Zoho access token",
                                         code="TOKEN_REFRESH_BUSY", retry_after=1.0)
                time.sleep(0.05)
            try:
                yield
            finally:
                self._redis.eval("if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) "
                                 "end return 0", 1, lock_key, owner)

    def note_mint(self) -> None:
        """Record a mint, or raise TemporaryError when the 10-per-10-minutes allowance is spent."""
        now, window = self._clock(), self._limits.token_window_seconds
        if self._redis is not None:
            key = f"zoho-token-mints:{self.key}"
            allowed = self._redis.eval(
                "redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1] - ARGV[2]) "
                "if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end "
                "redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4]) redis.call('EXPIRE', KEYS[1], ARGV[2]) return 1",
                1, key, repr(now), window, self._limits.tokens_per_window, f"{now!r}:{random.random()}",  # noqa: S311
            )
            ok = int(allowed) == 1
        else:
            with self._local_lock:
                mints = self._local_mints.setdefault(self.key, deque())
                while mints and mints[0] <= now - window:
                    mints.popleft()
                ok = len(mints) < self._limits.tokens_per_window
                if ok:
                    mints.append(now)
        if not ok:
            raise TemporaryError("Zoho access-token mint limit reached (10 per 10 minutes)",
                                 code="TOKEN_RATE_LIMIT", retry_after=60.0)


class ZohoClient:
    """One httpx.Client, the shared budget and token cache. `call()` returns the final httpx.Response of a
    request that Zoho answered (any 2xx/4xx other than 401/429), or raises."""

    def __init__(self, config: ZohoConfig, secrets: ZohoSecrets, limits: Limits, *, budget: Budget,
                 clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.config = config
        self.secrets = secrets
        self.budget = budget
        self._sleep = sleep
        identity = f"{config.accounts_url}|{secrets.client_id}|{secrets.refresh_token}|{config.budget_key}"
        key = hashlib.sha256(identity.encode()).hexdigest()[:24]
        self.tokens = TokenCache(key, limits, config.redis_url, clock)
        self.http = httpx.Client(
            timeout=httpx.Timeout(config.read_timeout, connect=config.connect_timeout), transport=transport
        )

    def close(self) -> None:
        self.http.close()

    # ------------------------------------------------------------------------------------------- tokens

    def access_token(self) -> str:
        token = self.tokens.get()
        if token:
            return token
        with self.tokens.refreshing():   # one refresh at a time across every worker; the rest read the cache
            token = self.tokens.get()
            if token:
                return token
            self.tokens.note_mint()
            try:
                response = self.http.post(f"{self.config.accounts_url}/oauth/v2/token", data={
                    "grant_type": "refresh_token", "client_id": self.secrets.client_id,
                    "client_secret": self.secrets.client_secret, "refresh_token": self.secrets.refresh_token,
                })
            except httpx.HTTPError as exc:
                raise TemporaryError(f"Zoho token endpoint unreachable: {type(exc).__name__}",
                                     code="TOKEN_UNREACHABLE") from None
            if response.status_code >= 500 or response.status_code == 429:
                raise TemporaryError(f"Zoho token endpoint answered {response.status_code}", code="TOKEN_5XX")
            answer = TokenAnswer.model_validate_json(response.content)
            # Token errors come back as HTTP 200 {"error": "invalid_client"} (reference, "Hosts and auth").
            if answer.error or not answer.access_token:
                raise PermanentError(f"Zoho refused the OAuth credentials: {answer.error or response.status_code}",
                                     code=answer.error or "TOKEN_REFUSED")
            self.tokens.put(answer.access_token, answer.expires_in)
            return answer.access_token

    # ------------------------------------------------------------------------------------------- calls

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(self.config.backoff_cap, retry_after)
        delay = min(self.config.backoff_cap, self.config.backoff_base * (2 ** attempt))
        return float(delay * (0.5 + random.random()))  # noqa: S311 - jitter, not cryptography

    def call(self, method: str, url: str, *, cost: int, rewind: Callable[[], None] | None = None,
             idempotent: bool = True, **kwargs: Any) -> httpx.Response:
        """Send one API request through the budget; retry what is temporary. BudgetExhausted propagates.

        A request that is not `idempotent` (a plain insert, an upload) is not sent again after a timeout, a broken
        connection or a 5xx: Zoho may have done the work and only the answer was lost, so a second send would write
        a second record. It raises TemporaryError(code="OUTCOME_UNKNOWN") for the engine to find what was written
        (its intents) before writing again. A 429 or a connection never made is resent either way."""
        refreshed = False
        attempt = 0
        while True:
            token = self.access_token()
            headers = {**kwargs.pop("headers", {}), "Authorization": f"Zoho-oauthtoken {token}"}
            failure: str
            retry_after: float | None = None
            sent = True
            with self.budget.call(cost):
                try:
                    if rewind is not None:
                        rewind()
                    response = self.http.request(method, url, headers=headers, **kwargs)
                except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                    response, failure, sent = None, type(exc).__name__, False
                except httpx.TimeoutException:
                    response, failure = None, "timeout"
                except httpx.TransportError as exc:
                    response, failure = None, type(exc).__name__
            kwargs["headers"] = {k: v for k, v in headers.items() if k != "Authorization"}
            if response is not None:
                status = response.status_code
                if status == 401 and not refreshed and self._code(response) == "INVALID_TOKEN":
                    # The token expired or was revoked: Zoho did not charge; refresh once and repeat.
                    self.budget.spend(-cost)
                    self.tokens.drop(token)
                    refreshed = True
                    continue
                if status != 429 and status < 500:
                    if status == 401:
                        raise PermanentError("Zoho refused the access token", code=self._code(response))
                    return response
                # 429 and 5xx are refused before Zoho counts the call: give the credits back.
                self.budget.spend(-cost)
                failure = f"HTTP {status} {self._code(response)}".strip()
                header = response.headers.get("Retry-After")
                retry_after = float(header) if header and header.isdigit() else None
                sent = status != 429
            if sent and not idempotent:
                raise TemporaryError(f"Zoho {method} {httpx.URL(url).path}: {failure}; it may have been carried out",
                                     code="OUTCOME_UNKNOWN", retry_after=retry_after)
            if attempt >= self.config.max_retries:
                raise TemporaryError(f"Zoho {method} {httpx.URL(url).path}: {failure} after {attempt + 1} tries",
                                     code="RETRIES_EXHAUSTED", retry_after=retry_after)
            self._sleep(self._backoff(attempt, retry_after))
            attempt += 1

    @staticmethod
    def _code(response: httpx.Response) -> str:
        try:
            return ApiError.model_validate_json(response.content).code
        except ValueError:
            return ""

    @staticmethod
    def raise_for_envelope(response: httpx.Response, what: str) -> None:
        """A 4xx without per-record results is an error about the whole call (bad module, bad parameter)."""
        if response.status_code >= 400:
            error = ApiError.model_validate_json(response.content)
            raise PermanentError(f"Zoho {what}: {error.code} {error.message}", code=error.code,
                                 field=str(error.details.get("api_name") or error.details.get("param_name") or ""))
