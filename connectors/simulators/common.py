"""What every simulator shares: a clock that tests can move, fault injection, and serving a WSGI app over real
HTTP on 127.0.0.1 in a background thread (or in-process through httpx.WSGITransport, with no socket)."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server


class SimClock:
    """Wall time plus an offset that the test-only endpoints can advance (to move a rate-limit window)."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds


@dataclass
class Faults:
    """Knobs for injected trouble. Rates are probabilities per request; a storm answers 429 to the next N calls."""

    latency_ms: int = 0
    fault_rate: float = 0.0          # share of requests answered 500/503
    rate_limit_rate: float = 0.0     # share of requests answered 429 (refused before any work)
    timeout_rate: float = 0.0        # share of requests that hang past the client's timeout
    late_timeout_share: float = 0.0  # share of those timeouts that hang *after* doing the work: the answer is lost
    timeout_seconds: float = 30.0
    storm_remaining: int = 0         # the next N requests get 429
    partial_rate: float = 0.0        # share of records in a batch failed with a temporary error
    seed: int | None = None
    injected: dict[str, int] = field(default_factory=dict)   # what was injected, by kind (for tests)
    _rng: random.Random = field(default_factory=random.Random, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        if self.seed is not None:
            self._rng.seed(self.seed)

    def roll(self, rate: float) -> bool:
        with self._lock:
            return rate > 0 and self._rng.random() < rate

    def note(self, kind: str) -> None:
        with self._lock:
            self.injected[kind] = self.injected.get(kind, 0) + 1

    def take_storm(self) -> bool:
        with self._lock:
            if self.storm_remaining > 0:
                self.storm_remaining -= 1
                return True
            return False

    def delay(self) -> None:
        if self.latency_ms:
            time.sleep(self.latency_ms / 1000)

    def update(self, values: dict[str, Any]) -> None:
        for key in ("latency_ms", "fault_rate", "rate_limit_rate", "timeout_rate", "late_timeout_share",
                    "timeout_seconds", "storm_remaining", "partial_rate"):
            if key in values:
                setattr(self, key, type(getattr(self, key))(values[key]))


@dataclass
class ServerHandle:
    server: BaseWSGIServer
    thread: threading.Thread

    @property
    def port(self) -> int:
        return int(self.server.server_port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def start_server(app: Callable[..., Any], port: int = 0) -> ServerHandle:
    """Serve `app` on 127.0.0.1:`port` (0 = any free port) in a daemon thread; threaded, one thread a request."""
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name=f"simulator:{server.server_port}", daemon=True)
    thread.start()
    return ServerHandle(server=server, thread=thread)


@contextmanager
def serving(app: Callable[..., Any], port: int = 0) -> Iterator[ServerHandle]:
    handle = start_server(app, port)
    try:
        yield handle
    finally:
        handle.stop()
