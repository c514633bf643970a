"""The budget shared by all workers of one destination connection: a concurrency limit, a rolling allowance.

Zoho counts API credits over a rolling 24 hours and caps concurrent calls per edition; Freshsales counts
requests per hour. Workers on many machines load into the same CRM account, so the limits are kept in one
place: Redis when a URL is given, otherwise (the embedded demo, a laptop) an in-process fallback with the same
behaviour for the threads of one process.

Two clocks on purpose: the rolling window follows the injectable `clock` (tests and the simulators move it),
while concurrency leases follow the wall clock, because a lease exists to be reclaimed when its holder dies.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from connectors.base import BudgetExhausted, PermanentError, TemporaryError


@dataclass(frozen=True)
class BudgetLimits:
    concurrency: int          # max concurrent calls across all processes
    allowance: int            # units (Zoho credits / Freshsales requests) per window
    window_seconds: int       # rolling window: 86400 for Zoho, 3600 for Freshsales
    reserve: int = 0          # units kept back for the clinic's other integrations

    def __post_init__(self) -> None:
        if self.concurrency < 1 or self.window_seconds < 1 or self.allowance < 0 or self.reserve < 0:
            raise ValueError(f"invalid budget limits: {self}")

    @property
    def spendable(self) -> int:
        return max(0, self.allowance - self.reserve)


class _Store(Protocol):
    """Where the window and the leases live: Redis or this process."""

    def charge(self, now: float, cost: int, *, force: bool) -> float | None:
        """Charge `cost` at `now`; if the window cannot afford it (and not `force`), return when it can."""
        ...

    def used(self, now: float) -> int: ...

    def acquire(self, token: str, wall_now: float) -> bool: ...

    def release(self, token: str) -> None: ...

    def in_flight(self, wall_now: float) -> int: ...


# -------------------------------------------------------------------------------- Redis

# The window is a sorted set of "<uuid>:<cost>" members scored by their timestamp, plus a running total so a
# check costs O(expired entries), not O(window). Entries at or before now - window have left the window.
_CHARGE_LUA = """
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local member = ARGV[5]
local force = ARGV[6] == '1'
local ttl = tonumber(ARGV[7])
local cutoff = now - window
local total = tonumber(redis.call('GET', KEYS[2]) or '0')
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', cutoff)
for _, m in ipairs(expired) do
  total = total - tonumber(string.match(m, ':(%-?%d+)$'))
end
if #expired > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', cutoff)
end
if redis.call('ZCARD', KEYS[1]) == 0 then
  total = 0
end
if (not force) and cost > 0 and total + cost > limit then
  redis.call('SET', KEYS[2], total, 'EX', ttl)
  local need = total + cost - limit
  local freed = 0
  local entries = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
  for i = 1, #entries, 2 do
    local c = tonumber(string.match(entries[i], ':(%-?%d+)$'))
    freed = freed + c
    if freed >= need then
      return {0, tostring(tonumber(entries[i + 1]) + window)}
    end
  end
  return {0, tostring(now + window)}
end
if cost ~= 0 then
  redis.call('ZADD', KEYS[1], now, member .. ':' .. cost)
  total = total + cost
end
redis.call('SET', KEYS[2], total, 'EX', ttl)
redis.call('EXPIRE', KEYS[1], ttl)
return {1, tostring(total)}
"""

_USED_LUA = """
local cutoff = tonumber(ARGV[1]) - tonumber(ARGV[2])
local total = 0
for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. cutoff, '+inf')) do
  total = total + tonumber(string.match(m, ':(%-?%d+)$'))
end
return total
"""

# Leases: a sorted set of tokens scored by their expiry (wall clock). Expired leases belong to dead holders.
_ACQUIRE_LUA = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
  redis.call('EXPIRE', KEYS[1], ARGV[5])
  return 1
end
return 0
"""


class _RedisStore:
    def __init__(self, key: str, limits: BudgetLimits, redis_url: str, slot_timeout: float) -> None:
        import redis

        self._redis = redis.Redis.from_url(redis_url)
        self._limits = limits
        self._slot_timeout = slot_timeout
        self._window_key = f"budget:{key}:window"
        self._total_key = f"budget:{key}:total"
        self._slots_key = f"budget:{key}:slots"
        self._charge = self._redis.register_script(_CHARGE_LUA)
        self._used = self._redis.register_script(_USED_LUA)
        self._acquire = self._redis.register_script(_ACQUIRE_LUA)
        # Keys outlive the window (in wall time) with margin; they vanish once a connection stops being used.
        self._ttl = int(limits.window_seconds * 2 + 60)

    def charge(self, now: float, cost: int, *, force: bool) -> float | None:
        ok, value = self._charge(
            keys=[self._window_key, self._total_key],
            args=[repr(now), self._limits.window_seconds, self._limits.spendable, cost, uuid.uuid4().hex,
                  "1" if force else "0", self._ttl],
        )
        return None if int(ok) == 1 else float(value)

    def used(self, now: float) -> int:
        return max(0, int(self._used(keys=[self._window_key], args=[repr(now), self._limits.window_seconds])))

    def acquire(self, token: str, wall_now: float) -> bool:
        lease_ttl = int(self._slot_timeout) + 60
        got = self._acquire(
            keys=[self._slots_key],
            args=[repr(wall_now), repr(wall_now + self._slot_timeout), self._limits.concurrency, token,
                  lease_ttl],
        )
        return int(got) == 1

    def release(self, token: str) -> None:
        self._redis.zrem(self._slots_key, token)

    def in_flight(self, wall_now: float) -> int:
        return int(self._redis.zcount(self._slots_key, f"({wall_now!r}", "+inf"))


