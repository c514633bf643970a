"""The simulated org: settings, users, modules, records, tokens, credits and bulk jobs, behind one lock. It can
be dumped to JSON and loaded back (`--state FILE`)."""

from __future__ import annotations

import itertools
import json
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connectors.simulators.common import SimClock
from connectors.simulators.zoho import editions
from connectors.simulators.zoho.metadata import ModuleDef, standard_modules

ID_BASE = 5_725_767_000_000_000_000   # Zoho ids are 19-digit numeric strings


@dataclass
class SimConfig:
    edition: str = "enterprise"
    users: int = 20
    addon_credits: int = 0
    client_id: str = "1000.SIMCLIENTID0000000000000000000"
    # Documented defaults that the simulator prints and accepts; not secrets of any real account.
    client_secret: str = "simulated-client-secret"  # noqa: S105
    refresh_token: str = "1000.simulated.refresh.token"  # noqa: S105
    token_lifetime: int = 3600
    company: str = "Sim Dental Group"


@dataclass
class OrgState:
    config: SimConfig
    clock: SimClock
    lock: threading.RLock = field(default_factory=threading.RLock)
    next_id: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    org_id: str = ""
    zgid: str = ""
    users: list[dict[str, Any]] = field(default_factory=list)
    modules: dict[str, ModuleDef] = field(default_factory=dict)
    records: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    deleted: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    attachments: dict[str, dict[str, Any]] = field(default_factory=dict)
    access_tokens: dict[str, float] = field(default_factory=dict)
    token_mints: dict[str, deque[float]] = field(default_factory=dict)
    credits: deque[tuple[float, int]] = field(default_factory=deque)
    credits_total: int = 0           # every credit ever charged (test counter, not windowed)
    in_flight: int = 0
    writes_in_flight: int = 0
    max_in_flight: int = 0
    rejected: int = 0                # calls answered 429 (test counter)
    files: dict[str, bytes] = field(default_factory=dict)
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    results: dict[str, bytes] = field(default_factory=dict)
    # Unique-field indexes, built on first use: (module, field) -> lowercased value -> record id.
    indexes: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.config.edition not in editions.EDITIONS:
            raise ValueError(f"unknown edition {self.config.edition!r}; one of {', '.join(editions.EDITION_ORDER)}")
        if not self.modules:
            self.reset()

    # ------------------------------------------------------------------------------------------- basics

    def new_id(self) -> str:
        return str(ID_BASE + next(self.next_id))

    def now_iso(self) -> str:
        return datetime.fromtimestamp(int(self.clock.now()), tz=UTC).isoformat()

    def reset(self) -> None:
        with self.lock:
            self.next_id = itertools.count(1)
            self.org_id = self.new_id()
            self.zgid = str(800_000_000 + int(self.org_id) % 1_000_000)
            self.users = [self._user(i) for i in range(self.config.users)]
            self.modules = {
                api: module for api, module in standard_modules(self.new_id).items()
                if editions.module_available(api, self.config.edition)
            }
            self.records = {api: {} for api in self.modules}
            self.deleted = {api: [] for api in self.modules}
            self.attachments.clear()
            self.credits.clear()
            self.credits_total = 0
            self.max_in_flight = 0
            self.rejected = 0
            self.files.clear()
            self.jobs.clear()
            self.results.clear()
            self.indexes.clear()

    def _user(self, i: int) -> dict[str, Any]:
        first, last = ("Admin", "Owner") if i == 0 else ("Staff", f"Member{i:02d}")
        return {
            "id": self.new_id(), "first_name": first, "last_name": last, "full_name": f"{first} {last}",
            # Zoho's users.json pins emails to [a-z0-9]{9}@[a-z0-9]{5}.com; generated ones follow it.
            "email": f"staff{i:04d}@sdent.com", "status": "active",
            "role": {"name": "CEO" if i == 0 else "Manager", "id": str(ID_BASE - 1)},
            "profile": {"name": "Administrator" if i == 0 else "Standard", "id": str(ID_BASE - 2)},
            "zuid": str(70_000_000 + i), "confirm": True,
        }

    @property
    def current_user(self) -> dict[str, Any]:
        return self.users[0]

    def user_ref(self, user: dict[str, Any]) -> dict[str, Any]:
        return {"name": user["full_name"], "id": user["id"], "email": user["email"]}

    def active_user(self, user_id: str) -> dict[str, Any] | None:
        return next((u for u in self.users if u["id"] == user_id and u["status"] == "active"), None)

    # ------------------------------------------------------------------------------------------- credits

    @property
    def allowance(self) -> int:
        return editions.credit_allowance(self.config.edition, self.config.users, self.config.addon_credits)

    @property
    def concurrency(self) -> int:
        return int(editions.EDITIONS[self.config.edition]["concurrency"])

    def credits_used(self) -> int:
        cutoff = self.clock.now() - editions.CREDIT_WINDOW_SECONDS
        with self.lock:
            while self.credits and self.credits[0][0] <= cutoff:
                self.credits.popleft()
            return sum(cost for _, cost in self.credits)

    def try_charge(self, cost: int) -> bool:
        with self.lock:
            if self.credits_used() + cost > self.allowance:
                return False
            self.credits.append((self.clock.now(), cost))
            self.credits_total += cost
            return True

    # ------------------------------------------------------------------------------------------- persistence

    def dump(self) -> dict[str, Any]:
        with self.lock:
            return {
                "config": self.config.__dict__, "org_id": self.org_id, "zgid": self.zgid, "users": self.users,
                "modules": [m.to_state() for m in self.modules.values()], "records": self.records,
                "next_id": int(self.new_id()) - ID_BASE, "credits": list(self.credits),
                "credits_total": self.credits_total,
                "attachments": {k: {kk: vv for kk, vv in v.items() if kk != "body"}
                                for k, v in self.attachments.items()},
            }

    def load(self, data: dict[str, Any]) -> None:
        with self.lock:
            self.org_id, self.zgid, self.users = data["org_id"], data["zgid"], data["users"]
            self.modules = {m["api_name"]: ModuleDef.from_state(m) for m in data["modules"]}
            self.records = {api: data["records"].get(api, {}) for api in self.modules}
            self.deleted = {api: [] for api in self.modules}
            self.next_id = itertools.count(int(data["next_id"]) + 1)
            self.credits = deque((float(ts), int(cost)) for ts, cost in data.get("credits", []))
            self.credits_total = int(data.get("credits_total", 0))
            self.attachments = dict(data.get("attachments", {}))
            self.indexes.clear()

    def save_file(self, path: Path) -> None:
        path.write_text(json.dumps(self.dump()))

    def load_file(self, path: Path) -> None:
        self.load(json.loads(path.read_text()))
