"""`manage.py simulate freshsales`: serve the Freshsales simulator over real HTTP until interrupted."""

from __future__ import annotations

import argparse
import threading
from pathlib import Path

from connectors.simulators.common import Faults, start_server
from connectors.simulators.freshsales.app import BASE, DEFAULT_API_KEY, FreshsalesSimulator
from connectors.simulators.freshsales.catalog import PLAN_HOURLY_LIMITS


def build_parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="A local, wire-faithful Freshsales (Freshworks CRM) API under /crm/sales/api/.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--port", type=int, default=8766, help="port on 127.0.0.1 (0 = any free port)")
    parser.add_argument("--plan", choices=sorted(PLAN_HOURLY_LIMITS), default="growth",
                        help="plan whose hourly request limit applies")
    parser.add_argument("--hourly-limit", type=int, default=None, help="override the plan's requests per hour")
    parser.add_argument("--latency-ms", type=int, default=0, help="added latency per request")
    parser.add_argument("--fault-rate", type=float, default=0.0, help="share of requests answered 503")
    parser.add_argument("--timeout-rate", type=float, default=0.0, help="share of requests that hang, then 504")
    parser.add_argument("--partial-rate", type=float, default=0.0,
                        help="share of bulk-job records failed with a temporary error")
    parser.add_argument("--seed", type=int, default=None, help="random seed for fault injection")
    parser.add_argument("--state", type=Path, default=None,
                        help="JSON file to load the account from and save it to after every write")
    parser.add_argument("--api-key", default=DEFAULT_API_KEY, help="the API key the simulator accepts")
    return parser


def main(argv: list[str], prog: str = "simulate freshsales") -> int:
    args = build_parser(prog).parse_args(argv)
    faults = Faults(latency_ms=args.latency_ms, fault_rate=args.fault_rate, timeout_rate=args.timeout_rate,
                    partial_rate=args.partial_rate, seed=args.seed)
    app = FreshsalesSimulator(api_key=args.api_key, plan=args.plan, faults=faults, state_file=args.state)
    app.state.hourly_limit = args.hourly_limit
    handle = start_server(app, args.port)
    print(f"Freshsales simulator ({args.plan} plan, {app.state.limit} requests/hour)", flush=True)
    print(f"bundle URL: {handle.url}{BASE}/", flush=True)
    print(f"API key:    {args.api_key}", flush=True)
    print(f"test-only:  {handle.url}/__sim__/state", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        handle.stop()
        if args.state is not None:
            app.state.save(args.state)
    return 0
