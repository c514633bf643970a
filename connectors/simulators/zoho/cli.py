"""`manage.py simulate zoho ...`: serve the Zoho CRM v8 simulator over HTTP on 127.0.0.1."""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path

from connectors.simulators.common import Faults, start_server
from connectors.simulators.zoho.app import ZohoSimulator
from connectors.simulators.zoho.editions import EDITION_ORDER
from connectors.simulators.zoho.state import SimConfig

DEFAULTS = SimConfig()


def build_parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog, description="Zoho CRM v8 simulator: OAuth token endpoint, /crm/v8 records and metadata, "
        "/crm/v8/upload and /crm/bulk/v8/write, credits and concurrency per edition, and test-only /__sim__/ "
        "endpoints (state, reset, clock, faults, credits, expire-tokens, records/<module>/<id>).")
    parser.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (default 8765; 0 = any free)")
    parser.add_argument("--edition", choices=EDITION_ORDER, default="enterprise", help="edition (default enterprise)")
    parser.add_argument("--users", type=int, default=20, help="licensed users; sets the credit allowance (20)")
    parser.add_argument("--addon-credits", type=int, default=0, help="purchased add-on credits per day (0)")
    parser.add_argument("--latency-ms", type=int, default=0, help="latency added to every API call (0)")
    parser.add_argument("--fault-rate", type=float, default=0.0, help="share of calls answered 500 (0)")
    parser.add_argument("--token-lifetime", type=int, default=3600, help="access token lifetime, seconds (3600)")
    parser.add_argument("--state", type=Path, help="state JSON: loaded at start if it exists, saved on exit")
    parser.add_argument("--client-id", default=DEFAULTS.client_id, help=f"OAuth client id ({DEFAULTS.client_id})")
    parser.add_argument("--client-secret", default=DEFAULTS.client_secret,
                        help=f"OAuth client secret ({DEFAULTS.client_secret})")
    parser.add_argument("--refresh-token", default=DEFAULTS.refresh_token,
                        help=f"OAuth refresh token ({DEFAULTS.refresh_token})")
    return parser


def main(argv: list[str], prog: str) -> int:
    args = build_parser(prog).parse_args(argv)
    config = SimConfig(edition=args.edition, users=args.users, addon_credits=args.addon_credits,
                       client_id=args.client_id, client_secret=args.client_secret,
                       refresh_token=args.refresh_token, token_lifetime=args.token_lifetime)
    sim = ZohoSimulator(config, faults=Faults(latency_ms=args.latency_ms, fault_rate=args.fault_rate))
    if args.state and args.state.exists():
        sim.state.load_file(args.state)
    handle = start_server(sim, args.port)
    print(f"Zoho CRM simulator ({args.edition}, {args.users} users) on {handle.url}")
    print(f"  api_base     {handle.url}   (paths /crm/v8/...)")
    print(f"  accounts_url {handle.url}   (POST /oauth/v2/token)")
    print(f"  content_url  {handle.url}   (POST /crm/v8/upload)")
    print(f"  client_id     {config.client_id}")
    print(f"  client_secret {config.client_secret}")
    print(f"  refresh_token {config.refresh_token}")
    print(f"  org zgid      {sim.state.zgid}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    handle.stop()
    if args.state:
        sim.state.save_file(args.state)
        print(f"state saved to {args.state}")
    return 0