# -------------------------------------------------------------------------------- in-process


class _LocalStore:
    """The same rules for the threads of one process, when there is no Redis (embedded demo, laptop)."""

    def __init__(self, limits: BudgetLimits, slot_timeout: float) -> None:
        self._limits = limits
        self._slot_timeout = slot_timeout
        self._lock = threading.Lock()
        self._entries: deque[tuple[float, int]] = deque()
        self._total = 0
        self._leases: dict[str, float] = {}

    def _expire(self, now: float) -> None:
        cutoff = now - self._limits.window_seconds
        while self._entries and self._entries[0][0] <= cutoff:
            self._total -= self._entries.popleft()[1]
        if not self._entries:
            self._total = 0

    def charge(self, now: float, cost: int, *, force: bool) -> float | None:
        with self._lock:
            self._expire(now)
            limit = self._limits.spendable
            if not force and cost > 0 and self._total + cost > limit:
                need, freed = self._total + cost - limit, 0
                for ts, entry_cost in self._entries:
                    freed += entry_cost
                    if freed >= need:
                        return ts + self._limits.window_seconds
                return now + self._limits.window_seconds
            if cost:
                self._entries.append((now, cost))
                self._total += cost
            return None

    def used(self, now: float) -> int:
        cutoff = now - self._limits.window_seconds
        with self._lock:
            return max(0, sum(cost for ts, cost in self._entries if ts > cutoff))

    def acquire(self, token: str, wall_now: float) -> bool:
        with self._lock:
            for held, expiry in list(self._leases.items()):
                if expiry <= wall_now:
                    del self._leases[held]
            if len(self._leases) < self._limits.concurrency:
                self._leases[token] = wall_now + self._slot_timeout
                return True
            return False

    def release(self, token: str) -> None:
        with self._lock:
            self._leases.pop(token, None)

    def in_flight(self, wall_now: float) -> int:
        with self._lock:
            return sum(1 for expiry in self._leases.values() if expiry > wall_now)


# -------------------------------------------------------------------------------- the budget


class Budget:
    """One destination connection's limits. `key` names the connection (e.g. "zoho:<org id>"): every process
    that builds a Budget with the same key and redis_url shares the same window and concurrency slots.

    `slot_timeout` is the lease of a concurrency slot: a holder that dies frees its slot after that many
    seconds, so a call must finish within it (HTTP timeouts are shorter). `wait_timeout` bounds the wait for a
    slot (None = wait; slots of dead holders free themselves within `slot_timeout`)."""

    def __init__(
        self,
        key: str,
        limits: BudgetLimits,
        *,
        redis_url: str | None = None,
        clock: Callable[[], float] = time.time,
        slot_timeout: float = 60.0,
        wait_timeout: float | None = None,
    ) -> None:
        self.key = key
        self.limits = limits
        self._clock = clock
        self._wait_timeout = wait_timeout
        self._store: _Store = (
            _RedisStore(key, limits, redis_url, slot_timeout)
            if redis_url
            else _LocalStore(limits, slot_timeout)
        )

    @contextmanager
    def call(self, cost: int) -> Iterator[None]:
        """Wait for a concurrency slot (lease that expires if the holder dies), then charge `cost` units in
        the rolling window; if the window cannot afford it raise BudgetExhausted(resume_at=when it can)."""
        token = self._acquire_slot()
        try:
            self._charge(cost)
            yield
        finally:
            self._store.release(token)

    def spend(self, cost: int) -> None:
        """Charge units without a slot, even past the allowance (the vendor already counted them). A negative
        cost gives units back, e.g. when the vendor did not charge a rejected call."""
        self._store.charge(self._clock(), cost, force=True)

    def used(self) -> int:
        """Units charged in the current window."""
        return self._store.used(self._clock())

    def remaining(self) -> int:
        """allowance - reserve - used (never negative)."""
        return max(0, self.limits.spendable - self.used())

    def in_flight(self) -> int:
        return self._store.in_flight(time.time())

    def _charge(self, cost: int) -> None:
        if cost > self.limits.spendable:
            raise PermanentError(
                f"budget {self.key}: one call costs {cost} units, more than the whole spendable allowance "
                f"({self.limits.spendable})",
                code="BUDGET_TOO_SMALL",
            )
        now = self._clock()
        resume = self._store.charge(now, cost, force=False)
        if resume is not None:
            raise BudgetExhausted(
                f"budget {self.key}: {cost} units do not fit in the window "
                f"({self.limits.spendable} spendable per {self.limits.window_seconds}s)",
                resume_at=datetime.fromtimestamp(resume, tz=UTC),
                retry_after=max(0.0, resume - now),
            )

    def _acquire_slot(self) -> str:
        token = uuid.uuid4().hex
        started = time.monotonic()
        pause = 0.002
        while not self._store.acquire(token, time.time()):
            if self._wait_timeout is not None and time.monotonic() - started >= self._wait_timeout:
                raise TemporaryError(
                    f"budget {self.key}: no concurrency slot within {self._wait_timeout}s", code="NO_SLOT"
                )
            # Jittered polling so waiting workers do not wake in lockstep.
            time.sleep(pause * (0.5 + random.random()))  # noqa: S311 - jitter, not cryptography
            pause = min(pause * 2, 0.05)
        return token
